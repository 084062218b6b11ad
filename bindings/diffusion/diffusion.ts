/**
 * Diffusion sampler loops: noise schedules, timestep plans, DDPM / DDIM / Analytic-DPM steps and
 * samplers, the unified (UDM) rules for deterministic degradations and token masking, the exact
 * Gaussian-mixture denoiser and the energy distance. Semantics: spec/diffusion.md (section numbers below).
 *
 * Plain exports (no wasm): `noiseSchedule`, `timesteps`, `samplerPlan`, `gaussianMixture`.
 * The rest is `diffusionApi(inst)`: one fused SIMD kernel call per sampler step, driven from TypeScript so
 * that the loop can await an async denoiser, check an AbortSignal and report progress between steps.
 *
 * Random numbers (§8) come from Threefry-2x32-20 keyed by the seed, with counter (pair, stream): the
 * value of element row·dim + col does not depend on batch split, worker count or SIMD width.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray, Scope } from '../wasm/memory.js';
import { awaitCallback, checkTimeoutMs, stepYielder } from '../shared/callbacks.js';
import { throwIfAborted } from '../shared/errors.js';
import {
  checkBool,
  checkEnum,
  checkFinite,
  checkFloatArray,
  checkFunction,
  checkInt,
  checkNoOverlap,
  checkNumber,
  checkOptions,
  checkProduct,
  checkSignal,
  checkTyped,
  show,
} from '../shared/validate.js';

// =====================================================================================================
// §2 Schedules
// =====================================================================================================

/** Longest schedule T: the timestep plans' exact integer arithmetic holds up to here. */
const MAX_TRAINING_STEPS = 2 ** 24;

/**
 * Most values an array built from size arguments alone (no input array of that size exists yet) may
 * hold: 2^29, i.e. 2 GiB of f32, at least what a gc.sample batch can use (its two batch·dim f32 buffers
 * share the 4 GiB wasm32 memory). Checked before allocating, so a huge size is a RangeError naming the
 * parameter, not an out-of-memory kill.
 */
const MAX_VALUES = 2 ** 29;

/** `count` (the product named `what`) is at most MAX_VALUES. */
function checkValues(fn: string, what: string, count: number): number {
  if (count > MAX_VALUES) throw new RangeError(`${fn}: ${what} = ${count} exceeds the limit of 2^29 values`);
  return count;
}

export type ScheduleKind = 'linear' | 'scaled_linear' | 'cosine';

export interface NoiseScheduleOptions {
  kind: ScheduleKind;
  /** T, the number of training steps (integer ≥ 1). Default 1000. */
  steps?: number;
  /** β_0 (linear, scaled_linear); in (0, 1). Defaults: 1e−4 (linear), 0.00085 (scaled_linear). */
  betaStart?: number;
  /** β_{T−1} (linear, scaled_linear); in (0, 1). Defaults: 0.02 (linear), 0.012 (scaled_linear). */
  betaEnd?: number;
}

/** A noise schedule: float64 arrays of length T indexed by t = 0..T−1. */
export interface NoiseSchedule {
  kind?: ScheduleKind | 'custom';
  steps?: number;
  betas?: Float64Array;
  alphas?: Float64Array;
  /** ᾱ_t = ∏_{i≤t} (1 − β_i), the only field the samplers read. */
  alphasCumprod: Float64Array;
}

/**
 * The β schedule of a diffusion model and its cumulative products, in float64 (spec §2).
 *
 * @param opts.kind - `'linear'`, `'scaled_linear'` (the Stable Diffusion values by default) or `'cosine'`
 *   (arXiv 2102.09672, β capped at 0.999; takes no betaStart / betaEnd).
 * @returns `{ kind, steps, betas, alphas, alphasCumprod }`, Float64Arrays of length T.
 * @throws RangeError unless T is an integer in [1, 2^24] and 0 < betaStart, betaEnd < 1, or for betaStart /
 *   betaEnd with `'cosine'`; TypeError for a wrong kind of value.
 */
export function noiseSchedule(opts: NoiseScheduleOptions): Required<NoiseSchedule> {
  const fn = 'noiseSchedule';
  const o = checkOptions(fn, opts);
  if (opts === undefined) throw new TypeError(`${fn}: opts must be an object with a kind, got undefined`);
  const kind = checkEnum(fn, 'opts.kind', o.kind, ['linear', 'scaled_linear', 'cosine'] as const);
  const T = o.steps === undefined ? 1000 : checkInt(fn, 'opts.steps', o.steps, 1, MAX_TRAINING_STEPS);
  const betas = new Float64Array(T);
  if (kind === 'cosine') {
    if (o.betaStart !== undefined || o.betaEnd !== undefined) {
      throw new RangeError(`${fn}: the cosine schedule takes no betaStart / betaEnd (got ${show(o.betaStart)}, ${show(o.betaEnd)})`);
    }
    const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f((t + 1) / T) / f(t / T), 0.999);
  } else {
    const linear = kind === 'linear';
    const bs = o.betaStart === undefined ? (linear ? 1e-4 : 0.00085) : checkNumber(fn, 'opts.betaStart', o.betaStart);
    const be = o.betaEnd === undefined ? (linear ? 0.02 : 0.012) : checkNumber(fn, 'opts.betaEnd', o.betaEnd);
    if (!(bs > 0 && bs < 1)) throw new RangeError(`${fn}: opts.betaStart must be in (0, 1), got ${bs}`);
    if (!(be > 0 && be < 1)) throw new RangeError(`${fn}: opts.betaEnd must be in (0, 1), got ${be}`);
    if (T === 1) betas[0] = bs;
    else if (linear) {
      const step = (be - bs) / (T - 1);
      for (let t = 0; t < T; t++) betas[t] = bs + t * step;
      betas[T - 1] = be;
    } else {
      const s0 = Math.sqrt(bs);
      const step = (Math.sqrt(be) - s0) / (T - 1);
      for (let t = 0; t < T; t++) betas[t] = (s0 + t * step) ** 2;
    }
  }
  const alphas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    alphas[t] = 1 - betas[t];
    prod *= alphas[t];
    alphasCumprod[t] = prod;
  }
  return { kind, steps: T, betas, alphas, alphasCumprod };
}

/** Check a schedule argument and return its ᾱ (values in (0, 1]). */
function checkSchedule(fn: string, name: string, s: unknown): Float64Array {
  if (s === null || typeof s !== 'object') throw new TypeError(`${fn}: ${name} must be a noise schedule object, got ${show(s)}`);
  const acp = (s as NoiseSchedule).alphasCumprod;
  if (!(acp instanceof Float64Array)) throw new TypeError(`${fn}: ${name}.alphasCumprod must be a Float64Array, got ${show(acp)}`);
  if (acp.length < 1) throw new RangeError(`${fn}: ${name}.alphasCumprod is empty`);
  if (acp.length > MAX_TRAINING_STEPS) throw new RangeError(`${fn}: ${name}.alphasCumprod has ${acp.length} steps; at most 2^24 are supported`);
  for (let t = 0; t < acp.length; t++) {
    const v = acp[t];
    if (!(v > 0 && v <= 1)) throw new RangeError(`${fn}: ${name}.alphasCumprod[${t}] is ${v}; values must be in (0, 1]`);
  }
  return acp;
}

// =====================================================================================================
// §3 Timestep plans
// =====================================================================================================

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** Round p/q (p ≥ 0, q > 0 integers) to the nearest integer, ties to even, in exact integer arithmetic. */
function roundHalfEvenRatio(p: number, q: number): number {
  const fl = Math.floor(p / q);
  // p and q are below 2^26 here, so p − fl·q is exact; fix a floor that division rounded up.
  let f = fl;
  let rem = p - f * q;
  if (rem < 0) { f -= 1; rem += q; }
  if (rem >= q) { f += 1; rem -= q; }
  const twice = 2 * rem;
  if (twice > q) return f + 1;
  if (twice < q) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The timesteps τ_0 > … > τ_{n−1} of an n-step plan over a T-step schedule (spec §3), exact integer
 * arithmetic with round-half-to-even.
 *
 * @param T - training steps (integer ≥ 1).
 * @param n - sampling steps, integer in [1, T].
 * @param spacing - `'leading'` (default): (n−1−i)·⌊T/n⌋ + stepsOffset; `'trailing'`: rhe(T(n−i)/n) − 1;
 *   `'linspace'`: rhe((T−1)(n−1−i)/(n−1)).
 * @param stepsOffset - added to leading timesteps (integer ≥ 0). Default 0.
 * @throws RangeError if n ∉ [1, T] or τ_0 > T − 1.
 */
export function timesteps(T: number, n: number, spacing: TimestepSpacing = 'leading', stepsOffset = 0): Int32Array {
  const fn = 'timesteps';
  checkInt(fn, 'T', T, 1, MAX_TRAINING_STEPS);
  checkInt(fn, 'n', n, 1);
  if (n > T) throw new RangeError(`${fn}: n must be in [1, T = ${T}], got ${n}`);
  checkEnum(fn, 'spacing', spacing, ['leading', 'trailing', 'linspace'] as const);
  checkInt(fn, 'stepsOffset', stepsOffset, 0);
  return spacedTimesteps(fn, 'stepsOffset', T, n, spacing, stepsOffset);
}

/** The plan of `timesteps` for checked arguments; errors name `fn` and its offset parameter `offsetName`. */
function spacedTimesteps(fn: string, offsetName: string, T: number, n: number, spacing: TimestepSpacing, stepsOffset: number): Int32Array {
  const out = new Int32Array(n);
  const stride = Math.floor(T / n);
  for (let i = 0; i < n; i++) {
    if (spacing === 'leading') out[i] = (n - 1 - i) * stride + stepsOffset;
    else if (spacing === 'trailing') out[i] = roundHalfEvenRatio(T * (n - i), n) - 1;
    else out[i] = n === 1 ? 0 : roundHalfEvenRatio((T - 1) * (n - 1 - i), n - 1);
  }
  if (out[0] > T - 1) throw new RangeError(`${fn}: the first timestep ${out[0]} exceeds T − 1 = ${T - 1} (${offsetName} ${stepsOffset})`);
  return out;
}

/** `'next'` (default): s_i = τ_{i+1}; `'stride'`: s = τ − ⌊T/n⌋ as diffusers' DDIMScheduler (s < 0 → final). */
export type PrevTimestep = 'next' | 'stride';

/** Previous timesteps for a plan (−1 = the final step). */
export function prevTimesteps(T: number, steps: Int32Array, mode: PrevTimestep = 'next'): Int32Array {
  const n = steps.length;
  const prev = new Int32Array(n);
  const stride = Math.floor(T / n);
  for (let i = 0; i < n; i++) {
    if (mode === 'next') prev[i] = i + 1 < n ? steps[i + 1] : -1;
    else prev[i] = Math.max(steps[i] - stride, -1);
  }
  return prev;
}

// =====================================================================================================
// §4–5 Coefficients and plans
// =====================================================================================================

export type Sampler = 'ddpm' | 'ddim' | 'analytic-ddpm' | 'analytic-ddim';
export type Prediction = 'epsilon' | 'sample' | 'v_prediction';

/** Options shared by single steps, plans and the samplers (spec §4–5). */
export interface StepCoefficientOptions {
  /** DDPM variance: `'fixed_small'` (β̃, default) or `'fixed_large'` (β'). */
  variance?: 'fixed_small' | 'fixed_large';
  /** DDIM η ≥ 0. Default 0. */
  eta?: number;
  /** What the model predicts. Default `'epsilon'`. */
  prediction?: Prediction;
  /** Clamp x̂0 to [−c, c]: `true` means c = 1; default false (gencore does not clip by default). */
  clipSample?: boolean | number;
  /** Dynamic thresholding per row (arXiv 2205.11487); not together with clipSample. */
  thresholding?: boolean | { ratio?: number; maxValue?: number };
  /** DDIM: re-derive ε̂ from the clipped x̂0 (diffusers `use_clipped_model_output`). */
  useClippedEps?: boolean;
  /** ᾱ_{−1} = 1 (default) or ᾱ_0 on the final step. */
  setAlphaToOne?: boolean;
  /** Add noise on the final step too (s = −1). Default false. */
  finalStepNoise?: boolean;
  /** Upper bound of σ̄² (Su's bound on Var[x0]). Default 1 (data in [−1, 1]). */
  sigmaBar2Max?: number;
}

export interface PlanOptions extends StepCoefficientOptions {
  sampler?: Sampler;
  schedule: NoiseSchedule;
  /** Number of sampling steps n, or a custom strictly decreasing Int32Array of timesteps. */
  steps: number | Int32Array;
  timestepSpacing?: TimestepSpacing;
  stepsOffset?: number;
  prevTimestep?: PrevTimestep;
  /** Analytic samplers: Γ_t (Float64Array of length T; NaN allowed off the plan). */
  gamma?: Float64Array;
  /** Analytic samplers: σ̄_t² (Float64Array of length T; NaN allowed off the plan). Clipped. */
  sigmaBar2?: Float64Array;
  /** Cap σ*² at `value` on the last `lastSteps` noisy steps. */
  sigmaCap?: { lastSteps: number; value: number };
}

/** Per-step coefficients of a plan: out = P·clip(x̂0) + Q·x + R·ε̂ + C·z (Float64Arrays of length n). */
export interface SamplerPlan {
  sampler: Sampler;
  /** τ_i (integers). */
  timesteps: Float64Array;
  /** s_i (integers; −1 = the final step). */
  prev: Float64Array;
  alphaBar: Float64Array;
  alphaBarPrev: Float64Array;
  a: Float64Array;
  b: Float64Array;
  P: Float64Array;
  Q: Float64Array;
  R: Float64Array;
  C: Float64Array;
  /** σ̄² used on each step (analytic samplers; NaN otherwise). */
  sigmaBar2: Float64Array;
}

interface StepCoef {
  alphaBar: number;
  alphaBarPrev: number;
  a: number;
  b: number;
  P: number;
  Q: number;
  R: number;
  C: number;
}

interface ResolvedCoefOptions {
  kind: 'ddpm' | 'ddim';
  analytic: boolean;
  variance: 'fixed_small' | 'fixed_large';
  eta: number;
  prediction: Prediction;
  clip: number; // 0 = none
  thresholding: { ratio: number; maxValue: number } | undefined;
  useClippedEps: boolean;
  setAlphaToOne: boolean;
  finalStepNoise: boolean;
  sigmaBar2Max: number;
}

function resolveCoefOptions(fn: string, o: Partial<StepCoefficientOptions>, sampler: Sampler): ResolvedCoefOptions {
  const kind = sampler === 'ddpm' || sampler === 'analytic-ddpm' ? 'ddpm' : 'ddim';
  const variance = o.variance === undefined ? 'fixed_small' : checkEnum(fn, 'opts.variance', o.variance, ['fixed_small', 'fixed_large'] as const);
  const eta = o.eta === undefined ? 0 : checkNumber(fn, 'opts.eta', o.eta);
  if (eta < 0) throw new RangeError(`${fn}: opts.eta must be ≥ 0, got ${eta}`);
  const prediction = o.prediction === undefined ? 'epsilon' : checkEnum(fn, 'opts.prediction', o.prediction, ['epsilon', 'sample', 'v_prediction'] as const);
  let clip = 0;
  if (o.clipSample !== undefined && o.clipSample !== false) {
    if (o.clipSample === true) clip = 1;
    else {
      clip = checkNumber(fn, 'opts.clipSample', o.clipSample);
      if (!(clip > 0)) throw new RangeError(`${fn}: opts.clipSample must be true, false or a number > 0, got ${clip}`);
    }
  }
  let thresholding: ResolvedCoefOptions['thresholding'];
  if (o.thresholding !== undefined && o.thresholding !== false) {
    const th = o.thresholding === true ? {} : checkOptions(fn, o.thresholding, 'opts.thresholding');
    const ratio = th.ratio === undefined ? 0.995 : checkNumber(fn, 'opts.thresholding.ratio', th.ratio, 0, 1);
    const maxValue = th.maxValue === undefined ? 1 : checkNumber(fn, 'opts.thresholding.maxValue', th.maxValue);
    if (!(maxValue >= 1)) throw new RangeError(`${fn}: opts.thresholding.maxValue must be ≥ 1, got ${maxValue}`);
    if (clip > 0) throw new RangeError(`${fn}: opts.thresholding and opts.clipSample cannot be used together`);
    thresholding = { ratio, maxValue };
  }
  const useClippedEps = o.useClippedEps === undefined ? false : checkBool(fn, 'opts.useClippedEps', o.useClippedEps);
  if (useClippedEps && kind === 'ddpm') throw new RangeError(`${fn}: opts.useClippedEps applies to DDIM only`);
  const setAlphaToOne = o.setAlphaToOne === undefined ? true : checkBool(fn, 'opts.setAlphaToOne', o.setAlphaToOne);
  const finalStepNoise = o.finalStepNoise === undefined ? false : checkBool(fn, 'opts.finalStepNoise', o.finalStepNoise);
  const sigmaBar2Max = o.sigmaBar2Max === undefined ? 1 : checkNumber(fn, 'opts.sigmaBar2Max', o.sigmaBar2Max);
  if (!(sigmaBar2Max >= 0)) throw new RangeError(`${fn}: opts.sigmaBar2Max must be ≥ 0, got ${sigmaBar2Max}`);
  return { kind, analytic: sampler.startsWith('analytic'), variance, eta, prediction, clip, thresholding, useClippedEps, setAlphaToOne, finalStepNoise, sigmaBar2Max };
}

/** σ̄² clipped to Su's bounds [0, min((1 − ᾱ)/ᾱ, sigmaBar2Max)]. */
function clipSigmaBar2(v: number, alphaBar: number, max: number): number {
  const hi = Math.min((1 - alphaBar) / alphaBar, max);
  return Math.min(Math.max(v, 0), hi);
}

/** Coefficients of one step t → s (s = −1: final). `sigmaBar2` (analytic) is the clipped σ̄_t². */
function stepCoefficients(fn: string, acp: Float64Array, t: number, s: number, r: ResolvedCoefOptions, sigmaBar2 = NaN): StepCoef {
  const alphaBar = acp[t];
  const final = s < 0;
  const alphaBarPrev = final ? (r.setAlphaToOne ? 1 : acp[0]) : acp[s];
  const a = Math.sqrt(alphaBar);
  const b = Math.sqrt(1 - alphaBar);
  const betaP = 1 - alphaBar / alphaBarPrev;
  const betaTilde = ((1 - alphaBarPrev) * betaP) / (1 - alphaBar);
  let P: number, Q: number, R: number, C2: number;
  if (r.kind === 'ddpm') {
    P = (Math.sqrt(alphaBarPrev) * betaP) / (1 - alphaBar);
    Q = (Math.sqrt(alphaBar / alphaBarPrev) * (1 - alphaBarPrev)) / (1 - alphaBar);
    R = 0;
    C2 = r.variance === 'fixed_small' ? betaTilde : betaP;
  } else {
    const sigma2 = r.eta * r.eta * betaTilde;
    const rest = 1 - alphaBarPrev - sigma2;
    if (rest < -1e-12) {
      throw new RangeError(`${fn}: 1 − ᾱ_s − σ² = ${rest} < 0 at t = ${t} → s = ${s} (eta ${r.eta} too large for this step)`);
    }
    R = Math.sqrt(Math.max(rest, 0));
    P = Math.sqrt(alphaBarPrev);
    Q = 0;
    C2 = sigma2;
    if (r.useClippedEps) {
      P = P - (R * a) / b;
      Q = R / b;
      R = 0;
    }
  }
  if (r.analytic) {
    const gamma = r.useClippedEps ? P : P - (R * a) / b;
    C2 += gamma * gamma * sigmaBar2;
  }
  if (final && !r.finalStepNoise) C2 = 0;
  return { alphaBar, alphaBarPrev, a, b, P, Q, R, C: Math.sqrt(Math.max(C2, 0)) };
}

interface ResolvedPlan {
  T: number;
  acp: Float64Array;
  sampler: Sampler;
  coef: ResolvedCoefOptions;
  plan: SamplerPlan;
}

function checkSteps(fn: string, T: number, o: Partial<PlanOptions>): Int32Array {
  const spacing = o.timestepSpacing === undefined ? 'leading' : checkEnum(fn, 'opts.timestepSpacing', o.timestepSpacing, ['leading', 'trailing', 'linspace'] as const);
  const offset = o.stepsOffset === undefined ? 0 : checkInt(fn, 'opts.stepsOffset', o.stepsOffset, 0);
  if (o.steps instanceof Int32Array) {
    const s = o.steps;
    if (s.length < 1) throw new RangeError(`${fn}: opts.steps is an empty Int32Array`);
    for (let i = 0; i < s.length; i++) {
      if (s[i] < 0 || s[i] > T - 1) throw new RangeError(`${fn}: opts.steps[${i}] = ${s[i]} is outside [0, T − 1 = ${T - 1}]`);
      if (i > 0 && !(s[i] < s[i - 1])) throw new RangeError(`${fn}: opts.steps must be strictly decreasing; steps[${i}] = ${s[i]} follows ${s[i - 1]}`);
    }
    return s.slice();
  }
  const n = checkInt(fn, 'opts.steps', o.steps, 1);
  if (n > T) throw new RangeError(`${fn}: opts.steps = ${n} exceeds the schedule length T = ${T}`);
  return spacedTimesteps(fn, 'opts.stepsOffset', T, n, spacing, offset);
}

/** σ̄² per training step from `sigmaBar2` or `gamma` (both clipped). */
function resolveSigmaBar2(fn: string, acp: Float64Array, o: Partial<PlanOptions>, max: number): Float64Array | undefined {
  const T = acp.length;
  if (o.sigmaBar2 !== undefined && o.gamma !== undefined) throw new RangeError(`${fn}: give opts.sigmaBar2 or opts.gamma, not both`);
  if (o.sigmaBar2 !== undefined) {
    const s = checkTyped(fn, 'opts.sigmaBar2', o.sigmaBar2, Float64Array, T, 'T');
    return s.map((v, t) => clipSigmaBar2(v, acp[t], max));
  }
  if (o.gamma !== undefined) {
    const g = checkTyped(fn, 'opts.gamma', o.gamma, Float64Array, T, 'T');
    return g.map((v, t) => clipSigmaBar2(((1 - acp[t]) / acp[t]) * (1 - v), acp[t], max));
  }
  return undefined;
}

function resolvePlan(fn: string, opts: PlanOptions): ResolvedPlan {
  const o = checkOptions(fn, opts);
  const acp = checkSchedule(fn, 'opts.schedule', o.schedule);
  const T = acp.length;
  const sampler = o.sampler === undefined ? 'ddpm' : checkEnum(fn, 'opts.sampler', o.sampler, ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'] as const);
  const coef = resolveCoefOptions(fn, o, sampler);
  const steps = checkSteps(fn, T, o);
  const prevMode = o.prevTimestep === undefined ? 'next' : checkEnum(fn, 'opts.prevTimestep', o.prevTimestep, ['next', 'stride'] as const);
  const prev = prevTimesteps(T, steps, prevMode);
  const n = steps.length;
  const sb2 = resolveSigmaBar2(fn, acp, o, coef.sigmaBar2Max);
  if (coef.analytic && sb2 === undefined) {
    throw new TypeError(`${fn}: the ${sampler} sampler needs opts.sigmaBar2 or opts.gamma (Float64Array of length T = ${T}); see estimateAnalyticGamma`);
  }
  let cap: { lastSteps: number; value: number } | undefined;
  if (o.sigmaCap !== undefined) {
    const c = checkOptions(fn, o.sigmaCap, 'opts.sigmaCap');
    cap = { lastSteps: checkInt(fn, 'opts.sigmaCap.lastSteps', c.lastSteps, 0), value: checkNumber(fn, 'opts.sigmaCap.value', c.value, 0) };
  }
  const plan: SamplerPlan = {
    sampler,
    timesteps: Float64Array.from(steps),
    prev: Float64Array.from(prev),
    alphaBar: new Float64Array(n),
    alphaBarPrev: new Float64Array(n),
    a: new Float64Array(n),
    b: new Float64Array(n),
    P: new Float64Array(n),
    Q: new Float64Array(n),
    R: new Float64Array(n),
    C: new Float64Array(n),
    sigmaBar2: new Float64Array(n).fill(NaN),
  };
  for (let i = 0; i < n; i++) {
    const t = steps[i];
    let s2 = NaN;
    if (coef.analytic) {
      s2 = sb2![t];
      if (Number.isNaN(s2)) throw new RangeError(`${fn}: σ̄² at plan timestep ${t} is NaN (opts.${o.sigmaBar2 ? 'sigmaBar2' : 'gamma'}[${t}])`);
      plan.sigmaBar2[i] = s2;
    }
    const c = stepCoefficients(fn, acp, t, prev[i], coef, s2);
    plan.alphaBar[i] = c.alphaBar;
    plan.alphaBarPrev[i] = c.alphaBarPrev;
    plan.a[i] = c.a;
    plan.b[i] = c.b;
    plan.P[i] = c.P;
    plan.Q[i] = c.Q;
    plan.R[i] = c.R;
    plan.C[i] = c.C;
  }
  if (cap && cap.lastSteps > 0) {
    let left = cap.lastSteps;
    for (let i = n - 1; i >= 0 && left > 0; i--) {
      if (plan.C[i] === 0) continue; // only noisy steps count
      plan.C[i] = Math.min(plan.C[i], Math.sqrt(cap.value));
      left--;
    }
  }
  return { T, acp, sampler, coef, plan };
}

/**
 * The per-step coefficients `gc.sample` uses (spec §3–5): timesteps τ_i, targets s_i (−1: final step),
 * ᾱ at both ends, a = √ᾱ_t, b = √(1 − ᾱ_t) and P, Q, R, C of out = P·clip(x̂0) + Q·x + R·ε̂ + C·z
 * (C² = σ*² for the analytic samplers).
 *
 * @param opts - `{ schedule, steps, sampler?, timestepSpacing?, stepsOffset?, prevTimestep?, eta?,
 *   variance?, useClippedEps?, setAlphaToOne?, finalStepNoise?, gamma? | sigmaBar2?, sigmaBar2Max?, sigmaCap? }`.
 * @throws RangeError for steps > T, η < 0, 1 − ᾱ_s − σ² < 0, NaN σ̄² on a plan step; TypeError for an
 *   analytic sampler without gamma / sigmaBar2.
 */
export function samplerPlan(opts: PlanOptions): SamplerPlan {
  return resolvePlan('samplerPlan', opts).plan;
}

/** Folded kernel scalars for one step (§7): x̂0 = kx·x + km·m; ε̂ = ex·x + em·m. */
function foldPrediction(prediction: Prediction, a: number, b: number): { kx: number; km: number; ex: number; em: number } {
  if (prediction === 'epsilon') return { kx: 1 / a, km: -b / a, ex: 0, em: 1 };
  if (prediction === 'sample') return { kx: 0, km: 1, ex: 1 / b, em: -a / b };
  return { kx: a, km: -b, ex: b, em: a };
}

/** Per-row threshold s_r of x̂0 = kx·x + km·m (dynamic thresholding), float64. */
function rowThresholds(x: ArrayLike<number>, m: ArrayLike<number>, rows: number, dim: number, kx: number, km: number, th: { ratio: number; maxValue: number }): Float64Array {
  const s = new Float64Array(rows);
  const v = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) v[c] = Math.abs(kx * x[r * dim + c] + km * m[r * dim + c]);
    v.sort();
    const h = th.ratio * (dim - 1);
    const lo = Math.floor(h);
    const q = lo + 1 < dim ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
    s[r] = Math.min(Math.max(q, 1), th.maxValue);
  }
  return s;
}

// =====================================================================================================
// §8 Random numbers (JS twin of kernels/rng.ts, for the plain exports and the masking sampler)
// =====================================================================================================

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1) → [w0, w1] (unsigned 32-bit). */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const R = ROT[r % 8];
    x1 = (((x1 << R) | (x1 >>> (32 - R))) ^ x0) >>> 0;
    if ((r & 3) === 3) {
      const i = (r >> 2) + 1;
      x0 = (x0 + ks[i % 3]) >>> 0;
      x1 = (x1 + ks[(i + 1) % 3] + i) >>> 0;
    }
  }
  return [x0, x1];
}

/** u(w) = ((w >>> 9) + 0.5)·2^−23 ∈ (0, 1). */
export const uniformOfWord = (w: number): number => ((w >>> 9) + 0.5) * 2 ** -23;

/** The Threefry key of a seed: integer in [0, 2^53) or bigint in [0, 2^64). */
export function seedKey(fn: string, name: string, seed: unknown): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`${fn}: ${name} must be in [0, 2^64), got ${seed}`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number') throw new TypeError(`${fn}: ${name} must be a number or a bigint, got ${show(seed)}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^53), got ${seed}`);
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

/** Standard normal of global element e on (key, stream), float64 Box–Muller (JS reference path). */
function normalJs(k0: number, k1: number, stream: number, e: number): number {
  const [w0, w1] = threefry2x32(k0, k1, Math.floor(e / 2) >>> 0, stream >>> 0);
  const rho = Math.sqrt(-2 * Math.log(uniformOfWord(w0)));
  const theta = 2 * Math.PI * uniformOfWord(w1);
  return e % 2 === 0 ? rho * Math.cos(theta) : rho * Math.sin(theta);
}

/** Streams of spec §8. */
export const STREAM = {
  xT: 0,
  step: (i: number) => i + 1,
  mask: (k: number) => (0x40000000 | k) >>> 0,
  mixtureComponent: 0x80000000,
  mixtureNormal: 0x80000001,
  estimator: (t: number) => (0xc0000000 | t) >>> 0,
} as const;

// =====================================================================================================
// §9 The exact Gaussian-mixture denoiser
// =====================================================================================================

/** A denoiser: the ε-prediction (or x̂0 / v, per `prediction`) for x at timestep t, sync or async. */
export type Denoiser = (x: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;

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
function checkMixtureParams(fn: string, p: GaussianMixtureParams): GaussianMixtureParams {
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
 * An isotropic Gaussian mixture with its exact ε-predictor (spec §9), for tests and demos.
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

// =====================================================================================================
// Sampler options and results
// =====================================================================================================

/** Progress of a long loop: step i of n done (1-based), at timestep t. */
export interface DiffusionProgress {
  step: number;
  steps: number;
  t: number;
}

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

export interface SingleStepOptions extends StepCoefficientOptions {
  schedule: NoiseSchedule;
  /** Current timestep t ∈ [0, T − 1]. */
  t: number;
  /** Target timestep s ∈ [−1, t − 1]; −1 is the final step. Default t − 1. */
  prev?: number;
  /** Injected standard normals (same length and type as x). */
  noise?: FloatArray;
  /** Or: draw z from `seed` (stream `stream`, default 1; elements numbered from 0). */
  seed?: number | bigint;
  stream?: number;
  /** [batch, dim] of x (for thresholding). Default [1, x.length]. */
  shape?: [number, number];
  /** Analytic step: σ̄_t² (a number, or a Float64Array of length T read at t); clipped. */
  sigmaBar2?: number | Float64Array;
  out?: FloatArray;
}

export interface SingleStepResult<T extends FloatArray> {
  prevSample: T;
  predOriginalSample: T;
  coefficients: StepCoef;
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

export interface UdmDeterministicOptions {
  kind: 'deterministic';
  xT: Float32Array;
  shape: [number, number];
  /** Decreasing timesteps > 0; the final target is 0 (F_0 = identity). */
  timesteps: ArrayLike<number>;
  /** F_t(x0): the deterministic degradation at t, for rows of x0. */
  degrade: (x0: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** x̂0 from x_t. */
  predictX0: (xt: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** `'improved'` (default): x_s = x_t + F_s(x̂0) − F_t(x̂0); `'naive'`: x_s = F_s(x̂0). */
  rule?: 'improved' | 'naive';
  signal?: AbortSignal;
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each predictX0 / degrade call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
}

export interface UdmMaskingOptions {
  kind: 'masking';
  /** Rows. */
  n: number;
  /** Tokens per row. */
  len: number;
  vocab: number;
  maskId: number;
  /** p(x0 | tokens) per position: n·len·vocab values (sync or async). */
  probs: (tokens: Int32Array, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** Starting tokens (n·len); default all maskId. */
  tokens?: Int32Array;
  /** Positions unmasked per step and row. Default 1. */
  perStep?: number;
  /** `'improved'` (default) or `'baseline'`. */
  rule?: 'improved' | 'baseline';
  seed: number | bigint;
  signal?: AbortSignal;
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each probs call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
}

export interface UdmMaskStepOptions {
  n: number;
  len: number;
  vocab: number;
  maskId: number;
  perStep?: number;
  rule?: 'improved' | 'baseline';
  seed?: number | bigint;
  step?: number;
  /** Explicit uniforms instead of seed + step: select u and token v per position (n·len each). */
  uniforms?: { select: ArrayLike<number>; token: ArrayLike<number> };
  out?: Int32Array;
}

// =====================================================================================================
// UDM masking (§6): pure JS, the words come from the JS Threefry twin (exact)
// =====================================================================================================

function maskStepJs(
  tokens: Int32Array,
  probs: ArrayLike<number>,
  o: { n: number; len: number; vocab: number; maskId: number; perStep: number; rule: 'improved' | 'baseline' },
  uniform: (row: number, j: number) => [number, number],
  fn: string,
  out: Int32Array,
): Int32Array {
  const { n, len, vocab, maskId, perStep, rule } = o;
  if (out !== tokens) out.set(tokens);
  const c = new Float64Array(vocab);
  const u = new Float64Array(len);
  const v = new Float64Array(len);
  const draw = (r: number, j: number): number => {
    const base = (r * len + j) * vocab;
    let acc = 0;
    let lastPos = -1;
    for (let i = 0; i < vocab; i++) {
      const p = i === maskId ? 0 : probs[base + i];
      if (!(p >= 0) || p === Infinity) throw new RangeError(`${fn}: probs[${base + i}] is ${p}; probabilities must be finite and ≥ 0`);
      acc += p;
      c[i] = acc;
      if (p > 0) lastPos = i;
    }
    if (lastPos < 0) throw new RangeError(`${fn}: row ${r}, position ${j} has no probability outside maskId ${maskId}`);
    const target = v[j] * acc;
    for (let i = 0; i < vocab; i++) if (c[i] > target) return i;
    return lastPos;
  };
  const order = (idx: number[]) => idx.sort((p, q) => (u[p] !== u[q] ? u[p] - u[q] : p - q));
  for (let r = 0; r < n; r++) {
    const masked: number[] = [];
    for (let j = 0; j < len; j++) {
      [u[j], v[j]] = uniform(r, j);
      if (tokens[r * len + j] === maskId) masked.push(j);
    }
    const m = masked.length;
    if (m === 0) continue;
    const k = Math.min(perStep, m);
    if (rule === 'improved') {
      for (const j of order(masked).slice(0, k)) out[r * len + j] = draw(r, j);
    } else {
      for (const j of masked) out[r * len + j] = draw(r, j);
      const all = order(Array.from({ length: len }, (_, j) => j));
      for (const j of all.slice(0, m - k)) out[r * len + j] = maskId;
    }
  }
  return out;
}

// =====================================================================================================
// The wasm-backed API
// =====================================================================================================

/** Validate a denoiser / callback result: a float array of `length` finite values. */
function checkCallbackResult(fn: string, what: string, v: unknown, length: number, t: number): FloatArray {
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw new TypeError(`${fn}: ${what} must return a Float32Array or Float64Array, got ${show(v)} at t = ${t}`);
  }
  if (v.length !== length) throw new RangeError(`${fn}: ${what} returned ${v.length} values at t = ${t}; expected batch*dim = ${length}`);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) throw new RangeError(`${fn}: ${what} returned ${x} at index ${i} (t = ${t}); values must be finite`);
  }
  return v;
}

function checkShape(fn: string, shape: unknown): [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) throw new TypeError(`${fn}: opts.shape must be [batch, dim], got ${show(shape)}`);
  const batch = checkInt(fn, 'opts.shape[0] (batch)', shape[0], 1);
  const dim = checkInt(fn, 'opts.shape[1] (dim)', shape[1], 1);
  checkProduct(fn, 'batch*dim', batch, dim);
  return [batch, dim];
}

/**
 * Report progress. An async reporter (or one proxied from another thread) is awaited, so every report
 * arrives before the call resolves and a rejection rejects the call; a sync reporter costs nothing more.
 */
async function report(onProgress: ((p: DiffusionProgress) => void) | undefined, p: DiffusionProgress, fn: string, signal: AbortSignal | undefined): Promise<void> {
  if (!onProgress) return;
  // A reporter that never settles must not outlive an abort.
  await awaitCallback(onProgress(p) as unknown, { fn, what: 'opts.onProgress', signal });
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

/**
 * The precision of a distance call: float64 when any point set is a Float64Array (f32 values convert
 * exactly), so Float64Array inputs keep float64 accuracy; otherwise the f32 kernel.
 */
type DistancePrecision = { ctor: typeof Float32Array | typeof Float64Array; kernel: 'energy_distance_sum_f32' | 'energy_distance_sum_f64'; limitExp: number };
const F32_DISTANCES: DistancePrecision = { ctor: Float32Array, kernel: 'energy_distance_sum_f32', limitExp: 40 };
// dim squares of differences up to 2^481 sum below 2^993 (dim < 2^31): far from f64 overflow and underflow.
const F64_DISTANCES: DistancePrecision = { ctor: Float64Array, kernel: 'energy_distance_sum_f64', limitExp: 480 };
const distancePrecision = (arrays: FloatArray[]): DistancePrecision =>
  arrays.some((v) => v instanceof Float64Array) ? F64_DISTANCES : F32_DISTANCES;

/**
 * A power-of-two scale 2^e1·2^e2 that brings max |x| over the point sets into [1, 2), or undefined when the
 * data can go to the distance kernel as it is. Squared coordinate differences accumulate in the kernel's
 * precision, so max |x| ≥ 2^limitExp would overflow them (and Float64 values beyond 3.4e38 do not even
 * round to f32) and max |x| < 2^−limitExp would underflow them; a power of two scales every value and
 * distance exactly (apart from values far below the largest, whose distances are negligible next to it).
 * Two factors because 2^1074 (for the smallest subnormal) is not a float64.
 */
function distanceScale(arrays: FloatArray[], limitExp: number): [number, number] | undefined {
  let max = 0;
  for (const v of arrays) for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]));
  if (max === 0 || (max >= 2 ** -limitExp && max < 2 ** limitExp)) return undefined;
  let e = Math.floor(Math.log2(max));
  // log2 may round across an integer near powers of two; any e with max·2^−e in [0.5, 4) is fine.
  if (max * 2 ** -Math.trunc(e / 2) * 2 ** -(e - Math.trunc(e / 2)) >= 2) e += 1;
  const e1 = Math.trunc(e / 2);
  return [2 ** -e1, 2 ** -(e - e1)];
}

/** `v` in `ctor`'s precision, times `scale` (exact powers of two, applied in float64 before the one rounding). */
function scaledPoints(v: FloatArray, ctor: DistancePrecision['ctor'], scale: [number, number] | undefined): FloatArray {
  if (!scale) return v instanceof ctor ? v : ctor.from(v);
  const out = new ctor(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * scale[0] * scale[1];
  return out;
}

/** Rows × dim → dim × rows (column j = point j), in `ctor`'s precision, times `scale`. */
function transposedPoints(v: FloatArray, rows: number, dim: number, ctor: DistancePrecision['ctor'], scale: [number, number] | undefined): FloatArray {
  const tr = new ctor(v.length);
  const [s0, s1] = scale ?? [1, 1];
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) tr[c * rows + r] = v[r * dim + c] * s0 * s1;
  return tr;
}

/** A distance mean computed on scaled data, back in the data's units. */
const unscale = (d: number, scale: [number, number] | undefined): number => (scale ? d / scale[0] / scale[1] : d);

/** Checks shared by the mixture evaluations: the mixture, x (batch·dim f32) and the timestep t. */
function checkMixtureCall(
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

export function diffusionApi(inst: WasmInstance) {
  /** Stage a mixture's parameters and scratch in `scope`. */
  const stageMixture = (scope: Scope, p: GaussianMixtureParams) => {
    const K = p.stds.length;
    const logw = p.weights.map((w) => Math.log(w));
    return {
      means: scope.copyIn(p.means, 'mixture means'),
      stds: scope.copyIn(p.stds, 'mixture stds'),
      logw: scope.copyIn(logw, 'mixture log-weights'),
      scratch: scope.alloc(inst.kernels.mixture_scratch_bytes(K, p.dim), 'mixture scratch'),
      K,
    };
  };
  type StagedMixture = ReturnType<typeof stageMixture>;
  const runMixture = (p: GaussianMixtureParams, st: StagedMixture, x: number, rows: number, t: number, eps: number, mean: number, trcov: number) => {
    const ab = p.alphasCumprod[t];
    inst.run('gaussianMixture', (k) =>
      k.mixture_eval_f32(x, rows, p.dim, st.means, st.stds, st.logw, st.K, Math.sqrt(ab), Math.sqrt(1 - ab), eps, mean, trcov, st.scratch),
    );
  };

  /** Standard normals of elements [first, first + n) on (key, stream) into `ptr` (f32). */
  const normalsInto = (scope: Scope, key: [number, number], stream: number, first: number, n: number, ptr: number, scratch?: number) => {
    const s = scratch ?? scope.alloc(inst.kernels.rng_scratch_bytes(), 'rng scratch');
    inst.run('rng', (k) => k.rng_normal_f32(key[0], key[1], stream >>> 0, first >>> 0, n, ptr, s));
  };

  /**
   * One fused kernel step on pointers. `thresholds` (per-row s_r) switches to the per-row kernel.
   */
  const fusedStep = (
    ptrs: { x: number; m: number; noise: number; out: number; x0: number; scratch: number; bounds?: number; prow?: number },
    rows: number,
    dim: number,
    c: StepCoef,
    r: ResolvedCoefOptions,
    key: [number, number],
    stream: number,
    firstElement: number,
    thresholds?: Float64Array,
  ) => {
    const f = foldPrediction(r.prediction, c.a, c.b);
    const Qp = c.Q + c.R * f.ex;
    const Rp = c.R * f.em;
    if (thresholds) {
      const bounds = inst.mem.f32(ptrs.bounds!, rows);
      const prow = inst.mem.f32(ptrs.prow!, rows);
      for (let i = 0; i < rows; i++) {
        bounds[i] = thresholds[i];
        prow[i] = c.P / thresholds[i];
      }
      inst.run('diffusion step', (k) =>
        k.diffusion_step_rows_f32(ptrs.x, ptrs.m, ptrs.noise, ptrs.out, ptrs.x0, rows, dim, f.kx, f.km, ptrs.bounds!, ptrs.prow!, Qp, Rp, c.C, key[0], key[1], stream >>> 0, firstElement >>> 0, ptrs.scratch),
      );
    } else {
      const lo = r.clip > 0 ? -r.clip : -Infinity;
      const hi = r.clip > 0 ? r.clip : Infinity;
      inst.run('diffusion step', (k) =>
        k.diffusion_step_f32(ptrs.x, ptrs.m, ptrs.noise, ptrs.out, ptrs.x0, rows * dim, f.kx, f.km, lo, hi, c.P, Qp, Rp, c.C, key[0], key[1], stream >>> 0, firstElement >>> 0, ptrs.scratch),
      );
    }
  };

  /** gc.ddpmStep / gc.ddimStep. */
  const singleStep = <T extends FloatArray>(fn: string, sampler: 'ddpm' | 'ddim', x: T, modelOutput: T, opts: SingleStepOptions): SingleStepResult<T> => {
    checkFloatArray(fn, 'x', x);
    const o = checkOptions(fn, opts);
    if (opts === undefined) throw new TypeError(`${fn}: opts must be an object with schedule and t, got undefined`);
    const f64 = x instanceof Float64Array;
    const n = x.length;
    checkFloatArray(fn, 'modelOutput', modelOutput, n, 'x.length');
    if (modelOutput.constructor !== x.constructor) throw new TypeError(`${fn}: modelOutput is a ${modelOutput.constructor.name} but x is a ${x.constructor.name}`);
    const acp = checkSchedule(fn, 'opts.schedule', o.schedule);
    const T = acp.length;
    const t = checkInt(fn, 'opts.t', o.t, 0, T - 1);
    const prev = o.prev === undefined ? t - 1 : checkInt(fn, 'opts.prev', o.prev, -1, t - 1);
    const analytic = o.sigmaBar2 !== undefined;
    const r = resolveCoefOptions(fn, o, analytic ? (sampler === 'ddpm' ? 'analytic-ddpm' : 'analytic-ddim') : sampler);
    let sb2 = NaN;
    if (analytic) {
      const raw = typeof o.sigmaBar2 === 'number' ? checkNumber(fn, 'opts.sigmaBar2', o.sigmaBar2) : checkTyped(fn, 'opts.sigmaBar2', o.sigmaBar2, Float64Array, T, 'T')[t];
      if (Number.isNaN(raw)) throw new RangeError(`${fn}: opts.sigmaBar2 at t = ${t} is NaN`);
      sb2 = clipSigmaBar2(raw, acp[t], r.sigmaBar2Max);
    }
    const shape = o.shape === undefined ? ([1, n] as [number, number]) : checkShape(fn, o.shape);
    if (shape[0] * shape[1] !== n) throw new RangeError(`${fn}: x.length ${n} does not match batch*dim = ${shape[0] * shape[1]}`);
    checkFinite(fn, 'x', x);
    checkFinite(fn, 'modelOutput', modelOutput);
    const c = stepCoefficients(fn, acp, t, prev, r, sb2);
    let noise: FloatArray | undefined;
    let key: [number, number] = [0, 0];
    if (o.noise !== undefined) {
      noise = checkFloatArray(fn, 'opts.noise', o.noise, n, 'x.length');
      if (noise.constructor !== x.constructor) throw new TypeError(`${fn}: opts.noise is a ${noise.constructor.name} but x is a ${x.constructor.name}`);
      checkFinite(fn, 'opts.noise', noise);
    } else if (o.seed !== undefined) key = seedKey(fn, 'opts.seed', o.seed);
    else if (c.C > 0) throw new TypeError(`${fn}: this step adds noise (C = ${c.C}); pass opts.noise or opts.seed`);
    const stream = o.stream === undefined ? 1 : checkInt(fn, 'opts.stream', o.stream, 0, 2 ** 32 - 1);
    const out = o.out === undefined ? undefined : checkFloatArray(fn, 'opts.out', o.out, n, 'x.length');
    if (out && out.constructor !== x.constructor) throw new TypeError(`${fn}: opts.out is a ${out.constructor.name} but x is a ${x.constructor.name}`);
    if (out) {
      // The float64 path writes element by element: out may be x itself (spec §7), but an out shifted
      // against an input would be read after it was written. Refused on both paths alike.
      const isX = out.buffer === x.buffer && out.byteOffset === x.byteOffset;
      checkNoOverlap(fn, 'opts.out', out, [...(isX ? [] : [['x', x] as [string, FloatArray]]), ['modelOutput', modelOutput], ...(noise ? [['opts.noise', noise] as [string, FloatArray]] : [])]);
    }
    const [rows, dim] = shape;
    const f = foldPrediction(r.prediction, c.a, c.b);
    const thresholds = r.thresholding ? rowThresholds(x, modelOutput, rows, dim, f.kx, f.km, r.thresholding) : undefined;

    if (f64) return inst.mem.scoped((scope) => {
      // Float64 formulas (reference path): same order as the kernel, in float64.
      scope.pin(x, modelOutput, out);
      let z: ArrayLike<number> | undefined = noise;
      if (!z && c.C > 0) {
        const p = scope.alloc(n * 4, 'noise');
        normalsInto(scope, key, stream, 0, n, p);
        z = Float64Array.from(inst.mem.f32(p, n));
      }
      // The caller's arrays as they are after that allocation (a grow detaches views on wasm memory).
      const xs = scope.view(x);
      const ms = scope.view(modelOutput);
      const prevSample = (out ? scope.view(out) : new Float64Array(n)) as T;
      const pred = new Float64Array(n) as T;
      const Qp = c.Q + c.R * f.ex;
      const Rp = c.R * f.em;
      for (let i = 0; i < n; i++) {
        const xi = xs[i];
        const mi = ms[i];
        const x0 = f.kx * xi + f.km * mi;
        let y = x0;
        let P = c.P;
        if (thresholds) {
          const s = thresholds[Math.floor(i / dim)];
          y = Math.min(Math.max(x0, -s), s);
          P = c.P / s;
          pred[i] = y / s;
        } else {
          if (r.clip > 0) y = Math.min(Math.max(x0, -r.clip), r.clip);
          pred[i] = y;
        }
        prevSample[i] = P * y + Qp * xi + Rp * mi + (c.C > 0 ? c.C * z![i] : 0);
      }
      return { prevSample, predOriginalSample: pred, coefficients: c };
    });
    const result = inst.mem.scoped((scope) => {
      scope.pin(x, modelOutput, noise, out);
      const px = scope.copyIn(x, 'x');
      const pm = scope.copyIn(modelOutput, 'modelOutput');
      const pn = noise && c.C > 0 ? scope.copyIn(noise, 'noise') : 0;
      const po = scope.resultPtr(out === x ? undefined : out, n * 4, 'out');
      const p0 = scope.alloc(n * 4, 'predOriginalSample');
      const ptrs = {
        x: px, m: pm, noise: pn, out: po, x0: p0,
        scratch: scope.alloc(inst.kernels.diffusion_scratch_bytes(), 'step scratch'),
        bounds: thresholds ? scope.alloc(rows * 4, 'bounds') : 0,
        prow: thresholds ? scope.alloc(rows * 4, 'row P') : 0,
      };
      fusedStep(ptrs, rows, dim, c, r, key, stream, 0, thresholds);
      const pred = scope.copyOut(Float32Array, p0, n);
      if (thresholds) for (let i = 0; i < n; i++) pred[i] = pred[i] / thresholds[Math.floor(i / dim)];
      return { prevSample: scope.copyOut(Float32Array, po, n, out as Float32Array | undefined), pred };
    });
    return { prevSample: result.prevSample as T, predOriginalSample: result.pred as T, coefficients: c };
  };

  return {
    /**
     * One DDPM step x_t → x_s (arXiv 2006.11239) with the reference scheduler's coefficients (spec §4).
     *
     * @param x - x_t, Float32Array (fused kernel) or Float64Array (float64 formulas).
     * @param modelOutput - the model output (same type and length).
     * @param opts - `{ schedule, t, prev?, noise? | seed?, variance?, clipSample?, thresholding?, prediction?,
     *   setAlphaToOne?, finalStepNoise?, sigmaBar2? (Analytic-DDPM), sigmaBar2Max?, shape?, out? }`;
     *   `out` (x's type and length) may be x itself but must not otherwise overlap x, modelOutput or noise.
     * @returns `{ prevSample, predOriginalSample (clipped / thresholded x̂0), coefficients }`.
     * @throws TypeError when the step adds noise but neither noise nor seed is given; RangeError for an
     *   `out` overlapping an input other than being x exactly.
     */
    ddpmStep<T extends FloatArray>(x: T, modelOutput: T, opts: SingleStepOptions): SingleStepResult<T> {
      return singleStep('ddpmStep', 'ddpm', x, modelOutput, opts);
    },

    /**
     * One DDIM step x_t → x_s (arXiv 2010.02502), η ≥ 0 (spec §4); as ddpmStep with `eta` and
     * `useClippedEps` instead of `variance`.
     */
    ddimStep<T extends FloatArray>(x: T, modelOutput: T, opts: SingleStepOptions): SingleStepResult<T> {
      return singleStep('ddimStep', 'ddim', x, modelOutput, opts);
    },

    /**
     * Run a sampler from x_T to x_0 over a [batch, dim] Float32Array (spec §4–5, §8).
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
        const mix = mixture ? stageMixture(scope, mixture) : undefined;
        if (call.xT) inst.mem.f32(px, n).set(scope.view(call.xT));
        else normalsInto(scope, key, STREAM.xT, first, n, px);
        const between = stepYielder('sample', signal);
        for (let i = 0; i < steps; i++) {
          await between();
          inst.checkNotResetSince('sample', scope.mem);
          const t = plan.timesteps[i];
          if (mix) runMixture(mixture!, mix, px, batch, t, pm, 0, 0);
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
          fusedStep(ptrs, batch, dim, c, coef, key, STREAM.step(i), first, thresholds);
          await report(onProgress, { step: i + 1, steps, t }, 'sample', signal);
        }
        inst.checkNotResetSince('sample', scope.mem);
        return scope.copyOut(Float32Array, px, n, call.out);
      } finally {
        scope.close();
      }
    },

    /**
     * Monte-Carlo estimate of Γ_t and σ̄_t² for Analytic-DPM (spec §5): per t, x_t = a·x0_i + b·ε_i
     * (ε: stream 0xC0000000 | t), ε̂ = denoiser(x_t, t); estimators 'gamma', 'su1' or 'auto'
     * (the smaller standard error per t); σ̄² clipped to [0, min((1 − ᾱ)/ᾱ, sigmaBar2Max)].
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
        const mix = mixture ? stageMixture(scope, mixture) : undefined;
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
          normalsInto(scope, key, STREAM.estimator(t), 0, n, pz, rngScratch);
          const z = inst.mem.f32(pz, n);
          const xt = inst.mem.f32(pxt, n);
          const x0 = scope.view(data);
          for (let e = 0; e < n; e++) xt[e] = a * x0[e] + b * z[e];
          let eps: ArrayLike<number>;
          if (mix) {
            runMixture(mixture!, mix, pxt, M, t, peps, 0, 0);
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
        runMixture(p, stageMixture(scope, p), px, batch, t, pe, 0, 0);
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
        runMixture(p, stageMixture(scope, p), px, batch, t, 0, pm, pc);
        return { mean: scope.copyOut(Float32Array, pm, batch * dim), trCov: scope.copyOut(Float64Array, pc, batch) };
      });
    },

    /**
     * Raw Threefry-2x32-20 words (spec §8): pairs firstPair … firstPair + pairs − 1 of `stream` under `seed`,
     * as 2·pairs unsigned 32-bit values (w0, w1 interleaved).
     */
    randomWords(seed: number | bigint, stream: number, pairs: number, opts?: { firstPair?: number }): Uint32Array {
      const fn = 'randomWords';
      const key = seedKey(fn, 'seed', seed);
      checkInt(fn, 'stream', stream, 0, 2 ** 32 - 1);
      checkInt(fn, 'pairs', pairs, 0, 2 ** 28);
      const o = checkOptions(fn, opts);
      const firstPair = o.firstPair === undefined ? 0 : checkInt(fn, 'opts.firstPair', o.firstPair, 0, 2 ** 32 - 1);
      if (firstPair + pairs > 2 ** 32) throw new RangeError(`${fn}: firstPair + pairs exceeds 2^32 counters`);
      if (pairs === 0) return new Uint32Array(0);
      return inst.mem.scoped((scope) => {
        const p = scope.alloc(pairs * 8, 'words');
        inst.run(fn, (k) => k.rng_words(key[0], key[1], stream >>> 0, firstPair >>> 0, pairs, p));
        return scope.copyOut(Uint32Array, p, pairs * 2);
      });
    },

    /**
     * Standard normals of the counter-based generator (spec §8): elements first … first + n − 1 of
     * `stream` under `seed`, f32 (the values gc.sample uses).
     */
    randomNormal(seed: number | bigint, stream: number, n: number, opts?: { first?: number; out?: Float32Array }): Float32Array {
      const fn = 'randomNormal';
      const key = seedKey(fn, 'seed', seed);
      checkInt(fn, 'stream', stream, 0, 2 ** 32 - 1);
      checkInt(fn, 'n', n);
      const o = checkOptions(fn, opts);
      const first = o.first === undefined ? 0 : checkInt(fn, 'opts.first', o.first, 0, 2 ** 32 - 1);
      if (first + n > 2 ** 32) throw new RangeError(`${fn}: first + n = ${first + n} exceeds 2^32 elements`);
      const out = o.out === undefined ? undefined : checkTyped(fn, 'opts.out', o.out, Float32Array, n, 'n');
      if (n === 0) return out ?? new Float32Array(0);
      return inst.mem.scoped((scope) => {
        scope.pin(out);
        const p = scope.resultPtr(out, n * 4, 'normals');
        normalsInto(scope, key, stream, first, n, p);
        return scope.copyOut(Float32Array, p, n, out);
      });
    },

    /**
     * Energy distance between point sets (spec §10): 2·mean‖a_i − b_j‖ − mean_{i≠i′}‖a_i − a_i′‖ −
     * mean_{j≠j′}‖b_j − b_j′‖, Euclidean, summed in float64 (U-statistics: can be < 0). Distances are SIMD
     * f32 for Float32Array inputs and SIMD float64 when `a` or `b` is a Float64Array.
     *
     * @param a - rows of `dim` values (≥ 2 rows), Float32Array or Float64Array. Data with max |x| ≥ 2^40 or
     *   < 2^−40 (f32 distances; 2^±480 for float64) is first scaled by a power of two (exact), so any
     *   finite input whose distances fit in float64 gives a finite result.
     * @param b - rows of `dim` values (≥ 2 rows).
     * @param opts.withinB - mean_{j≠j′}‖b_j − b_j′‖ when already known (one reference set compared with
     *   many samples: see meanDistance); skips the b·b pass.
     */
    energyDistance(a: FloatArray, b: FloatArray, dim: number, opts?: { withinB?: number }): number {
      const fn = 'energyDistance';
      const eo = checkOptions(fn, opts);
      const withinB = eo.withinB === undefined ? undefined : checkNumber(fn, 'opts.withinB', eo.withinB, 0);
      checkFloatArray(fn, 'a', a);
      checkFloatArray(fn, 'b', b);
      checkInt(fn, 'dim', dim, 1);
      if (a.length % dim !== 0) throw new RangeError(`${fn}: a.length ${a.length} is not a multiple of dim = ${dim}`);
      if (b.length % dim !== 0) throw new RangeError(`${fn}: b.length ${b.length} is not a multiple of dim = ${dim}`);
      const na = a.length / dim;
      const nb = b.length / dim;
      if (na < 2) throw new RangeError(`${fn}: a needs at least 2 rows, got ${na}`);
      if (nb < 2) throw new RangeError(`${fn}: b needs at least 2 rows, got ${nb}`);
      checkFinite(fn, 'a', a);
      checkFinite(fn, 'b', b);
      const { ctor, kernel, limitExp } = distancePrecision([a, b]);
      const scale = distanceScale([a, b], limitExp);
      return inst.mem.scoped((scope) => {
        scope.pin(a, b);
        const [as, bs, aT, bT] = [
          scaledPoints(a, ctor, scale),
          scaledPoints(b, ctor, scale),
          transposedPoints(a, na, dim, ctor, scale),
          transposedPoints(b, nb, dim, ctor, scale),
        ];
        const pa = scope.copyIn(as, 'a');
        const pb = scope.copyIn(bs, 'b');
        const paT = scope.copyIn(aT, 'a transposed');
        const pbT = scope.copyIn(bT, 'b transposed');
        const ab = inst.run(fn, (k) => k[kernel](pa, 0, na, pbT, nb, dim, 0));
        const aa = inst.run(fn, (k) => k[kernel](pa, 0, na, paT, na, dim, 1));
        const bbMean = withinB ?? unscale((2 * inst.run(fn, (k) => k[kernel](pb, 0, nb, pbT, nb, dim, 1))) / (nb * (nb - 1)), scale);
        return unscale((2 * ab) / (na * nb), scale) - unscale((2 * aa) / (na * (na - 1)), scale) - bbMean;
      });
    },

    /**
     * Mean Euclidean distance mean_{i,j}‖a_i − b_j‖, or with `b` = null the within-set U-statistic
     * mean_{i≠i′}‖a_i − a_i′‖ (SIMD f32 distances, float64 ones when an input is a Float64Array; float64
     * sums; power-of-two prescaling of very large or very small data as in energyDistance).
     */
    meanDistance(a: FloatArray, b: FloatArray | null, dim: number): number {
      const fn = 'meanDistance';
      checkFloatArray(fn, 'a', a);
      if (b !== null) checkFloatArray(fn, 'b', b);
      checkInt(fn, 'dim', dim, 1);
      if (a.length % dim !== 0) throw new RangeError(`${fn}: a.length ${a.length} is not a multiple of dim = ${dim}`);
      const na = a.length / dim;
      const other = b ?? a;
      if (other.length % dim !== 0) throw new RangeError(`${fn}: b.length ${other.length} is not a multiple of dim = ${dim}`);
      const nb = other.length / dim;
      if (b === null ? na < 2 : na < 1 || nb < 1) throw new RangeError(`${fn}: need ${b === null ? 'at least 2 rows in a' : 'at least 1 row in a and b'}`);
      checkFinite(fn, 'a', a);
      if (b) checkFinite(fn, 'b', b);
      const { ctor, kernel, limitExp } = distancePrecision([a, other]);
      const scale = distanceScale([a, other], limitExp);
      return inst.mem.scoped((scope) => {
        scope.pin(a);
        const [as, bT] = [scaledPoints(a, ctor, scale), transposedPoints(other, nb, dim, ctor, scale)];
        const pa = scope.copyIn(as, 'a');
        const pbT = scope.copyIn(bT, 'b transposed');
        const sum = inst.run(fn, (k) => k[kernel](pa, 0, na, pbT, nb, dim, b === null ? 1 : 0));
        return unscale(b === null ? (2 * sum) / (na * (na - 1)) : sum / (na * nb), scale);
      });
    },

    /**
     * One masking-UDM step (spec §6) on n rows of len tokens: improved rule fills the k' = min(perStep, m)
     * masked positions with the smallest select-uniform u; baseline fills all masked positions, then
     * re-masks the m − k' positions with the smallest u. Uniforms from `seed` + `step` (counter
     * (row·len + j, 0x40000000 | step)) or given explicitly.
     *
     * @param tokens - n·len Int32Array.
     * @param probs - n·len·vocab probabilities p(x0 | tokens) (the maskId entry is ignored).
     */
    udmMaskStep(tokens: Int32Array, probs: FloatArray, opts: UdmMaskStepOptions): Int32Array {
      const fn = 'udmMaskStep';
      const o = checkOptions(fn, opts);
      if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
      const n = checkInt(fn, 'opts.n', o.n, 1);
      const len = checkInt(fn, 'opts.len', o.len, 1);
      const vocab = checkInt(fn, 'opts.vocab', o.vocab, 2);
      const maskId = checkInt(fn, 'opts.maskId', o.maskId, 0, vocab - 1);
      const perStep = o.perStep === undefined ? 1 : checkInt(fn, 'opts.perStep', o.perStep, 1);
      const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'baseline'] as const);
      checkTyped(fn, 'tokens', tokens, Int32Array, n * len, 'n*len');
      checkFloatArray(fn, 'probs', probs, checkProduct(fn, 'n*len*vocab', n, len, vocab), 'n*len*vocab');
      for (let i = 0; i < tokens.length; i++) if (tokens[i] < 0 || tokens[i] >= vocab) throw new RangeError(`${fn}: tokens[${i}] = ${tokens[i]} is outside [0, vocab = ${vocab})`);
      const out = o.out === undefined ? new Int32Array(n * len) : checkTyped(fn, 'opts.out', o.out, Int32Array, n * len, 'n*len');
      let uniform: (r: number, j: number) => [number, number];
      if (o.uniforms !== undefined) {
        const u = checkOptions(fn, o.uniforms, 'opts.uniforms');
        const sel = u.select as ArrayLike<number>;
        const tok = u.token as ArrayLike<number>;
        if (!sel || sel.length !== n * len) throw new RangeError(`${fn}: opts.uniforms.select must hold n*len = ${n * len} values`);
        if (!tok || tok.length !== n * len) throw new RangeError(`${fn}: opts.uniforms.token must hold n*len = ${n * len} values`);
        uniform = (r, j) => [sel[r * len + j], tok[r * len + j]];
      } else {
        if (o.seed === undefined) throw new TypeError(`${fn}: pass opts.seed (+ opts.step) or opts.uniforms`);
        const [k0, k1] = seedKey(fn, 'opts.seed', o.seed);
        const step = o.step === undefined ? 0 : checkInt(fn, 'opts.step', o.step, 0, 0x3fffffff);
        uniform = (r, j) => {
          const [w0, w1] = threefry2x32(k0, k1, (r * len + j) >>> 0, STREAM.mask(step));
          return [uniformOfWord(w0), uniformOfWord(w1)];
        };
      }
      return maskStepJs(tokens, probs, { n, len, vocab, maskId, perStep, rule }, uniform, fn, out);
    },

    /**
     * Unified diffusion sampling (spec §6) for a deterministic degradation F_t or for token masking.
     *
     * - `{ kind: 'deterministic', xT, shape, timesteps, degrade, predictX0, rule }` → Float32Array:
     *   'improved' x_s = x_t + F_s(x̂0) − F_t(x̂0), 'naive' x_s = F_s(x̂0); F_0 = identity.
     * - `{ kind: 'masking', n, len, vocab, maskId, probs, tokens?, perStep, rule, seed }` → Int32Array:
     *   udmMaskStep repeated (step k = 0, 1, …) until no position is masked.
     * Callbacks may be async; AbortSignal, onProgress and `timeoutMs` (per callback call) as in gc.sample.
     */
    async sampleUDM(opts: UdmDeterministicOptions | UdmMaskingOptions): Promise<Float32Array | Int32Array> {
      const fn = 'sampleUDM';
      const o = checkOptions(fn, opts) as Partial<Omit<UdmDeterministicOptions, 'kind' | 'rule'>> &
        Partial<Omit<UdmMaskingOptions, 'kind' | 'rule'>> & { kind?: string; rule?: string };
      if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
      const kind = checkEnum(fn, 'opts.kind', o.kind, ['deterministic', 'masking'] as const);
      const signal = checkSignal(fn, o.signal);
      const onProgress = checkFunction<(p: DiffusionProgress) => void>(fn, 'opts.onProgress', o.onProgress, true);
      const timeoutMs = checkTimeoutMs(fn, 'opts.timeoutMs', o.timeoutMs);
      if (kind === 'deterministic') {
        const [batch, dim] = checkShape(fn, o.shape);
        const n = batch * dim;
        const xT = checkTyped(fn, 'opts.xT', o.xT, Float32Array, n, 'batch*dim');
        checkFinite(fn, 'opts.xT', xT);
        const tsIn = o.timesteps;
        if (!tsIn || typeof (tsIn as ArrayLike<number>).length !== 'number') throw new TypeError(`${fn}: opts.timesteps must be an array of integers, got ${show(tsIn)}`);
        const ts = Array.from(tsIn as ArrayLike<number>);
        if (ts.length < 1) throw new RangeError(`${fn}: opts.timesteps is empty`);
        ts.forEach((t, i) => {
          checkInt(fn, `opts.timesteps[${i}]`, t, 1);
          if (i > 0 && !(t < ts[i - 1])) throw new RangeError(`${fn}: opts.timesteps must decrease; timesteps[${i}] = ${t} follows ${ts[i - 1]}`);
        });
        const degrade = checkFunction<UdmDeterministicOptions['degrade']>(fn, 'opts.degrade', o.degrade)!;
        const predictX0 = checkFunction<UdmDeterministicOptions['predictX0']>(fn, 'opts.predictX0', o.predictX0)!;
        const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'naive'] as const);
        const shape: [number, number] = [batch, dim];
        const call = async (f: Function, what: string, arg: Float32Array, t: number) => {
          const r: unknown = await awaitCallback(f(arg.slice(), t, shape), { fn, what, signal, timeoutMs });
          return checkCallbackResult(fn, what, r, n, t);
        };
        const x = xT.slice();
        const between = stepYielder(fn, signal);
        for (let i = 0; i < ts.length; i++) {
          await between();
          const t = ts[i];
          const s = i + 1 < ts.length ? ts[i + 1] : 0;
          const x0 = Float32Array.from(await call(predictX0, 'opts.predictX0', x, t));
          throwIfAborted(signal, fn);
          // A copy: the next callback may grow gc.memory, detaching a result that lives there.
          const Fs = s === 0 ? x0 : Float32Array.from(await call(degrade, 'opts.degrade', x0, s));
          if (rule === 'naive') x.set(Fs);
          else {
            const Ft = await call(degrade, 'opts.degrade', x0, t);
            for (let e = 0; e < n; e++) x[e] = x[e] + Fs[e] - Ft[e];
          }
          throwIfAborted(signal, fn);
          await report(onProgress, { step: i + 1, steps: ts.length, t }, fn, signal);
        }
        return x;
      }
      const n = checkInt(fn, 'opts.n', o.n, 1);
      const len = checkInt(fn, 'opts.len', o.len, 1);
      const vocab = checkInt(fn, 'opts.vocab', o.vocab, 2);
      const maskId = checkInt(fn, 'opts.maskId', o.maskId, 0, vocab - 1);
      const perStep = o.perStep === undefined ? 1 : checkInt(fn, 'opts.perStep', o.perStep, 1);
      const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'baseline'] as const);
      const probs = checkFunction<UdmMaskingOptions['probs']>(fn, 'opts.probs', o.probs)!;
      const [k0, k1] = seedKey(fn, 'opts.seed', o.seed);
      const total = checkProduct(fn, 'n*len*vocab', n, len, vocab);
      let tokens: Int32Array;
      if (o.tokens !== undefined) {
        tokens = checkTyped(fn, 'opts.tokens', o.tokens, Int32Array, n * len, 'n*len').slice();
        for (let i = 0; i < tokens.length; i++) if (tokens[i] < 0 || tokens[i] >= vocab) throw new RangeError(`${fn}: opts.tokens[${i}] = ${tokens[i]} is outside [0, vocab = ${vocab})`);
      } else tokens = new Int32Array(checkValues(fn, 'opts.n*opts.len', n * len)).fill(maskId);
      const countMasked = () => tokens.reduce((s, v) => s + (v === maskId ? 1 : 0), 0);
      // Each step unmasks at least one position in every row that has any, so len steps suffice.
      const maxSteps = Math.ceil(len / perStep);
      throwIfAborted(signal, fn); // also when nothing is masked
      const between = stepYielder(fn, signal);
      for (let k = 0; countMasked() > 0; k++) {
        await between();
        const p: unknown = await awaitCallback(probs(tokens.slice(), [n, len]), { fn, what: 'opts.probs', signal, timeoutMs });
        if (!(p instanceof Float32Array) && !(p instanceof Float64Array)) throw new TypeError(`${fn}: opts.probs must return a Float32Array or Float64Array, got ${show(p)}`);
        if (p.length !== total) throw new RangeError(`${fn}: opts.probs returned ${p.length} values; expected n*len*vocab = ${total}`);
        throwIfAborted(signal, fn);
        const step = k;
        tokens = maskStepJs(tokens, p, { n, len, vocab, maskId, perStep, rule }, (r, j) => {
          const [w0, w1] = threefry2x32(k0, k1, (r * len + j) >>> 0, STREAM.mask(step));
          return [uniformOfWord(w0), uniformOfWord(w1)];
        }, fn, new Int32Array(n * len));
        await report(onProgress, { step: k + 1, steps: maxSteps, t: k }, fn, signal);
      }
      return tokens;
    },
  };
}
