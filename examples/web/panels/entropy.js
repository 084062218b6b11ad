// Entropy normalisation: a slider sets the target entropy of a next-token distribution and the pool finds
// the inverse temperature γ that reaches it (p̃ ∝ p^γ); the bars reshape as you drag.
import { el, Panel, throwIfAborted } from '../lib/ui.js';
import { COLORS, fmt, vbars } from '../lib/draw.js';

export const id = 'entropy';

const V = 40;
const STATUS = ['ok', 'clamped high', 'clamped low', 'degenerate', 'max iterations', 'invalid'];

/** A Zipf-like next-token distribution with some jitter (logits), sorted for legibility. */
function logits() {
  let x = 2024;
  const z = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    z[i] = -1.1 * Math.log(i + 1) + 0.6 * (x / 2 ** 32 - 0.5);
  }
  return z.sort().reverse();
}

function softmax(z) {
  const max = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function mount(parent, { pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'Entropy normalisation',
    subtitle: 'target entropy → temperature',
    what: 'Drag the slider to choose the entropy (in nats) of a 40-token next-token distribution; gencore.entropyNormalize finds γ with H(softmax(γ·z)) = target in the pool. Grey: the model’s distribution; blue: the reshaped one.',
  });
  if (typeof pool.entropyNormalize !== 'function') {
    panel.unavailable('Entropy normalisation (issue #5)');
    return { panel };
  }
  const z = logits();
  const p0 = softmax(z);
  const h0 = -p0.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
  const hMax = Math.log(V);
  const slider = el('input', { id: 'entropy-target', type: 'range', min: 0.05, max: hMax.toFixed(3), step: 0.01, value: h0.toFixed(2) });
  const readout = el('span', { id: 'entropy-readout' });
  panel.controls.append(el('label', {}, 'target H ', slider), readout);
  const chart = el('canvas', { class: 'plot', id: 'entropy-chart' });
  panel.body.append(chart);
  const result = {};

  const draw = (p) => {
    const ctxW = 560;
    // A y range that fits both distributions, in steps of 0.1, so the bars use the height.
    const yMax = Math.min(1, Math.ceil(Math.max(...p0, ...p) * 10 + 0.2) / 10);
    vbars(chart, { values: new Array(V).fill(0), width: ctxW, height: 210, yMax, yLabel: 'probability' });
    // Per token, the model's probability (grey, left) next to the reshaped one (blue, right), on vbars' axes.
    const ctx = chart.getContext('2d');
    const pad = { l: 58, r: 8, t: 10, b: 26 };
    const w = ctxW - pad.l - pad.r;
    const h = 210 - pad.t - pad.b;
    const bw = w / V;
    const bar = (v, x, color) => {
      ctx.fillStyle = color;
      ctx.fillRect(x, pad.t + h - (h * v) / yMax, Math.max(1, bw * 0.4), (h * v) / yMax);
    };
    p0.forEach((v, i) => bar(v, pad.l + i * bw + bw * 0.1, '#b9c0cc'));
    p.forEach((v, i) => bar(v, pad.l + i * bw + bw * 0.5, COLORS[0]));
    ctx.fillStyle = '#667085';
    ctx.fillText('tokens, most likely first', pad.l + w / 2 - 60, 210 - 8);
  };
  draw(p0);

  async function task({ signal }) {
    const target = Number(slider.value);
    readout.textContent = `${target.toFixed(2)} nats (model: ${h0.toFixed(2)}, max ln ${V} = ${hMax.toFixed(2)})`;
    const r = await pool.entropyNormalize(z, 1, V, target, { fromLogits: true });
    throwIfAborted(signal, 'entropy'); // the slider moved on: draw only the latest target
    const p = Array.from(r.out);
    draw(p);
    Object.assign(result, { target, gamma: r.gamma[0], entropy: r.entropy[0], status: STATUS[r.status[0]] ?? String(r.status[0]), iterations: r.iterations[0], probs: p });
    return `γ = ${fmt(result.gamma)} (temperature ${fmt(1 / result.gamma)}), H = ${result.entropy.toFixed(4)} nats, ${result.status}, ${result.iterations} passes`;
  }

  slider.addEventListener('input', () => void panel.run(task));
  void panel.run(task);
  return { panel, result };
}
