// Blocked SIMD GEMM: C = alpha·op(A)·op(B) + beta·C in f32 (f32x4) and f64 (f64x2).
//
// ABI (all exports):
//   gemm_f32(transA, transB, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc, scratch)
//   gemm_f64(same, alpha/beta f64)
//   gemm_f32_scratch_bytes(m, k, n) / gemm_f64_scratch_bytes(m, k, n) → bytes of scratch the call needs
// - m, k, n: sizes in elements, any value ≥ 0. C is m×n.
// - a, b, c, scratch: byte addresses in linear memory. Bases are 16-byte aligned, but rows need not be
//   (a row block handed out by the pool starts mid-matrix), so every vector access is an unaligned-safe
//   v128.load/store. scratch must be 16-byte aligned and hold *_scratch_bytes(m, k, n) bytes.
// - lda, ldb, ldc: row strides in ELEMENTS (not bytes). A is stored m×k, or k×m when transA ≠ 0
//   (op(A) = Aᵀ); B is stored k×n, or n×k when transB ≠ 0.
// - beta == 0: C is never read (NaN or garbage in C does not propagate). k == 0 or alpha == 0:
//   C = beta·C without touching A or B (the BLAS convention). k == 1 is a scalar rank-1 update
//   (see rankOneUpdate: it keeps the error bound that the blocked path cannot meet for k = 1).
// - Accuracy: |C − C_exact| ≤ 2·k·u·(|alpha|·|op(A)|·|op(B)| + |beta|·|C|) elementwise.
// - The kernel never allocates; scratch is bounded by the cache blocks (≤ ~2.3 MB f32, ~4.3 MB f64),
//   independent of m and n once they exceed the blocks.
// - C must not overlap A, B or scratch.
//
// Blocking (Goto/BLIS order), all transposes are absorbed by the packing routines:
//   for jc in n step NC:                      B block KC×NC packed into NR-wide panels   (L3)
//     for pc in k step KC:
//       pack op(B)[pc:pc+KC, jc:jc+NC]
//       for ic in m step MC:                  A block MC×KC packed into MR-tall panels   (L2)
//         pack op(A)[ic:ic+MC, pc:pc+KC]
//         for jr in NC step NR:               one B micro-panel, KC×NR, stays in L1
//           for ir in MC step MR:             micro-kernel: MR×NR accumulators in v128 locals
// Packed panels are zero-padded to full MR/NR, so the micro-kernel always runs full width; partial
// tiles of C are produced in a scratch tile and copied out by scalar code. The first k-block applies
// beta, later k-blocks add (beta = 1); alpha is applied once per k-block at write-back.
//
// Micro-kernel shape: 4×8 f32 (8 f32x4 accumulators) and 4×4 f64 (8 f64x2 accumulators). V8 (x64)
// schedules all loads of a loop body ahead of its arithmetic and allocates 15 xmm registers, so
// 8 accumulators + 2 B vectors + 4 broadcasts is the largest tile that never spills; 6×8 and 4×12
// were measured slower in both builds. KC = 512 keeps a B micro-panel (16 KiB) in the 32 KiB L1d and
// amortises write-back; measured on an AVX2 EPYC: ~46 GFLOP/s relaxed, ~34 plain (f32, n = 512).
// The build choice (fused relaxed_madd vs mul+add) is made at compile time in inline/madd.ts.

import { maddF32x4, maddF64x2 } from '../../inline/madd';

// Register block (elements). MR = rows of op(A) per micro-panel, NR = columns of op(B).
const MR_F32: i32 = 4;
const NR_F32: i32 = 8;
const MR_F64: i32 = 4;
const NR_F64: i32 = 4;
// Cache blocks (elements). MC is a multiple of MR and NC of NR.
const KC_F32: i32 = 512;
const MC_F32: i32 = 128;
const NC_F32: i32 = 1024;
const KC_F64: i32 = 512;
const MC_F64: i32 = 64;
const NC_F64: i32 = 1024;

export function gemm_f32(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: f32, a: usize, lda: i32,
                         b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, scratch: usize): void {
  gemm<f32>(transA, transB, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}

export function gemm_f64(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: f64, a: usize, lda: i32,
                         b: usize, ldb: i32, beta: f64, c: usize, ldc: i32, scratch: usize): void {
  gemm<f64>(transA, transB, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc, scratch);
}

/** Bytes of scratch gemm_f32(…, m, k, n, …) needs; 0 when there is nothing to multiply. */
export function gemm_f32_scratch_bytes(m: i32, k: i32, n: i32): i32 {
  return scratchBytes<f32>(m, k, n);
}

/** Bytes of scratch gemm_f64(…, m, k, n, …) needs; 0 when there is nothing to multiply. */
export function gemm_f64_scratch_bytes(m: i32, k: i32, n: i32): i32 {
  return scratchBytes<f64>(m, k, n);
}

const ZERO: v128 = i32x4.splat(0);

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

// @ts-ignore: decorator
@inline function roundUp(x: i32, to: i32): i32 { return (x + to - 1) / to * to; }
// @ts-ignore: decorator
@inline function minI32(a: i32, b: i32): i32 { return a < b ? a : b; }

// Scratch layout: [packed B block | packed A block | one MR×NR edge tile], each part 64-byte aligned.
// @ts-ignore: decorator
@inline function packedBBytes<T>(k: i32, n: i32): i32 {
  return roundUp(minI32(k, kcOf<T>()) * roundUp(minI32(n, ncOf<T>()), nrOf<T>()) * <i32>sizeof<T>(), 64);
}
// @ts-ignore: decorator
@inline function packedABytes<T>(m: i32, k: i32): i32 {
  return roundUp(minI32(k, kcOf<T>()) * roundUp(minI32(m, mcOf<T>()), mrOf<T>()) * <i32>sizeof<T>(), 64);
}

function scratchBytes<T>(m: i32, k: i32, n: i32): i32 {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  return packedBBytes<T>(k, n) + packedABytes<T>(m, k) + mrOf<T>() * nrOf<T>() * <i32>sizeof<T>();
}

function gemm<T>(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: T, a: usize, lda: i32,
                 b: usize, ldb: i32, beta: T, c: usize, ldc: i32, scratch: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    scaleC<T>(m, n, beta, c, ldc);
    return;
  }
  if (k == 1) {
    rankOneUpdate<T>(transA, transB, m, n, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const size = sizeof<T>();
  const MR = mrOf<T>(), NR = nrOf<T>(), KC = kcOf<T>(), MC = mcOf<T>(), NC = ncOf<T>();
  const packedB = scratch;
  const packedA = packedB + <usize>packedBBytes<T>(k, n);
  const edgeTile = packedA + <usize>packedABytes<T>(m, k);
  const cRowBytes = <usize>ldc * size;

  for (let jc = 0; jc < n; jc += NC) {
    const nc = minI32(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = minI32(KC, k - pc);
      const blockBeta: T = pc == 0 ? beta : <T>1;
      packB<T>(transB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = minI32(MC, m - ic);
        packA<T>(transA, a, lda, ic, pc, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = minI32(NR, nc - jr);
          const panelB = packedB + <usize>jr * <usize>kc * size;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = minI32(MR, mc - ir);
            const panelA = packedA + <usize>ir * <usize>kc * size;
            const cTile = c + <usize>(ic + ir) * cRowBytes + <usize>(jc + jr) * size;
            if (mr == MR && nr == NR) {
              microTile<T>(kc, panelA, panelB, cTile, cRowBytes, alpha, blockBeta);
            } else {
              microTile<T>(kc, panelA, panelB, edgeTile, <usize>NR * size, <T>1, <T>0);
              writeEdgeTile<T>(edgeTile, mr, nr, cTile, ldc, alpha, blockBeta);
            }
          }
        }
      }
    }
  }
}

// ---- packing ------------------------------------------------------------------------------------
// Packed B: panels of NR columns, each stored k-major: panel[p·NR + j] = op(B)[pc+p][jc+jr+j].
// Packed A: panels of MR rows, each stored k-major:    panel[p·MR + i] = op(A)[ic+ir+i][pc+p].
// Missing rows/columns of the last panel are zeros, so they contribute nothing.

function packB<T>(transB: i32, b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const size = sizeof<T>();
  const NR = nrOf<T>();
  const ldbBytes = <usize>ldb * size;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = minI32(NR, nc - jr);
    const panel = dst + <usize>jr * <usize>kc * size;
    if (transB == 0) {
      // op(B) rows are contiguous: copy NR elements per k.
      let src = b + <usize>pc * ldbBytes + <usize>(jc + jr) * size;
      for (let p = 0; p < kc; p++, src += ldbBytes) {
        const out = panel + <usize>p * <usize>NR * size;
        if (nr == NR) {
          for (let v: usize = 0; v < <usize>NR * size; v += 16) v128.store(out + v, v128.load(src + v));
        } else {
          for (let j = 0; j < nr; j++) store<T>(out + <usize>j * size, load<T>(src + <usize>j * size));
          for (let j = nr; j < NR; j++) store<T>(out + <usize>j * size, <T>0);
        }
      }
    } else {
      // B is stored n×k: each packed k-row gathers NR stored rows, i.e. a transpose.
      const src = b + <usize>(jc + jr) * ldbBytes + <usize>pc * size;
      transposeInto<T>(src, ldbBytes, nr, kc, panel, NR);
    }
  }
}

function packA<T>(transA: i32, a: usize, lda: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const size = sizeof<T>();
  const MR = mrOf<T>();
  const ldaBytes = <usize>lda * size;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = minI32(MR, mc - ir);
    const panel = dst + <usize>ir * <usize>kc * size;
    if (transA == 0) {
      // A is stored m×k: each packed k-row gathers MR stored rows, i.e. a transpose.
      const src = a + <usize>(ic + ir) * ldaBytes + <usize>pc * size;
      transposeInto<T>(src, ldaBytes, mr, kc, panel, MR);
    } else {
      // A is stored k×m: op(A) columns are contiguous, copy MR elements per k.
      let src = a + <usize>pc * ldaBytes + <usize>(ic + ir) * size;
      for (let p = 0; p < kc; p++, src += ldaBytes) {
        const out = panel + <usize>p * <usize>MR * size;
        if (mr == MR) {
          for (let v: usize = 0; v < <usize>MR * size; v += 16) v128.store(out + v, v128.load(src + v));
        } else {
          for (let i = 0; i < mr; i++) store<T>(out + <usize>i * size, load<T>(src + <usize>i * size));
          for (let i = mr; i < MR; i++) store<T>(out + <usize>i * size, <T>0);
        }
      }
    }
  }
}

/**
 * Writes the transpose of `rows` stored rows (row stride srcRowBytes, `cols` elements each) into a
 * panel of width `width` ≥ rows: panel[p·width + r] = src[r][p]; columns rows..width-1 become 0.
 * Full groups of 4 (f32) or 2 (f64) rows go through register transposes, four columns at a time.
 */
function transposeInto<T>(src: usize, srcRowBytes: usize, rows: i32, cols: i32, panel: usize, width: i32): void {
  const size = sizeof<T>();
  const lanes = 16 / <i32>size;
  const outRowBytes = <usize>width * size;
  let r = 0;
  for (; r + lanes <= rows; r += lanes) {
    const s0 = src + <usize>r * srcRowBytes;
    const out = panel + <usize>r * size;
    let p = 0;
    if (sizeof<T>() == 4) {
      const s1 = s0 + srcRowBytes, s2 = s1 + srcRowBytes, s3 = s2 + srcRowBytes;
      for (; p + 4 <= cols; p += 4) {
        const o = <usize>p * size;
        const r0 = v128.load(s0 + o), r1 = v128.load(s1 + o), r2 = v128.load(s2 + o), r3 = v128.load(s3 + o);
        const lo01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), hi01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const lo23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), hi23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        const d = out + <usize>p * outRowBytes;
        v128.store(d, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
        v128.store(d + outRowBytes, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7));
        v128.store(d + 2 * outRowBytes, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5));
        v128.store(d + 3 * outRowBytes, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7));
      }
    } else {
      const s1 = s0 + srcRowBytes;
      for (; p + 2 <= cols; p += 2) {
        const o = <usize>p * size;
        const r0 = v128.load(s0 + o), r1 = v128.load(s1 + o);
        const d = out + <usize>p * outRowBytes;
        v128.store(d, v128.shuffle<f64>(r0, r1, 0, 2));
        v128.store(d + outRowBytes, v128.shuffle<f64>(r0, r1, 1, 3));
      }
    }
    for (; p < cols; p++) {
      for (let q = 0; q < lanes; q++) {
        store<T>(out + <usize>p * outRowBytes + <usize>q * size, load<T>(s0 + <usize>q * srcRowBytes + <usize>p * size));
      }
    }
  }
  // Leftover rows (fewer than a vector's worth), then the zero padding.
  for (; r < rows; r++) {
    const s = src + <usize>r * srcRowBytes;
    for (let p = 0; p < cols; p++) store<T>(panel + <usize>p * outRowBytes + <usize>r * size, load<T>(s + <usize>p * size));
  }
  for (; r < width; r++) {
    for (let p = 0; p < cols; p++) store<T>(panel + <usize>p * outRowBytes + <usize>r * size, <T>0);
  }
}

// ---- micro-kernels --------------------------------------------------------------------------------
// Each computes acc = Σ_p panelA[p]ᵀ·panelB[p] over kc ≥ 1 steps, then dst = alpha·acc + beta·dst
// (dst not read when beta == 0). dstRowBytes is the byte stride between rows of dst.

// @ts-ignore: decorator
@inline function microTile<T>(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: T, beta: T): void {
  if (sizeof<T>() == 4) microTileF32(kc, pa, pb, dst, dstRowBytes, <f32>alpha, <f32>beta);
  else microTileF64(kc, pa, pb, dst, dstRowBytes, <f64>alpha, <f64>beta);
}

// The loop runs on the B pointer (no separate counter): V8 then keeps only two induction variables,
// which measurably helps the mul+add build, whose loop is front-end bound.
function microTileF32(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: f32, beta: f32): void {
  let c00 = ZERO, c01 = ZERO;
  let c10 = ZERO, c11 = ZERO;
  let c20 = ZERO, c21 = ZERO;
  let c30 = ZERO, c31 = ZERO;
  const pbEnd = pb + <usize>kc * 32;
  do {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa, 0);
    c00 = maddF32x4(a0, b0, c00); c01 = maddF32x4(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = maddF32x4(a1, b0, c10); c11 = maddF32x4(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = maddF32x4(a2, b0, c20); c21 = maddF32x4(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = maddF32x4(a3, b0, c30); c31 = maddF32x4(a3, b1, c31);
    pa += 16; pb += 32;
  } while (pb < pbEnd);

  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const mode = betaMode<f32>(beta);
  writeRowF32(dst, c00, c01, va, vb, mode); dst += dstRowBytes;
  writeRowF32(dst, c10, c11, va, vb, mode); dst += dstRowBytes;
  writeRowF32(dst, c20, c21, va, vb, mode); dst += dstRowBytes;
  writeRowF32(dst, c30, c31, va, vb, mode);
}

function microTileF64(kc: i32, pa: usize, pb: usize, dst: usize, dstRowBytes: usize, alpha: f64, beta: f64): void {
  let c00 = ZERO, c01 = ZERO;
  let c10 = ZERO, c11 = ZERO;
  let c20 = ZERO, c21 = ZERO;
  let c30 = ZERO, c31 = ZERO;
  const pbEnd = pb + <usize>kc * 32;
  do {
    const b0 = v128.load(pb, 0);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load64_splat(pa, 0);
    c00 = maddF64x2(a0, b0, c00); c01 = maddF64x2(a0, b1, c01);
    const a1 = v128.load64_splat(pa, 8);
    c10 = maddF64x2(a1, b0, c10); c11 = maddF64x2(a1, b1, c11);
    const a2 = v128.load64_splat(pa, 16);
    c20 = maddF64x2(a2, b0, c20); c21 = maddF64x2(a2, b1, c21);
    const a3 = v128.load64_splat(pa, 24);
    c30 = maddF64x2(a3, b0, c30); c31 = maddF64x2(a3, b1, c31);
    pa += 32; pb += 32;
  } while (pb < pbEnd);

  const va = f64x2.splat(alpha);
  const vb = f64x2.splat(beta);
  const mode = betaMode<f64>(beta);
  writeRowF64(dst, c00, c01, va, vb, mode); dst += dstRowBytes;
  writeRowF64(dst, c10, c11, va, vb, mode); dst += dstRowBytes;
  writeRowF64(dst, c20, c21, va, vb, mode); dst += dstRowBytes;
  writeRowF64(dst, c30, c31, va, vb, mode);
}

// Write-back modes: overwrite (beta == 0, C not read), accumulate (beta == 1, later k-blocks), scale.
const OVERWRITE: i32 = 0;
const ACCUMULATE: i32 = 1;
const SCALE: i32 = 2;

// @ts-ignore: decorator
@inline function betaMode<T>(beta: T): i32 {
  return beta == 0 ? OVERWRITE : beta == 1 ? ACCUMULATE : SCALE;
}

// @ts-ignore: decorator
@inline function writeRowF32(dst: usize, lo: v128, hi: v128, va: v128, vb: v128, mode: i32): void {
  let outLo = f32x4.mul(va, lo), outHi = f32x4.mul(va, hi);
  if (mode == ACCUMULATE) {
    outLo = f32x4.add(outLo, v128.load(dst, 0));
    outHi = f32x4.add(outHi, v128.load(dst, 16));
  } else if (mode == SCALE) {
    outLo = f32x4.add(outLo, f32x4.mul(vb, v128.load(dst, 0)));
    outHi = f32x4.add(outHi, f32x4.mul(vb, v128.load(dst, 16)));
  }
  v128.store(dst, outLo, 0);
  v128.store(dst, outHi, 16);
}

// @ts-ignore: decorator
@inline function writeRowF64(dst: usize, lo: v128, hi: v128, va: v128, vb: v128, mode: i32): void {
  let outLo = f64x2.mul(va, lo), outHi = f64x2.mul(va, hi);
  if (mode == ACCUMULATE) {
    outLo = f64x2.add(outLo, v128.load(dst, 0));
    outHi = f64x2.add(outHi, v128.load(dst, 16));
  } else if (mode == SCALE) {
    outLo = f64x2.add(outLo, f64x2.mul(vb, v128.load(dst, 0)));
    outHi = f64x2.add(outHi, f64x2.mul(vb, v128.load(dst, 16)));
  }
  v128.store(dst, outLo, 0);
  v128.store(dst, outHi, 16);
}

// ---- scalar edges ---------------------------------------------------------------------------------

/** Copies the top-left mr×nr of an NR-wide tile to C: C = alpha·tile + beta·C (C unread if beta == 0). */
function writeEdgeTile<T>(tile: usize, mr: i32, nr: i32, c: usize, ldc: i32, alpha: T, beta: T): void {
  const size = sizeof<T>();
  const tileRowBytes = <usize>nrOf<T>() * size;
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * <usize>ldc * size;
    const t = tile + <usize>i * tileRowBytes;
    for (let j = 0; j < nr; j++) {
      const p = row + <usize>j * size;
      const v = alpha * load<T>(t + <usize>j * size);
      store<T>(p, beta == 0 ? v : v + beta * load<T>(p));
    }
  }
}

/**
 * k == 1: C = alpha·a·bᵀ + beta·C, evaluated in f64 and rounded once. The blocked path rounds a·b, alpha·s
 * and the sum separately; for k ≥ 2 that stays inside the 2·k·u bound, for k == 1 it can exceed it.
 */
function rankOneUpdate<T>(transA: i32, transB: i32, m: i32, n: i32, alpha: T, a: usize, lda: i32,
                          b: usize, ldb: i32, beta: T, c: usize, ldc: i32): void {
  const size = sizeof<T>();
  // op(A) is a column: stride lda when A is stored m×1, contiguous when stored 1×m; likewise op(B).
  const aStep = transA ? size : <usize>lda * size;
  const bStep = transB ? <usize>ldb * size : size;
  for (let i = 0; i < m; i++) {
    const ai = <f64>alpha * <f64>load<T>(a + <usize>i * aStep);
    const row = c + <usize>i * <usize>ldc * size;
    for (let j = 0; j < n; j++) {
      const p = row + <usize>j * size;
      const v = ai * <f64>load<T>(b + <usize>j * bStep);
      store<T>(p, <T>(beta == 0 ? v : v + <f64>beta * <f64>load<T>(p)));
    }
  }
}

/** C = beta·C, with beta == 0 writing zeros without reading C. */
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
