/**
 * Per-step coefficients and sampler plans (docs/diffusion.md §4–5): the DDPM / DDIM / Analytic-DPM
 * coefficients of each step t → s, and the validated plan `gc.sample` runs.
 */
import { checkBool, checkEnum, checkInt, checkNumber, checkOptions, checkTyped } from '../shared/validate.js';
import { checkSchedule, prevTimesteps, spacedTimesteps, type NoiseSchedule, type PrevTimestep, type TimestepSpacing } from './schedule.js';

export type Sampler = 'ddpm' | 'ddim' | 'analytic-ddpm' | 'analytic-ddim';
export type Prediction = 'epsilon' | 'sample' | 'v_prediction';

/** Options shared by single steps, plans and the samplers (docs/diffusion.md §4–5). */
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

export interface StepCoef {
  alphaBar: number;
  alphaBarPrev: number;
  a: number;
  b: number;
  P: number;
  Q: number;
  R: number;
  C: number;
}

export interface ResolvedCoefOptions {
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

export function resolveCoefOptions(fn: string, o: Partial<StepCoefficientOptions>, sampler: Sampler): ResolvedCoefOptions {
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
export function clipSigmaBar2(v: number, alphaBar: number, max: number): number {
  const hi = Math.min((1 - alphaBar) / alphaBar, max);
  return Math.min(Math.max(v, 0), hi);
}

/** Coefficients of one step t → s (s = −1: final). `sigmaBar2` (analytic) is the clipped σ̄_t². */
export function stepCoefficients(fn: string, acp: Float64Array, t: number, s: number, r: ResolvedCoefOptions, sigmaBar2 = NaN): StepCoef {
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

export interface ResolvedPlan {
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

export function resolvePlan(fn: string, opts: PlanOptions): ResolvedPlan {
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
 * The per-step coefficients `gc.sample` uses (docs/diffusion.md §3–5): timesteps τ_i, targets s_i
 * (−1: final step), ᾱ at both ends, a = √ᾱ_t, b = √(1 − ᾱ_t) and P, Q, R, C of
 * out = P·clip(x̂0) + Q·x + R·ε̂ + C·z (C² = σ*² for the analytic samplers).
 *
 * @param opts - `{ schedule, steps, sampler?, timestepSpacing?, stepsOffset?, prevTimestep?, eta?,
 *   variance?, useClippedEps?, setAlphaToOne?, finalStepNoise?, gamma? | sigmaBar2?, sigmaBar2Max?, sigmaCap? }`.
 * @throws RangeError for steps > T, η < 0, 1 − ᾱ_s − σ² < 0, NaN σ̄² on a plan step; TypeError for an
 *   analytic sampler without gamma / sigmaBar2.
 */
export function samplerPlan(opts: PlanOptions): SamplerPlan {
  return resolvePlan('samplerPlan', opts).plan;
}
