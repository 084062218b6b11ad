// Read-only scans for the bindings' input validation: find the first non-finite value (±∞ or NaN) in a
// staged copy, so a large input is checked at SIMD speed before any kernel computes on it. The binding
// then names the parameter and index with its usual RangeError.

/**
 * Index of the first non-finite value (±∞ or NaN) among the n f32 at x, or −1 when all are finite.
 * A read-only scan for the bindings' input validation (16 lanes per step; the exponent-all-ones test).
 */
export function nonfinite_index_f32(x: usize, n: i32): i32 {
  const expMask = i32x4.splat(0x7f800000);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.and(v128.load(p), expMask);
    const b = v128.and(v128.load(p, 16), expMask);
    const c = v128.and(v128.load(p, 32), expMask);
    const d = v128.and(v128.load(p, 48), expMask);
    const bad = v128.or(v128.or(i32x4.eq(a, expMask), i32x4.eq(b, expMask)), v128.or(i32x4.eq(c, expMask), i32x4.eq(d, expMask)));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}

/**
 * Index of the first non-finite value (±∞ or NaN) among the n f64 at x, or −1 when all are finite.
 * 8 lanes per step; the exponent-all-ones test on the high words.
 */
export function nonfinite_index_f64(x: usize, n: i32): i32 {
  const expMask = i64x2.splat(0x7ff0000000000000);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 3);
    const a = v128.and(v128.load(p), expMask);
    const b = v128.and(v128.load(p, 16), expMask);
    const c = v128.and(v128.load(p, 32), expMask);
    const d = v128.and(v128.load(p, 48), expMask);
    const bad = v128.or(v128.or(i64x2.eq(a, expMask), i64x2.eq(b, expMask)), v128.or(i64x2.eq(c, expMask), i64x2.eq(d, expMask)));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    if ((load<u64>(x + (<usize>i << 3)) & 0x7ff0000000000000) == 0x7ff0000000000000) return i;
  }
  return -1;
}
