// The exact denoiser of an isotropic Gaussian mixture (docs/diffusion.md §9), in float64 on two rows at
// a time (f64x2 lanes), f32 in and out.
//
// For x_t = a·x0 + b·ε with x0 ~ Σ_k π_k N(μ_k, s_k² I): v_k = a²s_k² + b²,
//   ℓ_k = log π_k − (d/2)·log v_k − ‖x − aμ_k‖²/(2v_k),  w = softmax(ℓ)
//   ε*(x)        = Σ_k w_k (b/v_k)(x − aμ_k)
//   E[x0 | x]    = Σ_k w_k m_k,  m_k = μ_k + (a s_k²/v_k)(x − aμ_k)
//   tr Cov[x0|x]/d = Σ_k w_k s_k²b²/v_k + (Σ_k w_k‖m_k‖² − ‖E[x0 | x]‖²)/d
// Every lane's arithmetic depends only on its own row, so a row's result does not depend on the batch
// split (a lone last row is paired with itself). exp is the shared f64x2 helper (plain mul/add).
//
// ABI: x is f32[rows·d]; means f64[K·d], stds f64[K], logWeights f64[K] (log π_k, normalised); eps and
// mean are f32[rows·d] or 0, trcov is f64[rows] or 0. Byte addresses; `scratch` is
// mixture_scratch_bytes(K, d) bytes, 16-byte aligned.
import { expF64x2 } from '../../inline/expf64x2';

/** Bytes of scratch mixture_eval_f32 needs for K components in d dimensions. */
export function mixture_scratch_bytes(K: i32, d: i32): i32 {
  return 16 * (3 * d + K) + 8 * 5 * K;
}

/**
 * Evaluate the mixture's ε*, posterior mean and per-row tr Cov/d at x_t for a = √ᾱ_t, b = √(1 − ᾱ_t).
 * Any of eps, mean, trcov may be 0 (not computed).
 */
export function mixture_eval_f32(
  x: usize, rows: i32, d: i32, means: usize, stds: usize, logWeights: usize, K: i32, a: f64, b: f64,
  eps: usize, mean: usize, trcov: usize, scratch: usize,
): void {
  const X = scratch;                                 // f64x2[d]: the two rows
  const accE = X + (<usize>d << 4);                   // f64x2[d]
  const accM = accE + (<usize>d << 4);                // f64x2[d]
  const L = accM + (<usize>d << 4);                   // f64x2[K]: ℓ, then w
  const consts = L + (<usize>K << 4);                 // f64[5K]: c, 1/(2v), b/v, a s²/v, s²b²/v
  const b2 = b * b;
  for (let k = 0; k < K; k++) {
    const s = load<f64>(stds + (<usize>k << 3));
    const v = a * a * s * s + b2;
    const base = consts + <usize>k * 40;
    store<f64>(base, load<f64>(logWeights + (<usize>k << 3)) - 0.5 * <f64>d * Math.log(v));
    store<f64>(base, 0.5 / v, 8);
    store<f64>(base, b / v, 16);
    store<f64>(base, a * s * s / v, 24);
    store<f64>(base, s * s * b2 / v, 32);
  }
  const A = f64x2.splat(a);
  const invD = f64x2.splat(1.0 / <f64>d);
  for (let r = 0; r < rows; r += 2) {
    const r1 = r + 1 < rows ? r + 1 : r;
    const x0 = x + ((<usize>r * <usize>d) << 2);
    const x1 = x + ((<usize>r1 * <usize>d) << 2);
    for (let c = 0; c < d; c++) {
      const o = <usize>c << 2;
      v128.store(X + (<usize>c << 4), f64x2.replace_lane(f64x2.splat(<f64>load<f32>(x0 + o)), 1, <f64>load<f32>(x1 + o)));
    }
    // ℓ_k and its maximum.
    let mx = f64x2.splat(-Infinity);
    for (let k = 0; k < K; k++) {
      const mu = means + ((<usize>k * <usize>d) << 3);
      let dist = f64x2.splat(0);
      for (let c = 0; c < d; c++) {
        const diff = f64x2.sub(v128.load(X + (<usize>c << 4)), f64x2.mul(A, f64x2.splat(load<f64>(mu + (<usize>c << 3)))));
        dist = f64x2.add(dist, f64x2.mul(diff, diff));
      }
      const base = consts + <usize>k * 40;
      const l = f64x2.sub(f64x2.splat(load<f64>(base)), f64x2.mul(dist, f64x2.splat(load<f64>(base, 8))));
      v128.store(L + (<usize>k << 4), l);
      mx = f64x2.max(mx, l);
    }
    let sum = f64x2.splat(0);
    for (let k = 0; k < K; k++) {
      const w = expF64x2(f64x2.sub(v128.load(L + (<usize>k << 4)), mx));
      v128.store(L + (<usize>k << 4), w);
      sum = f64x2.add(sum, w);
    }
    const inv = f64x2.div(f64x2.splat(1.0), sum);
    for (let c = 0; c < d; c++) {
      v128.store(accE + (<usize>c << 4), f64x2.splat(0));
      v128.store(accM + (<usize>c << 4), f64x2.splat(0));
    }
    let msq = f64x2.splat(0);
    let vsum = f64x2.splat(0);
    for (let k = 0; k < K; k++) {
      const mu = means + ((<usize>k * <usize>d) << 3);
      const base = consts + <usize>k * 40;
      const w = f64x2.mul(v128.load(L + (<usize>k << 4)), inv);
      const wg = f64x2.mul(w, f64x2.splat(load<f64>(base, 16)));
      const h = f64x2.splat(load<f64>(base, 24));
      let mk2 = f64x2.splat(0);
      for (let c = 0; c < d; c++) {
        const muc = f64x2.splat(load<f64>(mu + (<usize>c << 3)));
        const diff = f64x2.sub(v128.load(X + (<usize>c << 4)), f64x2.mul(A, muc));
        if (eps != 0) v128.store(accE + (<usize>c << 4), f64x2.add(v128.load(accE + (<usize>c << 4)), f64x2.mul(wg, diff)));
        if (mean != 0 || trcov != 0) {
          const mkc = f64x2.add(muc, f64x2.mul(h, diff));
          v128.store(accM + (<usize>c << 4), f64x2.add(v128.load(accM + (<usize>c << 4)), f64x2.mul(w, mkc)));
          mk2 = f64x2.add(mk2, f64x2.mul(mkc, mkc));
        }
      }
      if (trcov != 0) {
        msq = f64x2.add(msq, f64x2.mul(w, mk2));
        vsum = f64x2.add(vsum, f64x2.mul(w, f64x2.splat(load<f64>(base, 32))));
      }
    }
    const two = r1 != r;
    let e2 = f64x2.splat(0);
    for (let c = 0; c < d; c++) {
      const o = <usize>c << 2;
      if (eps != 0) {
        const ev = v128.load(accE + (<usize>c << 4));
        store<f32>(eps + ((<usize>r * <usize>d) << 2) + o, <f32>f64x2.extract_lane(ev, 0));
        if (two) store<f32>(eps + ((<usize>r1 * <usize>d) << 2) + o, <f32>f64x2.extract_lane(ev, 1));
      }
      const mv = v128.load(accM + (<usize>c << 4));
      if (mean != 0) {
        store<f32>(mean + ((<usize>r * <usize>d) << 2) + o, <f32>f64x2.extract_lane(mv, 0));
        if (two) store<f32>(mean + ((<usize>r1 * <usize>d) << 2) + o, <f32>f64x2.extract_lane(mv, 1));
      }
      e2 = f64x2.add(e2, f64x2.mul(mv, mv));
    }
    if (trcov != 0) {
      const tc = f64x2.add(vsum, f64x2.mul(f64x2.sub(msq, e2), invD));
      store<f64>(trcov + (<usize>r << 3), f64x2.extract_lane(tc, 0));
      if (two) store<f64>(trcov + (<usize>r1 << 3), f64x2.extract_lane(tc, 1));
    }
  }
}
