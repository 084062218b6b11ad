// The fused diffusion sampler step (docs/diffusion.md §7), element-wise over batch·dim f32 values:
//
//   x̂0  = kx·x + km·m                  (m: the model output)
//   y   = clamp(x̂0, lo, hi)            (lo = −∞, hi = +∞ when not clipping)
//   out = P·y + Q·x + R·m + C·z         (Q, R already folded with ε̂ = ex·x + em·m by the host)
//
// Every scalar is computed by the host in float64 and rounded once to f32. The plain build evaluates in
// this order with one f32 rounding per operation; the relaxed build fuses the multiply-adds (maddF32x4).
// z is read from `noise` when given, else made in the same pass from the counter-based generator
// (kernels/rng.ts): element i of the call is global element firstElement + i on (k0, k1, stream), so the
// values do not depend on the batch split. C = 0 adds no z term.
//
// Determinism across splits: values are computed in blocks of 8 whose first global element is even
// (Box–Muller pairs); a partial block at the head or tail is copied into scratch and run through the same
// SIMD code, so an element's bits never depend on where a call starts or ends, in either build.
//
// ABI: pointers are byte addresses of f32 arrays (no alignment required; 16 bytes is faster); n, rows,
// dim are element counts. `out` may alias `x` or `m`. `x0out` (0 = not wanted) receives y.
// `scratch`: diffusion_scratch_bytes() bytes, 16-byte aligned, private to the call.
import { maddF32x4 } from '../../inline/madd';
import { normals8, normals16 } from './rng';

const SCR_WORDS: usize = 0; // 64 bytes
const SCR_Z: usize = 64; // 64 bytes
const SCR_X: usize = 128;
const SCR_M: usize = 160;
const SCR_OUT: usize = 192;
const SCR_X0: usize = 224;
const SCR_NOISE: usize = 256;
const SCRATCH_BYTES: i32 = 288;

/** Bytes of scratch one fused-step call needs. */
export function diffusion_scratch_bytes(): i32 {
  return SCRATCH_BYTES;
}

// @ts-ignore: decorator
@inline function step4(x: v128, m: v128, z: v128, kx: v128, km: v128, lo: v128, hi: v128, P: v128, Q: v128, R: v128, C: v128, withZ: bool, x0p: usize, outp: usize): void {
  const x0 = maddF32x4(km, m, f32x4.mul(kx, x));
  const y = f32x4.min(f32x4.max(x0, lo), hi);
  if (x0p != 0) v128.store(x0p, y);
  let acc = maddF32x4(Q, x, f32x4.mul(P, y));
  acc = maddF32x4(R, m, acc);
  if (withZ) acc = maddF32x4(C, z, acc);
  v128.store(outp, acc);
}

/**
 * One block of 8 elements at (xp, mp, np → outp, x0p); `e` is the block's first global element (even).
 * mode 0: no z; 1: z from np; 2: z generated.
 */
// @ts-ignore: decorator
@inline function block8(
  xp: usize, mp: usize, np: usize, outp: usize, x0p: usize, e: u32, mode: i32,
  kx: v128, km: v128, lo: v128, hi: v128, P: v128, Q: v128, R: v128, C: v128,
  k0: u32, k1: u32, stream: u32, scratch: usize,
): void {
  const xa = v128.load(xp); const xb = v128.load(xp, 16);
  const ma = v128.load(mp); const mb = v128.load(mp, 16);
  let za = f32x4.splat(0); let zb = za;
  if (mode == 1) {
    za = v128.load(np); zb = v128.load(np, 16);
  } else if (mode == 2) {
    normals8(k0, k1, stream, e >>> 1, scratch + SCR_WORDS, scratch + SCR_Z);
    za = v128.load(scratch + SCR_Z); zb = v128.load(scratch + SCR_Z, 16);
  }
  step4(xa, ma, za, kx, km, lo, hi, P, Q, R, C, mode != 0, x0p, outp);
  step4(xb, mb, zb, kx, km, lo, hi, P, Q, R, C, mode != 0, x0p == 0 ? 0 : x0p + 16, outp + 16);
}

/** Copy `count` f32 from src to dst (both byte addresses). */
// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, count: i32): void {
  for (let i = 0; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** Elements [i0, i0 + count) of the call, lying at offset `lane` of the 8-block starting at global e. */
function partialBlock(
  x: usize, m: usize, noise: usize, out: usize, x0out: usize, i0: i32, lane: i32, count: i32, e: u32, mode: i32,
  kx: v128, km: v128, lo: v128, hi: v128, P: v128, Q: v128, R: v128, C: v128,
  k0: u32, k1: u32, stream: u32, scratch: usize,
): void {
  const off = <usize>i0 << 2;
  const at = <usize>lane << 2;
  v128.store(scratch + SCR_X, i32x4.splat(0)); v128.store(scratch + SCR_X, i32x4.splat(0), 16);
  v128.store(scratch + SCR_M, i32x4.splat(0)); v128.store(scratch + SCR_M, i32x4.splat(0), 16);
  v128.store(scratch + SCR_NOISE, i32x4.splat(0)); v128.store(scratch + SCR_NOISE, i32x4.splat(0), 16);
  copyF32(scratch + SCR_X + at, x + off, count);
  copyF32(scratch + SCR_M + at, m + off, count);
  if (mode == 1) copyF32(scratch + SCR_NOISE + at, noise + off, count);
  block8(
    scratch + SCR_X, scratch + SCR_M, scratch + SCR_NOISE, scratch + SCR_OUT, x0out == 0 ? 0 : scratch + SCR_X0, e, mode,
    kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch,
  );
  copyF32(out + off, scratch + SCR_OUT + at, count);
  if (x0out != 0) copyF32(x0out + off, scratch + SCR_X0 + at, count);
}

function stepRange(
  x: usize, m: usize, noise: usize, out: usize, x0out: usize, n: i32,
  kxs: f32, kms: f32, los: f32, his: f32, Ps: f32, Qs: f32, Rs: f32, Cs: f32,
  k0: u32, k1: u32, stream: u32, firstElement: u32, scratch: usize,
): void {
  if (n <= 0) return;
  const mode: i32 = Cs == 0 ? 0 : noise != 0 ? 1 : 2;
  const kx = f32x4.splat(kxs); const km = f32x4.splat(kms);
  const lo = f32x4.splat(los); const hi = f32x4.splat(his);
  const P = f32x4.splat(Ps); const Q = f32x4.splat(Qs); const R = f32x4.splat(Rs); const C = f32x4.splat(Cs);
  let i: i32 = 0;
  let e: u32 = firstElement;
  // Head: an odd first element sits in lane 1 of the block starting at e − 1.
  if ((e & 1) != 0) {
    const count = n < 7 ? n : 7;
    partialBlock(x, m, noise, out, x0out, 0, 1, count, e - 1, mode, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
    i = count; e += <u32>count;
  }
  if (mode == 0) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      block8(x + o, m + o, 0, out + o, x0out == 0 ? 0 : x0out + o, 0, 0, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
    }
  } else if (mode == 1) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      block8(x + o, m + o, noise + o, out + o, x0out == 0 ? 0 : x0out + o, 0, 1, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
    }
  } else {
    // 16 at a time: two interleaved generator chains (the generator is latency-bound), same values.
    for (; i + 16 <= n; i += 16) {
      const o = <usize>i << 2;
      normals16(k0, k1, stream, (firstElement + <u32>i) >>> 1, scratch + SCR_WORDS, scratch + SCR_Z);
      block8(x + o, m + o, scratch + SCR_Z, out + o, x0out == 0 ? 0 : x0out + o, 0, 1, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
      block8(x + o + 32, m + o + 32, scratch + SCR_Z + 32, out + o + 32, x0out == 0 ? 0 : x0out + o + 32, 0, 1, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
    }
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      block8(x + o, m + o, 0, out + o, x0out == 0 ? 0 : x0out + o, firstElement + <u32>i, 2, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
    }
  }
  if (i < n) {
    partialBlock(x, m, noise, out, x0out, i, 0, n - i, firstElement + <u32>i, mode, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, scratch);
  }
}

/**
 * Fused step over n elements with one set of coefficients.
 * @param x - f32[n], the current sample x_t
 * @param m - f32[n], the model output
 * @param noise - f32[n] of injected standard normals, or 0 to generate them (when C ≠ 0)
 * @param out - f32[n], x_s (may alias x or m)
 * @param x0out - f32[n] receiving clamp(x̂0), or 0
 * @param firstElement - global element index of x[0] (row·dim + col over the whole batch)
 */
export function diffusion_step_f32(
  x: usize, m: usize, noise: usize, out: usize, x0out: usize, n: i32,
  kx: f32, km: f32, lo: f32, hi: f32, P: f32, Q: f32, R: f32, C: f32,
  k0: u32, k1: u32, stream: u32, firstElement: u32, scratch: usize,
): void {
  stepRange(x, m, noise, out, x0out, n, kx, km, lo, hi, P, Q, R, C, k0, k1, stream, firstElement, scratch);
}

/**
 * Fused step with per-row clipping bounds (dynamic thresholding): row r uses lo = −s_r, hi = s_r and
 * P_r in place of P. `bounds` and `prow` are f32[rows]; x, m, noise, out, x0out hold rows·dim values.
 */
export function diffusion_step_rows_f32(
  x: usize, m: usize, noise: usize, out: usize, x0out: usize, rows: i32, dim: i32,
  kx: f32, km: f32, bounds: usize, prow: usize, Q: f32, R: f32, C: f32,
  k0: u32, k1: u32, stream: u32, firstElement: u32, scratch: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const s = load<f32>(bounds + (<usize>r << 2));
    const o = (<usize>r * <usize>dim) << 2;
    stepRange(
      x + o, m + o, noise == 0 ? 0 : noise + o, out + o, x0out == 0 ? 0 : x0out + o, dim,
      kx, km, -s, s, load<f32>(prow + (<usize>r << 2)), Q, R, C, k0, k1, stream, firstElement + <u32>(r * dim), scratch,
    );
  }
}
