// exp on two f64 lanes, for log-sum-exp over a vocabulary row (the beam search's per-row softmax).
//
// exp(x) = 2^k · exp(r), k = round(x·log2 e), r = x − k·ln 2 (Cody–Waite split of ln 2, so r is exact
// to ~1e-19), |r| ≤ ln2/2, and exp(r) by its Taylor polynomial of degree 12 (truncation ≤ 0.347^13/13!
// ≈ 2e-16 relative), evaluated by Estrin's scheme. The result is within a few ulp of the correctly
// rounded exp for x ∈ [−708, 709]; inputs are clamped to that range, so −∞ gives ≈ 1e−308 (not 0) and
// NaN stays NaN: callers mask non-finite lanes themselves.
// The polynomial's multiply-adds use maddF64x2: fused in the relaxed build (where the engine fuses), so
// the two builds may differ in the last bits (docs/constrained.md §3.7 allows it); the range reduction stays unfused.

import { maddF64x2 } from './madd';

// @ts-ignore: decorator
@inline const LOG2E: f64 = 1.4426950408889634;
// @ts-ignore: decorator
@inline const LN2_HI: f64 = 6.93147180369123816490e-01;
// @ts-ignore: decorator
@inline const LN2_LO: f64 = 1.90821492927058770002e-10;
// @ts-ignore: decorator
@inline const MAGIC: f64 = 6755399441055744.0; // 1.5 · 2^52

/** Lane-wise e^x on two f64 lanes (see the header for range and accuracy). */
// @ts-ignore: decorator
@inline export function expF64x2(x: v128): v128 {
  // pmin/pmax are single instructions (the IEEE min/max of wasm are not); NaN lanes are the caller's.
  x = f64x2.pmin(f64x2.pmax(x, f64x2.splat(-708.0)), f64x2.splat(709.0));
  // Round x·log2 e to an integer by adding 1.5·2^52: the integer lands in the low mantissa bits.
  const shifted = f64x2.add(f64x2.mul(x, f64x2.splat(LOG2E)), f64x2.splat(MAGIC));
  const k = f64x2.sub(shifted, f64x2.splat(MAGIC));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  // Estrin's scheme: the 13 coefficients in a tree of depth 4 instead of a Horner chain of 12, so
  // consecutive exps overlap in the pipeline (the loop is latency-bound otherwise).
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const p01 = maddF64x2(r, f64x2.splat(1.0), f64x2.splat(1.0));
  const p23 = maddF64x2(r, f64x2.splat(1.0 / 6.0), f64x2.splat(0.5));
  const p45 = maddF64x2(r, f64x2.splat(1.0 / 120.0), f64x2.splat(1.0 / 24.0));
  const p67 = maddF64x2(r, f64x2.splat(1.0 / 5040.0), f64x2.splat(1.0 / 720.0));
  const p89 = maddF64x2(r, f64x2.splat(1.0 / 362880.0), f64x2.splat(1.0 / 40320.0));
  const pAB = maddF64x2(r, f64x2.splat(1.0 / 39916800.0), f64x2.splat(1.0 / 3628800.0));
  const q0 = maddF64x2(r2, p23, p01);
  const q1 = maddF64x2(r2, p67, p45);
  const q2 = maddF64x2(r4, f64x2.splat(1.0 / 479001600.0), maddF64x2(r2, pAB, p89));
  const p = maddF64x2(r8, q2, maddF64x2(r4, q1, q0));
  // 2^k as bits: (k + 1023) << 52; the low 12 bits of `shifted` are k's (two's complement).
  const scale = i64x2.shl(i64x2.add(shifted, i64x2.splat(1023)), 52);
  return f64x2.mul(p, scale);
}
