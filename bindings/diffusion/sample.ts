/**
 * The sampler loops (docs/diffusion.md §4–5, §8): `gc.sample` from x_T to x_0 and the Monte-Carlo
 * `gc.estimateAnalyticGamma`, one fused kernel call per step driven from TypeScript, so that the loop can
 * await an async denoiser, check an AbortSignal and report progress between steps.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray } from '../wasm/memory.js';
import { awaitCallback, checkTimeoutMs, stepYielder } from '../shared/callbacks.js';
import { throwIfAborted } from '../shared/errors.js';
import { checkEnum, checkFinite, checkFunction, checkInt, checkNumber, checkOptions, checkSignal, checkTyped } from '../shared/validate.js';
import { checkCallbackResult, checkShape, checkValues, report, type DiffusionProgress } from './checks.js';
import { checkMixtureParams, mixtureParamsOf, runMixture, stageMixture, type GaussianMixture, type GaussianMixtureParams } from './mixture.js';
import { clipSigmaBar2, resolvePlan, type PlanOptions, type ResolvedPlan, type Sampler, type StepCoef } from './plan.js';
import { normalsInto, seedKey, STREAM } from './rng.js';
import { checkSchedule, type NoiseSchedule } from './schedule.js';
import { foldPrediction, fusedStep, rowThresholds } from './step.js';

/** A denoiser: the ε-prediction (or x̂0 / v, per `prediction`) for x at timestep t, sync or async. */
export type Denoiser = (x: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;

export interface SampleOptions extends PlanOptions {
  sampler: Sampler;
  /** [batch, dim]. */
  shape: [number, number];
  /**
   * ε-prediction (or x̂0 / v per `prediction`) for (x, t, [batch, dim]); sync or async; must return
   * batch·dim finite values. A gaussianMixture() object, its denoiser or its params run in wasm instead.
   */
  denoiser: Denoiser | GaussianMixture | GaussianMixtureParams;
  /** Integer in [0, 2^53) or bigint < 2^64: key of every random number of the run. */
  seed: number | bigint;
  /** Starting sample x_T (batch·dim); default: standard normals of stream 0. */
  xT?: Float32Array;
  /**
   * Global index of the first row (advanced; default 0): rows are numbered from here in the random
   * streams, so a slice of a batch sampled on its own is bit-identical to the same rows of the whole
   * batch (the pool uses this to split a batch across workers).
   */
  rowOffset?: number;
  signal?: AbortSignal;
  /** Called after each step; an async reporter is awaited (its rejection rejects the call). */
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each denoiser call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
  /** Result buffer (batch·dim Float32Array). */
  out?: Float32Array;
}

export interface EstimateGammaOptions {
  /** Row length d of `data`. */
  dim: number;
  /** Timesteps to estimate (default all 0..T−1). */
  timesteps?: ArrayLike<number>;
  seed: number | bigint;
  /** `'gamma'`, `'su1'` or `'auto'` (default: per t the smaller standard error). */
  estimator?: 'gamma' | 'su1' | 'auto';
  sigmaBar2Max?: number;
  signal?: AbortSignal;
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each denoiser call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
}

export interface AnalyticGammaResult {
  /** Γ_t implied by the clipped σ̄² (NaN off the requested t). */
  gamma: Float64Array;
  /** Clipped σ̄_t² (NaN off the requested t). */
  sigmaBar2: Float64Array;
  /** Standard error of the chosen estimator (before clipping). */
  stdErr: Float64Array;
  /** 0 = gamma, 1 = su1, 255 = not estimated. */
  estimator: Uint8Array;
}

/** A validated gc.sample call (the pool splits it by rows). */
export interface SampleCall {
  resolved: ResolvedPlan;
  batch: number;
  dim: number;
  key: [number, number];
  denoiser: Denoiser | undefined;
  mixture: GaussianMixtureParams | undefined;
  xT: Float32Array | undefined;
  rowOffset: number;
  signal: AbortSignal | undefined;
  onProgress: ((p: DiffusionProgress) => void) | undefined;
  /** Limit for each denoiser call (ms). */
  timeoutMs: number | undefined;
  out: Float32Array | undefined;
}

/** Validate gc.sample's options (also used by the pool before splitting). */
export function planSample(opts: SampleOptions): SampleCall {
  const fn = 'sample';
  const o = checkOptions(fn, opts);
  if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
  if (o.sampler === undefined) throw new TypeError(`${fn}: opts.sampler is required ('ddpm', 'ddim', 'analytic-ddpm' or 'analytic-ddim')`);
  const [batch, dim] = checkShape(fn, o.shape);
  checkValues(fn, 'opts.shape batch*dim', batch * dim);
  const resolved = resolvePlan(fn, opts);
  const key = seedKey(fn, 'opts.seed', o.seed);
  const params = mixtureParamsOf(o.denoiser);
  const mixture = params && checkMixtureParams(fn, params);
  let denoiser: Denoiser | undefined;
  if (mixture) {
    if (mixture.dim !== dim) throw new RangeError(`${fn}: the gaussianMixture has dim ${mixture.dim} but opts.shape[1] is ${dim}`);
    if (mixture.alphasCumprod.length < resolved.T) throw new RangeError(`${fn}: the gaussianMixture's schedule has ${mixture.alphasCumprod.length} steps, fewer than T = ${resolved.T}`);
  } else denoiser = checkFunction<Denoiser>(fn, 'opts.denoiser', o.denoiser);
  const n = batch * dim;
  const xT = o.xT === undefined ? undefined : checkTyped(fn, 'opts.xT', o.xT, Float32Array, n, 'batch*dim');
  if (xT) checkFinite(fn, 'opts.xT', xT);
  const rowOffset = o.rowOffset === undefined ? 0 : checkInt(fn, 'opts.rowOffset', o.rowOffset, 0);
  if ((rowOffset + batch) * dim > 2 ** 32) throw new RangeError(`${fn}: (rowOffset + batch)·dim exceeds 2^32 random-number elements`);
  const signal = checkSignal(fn, o.signal);
  const onProgress = checkFunction<(p: DiffusionProgress) => void>(fn, 'opts.onProgress', o.onProgress, true);
  const timeoutMs = checkTimeoutMs(fn, 'opts.timeoutMs', o.timeoutMs);
  const out = o.out === undefined ? undefined : checkTyped(fn, 'opts.out', o.out, Float32Array, n, 'batch*dim');
  return { resolved, batch, dim, key, denoiser, mixture, xT, rowOffset, signal, onProgress, timeoutMs, out };
}

/** gc.sample and gc.estimateAnalyticGamma on `inst`. */
export function samplerApi(inst: WasmInstance) {
  return {
    /**
     * Run a sampler from x_T to x_0 over a [batch, dim] Float32Array (docs/diffusion.md §4–5, §8).
     *
     * x_T: `opts.xT` or normals of stream 0; step i calls `denoiser(x, τ_i, [batch, dim])` (awaited when
     * async) and draws z from stream i + 1. Between steps the AbortSignal is checked (AbortError) and
     * `onProgress` is called; a pending denoiser or reporter is raced against the signal (an abort rejects
     * at once), and a denoiser call not settled within `opts.timeoutMs` rejects with a TimeoutError. With
     * a signal, the loop lets the event loop run at least every 8 ms, so an abort from a timer or a message
     * is seen within a step even when the denoiser runs in wasm. Memory is freed on success, error, timeout
     * and abort; a kernel fault that resets the instance while the loop awaits rejects with KernelFaultError.
     *
     * @returns a Promise of the batch·dim samples (`opts.out` when given).
     * @throws (rejects) RangeError for steps > T, η < 0, a denoiser result of the wrong length or with
     *   NaN, shape / xT mismatches, `opts.timeoutMs` not finite > 0; TypeError for missing sampler /
     *   denoiser / seed or analytic σ̄²; AbortError; TimeoutError.
     */
    async sample(opts: SampleOptions): Promise<Float32Array> {
      const call = planSample(opts);
      const { resolved, batch, dim, key, denoiser, mixture, signal, onProgress, rowOffset } = call;
      const { plan, coef } = resolved;
      const n = batch * dim;
      const first = rowOffset * dim;
      const steps = plan.timesteps.length;
      throwIfAborted(signal, 'sample');
      const scope = inst.mem.openScope();
      try {
        scope.pin(call.xT, call.out);
        const px = scope.alloc(n * 4, 'x');
        const pm = scope.alloc(n * 4, 'model output');
        const ptrs = {
          x: px, m: pm, noise: 0, out: px, x0: 0,
          scratch: scope.alloc(inst.kernels.diffusion_scratch_bytes(), 'step scratch'),
          bounds: coef.thresholding ? scope.alloc(batch * 4, 'bounds') : 0,
          prow: coef.thresholding ? scope.alloc(batch * 4, 'row P') : 0,
        };
        const mix = mixture ? stageMixture(inst, scope, mixture) : undefined;
        if (call.xT) inst.mem.f32(px, n).set(scope.view(call.xT));
        else normalsInto(inst, scope, key, STREAM.xT, first, n, px);
        const between = stepYielder('sample', signal);
        for (let i = 0; i < steps; i++) {
          await between();
          inst.checkNotResetSince('sample', scope.mem);
          const t = plan.timesteps[i];
          if (mix) runMixture(inst, mixture!, mix, px, batch, t, pm, 0, 0);
          else {
            const res: unknown = await awaitCallback(denoiser!(inst.mem.f32(px, n).slice(), t, [batch, dim]), { fn: 'sample', what: 'the denoiser', signal, timeoutMs: call.timeoutMs });
            inst.checkNotResetSince('sample', scope.mem);
            const m = checkCallbackResult('sample', 'the denoiser', res, n, t);
            throwIfAborted(signal, 'sample');
            inst.mem.f32(pm, n).set(m);
          }
          const c: StepCoef = {
            alphaBar: plan.alphaBar[i], alphaBarPrev: plan.alphaBarPrev[i], a: plan.a[i], b: plan.b[i],
            P: plan.P[i], Q: plan.Q[i], R: plan.R[i], C: plan.C[i],
          };
          let thresholds: Float64Array | undefined;
          if (coef.thresholding) {
            const f = foldPrediction(coef.prediction, c.a, c.b);
            thresholds = rowThresholds(inst.mem.f32(px, n), inst.mem.f32(pm, n), batch, dim, f.kx, f.km, coef.thresholding);
          }
          fusedStep(inst, ptrs, batch, dim, c, coef, key, STREAM.step(i), first, thresholds);
          await report(onProgress, { step: i + 1, steps, t }, 'sample', signal);
        }
        inst.checkNotResetSince('sample', scope.mem);
        return scope.copyOut(Float32Array, px, n, call.out);
      } finally {
        scope.close();
      }
    },

    /**
     * Monte-Carlo estimate of Γ_t and σ̄_t² for Analytic-DPM (docs/diffusion.md §5): per t,
     * x_t = a·x0_i + b·ε_i (ε: stream 0xC0000000 | t), ε̂ = denoiser(x_t, t); estimators 'gamma', 'su1' or
     * 'auto' (the smaller standard error per t); σ̄² clipped to [0, min((1 − ᾱ)/ᾱ, sigmaBar2Max)].
     *
     * @param data - M rows of x0 (Float32Array of M·dim).
     * @param opts - `{ dim, seed, timesteps?, estimator?, sigmaBar2Max?, signal?, onProgress?, timeoutMs? }`:
     *   a pending denoiser call rejects with AbortError on abort and with TimeoutError after timeoutMs.
     * @returns `{ gamma, sigmaBar2, stdErr, estimator }` (length T; NaN / 255 off the requested t).
     */
    async estimateAnalyticGamma(
      denoiserArg: Denoiser | GaussianMixture | GaussianMixtureParams,
      data: Float32Array,
      schedule: NoiseSchedule,
      opts: EstimateGammaOptions,
    ): Promise<AnalyticGammaResult> {
      const fn = 'estimateAnalyticGamma';
      const o = checkOptions(fn, opts);
      if (opts === undefined) throw new TypeError(`${fn}: opts must be an object with dim and seed, got undefined`);
      const acp = checkSchedule(fn, 'schedule', schedule);
      const T = acp.length;
      const dim = checkInt(fn, 'opts.dim', o.dim, 1);
      checkTyped(fn, 'data', data, Float32Array);
      if (data.length === 0 || data.length % dim !== 0) throw new RangeError(`${fn}: data.length ${data.length} is not a positive multiple of opts.dim = ${dim}`);
      checkFinite(fn, 'data', data);
      const M = data.length / dim;
      if (M < 2) throw new RangeError(`${fn}: data needs at least 2 rows, got ${M}`);
      const key = seedKey(fn, 'opts.seed', o.seed);
      const estimator = o.estimator === undefined ? 'auto' : checkEnum(fn, 'opts.estimator', o.estimator, ['gamma', 'su1', 'auto'] as const);
      const maxV = o.sigmaBar2Max === undefined ? 1 : checkNumber(fn, 'opts.sigmaBar2Max', o.sigmaBar2Max, 0);
      const ts = o.timesteps === undefined ? Array.from({ length: T }, (_, t) => t) : Array.from(o.timesteps);
      ts.forEach((t, i) => checkInt(fn, `opts.timesteps[${i}]`, t, 0, T - 1));
      const params = mixtureParamsOf(denoiserArg);
      const mixture = params && checkMixtureParams(fn, params);
      const denoiser = mixture ? undefined : checkFunction<Denoiser>(fn, 'denoiser', denoiserArg);
      if (mixture) {
        if (mixture.dim !== dim) throw new RangeError(`${fn}: the gaussianMixture has dim ${mixture.dim} but opts.dim is ${dim}`);
      }
      const signal = checkSignal(fn, o.signal);
      const onProgress = checkFunction<(p: DiffusionProgress) => void>(fn, 'opts.onProgress', o.onProgress, true);
      const timeoutMs = checkTimeoutMs(fn, 'opts.timeoutMs', o.timeoutMs);
      const res: AnalyticGammaResult = {
        gamma: new Float64Array(T).fill(NaN),
        sigmaBar2: new Float64Array(T).fill(NaN),
        stdErr: new Float64Array(T).fill(NaN),
        estimator: new Uint8Array(T).fill(255),
      };
      // Data mean and ‖x0_i − μ0‖²/d (su1 needs both).
      const mu0 = new Float64Array(dim);
      for (let i = 0; i < M; i++) for (let c = 0; c < dim; c++) mu0[c] += data[i * dim + c] / M;
      const spread = new Float64Array(M);
      for (let i = 0; i < M; i++) {
        let s = 0;
        for (let c = 0; c < dim; c++) s += (data[i * dim + c] - mu0[c]) ** 2;
        spread[i] = s / dim;
      }
      const n = M * dim;
      const meanSd = (v: Float64Array) => {
        let m = 0;
        for (const x of v) m += x;
        m /= v.length;
        let s = 0;
        for (const x of v) s += (x - m) ** 2;
        return [m, Math.sqrt(s / (v.length - 1))];
      };
      throwIfAborted(signal, fn);
      const scope = inst.mem.openScope();
      try {
        scope.pin(data);
        const pz = scope.alloc(n * 4, 'epsilon');
        const pxt = scope.alloc(n * 4, 'x_t');
        const peps = scope.alloc(n * 4, 'eps hat');
        const mix = mixture ? stageMixture(inst, scope, mixture) : undefined;
        const rngScratch = scope.alloc(inst.kernels.rng_scratch_bytes(), 'rng scratch');
        const g = new Float64Array(M);
        const h = new Float64Array(M);
        const between = stepYielder(fn, signal);
        for (let idx = 0; idx < ts.length; idx++) {
          await between();
          inst.checkNotResetSince(fn, scope.mem);
          const t = ts[idx];
          const ab = acp[t];
          const a = Math.sqrt(ab);
          const b = Math.sqrt(1 - ab);
          normalsInto(inst, scope, key, STREAM.estimator(t), 0, n, pz, rngScratch);
          const z = inst.mem.f32(pz, n);
          const xt = inst.mem.f32(pxt, n);
          const x0 = scope.view(data);
          for (let e = 0; e < n; e++) xt[e] = a * x0[e] + b * z[e];
          let eps: ArrayLike<number>;
          if (mix) {
            runMixture(inst, mixture!, mix, pxt, M, t, peps, 0, 0);
            eps = inst.mem.f32(peps, n);
          } else {
            const r: unknown = await awaitCallback(denoiser!(inst.mem.f32(pxt, n).slice(), t, [M, dim]), { fn, what: 'the denoiser', signal, timeoutMs });
            inst.checkNotResetSince(fn, scope.mem);
            eps = checkCallbackResult(fn, 'the denoiser', r, n, t);
          }
          const xv = inst.mem.f32(pxt, n);
          for (let i = 0; i < M; i++) {
            let ge = 0;
            let hm = 0;
            for (let c = 0; c < dim; c++) {
              const e = eps[i * dim + c];
              ge += e * e;
              const mubar = (xv[i * dim + c] - b * e) / a;
              hm += (mubar - mu0[c]) ** 2;
            }
            g[i] = ge / dim;
            h[i] = spread[i] - hm / dim;
          }
          const ratio = (1 - ab) / ab;
          const [gm, gsd] = meanSd(g);
          const [hmn, hsd] = meanSd(h);
          const seG = (ratio * gsd) / Math.sqrt(M);
          const seH = hsd / Math.sqrt(M);
          const useSu1 = estimator === 'su1' || (estimator === 'auto' && seH < seG);
          const raw = useSu1 ? hmn : ratio * (1 - gm);
          const clipped = clipSigmaBar2(raw, ab, maxV);
          res.sigmaBar2[t] = clipped;
          res.gamma[t] = 1 - clipped / ratio;
          res.stdErr[t] = useSu1 ? seH : seG;
          res.estimator[t] = useSu1 ? 1 : 0;
          await report(onProgress, { step: idx + 1, steps: ts.length, t }, fn, signal);
        }
      } finally {
        scope.close();
      }
      return res;
    },
  };
}
