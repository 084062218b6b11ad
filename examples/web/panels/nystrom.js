// Nyström attention: relative error against exact softmax attention and the speed-up, as n grows.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { fmt, lines } from '../lib/draw.js';

export const id = 'nystrom';

/**
 * Smooth token embeddings (n×d): each dimension is a sum of three slow sinusoids with random phases, the
 * regime where a low-rank (landmark) approximation of the attention matrix is accurate.
 */
function smoothTokens(n, d, seed) {
  let x = seed >>> 0;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(n * d);
  for (let j = 0; j < d; j++) {
    const waves = [1, 2, 3].map((h) => ({ f: (h * (0.5 + rand())) / n, p: 2 * Math.PI * rand(), a: 1 / h }));
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const w of waves) s += w.a * Math.sin(2 * Math.PI * w.f * i + w.p);
      out[i * d + j] = s;
    }
  }
  return out;
}

function randomValues(len, seed) {
  let x = seed >>> 0;
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 31) - 1;
  return out;
}

/** ‖a − b‖_F / ‖b‖_F in float64. */
function relFrobenius(a, b) {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}

const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

export function mount(parent, { pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'Nyström attention',
    subtitle: 'error and speed-up vs sequence length',
    what: 'For each n, exact softmax attention and its Nyström approximation (m landmarks, iterative pseudo-inverse) run in the pool on smooth token embeddings; the plots show the relative Frobenius error and how many times faster Nyström is.',
  });
  if (typeof pool.nystromAttention !== 'function' || typeof pool.attention !== 'function') {
    panel.unavailable('Nyström attention (issue #3)');
    return { panel };
  }
  const maxN = el('select', { id: 'nystrom-maxn' }, ...[1024, 2048, 4096].map((n) => el('option', { value: n, selected: n === 2048 }, `up to n = ${n}`)));
  const landmarks = el('select', { id: 'nystrom-landmarks' }, ...[32, 64, 128].map((m) => el('option', { value: m, selected: m === 64 }, `${m} landmarks`)));
  panel.controls.append(maxN, landmarks);
  const errPlot = el('canvas', { class: 'plot', id: 'nystrom-error' });
  const speedPlot = el('canvas', { class: 'plot', id: 'nystrom-speedup' });
  const table = el('table', { class: 'results', id: 'nystrom-results' });
  panel.body.append(el('div', { class: 'row' }, errPlot, speedPlot), table);
  const result = { rows: [] };

  const draw = (rows) => {
    const x = rows.map((r) => r.n);
    lines(errPlot, { series: [{ name: 'relative error', x, y: rows.map((r) => r.error) }], xLabel: 'sequence length n', yLabel: 'rel. error', logX: true, width: 290, height: 220, title: 'relative error ‖Ŷ − Y‖ / ‖Y‖' });
    lines(speedPlot, { series: [{ name: 'speed-up', x, y: rows.map((r) => r.speedup), color: '#2b9a66' }], xLabel: 'sequence length n', yLabel: '×', logX: true, width: 290, height: 220, title: 'speed-up (exact time / Nyström time)' });
  };

  async function task({ signal, progress }) {
    const d = 64;
    const m = Number(landmarks.value);
    const sizes = [];
    for (let n = 256; n <= Number(maxN.value); n *= 2) sizes.push(n);
    const reps = 3;
    const total = sizes.length * 2 * reps;
    let done = 0;
    const rows = [];
    for (const n of sizes) {
      const q = smoothTokens(n, d, 7 + n);
      const v = randomValues(n * d, 3 + n);
      const time = async (fn) => {
        const ms = [];
        let out;
        for (let r = 0; r < reps; r++) {
          throwIfAborted(signal, 'nystrom');
          const t0 = performance.now();
          out = await fn();
          ms.push(performance.now() - t0);
          progress(++done / total, `n = ${n}: ${done} of ${total} runs…`);
        }
        return { out, ms: median(ms) };
      };
      // Self-attention: keys are the queries (q = k), as in the Nyströmformer.
      const exact = await time(() => pool.attention(q, q, v, { n, d }));
      const approx = await time(() => pool.nystromAttention(q, q, v, { n, d, landmarks: m }));
      rows.push({ n, error: relFrobenius(approx.out, exact.out), exactMs: exact.ms, nystromMs: approx.ms, speedup: exact.ms / approx.ms });
      draw(rows);
    }
    result.rows = rows;
    result.landmarks = m;
    table.replaceChildren(
      el('tr', {}, ...['n', 'exact ms', 'Nyström ms', 'speed-up', 'rel. error'].map((h, i) => el('th', { class: i ? 'num' : '' }, h))),
      ...rows.map((r) =>
        el('tr', {}, el('td', {}, r.n), el('td', { class: 'num' }, fmt(r.exactMs)), el('td', { class: 'num' }, fmt(r.nystromMs)), el('td', { class: 'num' }, `${fmt(r.speedup)}×`), el('td', { class: 'num' }, fmt(r.error))),
      ),
    );
    const last = rows[rows.length - 1];
    return `n = ${last.n}, ${m} landmarks: ${fmt(last.speedup)}× faster than exact, relative error ${fmt(last.error)}`;
  }

  draw([]);
  panel.addRunButtons(task);
  return { panel, result };
}
