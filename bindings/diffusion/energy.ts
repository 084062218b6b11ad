/**
 * §10 Energy distance (docs/diffusion.md): `gc.energyDistance` and `gc.meanDistance`, SIMD distances
 * in f32 or float64, float64 sums, power-of-two prescaling of very large or very small data.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray } from '../wasm/memory.js';
import { checkFinite, checkFloatArray, checkInt, checkNumber, checkOptions } from '../shared/validate.js';

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

/** gc.energyDistance and gc.meanDistance on `inst`. */
export function energyApi(inst: WasmInstance) {
  return {
    /**
     * Energy distance between point sets (docs/diffusion.md §10): 2·mean‖a_i − b_j‖ −
     * mean_{i≠i′}‖a_i − a_i′‖ − mean_{j≠j′}‖b_j − b_j′‖, Euclidean, summed in float64 (U-statistics: can
     * be < 0). Distances are SIMD f32 for Float32Array inputs and SIMD float64 when `a` or `b` is a
     * Float64Array.
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
  };
}
