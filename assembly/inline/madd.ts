// Multiply-add helpers shared by the kernels: acc + a·b on v128 lanes.
//
// Build selection: `ASC_FEATURE_RELAXED_SIMD` is a compile-time constant that assemblyscript (0.27+)
// sets from the `--enable relaxed-simd` flag. The `if` below is resolved while compiling, so one source
// yields both builds with no `--use` define:
//   asc ... --enable simd                       → f32x4.mul + f32x4.add (two roundings, runs everywhere)
//   asc ... --enable simd --enable relaxed-simd → f32x4.relaxed_madd (one fused instruction where the CPU
//                                                 has FMA; the engine may still split it, so results can
//                                                 differ between builds and machines in the last bits)
// The operand order (acc last) matches relaxed_madd(a, b, c) = a·b + c.

/** Lane-wise a·b + acc on four f32 lanes. */
// @ts-ignore: decorator
@inline export function maddF32x4(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  } else {
    return f32x4.add(f32x4.mul(a, b), acc);
  }
}

/** Lane-wise a·b + acc on two f64 lanes. */
// @ts-ignore: decorator
@inline export function maddF64x2(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f64x2.relaxed_madd(a, b, acc);
  } else {
    return f64x2.add(f64x2.mul(a, b), acc);
  }
}
