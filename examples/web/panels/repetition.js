// Repetition analysis of a decoder modelled as a bigram chain: the transition matrix of a letter-level
// model of city names under a decoding rule (sampling, top-k, nucleus, greedy), drawn as a heatmap, with
// Su's repetition rate R = Σ_L tr(M^L) (M = P∘P) and its bounds from gencore.repetition.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { fmt, heatmap, vbars } from '../lib/draw.js';

export const id = 'repetition';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const EOS = LETTERS.length; // index 26: end of name
const N = LETTERS.length + 1;

/** Letter bigram transition matrix (N×N, rows sum to 1) from city names; accents folded, other characters skipped. */
function transitions(rows) {
  const counts = new Float64Array(N * N).fill(0.01);
  for (const [name] of rows) {
    const letters = [...name.normalize('NFD').toLowerCase()].map((c) => LETTERS.indexOf(c)).filter((i) => i >= 0);
    for (let i = 0; i + 1 < letters.length; i++) counts[letters[i] * N + letters[i + 1]] += 1;
    if (letters.length) counts[letters[letters.length - 1] * N + EOS] += 1;
  }
  const P = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += counts[i * N + j];
    for (let j = 0; j < N; j++) P[i * N + j] = counts[i * N + j] / s;
  }
  return P;
}

export function mount(parent, { pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'Repetition analysis',
    subtitle: 'bigram chain of a decoder',
    what: 'A letter bigram model of the city names is a decoder’s transition matrix. Pick a decoding rule: the heatmap shows the transformed matrix (row = current letter, column = next, last column = end of name) and gencore.repetition gives the expected number of repeated loops R, with its bounds and the loop-length profile tr(Mᴸ).',
  });
  if (typeof pool.repetition !== 'function' || typeof pool.decodeTransform !== 'function') {
    panel.unavailable('Repetition analysis (issue #7)');
    return { panel };
  }
  const rule = el(
    'select',
    { id: 'repetition-rule' },
    el('option', { value: 'sampling' }, 'plain sampling'),
    el('option', { value: 'topK', selected: true }, 'top-k'),
    el('option', { value: 'nucleus' }, 'nucleus (top-p)'),
    el('option', { value: 'greedy' }, 'greedy'),
  );
  const param = el('input', { id: 'repetition-param', type: 'range', min: 1, max: 26, step: 1, value: 3 });
  const paramLabel = el('span', { id: 'repetition-param-label' });
  panel.controls.append(rule, el('label', {}, param, paramLabel));
  const map = el('canvas', { class: 'plot', id: 'repetition-heatmap' });
  const profile = el('canvas', { class: 'plot', id: 'repetition-profile' });
  panel.body.append(map, profile);
  const result = {};
  let P;

  const syncParam = () => {
    const kind = rule.value;
    param.disabled = kind === 'sampling' || kind === 'greedy';
    if (kind === 'topK') Object.assign(param, { min: 1, max: 26, step: 1 });
    if (kind === 'nucleus') Object.assign(param, { min: 0.05, max: 1, step: 0.05 });
    paramLabel.textContent = kind === 'topK' ? `k = ${param.value}` : kind === 'nucleus' ? `p = ${Number(param.value).toFixed(2)}` : '';
  };

  async function task({ signal }) {
    if (!P) P = transitions((await (await fetch(new URL('../data/cities.json', import.meta.url))).json()).rows);
    syncParam();
    const kind = rule.value;
    const spec = kind === 'topK' ? { kind, k: Number(param.value) } : kind === 'nucleus' ? { kind, p: Number(param.value) } : { kind };
    const Q = kind === 'sampling' ? P : await pool.decodeTransform(P, N, N, spec);
    const r = await pool.repetition(Q, N, { eosIndex: EOS });
    throwIfAborted(signal, 'repetition'); // the rule or slider changed meanwhile: draw only the latest
    const labels = [...LETTERS, '⏎'];
    heatmap(map, { data: Q, rows: N, cols: N, rowLabels: labels, colLabels: labels, max: 1, title: `transition matrix under ${kind === 'sampling' ? 'plain sampling' : paramLabel.textContent ? `${kind}, ${paramLabel.textContent}` : kind}` });
    vbars(profile, { values: Array.from(r.traces), labels: Array.from(r.traces, (_, i) => `L=${i + 1}`), height: 150, yLabel: 'tr(Mᴸ)' });
    Object.assign(result, { kind, spec, R: r.R, finite: r.finite, rhoM: r.rhoM, cycles: r.cycles.map((c) => Array.from(c, (i) => labels[i]).join('')), upper: Array.from(r.upperBounds ?? []), lower: Array.from(r.lowerBounds ?? []) });
    if (!r.finite) return `R = ∞: the decoder loops forever on ${result.cycles.map((c) => `“${c}”`).join(', ')} (ρ(M) = 1)`;
    return `R = ${fmt(r.R, 4)} expected repeated loops, ρ(M) = ${fmt(r.rhoM, 4)}`;
  }

  rule.addEventListener('change', () => {
    if (rule.value === 'topK') param.value = 3;
    if (rule.value === 'nucleus') param.value = 0.6;
    void panel.run(task);
  });
  param.addEventListener('input', () => void panel.run(task));
  void panel.run(task);
  return { panel, result };
}
