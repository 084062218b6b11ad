/**
 * §9 The exact Gaussian-mixture denoiser (docs/diffusion.md): `gaussianMixture` and its float64 JS
 * posterior, and the same formulas in wasm (`gc.mixtureDenoise`, `gc.mixturePosterior`, and the
 * samplers when given a mixture as their denoiser).
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray, Scope } from '../wasm/memory.js';
import { checkFinite, checkFloatArray, checkInt, checkOptions, checkTyped, show } from '../shared/validate.js';
import { checkShape, checkValues } from './checks.js';
import { normalJs, seedKey, STREAM, threefry2x32, uniformOfWord } from './rng.js';
import { checkSchedule, noiseSchedule, type NoiseSchedule } from './schedule.js';

/** Plain-data description of a Gaussian mixture (structured-cloneable: it crosses worker boundaries). */
export interface GaussianMixtureParams {
  kind: 'gaussianMixture';
  /** K×d component means, row-major. */
  means: Float64Array;
  /** K isotropic standard deviations. */
  stds: Float64Array;
  /** K weights, normalised to sum 1. */
  weights: Float64Array;
  dim: number;
  /** ᾱ of the schedule the denoiser reads (default linear, T = 1000). */
  alphasCumprod: Float64Array;
}

export interface GaussianMixtureOptions {
  means: ArrayLike<number>;
  stds: ArrayLike<number>;
  weights?: ArrayLike<number>;
  schedule?: NoiseSchedule;
}

export interface GaussianMixture {
  /** The plain parameters (pass them, or this object, as a `denoiser` to gc.sample / pool.sample). */
  readonly params: GaussianMixtureParams;
  readonly dim: number;
  readonly components: number;
  /** Exact ε*(x) at timestep t, float64 inside; Float64Array in → Float64Array out, else Float32Array. */
  denoiser(x: FloatArray, t: number, shape?: [number, number]): FloatArray;
  /** ε*, E[x0 | x_t] and tr Cov[x0 | x_t]/d per row, float64. */
  posterior(x: ArrayLike<number>, t: number, shape?: [number, number]): { eps: Float64Array; mean: Float64Array; trCov: Float64Array };
  /** n samples of the mixture (Float32Array of n·d), streams 0x80000000 / 0x80000001 of `seed`. */
  sample(n: number, seed: number | bigint): Float32Array;
  /**
   * σ̄_t² = E tr Cov[x0 | x_t]/d by Monte Carlo over `samples` draws of x0 (and of ε), float64; NaN off
   * the requested timesteps (default all). Use as `sigmaBar2` of the analytic samplers.
   */
  sigmaBar2(opts?: { timesteps?: ArrayLike<number>; samples?: number; seed?: number | bigint }): Float64Array;
}

/** Denoiser functions made by gaussianMixture(), so samplers can run them in wasm (and in workers). */
const MIXTURE_OF = new WeakMap<Function, GaussianMixtureParams>();

/** The mixture behind a denoiser argument: a gaussianMixture() object, its denoiser, or its params. */
export function mixtureParamsOf(v: unknown): GaussianMixtureParams | undefined {
  if (typeof v === 'function') return MIXTURE_OF.get(v);
  if (v !== null && typeof v === 'object') {
    const p = (v as { params?: unknown }).params;
    if (p && typeof p === 'object' && (p as GaussianMixtureParams).kind === 'gaussianMixture') return p as GaussianMixtureParams;
    if ((v as GaussianMixtureParams).kind === 'gaussianMixture') return v as GaussianMixtureParams;
  }
  return undefined;
}

/**
 * Checked params, as copies: the call reads them after it allocates, and arrays living in wasm memory
 * would be detached by a grow (they are small: K·dim means, K stds and weights, T values of ᾱ).
 */
export function checkMixtureParams(fn: string, p: GaussianMixtureParams): GaussianMixtureParams {
  const K = p.stds?.length;
  if (!(p.means instanceof Float64Array) || !(p.stds instanceof Float64Array) || !(p.weights instanceof Float64Array) || !(p.alphasCumprod instanceof Float64Array)) {
    throw new TypeError(`${fn}: a gaussianMixture's params must hold Float64Arrays means, stds, weights, alphasCumprod`);
  }
  if (!(K >= 1) || p.weights.length !== K || p.means.length !== K * p.dim) {
    throw new RangeError(`${fn}: gaussianMixture params are inconsistent (K = ${K}, dim = ${p.dim}, means.length ${p.means.length})`);
  }
  return { ...p, means: p.means.slice(), stds: p.stds.slice(), weights: p.weights.slice(), alphasCumprod: p.alphasCumprod.slice() };
}

/** Evaluate the mixture posterior in float64 for rows of x (the JS reference path of §9). */
function mixturePosteriorJs(p: GaussianMixtureParams, x: ArrayLike<number>, rows: number, alphaBar: number, want: { eps?: boolean; mean?: boolean; trCov?: boolean }) {
  const d = p.dim;
  const K = p.stds.length;
  const a = Math.sqrt(alphaBar);
  const b = Math.sqrt(1 - alphaBar);
  const b2 = b * b;
  const eps = new Float64Array(want.eps ? rows * d : 0);
  const mean = new Float64Array(want.mean || want.trCov ? rows * d : 0);
  const trCov = new Float64Array(want.trCov ? rows : 0);
  const v = new Float64Array(K);
  const cst = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const s = p.stds[k];
    v[k] = a * a * s * s + b2;
    cst[k] = Math.log(p.weights[k]) - 0.5 * d * Math.log(v[k]);
  }
  const l = new Float64Array(K);
  const mk = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) {
      let dist = 0;
      for (let c = 0; c < d; c++) {
        const diff = x[r * d + c] - a * p.means[k * d + c];
        dist += diff * diff;
      }
      l[k] = cst[k] - (0.5 / v[k]) * dist;
      if (l[k] > mx) mx = l[k];
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      l[k] = Math.exp(l[k] - mx);
      sum += l[k];
    }
    let msq = 0;
    let vsum = 0;
    for (let k = 0; k < K; k++) {
      const w = l[k] / sum;
      const s2 = p.stds[k] ** 2;
      let mk2 = 0;
      for (let c = 0; c < d; c++) {
        const diff = x[r * d + c] - a * p.means[k * d + c];
        if (want.eps) eps[r * d + c] += w * (b / v[k]) * diff;
        if (mean.length) {
          mk[c] = p.means[k * d + c] + ((a * s2) / v[k]) * diff;
          mean[r * d + c] += w * mk[c];
          mk2 += mk[c] * mk[c];
        }
      }
      msq += w * mk2;
      vsum += (w * s2 * b2) / v[k];
    }
    if (want.trCov) {
      let e2 = 0;
      for (let c = 0; c < d; c++) e2 += mean[r * d + c] ** 2;
      trCov[r] = vsum + (msq - e2) / d;
    }
  }
  return { eps, mean, trCov };
}

/**
 * An isotropic Gaussian mixture with its exact ε-predictor (docs/diffusion.md §9), for tests and demos.
 *
 * @param opts.means - K×d means (row-major); d = means.length / K.
 * @param opts.stds - K standard deviations (> 0).
 * @param opts.weights - K weights ≥ 0 (normalised here). Default equal.
 * @param opts.schedule - the schedule whose ᾱ_t the denoiser reads. Default linear, T = 1000.
 * @returns `{ params, dim, components, denoiser, posterior, sample, sigmaBar2 }`. gc.sample, pool.sample
 *   and gc.estimateAnalyticGamma recognise this object, its `denoiser` or its `params` and evaluate the
 *   same formulas in wasm (f64 inside, f32 in and out) — in the workers, for a pool.
 */
export function gaussianMixture(opts: GaussianMixtureOptions): GaussianMixture {
  const fn = 'gaussianMixture';
  const o = checkOptions(fn, opts);
  if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
  const toF64 = (name: string, v: unknown): Float64Array => {
    if (!(v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v))) throw new TypeError(`${fn}: opts.${name} must be an array of numbers, got ${show(v)}`);
    const a = Float64Array.from(v as ArrayLike<number>);
    checkFinite(fn, `opts.${name}`, a);
    return a;
  };
  const stds = toF64('stds', o.stds);
  const K = stds.length;
  if (K < 1) throw new RangeError(`${fn}: opts.stds must have at least one component`);
  for (let k = 0; k < K; k++) if (!(stds[k] > 0)) throw new RangeError(`${fn}: opts.stds[${k}] is ${stds[k]}; must be > 0`);
  const means = toF64('means', o.means);
  if (means.length === 0 || means.length % K !== 0) throw new RangeError(`${fn}: opts.means.length ${means.length} is not a positive multiple of K = ${K}`);
  const dim = means.length / K;
  const weights = o.weights === undefined ? new Float64Array(K).fill(1) : toF64('weights', o.weights);
  if (weights.length !== K) throw new RangeError(`${fn}: opts.weights.length ${weights.length} does not match K = ${K}`);
  let wsum = 0;
  for (let k = 0; k < K; k++) {
    if (!(weights[k] >= 0)) throw new RangeError(`${fn}: opts.weights[${k}] is ${weights[k]}; must be ≥ 0`);
    wsum += weights[k];
  }
  if (!(wsum > 0)) throw new RangeError(`${fn}: opts.weights sum to 0`);
  for (let k = 0; k < K; k++) weights[k] /= wsum;
  const acp = o.schedule === undefined ? noiseSchedule({ kind: 'linear' }).alphasCumprod : checkSchedule(fn, 'opts.schedule', o.schedule);
  const params: GaussianMixtureParams = { kind: 'gaussianMixture', means, stds, weights, dim, alphasCumprod: acp };

  const rowsOf = (what: string, x: ArrayLike<number>, shape?: [number, number]): number => {
    if (shape !== undefined) {
      if (!Array.isArray(shape) || shape.length !== 2) throw new TypeError(`${what}: shape must be [batch, dim], got ${show(shape)}`);
      if (shape[1] !== dim) throw new RangeError(`${what}: shape[1] = ${shape[1]} does not match the mixture's dim = ${dim}`);
      if (x.length !== shape[0] * dim) throw new RangeError(`${what}: x.length ${x.length} does not match batch*dim = ${shape[0] * dim}`);
      return shape[0];
    }
    if (x.length % dim !== 0) throw new RangeError(`${what}: x.length ${x.length} is not a multiple of dim = ${dim}`);
    return x.length / dim;
  };
  const alphaBarAt = (what: string, t: number): number => acp[checkInt(what, 't', t, 0, acp.length - 1)];

  const denoiser = (x: FloatArray, t: number, shape?: [number, number]): FloatArray => {
    const what = `${fn}.denoiser`;
    checkFloatArray(what, 'x', x);
    const rows = rowsOf(what, x, shape);
    const { eps } = mixturePosteriorJs(params, x, rows, alphaBarAt(what, t), { eps: true });
    return x instanceof Float64Array ? eps : Float32Array.from(eps);
  };
  MIXTURE_OF.set(denoiser, params);

  const sample = (n: number, seed: number | bigint): Float32Array => {
    const what = `${fn}.sample`;
    checkInt(what, 'n', n);
    checkValues(what, 'n*dim', n * dim);
    const [k0, k1] = seedKey(what, 'seed', seed);
    const cum = new Float64Array(K);
    let acc = 0;
    for (let k = 0; k < K; k++) cum[k] = acc += weights[k];
    cum[K - 1] = 1;
    const out = new Float32Array(n * dim);
    for (let r = 0; r < n; r++) {
      const u = uniformOfWord(threefry2x32(k0, k1, r >>> 0, STREAM.mixtureComponent)[0]);
      let k = 0;
      while (k < K - 1 && !(u < cum[k])) k++;
      for (let c = 0; c < dim; c++) out[r * dim + c] = means[k * dim + c] + stds[k] * normalJs(k0, k1, STREAM.mixtureNormal, r * dim + c);
    }
    return out;
  };

  return {
    params,
    dim,
    components: K,
    denoiser,
    posterior(x, t, shape) {
      const what = `${fn}.posterior`;
      const rows = rowsOf(what, x, shape);
      return mixturePosteriorJs(params, x, rows, alphaBarAt(what, t), { eps: true, mean: true, trCov: true });
    },
    sample,
    sigmaBar2(so = {}) {
      const what = `${fn}.sigmaBar2`;
      const s = checkOptions(what, so);
      const M = s.samples === undefined ? 20000 : checkInt(what, 'opts.samples', s.samples, 1);
      checkValues(what, 'opts.samples*dim', M * dim);
      const seed = s.seed === undefined ? 0 : s.seed;
      const [k0, k1] = seedKey(what, 'opts.seed', seed);
      const T = acp.length;
      const ts = s.timesteps === undefined ? Array.from({ length: T }, (_, t) => t) : Array.from(s.timesteps);
      const x0 = sample(M, seed);
      const out = new Float64Array(T).fill(NaN);
      const xt = new Float64Array(M * dim);
      for (const t of ts) {
        checkInt(what, 'opts.timesteps[i]', t, 0, T - 1);
        const a = Math.sqrt(acp[t]);
        const b = Math.sqrt(1 - acp[t]);
        for (let e = 0; e < M * dim; e++) xt[e] = a * x0[e] + b * normalJs(k0, k1, STREAM.estimator(t), e);
        const { trCov } = mixturePosteriorJs(params, xt, M, acp[t], { trCov: true });
        let sum = 0;
        for (let r = 0; r < M; r++) sum += trCov[r];
        out[t] = sum / M;
      }
      return out;
    },
  };
}

/** Checks shared by the mixture evaluations: the mixture, x (batch·dim f32) and the timestep t. */
export function checkMixtureCall(
  fn: string,
  mixture: GaussianMixture | GaussianMixtureParams,
  x: Float32Array,
  t: number,
  shape: [number, number],
): { p: GaussianMixtureParams; batch: number; dim: number } {
  const params = mixtureParamsOf(mixture);
  if (!params) throw new TypeError(`${fn}: mixture must be a gaussianMixture() object or its params, got ${show(mixture)}`);
  const p = checkMixtureParams(fn, params);
  const [batch, dim] = checkShape(fn, shape);
  if (dim !== p.dim) throw new RangeError(`${fn}: shape[1] = ${dim} does not match the mixture's dim = ${p.dim}`);
  checkTyped(fn, 'x', x, Float32Array, batch * dim, 'batch*dim');
  checkInt(fn, 't', t, 0, p.alphasCumprod.length - 1);
  return { p, batch, dim };
}

/** Stage a mixture's parameters and scratch in `scope`. */
export function stageMixture(inst: WasmInstance, scope: Scope, p: GaussianMixtureParams) {
  const K = p.stds.length;
  const logw = p.weights.map((w) => Math.log(w));
  return {
    means: scope.copyIn(p.means, 'mixture means'),
    stds: scope.copyIn(p.stds, 'mixture stds'),
    logw: scope.copyIn(logw, 'mixture log-weights'),
    scratch: scope.alloc(inst.kernels.mixture_scratch_bytes(K, p.dim), 'mixture scratch'),
    K,
  };
}
export type StagedMixture = ReturnType<typeof stageMixture>;

/** Evaluate the staged mixture at timestep t on `rows` rows at `x` into `eps`, `mean`, `trcov` (0: not computed). */
export function runMixture(inst: WasmInstance, p: GaussianMixtureParams, st: StagedMixture, x: number, rows: number, t: number, eps: number, mean: number, trcov: number): void {
  const ab = p.alphasCumprod[t];
  inst.run('gaussianMixture', (k) =>
    k.mixture_eval_f32(x, rows, p.dim, st.means, st.stds, st.logw, st.K, Math.sqrt(ab), Math.sqrt(1 - ab), eps, mean, trcov, st.scratch),
  );
}

/** gc.mixtureDenoise and gc.mixturePosterior on `inst`. */
export function mixtureApi(inst: WasmInstance) {
  return {
    /**
     * The exact mixture ε*(x_t) in wasm (f64 inside, f32 in and out) — the same formulas as
     * `gaussianMixture(...).denoiser`, which gc.sample uses when given a mixture.
     *
     * @param mixture - a gaussianMixture() object or its params.
     * @param x - batch·dim f32 values.
     */
    mixtureDenoise(mixture: GaussianMixture | GaussianMixtureParams, x: Float32Array, t: number, shape: [number, number], opts?: { out?: Float32Array }): Float32Array {
      const fn = 'mixtureDenoise';
      const { p, batch, dim } = checkMixtureCall(fn, mixture, x, t, shape);
      const o = checkOptions(fn, opts);
      const out = o.out === undefined ? undefined : checkTyped(fn, 'opts.out', o.out, Float32Array, batch * dim, 'batch*dim');
      return inst.mem.scoped((scope) => {
        scope.pin(x, out);
        const px = scope.copyIn(x, 'x');
        const pe = scope.resultPtr(out, batch * dim * 4, 'eps');
        runMixture(inst, p, stageMixture(inst, scope, p), px, batch, t, pe, 0, 0);
        return scope.copyOut(Float32Array, pe, batch * dim, out);
      });
    },

    /** The mixture's posterior mean E[x0 | x_t] (f32) and tr Cov[x0 | x_t]/d per row (f64), in wasm. */
    mixturePosterior(mixture: GaussianMixture | GaussianMixtureParams, x: Float32Array, t: number, shape: [number, number]): { mean: Float32Array; trCov: Float64Array } {
      const fn = 'mixturePosterior';
      const { p, batch, dim } = checkMixtureCall(fn, mixture, x, t, shape);
      return inst.mem.scoped((scope) => {
        scope.pin(x);
        const px = scope.copyIn(x, 'x');
        const pm = scope.alloc(batch * dim * 4, 'mean');
        const pc = scope.alloc(batch * 8, 'trCov');
        runMixture(inst, p, stageMixture(inst, scope, p), px, batch, t, 0, pm, pc);
        return { mean: scope.copyOut(Float32Array, pm, batch * dim), trCov: scope.copyOut(Float64Array, pc, batch) };
      });
    },
  };
}
