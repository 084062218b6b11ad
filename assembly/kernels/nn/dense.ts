// Elementwise parts of a dense network (bindings/nn/dense.ts): bias + SiLU, the SiLU derivative, bias
// gradients (column sums) and the Adam update. The matrix products run on the GEMM (kernels/gemm.ts).
//
// ABI: f32 buffers at byte addresses, row-major; rows·cols elements; no alignment required (every vector
// access is an unaligned-safe v128.load/store). Lengths not a multiple of 4 finish in a scalar tail that
// evaluates the same formula.
//
// SiLU(z) = z·σ(z), σ(z) = 1/(1 + e^−z), evaluated from e = e^−|z| (an argument ≤ 0, so the cheap exp of
// inline/exp.ts applies and nothing overflows): σ = 1/(1 + e) for z ≥ 0, e/(1 + e) for z < 0.
// SiLU'(z) = σ(z)·(1 + z·(1 − σ(z))).

import { expNonPositiveF32x4 } from '../../inline/exp';

// @ts-ignore: decorator
@inline function sigmoidF32x4(z: v128): v128 {
  const e = expNonPositiveF32x4(f32x4.neg(f32x4.abs(z)));
  const onePlusE = f32x4.add(f32x4.splat(1), e);
  const nonNegative = f32x4.ge(z, f32x4.splat(0));
  return f32x4.div(v128.bitselect(f32x4.splat(1), e, nonNegative), onePlusE);
}

// @ts-ignore: decorator
@inline function sigmoidF32(z: f32): f32 {
  return f32x4.extract_lane(sigmoidF32x4(f32x4.splat(z)), 0);
}

/**
 * z[r, c] += bias[c] for rows × cols; then, with `silu` ≠ 0, a = SiLU(z) (a may be z's own address only
 * when silu is 0: the pre-activation z is kept for the backward pass).
 */
export function dense_bias_act_f32(z: usize, a: usize, bias: usize, rows: i32, cols: i32, silu: i32): void {
  for (let r = 0; r < rows; r++) {
    const zr = z + ((<usize>r * <usize>cols) << 2);
    const ar = a + ((<usize>r * <usize>cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const off = <usize>c << 2;
      const v = f32x4.add(v128.load(zr + off), v128.load(bias + off));
      v128.store(zr + off, v);
      if (silu != 0) v128.store(ar + off, f32x4.mul(v, sigmoidF32x4(v)));
    }
    for (; c < cols; c++) {
      const off = <usize>c << 2;
      const v = load<f32>(zr + off) + load<f32>(bias + off);
      store<f32>(zr + off, v);
      if (silu != 0) store<f32>(ar + off, v * sigmoidF32(v));
    }
  }
}

/** grad[i] *= SiLU'(z[i]) for i < n: turns ∂L/∂a into ∂L/∂z in place. */
export function dense_silu_grad_f32(grad: usize, z: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const zv = v128.load(z + off);
    const s = sigmoidF32x4(zv);
    const d = f32x4.mul(s, f32x4.add(f32x4.splat(1), f32x4.mul(zv, f32x4.sub(f32x4.splat(1), s))));
    v128.store(grad + off, f32x4.mul(v128.load(grad + off), d));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const zv = load<f32>(z + off);
    const s = sigmoidF32(zv);
    store<f32>(grad + off, load<f32>(grad + off) * (s * (1 + zv * (1 - s))));
  }
}

/** out[c] = Σ_r x[r, c] over rows × cols (the bias gradient), summed in row order in f32. */
export function dense_column_sums_f32(x: usize, rows: i32, cols: i32, out: usize): void {
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    let acc = f32x4.splat(0);
    for (let r = 0; r < rows; r++) acc = f32x4.add(acc, v128.load(x + ((<usize>r * <usize>cols + <usize>c) << 2)));
    v128.store(out + (<usize>c << 2), acc);
  }
  for (; c < cols; c++) {
    let acc: f32 = 0;
    for (let r = 0; r < rows; r++) acc += load<f32>(x + ((<usize>r * <usize>cols + <usize>c) << 2));
    store<f32>(out + (<usize>c << 2), acc);
  }
}

/**
 * One Adam step on n parameters (Kingma & Ba, arXiv 1412.6980, Algorithm 1):
 * m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², p −= lr·(m·c1)/(√(v·c2) + ε), with the bias corrections
 * c1 = 1/(1 − β1^t), c2 = 1/(1 − β2^t) computed by the caller.
 */
export function adam_f32(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, c1: f32, c2: f32): void {
  let i = 0;
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), ob1 = f32x4.splat(1 - beta1), ob2 = f32x4.splat(1 - beta2);
  const lrv = f32x4.splat(lr), epsv = f32x4.splat(eps), c1v = f32x4.splat(c1), c2v = f32x4.splat(c2);
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const gv = v128.load(g + off);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + off)), f32x4.mul(ob1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + off)), f32x4.mul(ob2, f32x4.mul(gv, gv)));
    v128.store(m + off, mv);
    v128.store(v + off, vv);
    const step = f32x4.div(f32x4.mul(lrv, f32x4.mul(mv, c1v)), f32x4.add(f32x4.sqrt(f32x4.mul(vv, c2v)), epsv));
    v128.store(p + off, f32x4.sub(v128.load(p + off), step));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const gv = load<f32>(g + off);
    const mv = beta1 * load<f32>(m + off) + (1 - beta1) * gv;
    const vv = beta2 * load<f32>(v + off) + (1 - beta2) * (gv * gv);
    store<f32>(m + off, mv);
    store<f32>(v + off, vv);
    store<f32>(p + off, load<f32>(p + off) - (lr * (mv * c1)) / (Mathf.sqrt(vv * c2) + eps));
  }
}
