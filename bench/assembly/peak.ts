// Register-only f32x4 multiply-add probe (AssemblyScript, compiled by bench/gemm.ts at bench time):
// 12 independent accumulators hide the multiply-add latency, so the loop runs at the core's SIMD
// throughput. 8 flops per f32x4 multiply-add. It measures what a GEMM could reach at best.
import { maddF32x4 } from '../../assembly/inline/madd';

export function peak(iters: i32, s: f32): f32 {
  const x = f32x4.splat(s);
  const y = f32x4.splat(1.0000001);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(1), c2 = f32x4.splat(2), c3 = f32x4.splat(3);
  let c4 = f32x4.splat(4), c5 = f32x4.splat(5), c6 = f32x4.splat(6), c7 = f32x4.splat(7);
  let c8 = f32x4.splat(8), c9 = f32x4.splat(9), c10 = f32x4.splat(10), c11 = f32x4.splat(11);
  for (let i = 0; i < iters; i++) {
    c0 = maddF32x4(c0, y, x); c1 = maddF32x4(c1, y, x); c2 = maddF32x4(c2, y, x); c3 = maddF32x4(c3, y, x);
    c4 = maddF32x4(c4, y, x); c5 = maddF32x4(c5, y, x); c6 = maddF32x4(c6, y, x); c7 = maddF32x4(c7, y, x);
    c8 = maddF32x4(c8, y, x); c9 = maddF32x4(c9, y, x); c10 = maddF32x4(c10, y, x); c11 = maddF32x4(c11, y, x);
  }
  const s01 = f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3));
  const s45 = f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7));
  const s89 = f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11));
  return f32x4.extract_lane(f32x4.add(f32x4.add(s01, s45), s89), 0);
}
