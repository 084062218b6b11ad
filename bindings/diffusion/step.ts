/**
 * One sampler step (docs/diffusion.md §4, §7): the fused kernel call every sampler step makes, and
 * `gc.ddpmStep` / `gc.ddimStep` (the kernel on Float32Array, the same formulas in float64 on Float64Array).
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray } from '../wasm/memory.js';
import { checkFinite, checkFloatArray, checkInt, checkNoOverlap, checkNumber, checkOptions, checkTyped } from '../shared/validate.js';
import { checkStagedFinite } from '../linalg/linalg.js';
import { checkShape } from './checks.js';
import { clipSigmaBar2, resolveCoefOptions, stepCoefficients, type Prediction, type ResolvedCoefOptions, type StepCoef, type StepCoefficientOptions } from './plan.js';
import { normalsInto, seedKey } from './rng.js';
import { checkSchedule, type NoiseSchedule } from './schedule.js';

/** Folded kernel scalars for one step (§7): x̂0 = kx·x + km·m; ε̂ = ex·x + em·m. */
export function foldPrediction(prediction: Prediction, a: number, b: number): { kx: number; km: number; ex: number; em: number } {
  if (prediction === 'epsilon') return { kx: 1 / a, km: -b / a, ex: 0, em: 1 };
  if (prediction === 'sample') return { kx: 0, km: 1, ex: 1 / b, em: -a / b };
  return { kx: a, km: -b, ex: b, em: a };
}

/** Per-row threshold s_r of x̂0 = kx·x + km·m (dynamic thresholding), float64. */
export function rowThresholds(x: ArrayLike<number>, m: ArrayLike<number>, rows: number, dim: number, kx: number, km: number, th: { ratio: number; maxValue: number }): Float64Array {
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

/**
 * One fused kernel step on pointers. `thresholds` (per-row s_r) switches to the per-row kernel.
 */
export function fusedStep(
  inst: WasmInstance,
  ptrs: { x: number; m: number; noise: number; out: number; x0: number; scratch: number; bounds?: number; prow?: number },
  rows: number,
  dim: number,
  c: StepCoef,
  r: ResolvedCoefOptions,
  key: [number, number],
  stream: number,
  firstElement: number,
  thresholds?: Float64Array,
): void {
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
}

/** gc.ddpmStep and gc.ddimStep on `inst`. */
export function stepApi(inst: WasmInstance) {
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
    const c = stepCoefficients(fn, acp, t, prev, r, sb2);
    let noise: FloatArray | undefined;
    let key: [number, number] = [0, 0];
    if (o.noise !== undefined) {
      noise = checkFloatArray(fn, 'opts.noise', o.noise, n, 'x.length');
      if (noise.constructor !== x.constructor) throw new TypeError(`${fn}: opts.noise is a ${noise.constructor.name} but x is a ${x.constructor.name}`);
    } else if (o.seed !== undefined) key = seedKey(fn, 'opts.seed', o.seed);
    else if (c.C > 0) throw new TypeError(`${fn}: this step adds noise (C = ${c.C}); pass opts.noise or opts.seed`);
    const stream = o.stream === undefined ? 1 : checkInt(fn, 'opts.stream', o.stream, 0, 2 ** 32 - 1);
    const out = o.out === undefined ? undefined : checkFloatArray(fn, 'opts.out', o.out, n, 'x.length');
    if (out && out.constructor !== x.constructor) throw new TypeError(`${fn}: opts.out is a ${out.constructor.name} but x is a ${x.constructor.name}`);
    if (out) {
      // The float64 path writes element by element: out may be x itself (docs/diffusion.md §7), but an
      // out shifted against an input would be read after it was written. Refused on both paths alike.
      const isX = out.buffer === x.buffer && out.byteOffset === x.byteOffset;
      checkNoOverlap(fn, 'opts.out', out, [...(isX ? [] : [['x', x] as [string, FloatArray]]), ['modelOutput', modelOutput], ...(noise ? [['opts.noise', noise] as [string, FloatArray]] : [])]);
    }
    const [rows, dim] = shape;
    const f = foldPrediction(r.prediction, c.a, c.b);
    const thresholds = r.thresholding ? rowThresholds(x, modelOutput, rows, dim, f.kx, f.km, r.thresholding) : undefined;

    if (f64) return inst.mem.scoped((scope) => {
      // Float64 formulas (reference path): same order as the kernel, in float64.
      checkFinite(fn, 'x', x);
      checkFinite(fn, 'modelOutput', modelOutput);
      if (noise) checkFinite(fn, 'opts.noise', noise);
      scope.pin(x, modelOutput, out);
      let z: ArrayLike<number> | undefined = noise;
      if (!z && c.C > 0) {
        const p = scope.alloc(n * 4, 'noise');
        normalsInto(inst, scope, key, stream, 0, n, p);
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
      const pn = noise ? scope.copyIn(noise, 'noise') : 0;
      // Finiteness is checked on the staged copies (a SIMD scan, far faster than a JS loop), before the kernel.
      checkStagedFinite(inst, scope, fn, 'x', x, px);
      checkStagedFinite(inst, scope, fn, 'modelOutput', modelOutput, pm);
      if (noise) checkStagedFinite(inst, scope, fn, 'opts.noise', noise, pn);
      const po = scope.resultPtr(out === x ? undefined : out, n * 4, 'out');
      const p0 = scope.alloc(n * 4, 'predOriginalSample');
      const ptrs = {
        x: px, m: pm, noise: c.C > 0 ? pn : 0, out: po, x0: p0,
        scratch: scope.alloc(inst.kernels.diffusion_scratch_bytes(), 'step scratch'),
        bounds: thresholds ? scope.alloc(rows * 4, 'bounds') : 0,
        prow: thresholds ? scope.alloc(rows * 4, 'row P') : 0,
      };
      fusedStep(inst, ptrs, rows, dim, c, r, key, stream, 0, thresholds);
      const pred = scope.copyOut(Float32Array, p0, n);
      if (thresholds) for (let i = 0; i < n; i++) pred[i] = pred[i] / thresholds[Math.floor(i / dim)];
      return { prevSample: scope.copyOut(Float32Array, po, n, out as Float32Array | undefined), pred };
    });
    return { prevSample: result.prevSample as T, predOriginalSample: result.pred as T, coefficients: c };
  };

  return {
    /**
     * One DDPM step x_t → x_s (arXiv 2006.11239) with the reference scheduler's coefficients
     * (docs/diffusion.md §4).
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
     * One DDIM step x_t → x_s (arXiv 2010.02502), η ≥ 0 (docs/diffusion.md §4); as ddpmStep with `eta`
     * and `useClippedEps` instead of `variance`.
     */
    ddimStep<T extends FloatArray>(x: T, modelOutput: T, opts: SingleStepOptions): SingleStepResult<T> {
      return singleStep('ddimStep', 'ddim', x, modelOutput, opts);
    },
  };
}
