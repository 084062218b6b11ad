// Trie-constrained beam search over city names: type a prefix and see which real cities a character
// bigram model decodes to, live. Every hypothesis is a valid entry of the trie; nothing is invented.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { fmt } from '../lib/draw.js';

export const id = 'cities';

const END = 0; // token 0 ends a name; characters are 1…V−1

/** Lower case without diacritics, so typing "sao" finds "São Paulo". */
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** Characters ↔ tokens, and a population-weighted character bigram model (add-α smoothed log-probs). */
function buildModel(rows) {
  const chars = [...new Set(rows.flatMap(([name]) => [...name]))].sort();
  const token = new Map(chars.map((c, i) => [c, i + 1]));
  const V = chars.length + 1;
  const counts = new Float64Array(V * V); // row: previous token (END for the start), column: next token
  for (const [name, , population] of rows) {
    const w = Math.log10(10 + population);
    let prev = END;
    for (const c of name) {
      const t = token.get(c);
      counts[prev * V + t] += w;
      prev = t;
    }
    counts[prev * V + END] += w;
  }
  const logp = new Float32Array(V * V);
  for (let i = 0; i < V; i++) {
    let sum = 0;
    for (let j = 0; j < V; j++) sum += counts[i * V + j] + 0.05;
    for (let j = 0; j < V; j++) logp[i * V + j] = Math.log((counts[i * V + j] + 0.05) / sum);
  }
  const folded = ['', ...chars.map(fold)]; // folded[t]: what typing matches token t
  return { chars, token, V, logp, folded, encode: (name) => Int32Array.from([...name].map((c) => token.get(c))), decode: (tokens) => [...tokens].filter((t) => t !== END).map((t) => chars[t - 1]).join('') };
}

export function mount(parent, { pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'City names from a trie',
    subtitle: 'constrained beam search',
    what: 'A character bigram model (learned from 4000 city names) decodes with beam search constrained by a trie of those names, in the pool. Type the start of a name: every result is a real city, scored by the model.',
  });
  if (typeof pool.buildTrie !== 'function' || typeof pool.beamSearch !== 'function') {
    panel.unavailable('Trie-constrained beam search (issue #4)');
    return { panel };
  }
  const query = el('input', { id: 'cities-query', type: 'text', placeholder: 'type a city…', autocomplete: 'off', spellcheck: 'false' });
  const beams = el('select', { id: 'cities-beams' }, ...[4, 8, 16].map((k) => el('option', { value: k, selected: k === 8 }, `${k} beams`)));
  panel.controls.append(query, beams);
  const hits = el('ol', { class: 'hits', id: 'cities-hits' });
  panel.body.append(hits);
  const result = { query: '', hits: [] };
  let model;
  let trie;
  let byName;

  const ready = (async () => {
    panel.status('loading 4000 city names and building the trie in the pool…');
    const data = await (await fetch(new URL('../data/cities.json', import.meta.url))).json();
    model = buildModel(data.rows);
    byName = new Map();
    for (const row of data.rows) if (!byName.has(row[0])) byName.set(row[0], row);
    trie = await pool.buildTrie(data.rows.map(([name]) => model.encode(name)), { endToken: END });
    panel.status(`${byName.size} distinct names, trie of ${await trie.numNodes} nodes — type a prefix`);
  })();

  async function task({ signal, progress }) {
    await ready;
    const text = query.value; // what this run answers, even if typing goes on meanwhile
    const typed = fold(text);
    const typedChars = [...typed];
    const K = Number(beams.value);
    // The scorer runs on this thread (the pool calls back per step): bigram log-probs, and on the first
    // steps only characters that match what was typed.
    const scorer = ({ rows, step, lastToken }) => {
      const out = new Float32Array(rows * model.V);
      for (let r = 0; r < rows; r++) {
        const prev = step === 0 ? END : lastToken[r];
        out.set(model.logp.subarray(prev * model.V, (prev + 1) * model.V), r * model.V);
        if (step < typedChars.length) {
          for (let t = 0; t < model.V; t++) if (model.folded[t] !== typedChars[step]) out[r * model.V + t] = -Infinity;
        }
      }
      return out;
    };
    const maxLength = 40;
    const found = await pool.beamSearch(scorer, {
      constraint: trie,
      beams: K,
      numReturn: K,
      maxLength,
      endToken: END,
      signal,
      onProgress: ({ step }) => progress(step / maxLength),
    });
    throwIfAborted(signal, 'cities'); // superseded by newer typing: show only the latest answer
    result.query = text;
    result.hits = found.map((h) => ({ name: model.decode(h.tokens), score: h.score, logProb: h.logProb, entry: h.entry }));
    hits.replaceChildren(
      ...result.hits.map((h) => {
        const [, country, population] = byName.get(h.name) ?? [h.name, '', 0];
        const n = typedChars.length;
        return el(
          'li',
          { 'data-name': h.name },
          el('span', {}, el('mark', {}, h.name.slice(0, n)), h.name.slice(n), ` · ${country} · ${population.toLocaleString('en')}`),
          el('span', { class: 'score' }, `score ${fmt(h.score)} · log p ${fmt(h.logProb)}`),
        );
      }),
    );
    const count = result.hits.length;
    return count ? `${count} ${count === 1 ? 'city' : 'cities'} for “${text}”, best first` : `no city starts with “${text}”`;
  }

  let timer;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void panel.run(task), 40);
  });
  beams.addEventListener('change', () => void panel.run(task));
  ready.then(() => panel.run(task)).catch((err) => panel.status(`error: ${err.message}`));
  return { panel, result };
}
