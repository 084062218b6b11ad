// Spec for kernels/lu.ts on small cases whose answers are exact in f64 (powers of two, small integers).
import { lu_panel_f64, lu_apply_pivots_f64, lu_trsm_f64, matvec2_f64, bidiag_f64 } from '../../kernels/linalg/lu';

const arena = memory.data(1 << 16, 16);

// @ts-ignore: decorator
@inline function f(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function setf(base: usize, i: i32, v: f64): void { store<f64>(base + (<usize>i << 3), v); }

function fill(base: usize, values: StaticArray<f64>): void {
  for (let i = 0; i < values.length; i++) setf(base, i, values[i]);
}

describe('lu_panel_f64', () => {
  test('2×2 with a row swap: [[1, 2], [4, 8]] → pivot row 1, L21 = 1/4, U = [[4, 8], [0, 0]]', () => {
    const a = arena;
    const ipiv = arena + 1024;
    fill(a, [1, 2, 4, 8]);
    const info = lu_panel_f64(a, 2, 2, 2, 0, 2, ipiv, arena + 2048);
    expect<i32>(load<i32>(ipiv)).toBe(1);
    expect<i32>(load<i32>(ipiv, 4)).toBe(1);
    expect<f64>(f(a, 0)).toBe(4);
    expect<f64>(f(a, 1)).toBe(8);
    expect<f64>(f(a, 2)).toBe(0.25);
    expect<f64>(f(a, 3)).toBe(0);
    expect<i32>(info).toBe(2); // column 1 has an exactly zero pivot
  });

  test('3×3 panel of width 1 swaps whole rows, leaves columns right of the panel unupdated', () => {
    const a = arena;
    const ipiv = arena + 1024;
    fill(a, [1, 1, 1, 2, 3, 4, -4, 0, 8]);
    const info = lu_panel_f64(a, 3, 3, 3, 0, 1, ipiv, arena + 2048);
    expect<i32>(info).toBe(0);
    expect<i32>(load<i32>(ipiv)).toBe(2);
    // Row 2 moved to the top; multipliers 2/−4 and 1/−4 below it; other columns only permuted.
    expect<f64>(f(a, 0)).toBe(-4);
    expect<f64>(f(a, 1)).toBe(0);
    expect<f64>(f(a, 2)).toBe(8);
    expect<f64>(f(a, 3)).toBe(-0.5);
    expect<f64>(f(a, 4)).toBe(3);
    expect<f64>(f(a, 6)).toBe(-0.25);
    expect<f64>(f(a, 7)).toBe(1);
  });
});

describe('lu_trsm_f64 and lu_apply_pivots_f64', () => {
  test('lower unit, two right-hand sides', () => {
    const t = arena;
    const x = arena + 512;
    fill(t, [1, 0, 2, 1]); // L = [[1, 0], [2, 1]]
    fill(x, [1, 2, 5, 8]);
    lu_trsm_f64(1, 1, t, 2, 2, x, 2, 2);
    expect<f64>(f(x, 0)).toBe(1);
    expect<f64>(f(x, 1)).toBe(2);
    expect<f64>(f(x, 2)).toBe(3);
    expect<f64>(f(x, 3)).toBe(4);
  });

  test('upper non-unit, one contiguous right-hand side (dot-product path)', () => {
    const t = arena;
    const x = arena + 512;
    fill(t, [2, 1, 1, 0, 4, 2, 0, 0, 8]);
    fill(x, [7, 10, 8]); // solution (2, 2, 1)
    lu_trsm_f64(0, 0, t, 3, 3, x, 1, 1);
    expect<f64>(f(x, 0)).toBe(2);
    expect<f64>(f(x, 1)).toBe(2);
    expect<f64>(f(x, 2)).toBe(1);
  });

  test('pivots applied in order', () => {
    const x = arena;
    const ipiv = arena + 1024;
    fill(x, [0, 1, 2]);
    store<i32>(ipiv, 2);
    store<i32>(ipiv, 2, 4);
    store<i32>(ipiv, 2, 8);
    lu_apply_pivots_f64(x, 1, 1, ipiv, 0, 3);
    // swap(0, 2) → [2, 1, 0]; swap(1, 2) → [2, 0, 1]
    expect<f64>(f(x, 0)).toBe(2);
    expect<f64>(f(x, 1)).toBe(0);
    expect<f64>(f(x, 2)).toBe(1);
  });
});

describe('matvec2_f64', () => {
  test('3×3 with odd width, two vectors in one pass', () => {
    const a = arena;
    const x = arena + 256;
    const z = arena + 512;
    const y = arena + 768;
    const w = arena + 1024;
    fill(a, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    fill(x, [1, 1, 1]);
    fill(z, [1, 0, -1]);
    matvec2_f64(a, 3, 3, 3, x, z, y, w);
    expect<f64>(f(y, 0)).toBe(6);
    expect<f64>(f(y, 1)).toBe(15);
    expect<f64>(f(y, 2)).toBe(24);
    expect<f64>(f(w, 0)).toBe(-2);
    expect<f64>(f(w, 1)).toBe(-2);
    expect<f64>(f(w, 2)).toBe(-2);
  });
});

describe('bidiag_f64', () => {
  test('diagonal input stays diagonal (no reflections)', () => {
    const a = arena;
    const d = arena + 512;
    const e = arena + 768;
    const work = arena + 1024;
    fill(a, [3, 0, 0, 2]);
    bidiag_f64(a, 2, 2, d, e, work);
    expect<f64>(f(d, 0)).toBe(3);
    expect<f64>(f(d, 1)).toBe(2);
    expect<f64>(f(e, 0)).toBe(0);
  });

  test('[[3, 0], [4, 0]]: column norm 5 in d0, zero elsewhere', () => {
    const a = arena;
    const d = arena + 512;
    const e = arena + 768;
    const work = arena + 1024;
    fill(a, [3, 0, 4, 0]);
    bidiag_f64(a, 2, 2, d, e, work);
    expect<f64>(Math.abs(f(d, 0))).toBe(5);
    expect<f64>(f(d, 1)).toBe(0);
    expect<f64>(f(e, 0)).toBe(0);
  });
});
