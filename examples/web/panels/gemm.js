// GEMM: GFLOP/s of gencore's blocked SIMD matmul in the pool (split across workers, and in one worker)
// next to tfjs-backend-wasm (XNNPACK, SIMD, one thread) running in its own worker.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { fmt, hbars } from '../lib/draw.js';

export const id = 'gemm';

/** Deterministic inputs in [-1, 1), made in slices so the main thread never blocks for long. */
async function randomMatrix(len, seed) {
  const out = new Float32Array(len);
  let x = seed >>> 0;
  for (let start = 0; start < len; start += 1 << 17) {
    for (let i = start, end = Math.min(len, start + (1 << 17)); i < end; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      out[i] = x / 2 ** 31 - 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return out;
}

/** Max relative error of `c` against float64 dot products at `samples` random entries (cheap enough for the UI thread). */
function spotCheck(a, b, c, n, samples = 64) {
  let err = 0;
  let scale = 0;
  let x = 12345;
  for (let s = 0; s < samples; s++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const i = x % n;
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % n;
    let want = 0;
    for (let p = 0; p < n; p++) want += a[i * n + p] * b[p * n + j];
    err = Math.max(err, Math.abs(c[i * n + j] - want));
    scale = Math.max(scale, Math.abs(want));
  }
  return err / (scale || 1);
}

const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/** tfjs-backend-wasm in a classic worker (its UMD bundles load with importScripts); terminated on cancel. */
class TfjsWorker {
  constructor() {
    this.worker = new Worker(new URL('../tfjs-worker.js', import.meta.url));
    this.nextId = 1;
    this.pending = new Map();
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error) p?.reject(new Error(data.error));
      else p?.resolve(data.result);
    };
    this.worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(new Error(`tfjs worker: ${ev.message}`));
      this.pending.clear();
    };
  }

  request(msg, signal) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id });
      signal?.addEventListener('abort', () => reject(Object.assign(new Error('tfjs: aborted'), { name: 'AbortError' })), { once: true });
    });
  }

  terminate() {
    this.worker.terminate();
  }
}

export function mount(parent, { gencore, pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'Blocked SIMD GEMM',
    subtitle: 'C = A·B, f32, n×n',
    what: 'Median GFLOP/s of gencore.matmul with opts.out (the browser bench’s “out” columns) through the pool (row blocks split over the workers), in a single worker, and tfjs-backend-wasm 4.22 (XNNPACK, SIMD, one thread) in its own worker. The result is spot-checked against float64 dot products.',
  });
  const size = el('select', { id: 'gemm-size' }, ...[256, 512, 1024].map((n) => el('option', { value: n, selected: n === 512 }, `${n} × ${n}`)));
  // Median of 9 by default, as the browser bench's n = 1024 rows.
  const reps = el('input', { id: 'gemm-reps', type: 'number', min: 1, max: 20, value: 9, style: 'width: 4em' });
  const withTfjs = el('input', { id: 'gemm-tfjs', type: 'checkbox', checked: true });
  panel.controls.append(el('label', {}, 'size ', size), el('label', {}, 'repeats ', reps), el('label', {}, withTfjs, 'tfjs-backend-wasm'));
  const meter = el('canvas', { class: 'plot', id: 'gemm-meter' });
  const table = el('table', { class: 'results', id: 'gemm-results' });
  panel.body.append(meter, table);
  hbars(meter, { labels: [`gencore pool (${pool.size} workers)`, 'gencore, 1 worker', 'tfjs-backend-wasm'], values: [NaN, NaN, NaN], unit: 'GFLOP/s', max: 1, caption: 'GFLOP/s — press Run' });

  const inputs = new Map();
  // The one-worker pool is made now, not during a run (compiling and instantiating is main-thread work).
  const singleReady = gencore.createPool({ workers: 1 });
  let tfjs;
  const result = { n: 0, gflops: {}, error: NaN };

  async function task({ signal, progress }) {
    const n = Number(size.value);
    const repeats = Math.max(1, Math.min(20, Math.floor(Number(reps.value)) || 1));
    // Inputs and result buffers are made once per size: a run then allocates nothing big on this thread.
    if (!inputs.has(n)) inputs.set(n, { a: await randomMatrix(n * n, 1), b: await randomMatrix(n * n, 2), out: new Float32Array(n * n) });
    const { a, b, out } = inputs.get(n);
    const flops = 2 * n ** 3;
    const single = await singleReady;
    const contestants = [
      { name: `gencore pool (${pool.size} workers)`, key: 'pool', run: () => pool.matmul(a, b, n, n, n, { out }) },
      { name: 'gencore, 1 worker', key: 'single', run: () => single.matmul(a, b, n, n, n, { out }) },
    ];
    if (withTfjs.checked) {
      tfjs ??= new TfjsWorker();
      await tfjs.request({ type: 'init' }, signal);
      await tfjs.request({ type: 'prepare', n }, signal);
      contestants.push({ name: 'tfjs-backend-wasm (1 thread)', key: 'tfjs', run: async () => tfjs.request({ type: 'matmul', n }, signal) });
    }
    const total = contestants.length * (repeats + 1);
    let done = 0;
    const gflops = contestants.map(() => NaN);
    let error = NaN;
    const draw = () =>
      hbars(meter, {
        labels: contestants.map((c) => c.name),
        values: gflops,
        unit: 'GFLOP/s',
        caption: `GFLOP/s at n = ${n} (median of ${repeats})`,
      });
    for (const [ci, c] of contestants.entries()) {
      const times = [];
      for (let r = 0; r <= repeats; r++) {
        throwIfAborted(signal, 'gemm');
        const t0 = performance.now();
        const res = await c.run();
        const ms = c.key === 'tfjs' ? res : performance.now() - t0; // tfjs times itself inside its worker
        if (r > 0) times.push(ms); // the first call warms up
        if (c.key !== 'tfjs' && r === 0) error = Math.max(Number.isNaN(error) ? 0 : error, spotCheck(a, b, res, n));
        progress(++done / total, `${c.name}: run ${r + 1} of ${repeats + 1}…`);
        // Yield to the event loop, so copying this result out and staging the next call's operands
        // (main-thread work of the pool) fall in separate tasks and input and paint can run in between.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      gflops[ci] = flops / (median(times) * 1e6);
      draw();
    }
    const hasTfjs = contestants.some((c) => c.key === 'tfjs');
    result.n = n;
    result.gflops = Object.fromEntries(contestants.map((c, i) => [c.key, gflops[i]]));
    result.error = error;
    table.replaceChildren(
      el('tr', {}, el('th', {}, 'implementation'), el('th', { class: 'num' }, 'GFLOP/s'), el('th', { class: 'num' }, 'vs tfjs')),
      ...contestants.map((c, i) =>
        el(
          'tr',
          {},
          el('td', {}, c.name),
          el('td', { class: 'num' }, fmt(gflops[i])),
          el('td', { class: 'num' }, hasTfjs ? `${fmt(gflops[i] / gflops[gflops.length - 1])}×` : '–'),
        ),
      ),
    );
    return `n = ${n}: ${fmt(gflops[0])} GFLOP/s in the pool; max relative error ${error.toExponential(1)} (64 entries vs float64)`;
  }

  panel.addRunButtons(task);
  // Cancelling stops between calls; the tfjs worker is killed outright (a running wasm call cannot be interrupted).
  panel.cancelButton.addEventListener('click', () => {
    tfjs?.terminate();
    tfjs = undefined;
  });
  return { panel, result };
}
