// SIMD exp microbenchmarks (AssemblyScript, compiled by bench/entropy.ts at bench time, in the plain and
// the relaxed build): e^(β·(x − max)) over a row in memory, summed so nothing is optimised away — the exp
// throughput a moment pass could reach if it did nothing else. `expSumEntropy` uses the exp for non-positive
// arguments that the entropy and softmax kernels use, `expSumShared` the general expF32x4 (both in
// assembly/inline/exp.ts).
import { expF32x4, expNonPositiveF32x4 } from '../../assembly/inline/exp';

export function expSumEntropy(x: usize, n: i32, vmax: f32, beta: f32, reps: i32): f32 {
  const vm = f32x4.splat(vmax);
  const vb = f32x4.splat(beta);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  const n8 = n & ~7;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n8; i += 8) {
      const p = x + (<usize>i << 2);
      a0 = f32x4.add(a0, expNonPositiveF32x4(f32x4.mul(f32x4.sub(v128.load(p), vm), vb)));
      a1 = f32x4.add(a1, expNonPositiveF32x4(f32x4.mul(f32x4.sub(v128.load(p, 16), vm), vb)));
    }
  }
  return f32x4.extract_lane(f32x4.add(a0, a1), 0);
}

export function expSumShared(x: usize, n: i32, vmax: f32, beta: f32, reps: i32): f32 {
  const vm = f32x4.splat(vmax);
  const vb = f32x4.splat(beta);
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  const n8 = n & ~7;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n8; i += 8) {
      const p = x + (<usize>i << 2);
      a0 = f32x4.add(a0, expF32x4(f32x4.mul(f32x4.sub(v128.load(p), vm), vb)));
      a1 = f32x4.add(a1, expF32x4(f32x4.mul(f32x4.sub(v128.load(p, 16), vm), vb)));
    }
  }
  return f32x4.extract_lane(f32x4.add(a0, a1), 0);
}
