/**
 * Noise schedules (docs/diffusion.md §2) and timestep plans (§3): plain float64 / exact integer
 * arithmetic, no wasm.
 */
import { checkEnum, checkInt, checkNumber, checkOptions, show } from '../shared/validate.js';

/** Longest schedule T: the timestep plans' exact integer arithmetic holds up to here. */
const MAX_TRAINING_STEPS = 2 ** 24;

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
 * The β schedule of a diffusion model and its cumulative products, in float64 (docs/diffusion.md §2).
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
export function checkSchedule(fn: string, name: string, s: unknown): Float64Array {
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
 * The timesteps τ_0 > … > τ_{n−1} of an n-step plan over a T-step schedule (docs/diffusion.md §3),
 * exact integer arithmetic with round-half-to-even.
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
export function spacedTimesteps(fn: string, offsetName: string, T: number, n: number, spacing: TimestepSpacing, stepsOffset: number): Int32Array {
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
