// Panel scaffolding shared by the playground's panels: a card with controls, a progress bar, a status
// line, and run/cancel plumbing around an AbortController. The panel's `data-state` attribute
// (idle | running | done | cancelled | error | unavailable) is what the end-to-end tests wait on.

/** Create an element: el('button', { id: 'x', class: 'secondary' }, 'Run'). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** An AbortError as gencore raises it (name 'AbortError'), for loops the page drives itself. */
export function abortError(what) {
  const err = new Error(`${what}: aborted`);
  err.name = 'AbortError';
  return err;
}

export function throwIfAborted(signal, what) {
  if (signal.aborted) throw abortError(what);
}

/** Let the event loop breathe (paint, input) between chunks of work the page does itself. */
export const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

export class Panel {
  /**
   * @param {HTMLElement} parent
   * @param {{ id: string, title: string, subtitle?: string, what: string }} spec
   */
  constructor(parent, { id, title, subtitle, what }) {
    this.id = id;
    this.controls = el('div', { class: 'controls' });
    this.bar = el('div');
    this.progressEl = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, id: `${id}-progress` }, this.bar);
    this.statusEl = el('div', { class: 'status', id: `${id}-status`, 'aria-live': 'polite' });
    this.body = el('div', { class: 'body' });
    this.section = el(
      'section',
      { class: 'panel', id: `panel-${id}`, 'data-state': 'idle' },
      el('h2', {}, title, subtitle ? el('small', {}, subtitle) : null),
      el('p', { class: 'what' }, what),
      this.controls,
      this.progressEl,
      this.statusEl,
      this.body,
    );
    parent.append(this.section);
    this.controller = undefined;
    this.runs = 0;
  }

  get state() {
    return this.section.dataset.state;
  }

  set state(value) {
    this.section.dataset.state = value;
  }

  status(text) {
    this.statusEl.textContent = text;
  }

  /** fraction in [0, 1]. */
  progress(fraction, text) {
    const pct = Math.max(0, Math.min(1, fraction)) * 100;
    this.bar.style.width = `${pct.toFixed(1)}%`;
    this.progressEl.setAttribute('aria-valuenow', pct.toFixed(0));
    if (text !== undefined) this.status(text);
  }

  /** Run and Cancel buttons wired to `task`. */
  addRunButtons(task, { label = 'Run' } = {}) {
    this.runButton = el('button', { id: `${this.id}-run`, onclick: () => void this.run(task) }, label);
    this.cancelButton = el('button', { id: `${this.id}-cancel`, class: 'secondary', disabled: true, onclick: () => this.cancel() }, 'Cancel');
    this.controls.append(this.runButton, this.cancelButton);
  }

  /**
   * Run `task({ signal, progress })`, cancelling any run of this panel still going (the latest input wins).
   * AbortError → state 'cancelled'; another error → 'error' with its message; else 'done' with the
   * status text the task set.
   */
  async run(task) {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const run = ++this.runs;
    this.state = 'running';
    if (this.runButton) this.runButton.disabled = true;
    if (this.cancelButton) this.cancelButton.disabled = false;
    this.progress(0);
    try {
      // Progress from a run that was cancelled or superseded must not overwrite the status.
      const progress = (f, text) => run === this.runs && !controller.signal.aborted && this.progress(f, text);
      const summary = await task({ signal: controller.signal, progress });
      if (run !== this.runs) return;
      controller.signal.throwIfAborted?.();
      this.progress(1, summary ?? this.statusEl.textContent);
      this.state = 'done';
    } catch (err) {
      if (run !== this.runs && err?.name === 'AbortError') return; // superseded by a newer run
      const aborted = err?.name === 'AbortError' || controller.signal.aborted;
      this.state = aborted ? 'cancelled' : 'error';
      this.status(aborted ? `cancelled (${err?.name ?? 'AbortError'})` : `error: ${err?.name ?? 'Error'}: ${err?.message ?? err}`);
      if (!aborted) console.error(err);
    } finally {
      if (run === this.runs) {
        this.controller = undefined;
        if (this.runButton) this.runButton.disabled = false;
        if (this.cancelButton) this.cancelButton.disabled = true;
      }
    }
  }

  cancel() {
    this.controller?.abort();
  }

  /** This build lacks the capability: say so instead of showing controls. */
  unavailable(what) {
    this.state = 'unavailable';
    this.controls.replaceChildren();
    this.progressEl.hidden = true;
    this.status(`${what} is not in this gencore build yet.`);
  }
}
