// exp on four f32 lanes, for softmax rows (attention, entropy): e^x = 2^k · e^r.
//
// Range reduction: k = round(x·log2 e), r = x − k·ln 2 with ln 2 split Cody–Waite style into
// LN2_HI (9 significant bits, so k·LN2_HI is exact for |k| ≤ 2^15) and LN2_LO, giving |r| ≤ ln2/2 + tiny.
// e^r: Taylor polynomial of degree 7 in Horner form; truncation ≤ (ln2/2)^8/8! ≈ 5e-9 relative.
// 2^k is built from exponent bits in two halves (2^⌊k/2⌋ · 2^(k−⌊k/2⌋)), so k = 128 (x just below the
// f32 overflow threshold 88.72) still scales correctly.
//
// Accuracy (measured against float64 exp over [−87.3, 88.7], see assembly/__tests__/softmax.spec.ts and
// tests/core/attention.test.ts): relative error ≤ 1e-6 (typically ≤ 3e-7, a few ulp) wherever the
// result is a normal f32. Special ranges:
//   x < −87.33 (result below the smallest normal f32, including −∞) → exactly +0;
//   x > 88.7228 (overflow, including +∞)                          → +∞;
//   NaN                                                            → NaN.
// expF32x4 uses plain mul/add on purpose (no FMA): its value does not depend on the build (simd vs
// relaxed). expNonPositiveF32x4, the softmax hot path, fuses multiply-adds in the relaxed build.

import { maddF32x4 } from './madd';

// @ts-ignore: decorator
@inline const LOG2E_F32: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI_F32: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO_F32: f32 = -2.12194440e-4;
/** Below this, e^x is not a normal f32 (ln of 2^−126). */
// @ts-ignore: decorator
@inline const EXP_F32_MIN_NORMAL_X: f32 = -87.33654;
/** Above this, e^x overflows f32 (ln of the largest finite f32). */
// @ts-ignore: decorator
@inline const EXP_F32_MAX_X: f32 = 88.72283;

/** 1.5·2^23: adding it to |t| < 2^22 rounds t to an integer (ties to even) kept in the low mantissa bits. */
// @ts-ignore: decorator
@inline const ROUND_MAGIC_F32: f32 = 12582912.0;

/**
 * Lane-wise e^x on four f32 lanes.
 *
 * @param x - four f32 lanes, any values.
 * @returns e^x per lane: relative error ≤ 1e-6 where e^x is a normal f32; exactly 0 for
 *   x < −87.33654 (and −∞); +∞ for x > 88.72283; NaN for NaN. No FMA, so identical in every build.
 */
// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  // Clamp so k stays in [−127, 128]. pmax/pmin map to single maxps/minps; with x as the first operand a
  // NaN lane passes through unchanged.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-88.0)), f32x4.splat(EXP_F32_MAX_X));
  // k = round(x·log2 e) by the magic-number trick: no float→int conversion instruction needed.
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E_F32)), f32x4.splat(ROUND_MAGIC_F32));
  const k = f32x4.sub(t, f32x4.splat(ROUND_MAGIC_F32));
  const ki = i32x4.sub(t, i32x4.splat(0x4b400000)); // bits of t minus bits of the magic = k as an integer
  const p = expReduced(xc, k);
  // 2^k = 2^k1 · 2^k2 with k1 = k >> 1, k2 = k − k1, each in the normal exponent range.
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = i32x4.shl(i32x4.add(k1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(k2, i32x4.splat(127)), 23);
  const y = f32x4.mul(f32x4.mul(p, s1), s2);
  // Subnormal results (and −∞) flush to exactly 0; the clamp keeps y finite, so overflow is set here.
  const under = f32x4.lt(x, f32x4.splat(EXP_F32_MIN_NORMAL_X));
  const over = f32x4.gt(x, f32x4.splat(EXP_F32_MAX_X));
  return v128.bitselect(f32x4.splat(Infinity), v128.andnot(y, under), over);
}

/**
 * Lane-wise e^x for x ≤ 0 (softmax and entropy weights, x = β(z − max)), cheaper than expF32x4: the same
 * reduction and polynomial, minus what non-positive arguments never need — no overflow handling and one
 * 2^k factor (k ∈ [−126, 0] after the clamp); k comes from a magic-number add. The polynomial's
 * multiply-adds are fused in the relaxed build (last bits may differ between builds).
 *
 * Accuracy: relative error ≤ 1e-6 where e^x is a normal f32; x < −87.33654 (below the smallest normal,
 * including −∞) gives exactly +0; NaN gives 0. Precondition: x ≤ 0 (positive x returns a wrong value).
 */
// @ts-ignore: decorator
@inline export function expNonPositiveF32x4(x: v128): v128 {
  const keep = f32x4.ge(x, f32x4.splat(EXP_F32_MIN_NORMAL_X));
  // pmax (x < MIN ? MIN : x) is one instruction on x64; max's NaN and ±0 rules cost several.
  const xc = f32x4.pmax(x, f32x4.splat(EXP_F32_MIN_NORMAL_X));
  // k = round(x·log2 e) by the magic-number add: kBits = bits(1.5·2^23) + k.
  const kBits = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E_F32)), f32x4.splat(ROUND_MAGIC_F32));
  const k = f32x4.sub(kBits, f32x4.splat(ROUND_MAGIC_F32));
  const r = maddF32x4(k, f32x4.splat(-LN2_LO_F32), maddF32x4(k, f32x4.splat(-LN2_HI_F32), xc));
  let p = maddF32x4(f32x4.splat(<f32>(1.0 / 5040.0)), r, f32x4.splat(<f32>(1.0 / 720.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 120.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 24.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 6.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>0.5));
  p = maddF32x4(p, r, f32x4.splat(<f32>1.0));
  p = maddF32x4(p, r, f32x4.splat(<f32>1.0));
  // 2^k with k ∈ [−126, 0]: biased exponent k + 127 ∈ [1, 127], always normal. The magic's own bits
  // (0x4B400000) have nine low zero bits, so they vanish in the shift by 23.
  const scale = i32x4.shl(i32x4.add(kBits, i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, scale), keep);
}

/** e^r for r = x − k·ln 2, |r| ≤ ln2/2 + tiny: Cody–Waite reduction and the degree-7 Taylor polynomial. */
// @ts-ignore: decorator
@inline function expReduced(x: v128, k: v128): v128 {
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f32x4.splat(LN2_HI_F32))), f32x4.mul(k, f32x4.splat(LN2_LO_F32)));
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>1.0));
  return f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>1.0));
}
