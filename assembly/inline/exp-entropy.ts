// exp on four f32 lanes for arguments ≤ 0 only (softmax weights e^{β(z − max)}), for the entropy
// kernel's moment passes, which are exp-bound. Same method as inline/exp.ts — k = round(x·log2 e) (here by a magic-number add),
// r = x − k·ln 2 (Cody–Waite split), e^r by its degree-7 Taylor polynomial (truncation ≤ 5e-9 relative),
// times 2^k from exponent bits — minus what non-positive arguments never need: no overflow handling and
// a single 2^k factor (k ∈ [−126, 0] after the clamp). The multiply-adds go through inline/madd.ts, so
// the relaxed build fuses them (results may differ from the plain build in the last bits).
//
// Accuracy: a few ulp (relative ≤ 1e-6) wherever e^x is a normal f32. x < −87.33654 (below the smallest
// normal, including −∞) → exactly +0. Positive x is outside the contract (the result is wrong). NaN → 0.
import { maddF32x4 } from './madd';

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const NEG_LN2_HI: f32 = -0.693359375;
// @ts-ignore: decorator
@inline const NEG_LN2_LO: f32 = 2.12194440e-4;
/** 1.5·2^23: adding it rounds a small f32 to an integer (ties to even) held in the low mantissa bits. */
// @ts-ignore: decorator
@inline const ROUND_MAGIC: f32 = 12582912.0;
/** ln of the smallest normal f32, 2^−126. */
// @ts-ignore: decorator
@inline const MIN_NORMAL_X: f32 = -87.33654;

/**
 * Lane-wise e^x for x ≤ 0 on four f32 lanes.
 *
 * @param x - four f32 lanes, each ≤ 0 or −∞.
 * @returns e^x per lane (relative error ≤ 1e-6 where e^x is a normal f32; exactly 0 below that).
 */
// @ts-ignore: decorator
@inline export function expNonPositiveF32x4(x: v128): v128 {
  const keep = f32x4.ge(x, f32x4.splat(MIN_NORMAL_X));
  // pmax (x < MIN ? MIN : x) is one instruction on x64; max's NaN and ±0 rules cost several.
  const xc = f32x4.pmax(x, f32x4.splat(MIN_NORMAL_X));
  // k = round(x·log2 e) by the magic-number add: kBits = bits(1.5·2^23) + k. Cheaper than nearest plus
  // trunc_sat, whose saturation costs several instructions on x64.
  const kBits = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const k = f32x4.sub(kBits, f32x4.splat(ROUND_MAGIC));
  const r = maddF32x4(k, f32x4.splat(NEG_LN2_LO), maddF32x4(k, f32x4.splat(NEG_LN2_HI), xc));
  let p = maddF32x4(f32x4.splat(<f32>(1.0 / 5040.0)), r, f32x4.splat(<f32>(1.0 / 720.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 120.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 24.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>(1.0 / 6.0)));
  p = maddF32x4(p, r, f32x4.splat(<f32>0.5));
  p = maddF32x4(p, r, f32x4.splat(<f32>1.0));
  p = maddF32x4(p, r, f32x4.splat(<f32>1.0));
  // 2^k with k ∈ [−126, 0]: biased exponent k + 127 ∈ [1, 127], always a normal number. The magic's own
  // bits (0x4B400000) have nine low zero bits, so they vanish in the shift by 23.
  const scale = i32x4.shl(i32x4.add(kBits, i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, scale), keep);
}
