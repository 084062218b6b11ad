// Spec for kernels/gemm.ts. Every operand holds small integers, so every product and partial sum is
// exact in f32 and f64 whatever the blocking or FMA use: results must match the reference bit for bit.
import {
  gemm_f32, gemm_f64, gemm_f32_scratch_bytes, gemm_f64_scratch_bytes,
} from '../../kernels/linalg/gemm';

// One static arena (16-byte aligned) carved into A | B | C | scratch for each case.
const ARENA_BYTES: i32 = 1 << 20;
const arena = memory.data(ARENA_BYTES, 16);
const SENTINEL: f64 = 12345;

// @ts-ignore: decorator
@inline function align64(x: usize): usize { return (x + 63) & ~(<usize>63); }

/** Small integer pattern in [-3, 3], different for A (salt 1) and B (salt 2). */
function pattern(i: i32, j: i32, salt: i32): f64 {
  return <f64>((i * 7 + j * 3 + salt * 5 + i * j) % 7 - 3);
}

/**
 * Runs gemm on integer data with row padding `pad` (elements) on every operand and base addresses
 * shifted by `shift` elements (so rows are not 16-byte aligned), then compares with a scalar f64
 * reference. Returns the number of mismatching elements, counting writes into padding as mismatches.
 */
function runCase<T>(transA: i32, transB: i32, m: i32, k: i32, n: i32, alpha: T, beta: T, pad: i32, shift: i32): i32 {
  const size = sizeof<T>();
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
  const a = arena + <usize>shift * size;
  const b = align64(a + <usize>(aRows * lda) * size) + <usize>shift * size;
  const c = align64(b + <usize>(bRows * ldb) * size) + <usize>shift * size;
  const scratch = align64(c + <usize>(m * ldc) * size);
  const scratchBytes = sizeof<T>() == 4 ? gemm_f32_scratch_bytes(m, k, n) : gemm_f64_scratch_bytes(m, k, n);
  assert(scratch + <usize>scratchBytes <= arena + <usize>ARENA_BYTES, 'case does not fit the arena');

  for (let i = 0; i < aRows; i++) for (let j = 0; j < lda; j++) {
    store<T>(a + <usize>(i * lda + j) * size, <T>(j < aCols ? pattern(i, j, 1) : SENTINEL));
  }
  for (let i = 0; i < bRows; i++) for (let j = 0; j < ldb; j++) {
    store<T>(b + <usize>(i * ldb + j) * size, <T>(j < bCols ? pattern(i, j, 2) : SENTINEL));
  }
  // With beta == 0 the old C is NaN: it must not leak into the result.
  for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
    const old: f64 = j >= n ? SENTINEL : beta == 0 ? NaN : <f64>((i + 2 * j) % 5 - 2);
    store<T>(c + <usize>(i * ldc + j) * size, <T>old);
  }
  // Scratch starts as garbage; the kernel must not depend on its contents.
  memory.fill(scratch, 0xff, <usize>scratchBytes);

  // Reference, computed before the call (C is overwritten in place).
  const expected = arena + <usize>ARENA_BYTES - <usize>(m * n) * 8;
  assert(expected >= scratch + <usize>scratchBytes, 'reference does not fit the arena');
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let sum: f64 = 0;
    for (let p = 0; p < k; p++) {
      const x = transA ? pattern(p, i, 1) : pattern(i, p, 1);
      const y = transB ? pattern(j, p, 2) : pattern(p, j, 2);
      sum += x * y;
    }
    const old = <f64>load<T>(c + <usize>(i * ldc + j) * size);
    store<f64>(expected + <usize>(i * n + j) * 8, <f64>alpha * sum + (beta == 0 ? 0 : <f64>beta * old));
  }

  if (sizeof<T>() == 4) {
    gemm_f32(transA, transB, m, k, n, <f32>alpha, a, lda, b, ldb, <f32>beta, c, ldc, scratch);
  } else {
    gemm_f64(transA, transB, m, k, n, <f64>alpha, a, lda, b, ldb, <f64>beta, c, ldc, scratch);
  }

  let bad = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < ldc; j++) {
    const got = <f64>load<T>(c + <usize>(i * ldc + j) * size);
    const want = j < n ? load<f64>(expected + <usize>(i * n + j) * 8) : SENTINEL;
    if (got != want) bad++;
  }
  return bad;
}

describe('gemm_f32', () => {
  it('multiplies a hand-checked 2×3 by 3×2', () => {
    // A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12] → AB = [58 64; 139 154]
    const a = arena, b = arena + 64, c = arena + 128, scratch = arena + 256;
    for (let i = 0; i < 6; i++) store<f32>(a + <usize>i * 4, <f32>(i + 1));
    for (let i = 0; i < 6; i++) store<f32>(b + <usize>i * 4, <f32>(i + 7));
    gemm_f32(0, 0, 2, 3, 2, 1, a, 3, b, 2, 0, c, 2, scratch);
    expect<f32>(load<f32>(c)).toBe(58);
    expect<f32>(load<f32>(c, 4)).toBe(64);
    expect<f32>(load<f32>(c, 8)).toBe(139);
    expect<f32>(load<f32>(c, 12)).toBe(154);
  });

  it('is exact for every transpose combination on odd sizes', () => {
    for (let t = 0; t < 4; t++) {
      expect<i32>(runCase<f32>(t & 1, t >> 1, 7, 13, 5, 1, 0, 0, 0)).toBe(0);
      expect<i32>(runCase<f32>(t & 1, t >> 1, 13, 5, 7, 1, 0, 3, 1)).toBe(0);
      expect<i32>(runCase<f32>(t & 1, t >> 1, 9, 17, 11, 1, 0, 1, 3)).toBe(0);
    }
  });

  it('handles 1×1×1, single rows and single columns', () => {
    expect<i32>(runCase<f32>(0, 0, 1, 1, 1, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(0, 0, 1, 9, 19, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(1, 1, 19, 9, 1, 1, 0, 2, 1)).toBe(0);
    expect<i32>(runCase<f32>(0, 1, 4, 1, 8, 1, 0, 0, 0)).toBe(0);
  });

  it('applies alpha and beta', () => {
    expect<i32>(runCase<f32>(0, 0, 6, 7, 10, 2, -1, 1, 1)).toBe(0);
    expect<i32>(runCase<f32>(1, 0, 6, 7, 10, -0.5, 1, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(0, 1, 6, 7, 10, 1, 3, 2, 2)).toBe(0);
    expect<i32>(runCase<f32>(1, 1, 6, 7, 10, 0.25, 0.5, 0, 1)).toBe(0);
  });

  it('never reads C when beta is 0 (NaN in C does not propagate)', () => {
    expect<i32>(runCase<f32>(0, 0, 8, 8, 8, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(1, 1, 5, 3, 11, -2, 0, 1, 0)).toBe(0);
  });

  it('gives C = beta·C when k is 0 (zeros when beta is 0)', () => {
    expect<i32>(runCase<f32>(0, 0, 3, 0, 5, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(0, 0, 3, 0, 5, 1, 2, 1, 1)).toBe(0);
    expect<i32>(gemm_f32_scratch_bytes(3, 0, 5)).toBe(0);
  });

  it('gives C = beta·C when alpha is 0', () => {
    expect<i32>(runCase<f32>(0, 0, 4, 6, 5, 0, -3, 0, 0)).toBe(0);
  });

  it('does nothing for m = 0 or n = 0', () => {
    expect<i32>(runCase<f32>(0, 0, 0, 4, 5, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(0, 0, 4, 5, 0, 1, 0, 2, 0)).toBe(0);
    expect<i32>(gemm_f32_scratch_bytes(0, 4, 5)).toBe(0);
  });

  it('crosses the k, m and n cache blocks', () => {
    expect<i32>(runCase<f32>(0, 0, 5, 1100, 9, 1, 2, 1, 1)).toBe(0);   // k > KC: later k-blocks accumulate
    expect<i32>(runCase<f32>(1, 0, 5, 1100, 9, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f32>(0, 1, 300, 3, 6, 1, 0, 0, 0)).toBe(0);    // m > MC
    expect<i32>(runCase<f32>(0, 0, 2, 3, 2100, 1, -1, 0, 1)).toBe(0);  // n > NC
  });

  it('needs bounded scratch', () => {
    expect<i32>(gemm_f32_scratch_bytes(8192, 8192, 8192)).toBe(gemm_f32_scratch_bytes(4096, 4096, 4096));
    expect<i32>(gemm_f32_scratch_bytes(8192, 8192, 8192)).toBeLessThan(4 << 20);
  });
});

describe('gemm_f64', () => {
  it('is exact for every transpose combination on odd sizes', () => {
    for (let t = 0; t < 4; t++) {
      expect<i32>(runCase<f64>(t & 1, t >> 1, 7, 13, 5, 1, 0, 0, 0)).toBe(0);
      expect<i32>(runCase<f64>(t & 1, t >> 1, 13, 5, 7, 1, 0, 3, 1)).toBe(0);
    }
  });

  it('applies alpha and beta, and ignores NaN in C when beta is 0', () => {
    expect<i32>(runCase<f64>(0, 0, 6, 7, 10, 2, -1, 1, 1)).toBe(0);
    expect<i32>(runCase<f64>(1, 1, 6, 7, 10, 0.25, 0.5, 0, 1)).toBe(0);
    expect<i32>(runCase<f64>(0, 1, 5, 3, 11, -2, 0, 1, 0)).toBe(0);
  });

  it('handles k = 0, empty results and single elements', () => {
    expect<i32>(runCase<f64>(0, 0, 3, 0, 5, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f64>(0, 0, 3, 0, 5, 1, 2, 1, 1)).toBe(0);
    expect<i32>(runCase<f64>(0, 0, 0, 4, 5, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f64>(1, 0, 1, 1, 1, 1, 0, 0, 0)).toBe(0);
    expect<i32>(gemm_f64_scratch_bytes(3, 0, 5)).toBe(0);
  });

  it('crosses the k, m and n cache blocks', () => {
    expect<i32>(runCase<f64>(0, 0, 5, 1100, 9, 1, 2, 1, 1)).toBe(0);
    expect<i32>(runCase<f64>(0, 1, 150, 3, 6, 1, 0, 0, 0)).toBe(0);
    expect<i32>(runCase<f64>(1, 0, 2, 3, 1100, 1, -1, 0, 1)).toBe(0);
  });

  it('needs bounded scratch', () => {
    expect<i32>(gemm_f64_scratch_bytes(8192, 8192, 8192)).toBe(gemm_f64_scratch_bytes(4096, 4096, 4096));
    expect<i32>(gemm_f64_scratch_bytes(8192, 8192, 8192)).toBeLessThan(8 << 20);
  });
});
