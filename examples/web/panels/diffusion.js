// Diffusion samplers on the 8-Gaussian ring: the four samplers run side by side in the pool with an exact
// ε-predictor, and each canvas shows x_t at every step, so you watch noise contract onto the ring.
import { el, Panel } from '../lib/ui.js';
import { COLORS, fmt, points } from '../lib/draw.js';

export const id = 'diffusion';

const SAMPLERS = ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'];
const RING = Array.from({ length: 8 }, (_, k) => [0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8)]);

export function mount(parent, { gencore, pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'Diffusion samplers',
    subtitle: '8-Gaussian ring, exact denoiser',
    what: 'DDPM, DDIM and their Analytic-DPM variants sample the ring bed (8 Gaussians, std 0.1) from pure noise in the pool; the ε-predictor is the exact mixture denoiser, called back on this thread, and every step is drawn. At the end: energy distance to 2000 true samples (×10³; about 0 means indistinguishable, it can dip below 0).',
  });
  if (typeof pool.sample !== 'function' || typeof gencore.noiseSchedule !== 'function' || typeof gencore.gaussianMixture !== 'function') {
    panel.unavailable('Diffusion samplers (issue #6)');
    return { panel };
  }
  const steps = el('select', { id: 'diffusion-steps' }, ...[10, 20, 50, 100, 1000].map((k) => el('option', { value: k, selected: k === 50 }, `${k} steps`)));
  const batch = el('select', { id: 'diffusion-batch' }, ...[500, 1000, 2000].map((b) => el('option', { value: b, selected: b === 1000 }, `${b} points`)));
  const seed = el('input', { id: 'diffusion-seed', type: 'number', value: 1, min: 0, style: 'width: 5em' });
  panel.controls.append(steps, batch, el('label', {}, 'seed ', seed));
  const canvases = SAMPLERS.map((s) => el('canvas', { class: 'plot', id: `diffusion-${s}` }));
  panel.body.append(el('div', { class: 'row' }, canvases[0], canvases[1]), el('div', { class: 'row' }, canvases[2], canvases[3]));
  const marks = RING.map(([x, y]) => [x, y, 0.2]);
  const blank = new Float32Array(0);
  SAMPLERS.forEach((s, i) => points(canvases[i], { xy: blank, count: 0, title: s, marks, color: COLORS[i] }));

  const schedule = gencore.noiseSchedule({ kind: 'linear', steps: 1000 });
  const mixture = gencore.gaussianMixture({ means: Float64Array.from(RING.flat()), stds: new Float64Array(8).fill(0.1), weights: new Float64Array(8).fill(1 / 8), schedule });
  const result = { steps: 0, samplers: {} };

  // σ̄²_t for the analytic samplers, estimated in the pool on the plan's timesteps from 4000 mixture
  // samples (the mixture's params make the pool evaluate its denoiser in wasm, in the worker).
  const variances = new Map();
  const variance = (K, signal) => {
    if (!variances.has(K)) {
      const estimate = pool
        .estimateAnalyticGamma(mixture.params, mixture.sample(4000, 7), schedule, { dim: 2, timesteps: gencore.timesteps(1000, K), seed: 7, sigmaBar2Max: 0.255, signal })
        .then((r) => r.sigmaBar2);
      estimate.catch(() => variances.delete(K)); // a cancelled estimate is redone next time
      variances.set(K, estimate);
    }
    return variances.get(K);
  };

  async function task({ signal, progress }) {
    const K = Number(steps.value);
    const B = Number(batch.value);
    const s0 = Math.max(0, Math.floor(Number(seed.value)) || 0);
    const state = SAMPLERS.map(() => ({ x: undefined, step: 0, t: 1000, dirty: false }));
    let raf = 0;
    const paint = () => {
      raf = 0;
      state.forEach((st, i) => {
        if (!st.dirty) return;
        st.dirty = false;
        points(canvases[i], { xy: st.x, count: st.x.length / 2, title: SAMPLERS[i], marks, color: COLORS[i], note: st.done ?? `step ${st.step}/${K} · t = ${st.t}` });
      });
      const done = state.reduce((a, st) => a + st.step, 0);
      progress(done / (K * SAMPLERS.length), `${done} of ${K * SAMPLERS.length} denoiser steps…`);
    };
    const schedulePaint = () => (raf ||= requestAnimationFrame(paint));
    const runs = SAMPLERS.map(async (sampler, i) => {
      const denoiser = (x, t, shape) => {
        const st = state[i];
        st.x = x;
        st.t = t;
        st.step++;
        st.dirty = true;
        schedulePaint();
        return mixture.denoiser(x, t, shape);
      };
      const opts = { sampler, schedule, steps: K, shape: [B, 2], denoiser, seed: s0, signal };
      if (sampler.startsWith('analytic')) opts.sigmaBar2 = await variance(K, signal);
      const out = await pool.sample(opts);
      state[i].x = out;
      state[i].done = 'x₀';
      state[i].dirty = true;
      schedulePaint();
      return out;
    });
    const samples = await Promise.all(runs);
    const truth = mixture.sample(2000, 12345);
    const scores = await Promise.all(samples.map((x) => pool.energyDistance(x, truth, 2)));
    SAMPLERS.forEach((s, i) => {
      result.samplers[s] = { energy: scores[i], meanRadius: meanRadius(samples[i]) };
      points(canvases[i], { xy: samples[i], count: B, title: s, marks, color: COLORS[i], note: `E·10³ = ${fmt(scores[i] * 1e3)}` });
    });
    result.steps = K;
    return `${K} steps, ${B} points: energy distance ×10³ — ${SAMPLERS.map((s, i) => `${s} ${fmt(scores[i] * 1e3)}`).join(', ')}`;
  }

  panel.addRunButtons(task, { label: 'Sample' });
  return { panel, result };
}

function meanRadius(xy) {
  let s = 0;
  for (let i = 0; i < xy.length; i += 2) s += Math.hypot(xy[i], xy[i + 1]);
  return s / (xy.length / 2);
}
