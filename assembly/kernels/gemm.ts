import { maddF32x4, maddF64x2 } from '../inline/madd';

const ZERO: v128 = i32x4.splat(0);

const MR_F32 = 2; const NR_F32 = 16; const MR_F64 = 2; const NR_F64 = 8;
const KC_F32 = 256; const MC_F32 = 96; const NC_F32 = 1024; const KC_F64 = 256; const MC_F64 = 48; const NC_F64 = 512;

// @ts-ignore: decorator
@inline function roundUp(x: i32, to: i32): i32 { return (x + to - 1) / to * to; }
// @ts-ignore: decorator
@inline function minI32(a: i32, b: i32): i32 { return a < b ? a : b; }

// @ts-ignore: decorator
@inline function mrOf<T>(): i32 { return sizeof<T>() == 4 ? MR_F32 : MR_F64; }
// @ts-ignore: decorator
@inline function nrOf<T>(): i32 { return sizeof<T>() == 4 ? NR_F32 : NR_F64; }
// @ts-ignore: decorator
@inline function kcOf<T>(): i32 { return sizeof<T>() == 4 ? KC_F32 : KC_F64; }
// @ts-ignore: decorator
@inline function mcOf<T>(): i32 { return sizeof<T>() == 4 ? MC_F32 : MC_F64; }
// @ts-ignore: decorator
@inline function ncOf<T>(): i32 { return sizeof<T>() == 4 ? NC_F32 : NC_F64; }

function scratchBytes<T>(m: i32, k: i32, n: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  const size = <i32>sizeof<T>();
  const kc = minI32(k, kcOf<T>());
  const nc = roundUp(minI32(n, ncOf<T>()), nrOf<T>());
  const mc = roundUp(minI32(m, mcOf<T>()), mrOf<T>());
  return roundUp(kc * nc * size, 64) + roundUp(mc * kc * size, 64) + mrOf<T>() * nrOf<T>() * size;
}

function scaleC<T>(m: i32, n: i32, beta: T, c: usize, ldc: i32): void {
  const size = sizeof<T>();
  for (let i = 0; i < m; i++) {
    const row = c + <usize>i * <usize>ldc * size;
    for (let j = 0; j < n; j++) {
      const p = row + <usize>j * size;
      store<T>(p, beta == 0 ? <T>0 : beta * load<T>(p));
    }
  }
}

function packB<T>(transB: i32, b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const size = sizeof<T>();
  const NR = nrOf<T>();
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = minI32(NR, nc - jr);
    const panel = dst + <usize>jr * <usize>kc * size;
    if (transB == 0) {
      for (let p = 0; p < kc; p++) {
        const src = b + (<usize>(pc + p) * <usize>ldb + <usize>(jc + jr)) * size;
        const out = panel + <usize>p * <usize>NR * size;
        if (nr == NR) {
          for (let v = 0; v < NR * <i32>size; v += 16) v128.store(out + v, v128.load(src + v));
        } else {
          for (let j = 0; j < nr; j++) store<T>(out + <usize>j * size, load<T>(src + <usize>j * size));
          for (let j = nr; j < NR; j++) store<T>(out + <usize>j * size, <T>0);
        }
      }
    } else {
      for (let j = 0; j < nr; j++) {
        const src = b + (<usize>(jc + jr + j) * <usize>ldb + <usize>pc) * size;
        for (let p = 0; p < kc; p++) store<T>(panel + (<usize>p * <usize>NR + <usize>j) * size, load<T>(src + <usize>p * size));
      }
      for (let j = nr; j < NR; j++) {
        for (let p = 0; p < kc; p++) store<T>(panel + (<usize>p * <usize>NR + <usize>j) * size, <T>0);
      }
    }
  }
}

function packA<T>(transA: i32, a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const size = sizeof<T>();
  const MR = mrOf<T>();
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = minI32(MR, mc - ir);
    const panel = dst + <usize>ir * <usize>kc * size;
    if (transA == 0) {
      for (let i = 0; i < mr; i++) {
        const src = a + (<usize>(ic + ir + i) * <usize>lda + <usize>pc) * size;
        for (let p = 0; p < kc; p++) store<T>(panel + (<usize>p * <usize>MR + <usize>i) * size, load<T>(src + <usize>p * size));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = a + (<usize>(pc + p) * <usize>lda + <usize>(ic + ir)) * size;
        const out = panel + <usize>p * <usize>MR * size;
        for (let i = 0; i < mr; i++) store<T>(out + <usize>i * size, load<T>(src + <usize>i * size));
      }
    }
    for (let i = mr; i < MR; i++) {
      for (let p = 0; p < kc; p++) store<T>(panel + (<usize>p * <usize>MR + <usize>i) * size, <T>0);
    }
  }
}

function writeEdge<T>(tile: usize, mr: i32, nr: i32, c: usize, ldc: i32, alpha: T, beta: T): void {
  const size = sizeof<T>();
  const NR = nrOf<T>();
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * <usize>ldc * size;
    const t = tile + <usize>i * <usize>NR * size;
    for (let j = 0; j < nr; j++) {
      const p = row + <usize>j * size;
      const v = alpha * load<T>(t + <usize>j * size);
      store<T>(p, beta == 0 ? v : v + beta * load<T>(p));
    }
  }
}

// @ts-ignore: decorator
@inline function microTile<T>(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: T, beta: T): void {
  if (sizeof<T>() == 4) microTileF32(kc, pa, pb, dst, dstRowBytes, <f32>alpha, <f32>beta);
  else microTileF64(kc, pa, pb, dst, dstRowBytes, <f64>alpha, <f64>beta);
}

function gemm<T>(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: T, a: usize, lda: i32,
                 b: usize, ldb: i32, beta: T, c: usize, ldc: i32, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) { scaleC<T>(m, n, beta, c, ldc); return; }
  const size = sizeof<T>();
  const MR = mrOf<T>(), NR = nrOf<T>(), KC = kcOf<T>(), MC = mcOf<T>(), NC = ncOf<T>();
  const kcMax = minI32(k, KC);
  const ncMax = roundUp(minI32(n, NC), NR);
  const mcMax = roundUp(minI32(m, MC), MR);
  const bPack = scratch;
  const aPack = bPack + <usize>roundUp(kcMax * ncMax * <i32>size, 64);
  const tile = aPack + <usize>roundUp(mcMax * kcMax * <i32>size, 64);
  const cRowBytes = <usize>ldc * size;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = minI32(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = minI32(KC, k - pc);
      const betaBlock: T = pc == 0 ? beta : <T>1;
      packB<T>(transB, b, ldb, pc, jc, kc, nc, bPack);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = minI32(MC, m - ic);
        packA<T>(transA, a, lda, ic, pc, mc, kc, aPack);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = minI32(NR, nc - jr);
          const pb = bPack + <usize>jr * <usize>kc * size;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = minI32(MR, mc - ir);
            const pa = aPack + <usize>ir * <usize>kc * size;
            const cTile = c + <usize>(ic + ir) * cRowBytes + <usize>(jc + jr) * size;
            if (mr == MR && nr == NR) {
              microTile<T>(kc, pa, pb, cTile, cRowBytes, alpha, betaBlock);
            } else {
              microTile<T>(kc, pa, pb, tile, <usize>NR * size, <T>1, <T>0);
              writeEdge<T>(tile, mr, nr, cTile, ldc, alpha, betaBlock);
            }
          }
        }
      }
    }
  }
}

export function gemm_f32(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: f32, a: usize, lda: i32,
                         b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, scratch: usize): void {
  gemm<f32>(transA, transB, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}
export function gemm_f64(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: f64, a: usize, lda: i32,
                         b: usize, ldb: i32, beta: f64, c: usize, ldc: i32, scratch: usize): void {
  gemm<f64>(transA, transB, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}
export function gemm_f32_scratch_bytes(m: i32, k: i32, n: i32): i32 { return scratchBytes<f32>(m, k, n); }
export function gemm_f64_scratch_bytes(m: i32, k: i32, n: i32): i32 { return scratchBytes<f64>(m, k, n); }

function microTileF32(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: f32, beta: f32): void {
  let c00 = ZERO, c01 = ZERO, c02 = ZERO, c03 = ZERO;
  let c10 = ZERO, c11 = ZERO, c12 = ZERO, c13 = ZERO;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    const a0 = v128.load32_splat(pa, 0);
    c00 = maddF32x4(a0, b0, c00); c01 = maddF32x4(a0, b1, c01); c02 = maddF32x4(a0, b2, c02); c03 = maddF32x4(a0, b3, c03);
    const a1 = v128.load32_splat(pa, 4);
    c10 = maddF32x4(a1, b0, c10); c11 = maddF32x4(a1, b1, c11); c12 = maddF32x4(a1, b2, c12); c13 = maddF32x4(a1, b3, c13);
    pa += 8; pb += 64;
  }
  const va = f32x4.splat(alpha);
  if (beta == 0) {
    v128.store(dst, f32x4.mul(va, c00), 0); v128.store(dst, f32x4.mul(va, c01), 16); v128.store(dst, f32x4.mul(va, c02), 32); v128.store(dst, f32x4.mul(va, c03), 48); dst += dstRowBytes;
    v128.store(dst, f32x4.mul(va, c10), 0); v128.store(dst, f32x4.mul(va, c11), 16); v128.store(dst, f32x4.mul(va, c12), 32); v128.store(dst, f32x4.mul(va, c13), 48); dst += dstRowBytes;
  } else if (beta == 1) {
    v128.store(dst, f32x4.add(f32x4.mul(va, c00), v128.load(dst, 0)), 0); v128.store(dst, f32x4.add(f32x4.mul(va, c01), v128.load(dst, 16)), 16); v128.store(dst, f32x4.add(f32x4.mul(va, c02), v128.load(dst, 32)), 32); v128.store(dst, f32x4.add(f32x4.mul(va, c03), v128.load(dst, 48)), 48); dst += dstRowBytes;
    v128.store(dst, f32x4.add(f32x4.mul(va, c10), v128.load(dst, 0)), 0); v128.store(dst, f32x4.add(f32x4.mul(va, c11), v128.load(dst, 16)), 16); v128.store(dst, f32x4.add(f32x4.mul(va, c12), v128.load(dst, 32)), 32); v128.store(dst, f32x4.add(f32x4.mul(va, c13), v128.load(dst, 48)), 48); dst += dstRowBytes;
  } else {
    const vb = f32x4.splat(beta);
    v128.store(dst, f32x4.add(f32x4.mul(va, c00), f32x4.mul(vb, v128.load(dst, 0))), 0); v128.store(dst, f32x4.add(f32x4.mul(va, c01), f32x4.mul(vb, v128.load(dst, 16))), 16); v128.store(dst, f32x4.add(f32x4.mul(va, c02), f32x4.mul(vb, v128.load(dst, 32))), 32); v128.store(dst, f32x4.add(f32x4.mul(va, c03), f32x4.mul(vb, v128.load(dst, 48))), 48); dst += dstRowBytes;
    v128.store(dst, f32x4.add(f32x4.mul(va, c10), f32x4.mul(vb, v128.load(dst, 0))), 0); v128.store(dst, f32x4.add(f32x4.mul(va, c11), f32x4.mul(vb, v128.load(dst, 16))), 16); v128.store(dst, f32x4.add(f32x4.mul(va, c12), f32x4.mul(vb, v128.load(dst, 32))), 32); v128.store(dst, f32x4.add(f32x4.mul(va, c13), f32x4.mul(vb, v128.load(dst, 48))), 48); dst += dstRowBytes;
  }
}
function microTileF64(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: f64, beta: f64): void {
  let c00 = ZERO, c01 = ZERO, c02 = ZERO, c03 = ZERO;
  let c10 = ZERO, c11 = ZERO, c12 = ZERO, c13 = ZERO;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    const a0 = v128.load64_splat(pa, 0);
    c00 = maddF64x2(a0, b0, c00); c01 = maddF64x2(a0, b1, c01); c02 = maddF64x2(a0, b2, c02); c03 = maddF64x2(a0, b3, c03);
    const a1 = v128.load64_splat(pa, 8);
    c10 = maddF64x2(a1, b0, c10); c11 = maddF64x2(a1, b1, c11); c12 = maddF64x2(a1, b2, c12); c13 = maddF64x2(a1, b3, c13);
    pa += 16; pb += 64;
  }
  const va = f64x2.splat(alpha);
  if (beta == 0) {
    v128.store(dst, f64x2.mul(va, c00), 0); v128.store(dst, f64x2.mul(va, c01), 16); v128.store(dst, f64x2.mul(va, c02), 32); v128.store(dst, f64x2.mul(va, c03), 48); dst += dstRowBytes;
    v128.store(dst, f64x2.mul(va, c10), 0); v128.store(dst, f64x2.mul(va, c11), 16); v128.store(dst, f64x2.mul(va, c12), 32); v128.store(dst, f64x2.mul(va, c13), 48); dst += dstRowBytes;
  } else if (beta == 1) {
    v128.store(dst, f64x2.add(f64x2.mul(va, c00), v128.load(dst, 0)), 0); v128.store(dst, f64x2.add(f64x2.mul(va, c01), v128.load(dst, 16)), 16); v128.store(dst, f64x2.add(f64x2.mul(va, c02), v128.load(dst, 32)), 32); v128.store(dst, f64x2.add(f64x2.mul(va, c03), v128.load(dst, 48)), 48); dst += dstRowBytes;
    v128.store(dst, f64x2.add(f64x2.mul(va, c10), v128.load(dst, 0)), 0); v128.store(dst, f64x2.add(f64x2.mul(va, c11), v128.load(dst, 16)), 16); v128.store(dst, f64x2.add(f64x2.mul(va, c12), v128.load(dst, 32)), 32); v128.store(dst, f64x2.add(f64x2.mul(va, c13), v128.load(dst, 48)), 48); dst += dstRowBytes;
  } else {
    const vb = f64x2.splat(beta);
    v128.store(dst, f64x2.add(f64x2.mul(va, c00), f64x2.mul(vb, v128.load(dst, 0))), 0); v128.store(dst, f64x2.add(f64x2.mul(va, c01), f64x2.mul(vb, v128.load(dst, 16))), 16); v128.store(dst, f64x2.add(f64x2.mul(va, c02), f64x2.mul(vb, v128.load(dst, 32))), 32); v128.store(dst, f64x2.add(f64x2.mul(va, c03), f64x2.mul(vb, v128.load(dst, 48))), 48); dst += dstRowBytes;
    v128.store(dst, f64x2.add(f64x2.mul(va, c10), f64x2.mul(vb, v128.load(dst, 0))), 0); v128.store(dst, f64x2.add(f64x2.mul(va, c11), f64x2.mul(vb, v128.load(dst, 16))), 16); v128.store(dst, f64x2.add(f64x2.mul(va, c12), f64x2.mul(vb, v128.load(dst, 32))), 32); v128.store(dst, f64x2.add(f64x2.mul(va, c13), f64x2.mul(vb, v128.load(dst, 48))), 48); dst += dstRowBytes;
  }
}
