/**
 * gc.pinv: the iterative (13/15/7 hyperpower) Moore–Penrose inverse, docs/attention.md §3.
 * References: the fixture vectors, and the literal recurrence Z_{k+1} = ¼·Z_k·(13I − AZ_k(15I − AZ_k(7I − AZ_k)))
 * evaluated here in float64 with explicit identity matrices (a different evaluation from gencore's 4-GEMM form).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Gencore } from '../../bindings/index.js';
import { relFro } from '../helpers/reference.js';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/attention.json', import.meta.url), 'utf8'));

/** The fixture generator (lcg32), checked against its own check values below. */
function lcg32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return 2 * (s / 4294967296) - 1;
  };
}

/** C = A·B, A r×k, B k×c, float64. */
function mm(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let p = 0; p < k; p++) {
    const x = a[i * k + p];
    for (let j = 0; j < c; j++) out[i * c + j] += x * b[p * c + j];
  }
  return out;
}

/** s·I − M for square M of order n. */
function shiftNeg(s: number, m: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) out[i] = -m[i];
  for (let i = 0; i < n; i++) out[i * n + i] += s;
  return out;
}

/** Float64 reference of Z_N, literal form with identity matrices. */
function refPinv(a: ArrayLike<number>, rows: number, cols: number, iterations: number): Float64Array {
  const colSums = new Float64Array(cols);
  let ninf = 0;
  for (let i = 0; i < rows; i++) {
    let r = 0;
    for (let j = 0; j < cols; j++) {
      r += Math.abs(a[i * cols + j]);
      colSums[j] += Math.abs(a[i * cols + j]);
    }
    ninf = Math.max(ninf, r);
  }
  const n1 = Math.max(0, ...colSums);
  const alpha = n1 * ninf > 0 ? 1 / (n1 * ninf) : 0;
  let z = new Float64Array(cols * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) z[j * rows + i] = alpha * a[i * cols + j];
  for (let it = 0; it < iterations; it++) {
    const az = mm(a, z, rows, cols, rows);
    const inner1 = mm(az, shiftNeg(7, az, rows), rows, rows, rows);
    const inner2 = mm(az, shiftNeg(15, inner1, rows), rows, rows, rows);
    const next = mm(z, shiftNeg(13, inner2, rows), cols, rows, rows);
    z = next.map((x) => x / 4);
  }
  return z;
}

describe('fixture generator', () => {
  it('lcg32 reproduces the fixture check values', () => {
    const g = fixtures.generator.checks;
    const r1 = lcg32(1);
    const first5 = [r1(), r1(), r1(), r1(), r1()];
    expect(first5).toEqual(g.seed1_first5_values);
    const r7 = lcg32(7);
    expect([r7(), r7(), r7()]).toEqual(g.seed7_first3_values);
  });
});

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`pinv (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    for (const c of fixtures.cases.filter((x: { function: string }) => x.function === 'pinv')) {
      for (const [name, T] of [['f32', Float32Array], ['f64', Float64Array]] as const) {
        it(`fixture ${c.id} (${name}) within rel_fro ${c.tolerance[name]}`, () => {
          const a = new T(c.inputs.a);
          const z = gc.pinv(a, c.inputs.rows, c.inputs.cols, c.options);
          expect(z).toBeInstanceOf(T);
          expect(z.length).toBe(c.expected.z.length);
          expect(relFro(z, c.expected.z)).toBeLessThanOrEqual(c.tolerance[name]);
        });
      }
    }

    it('the fixture inputs follow their recipes (lcg32 and softmax), so the vectors are what they say', () => {
      const c = fixtures.cases.find((x: { id: string }) => x.id === 'pinv_2x3_signed_iter6');
      const r = lcg32(c.recipe.seed);
      expect(c.inputs.a).toEqual(Array.from({ length: 6 }, r));
    });

    it('matches the float64 recurrence on random rectangular matrices (wide, tall, square; odd sizes)', () => {
      const rnd = lcg32(42);
      for (const [rows, cols, it] of [[5, 9, 6], [9, 5, 6], [7, 7, 3], [1, 6, 6], [6, 1, 6], [13, 11, 0]]) {
        const a64 = Float64Array.from({ length: rows * cols }, rnd);
        const want = refPinv(a64, rows, cols, it);
        const z64 = gc.pinv(a64, rows, cols, { iterations: it });
        expect(relFro(z64, want)).toBeLessThan(1e-12);
        const a32 = Float32Array.from(a64);
        const want32 = refPinv(a32, rows, cols, it);
        expect(relFro(gc.pinv(a32, rows, cols, { iterations: it }), want32)).toBeLessThan(1e-4);
      }
    });

    it('defaults to 6 iterations and iterations 0 returns Z_0 = Aᵀ/(‖A‖₁‖A‖∞)', () => {
      const a = Float64Array.from([1, -2, 3, 4, 5, -6]); // 2×3: ‖A‖₁ = max(5, 7, 9) = 9, ‖A‖∞ = max(6, 15) = 15
      expect(gc.pinv(a, 2, 3)).toEqual(gc.pinv(a, 2, 3, { iterations: 6 }));
      const z0 = gc.pinv(a, 2, 3, { iterations: 0 });
      expect(Array.from(z0)).toEqual([1, 4, -2, 5, 3, -6].map((x) => x / 135));
    });

    it('enough iterations give the inverse of a well-conditioned matrix', () => {
      const n = 24;
      const rnd = lcg32(3);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n * n; i++) a[i] = 0.3 * rnd() / Math.sqrt(n);
      for (let i = 0; i < n; i++) a[i * n + i] += 1;
      const z = gc.pinv(a, n, n, { iterations: 20 });
      const az = mm(a, z, n, n, n);
      for (let i = 0; i < n; i++) az[i * n + i] -= 1;
      expect(Math.sqrt(az.reduce((s, x) => s + x * x, 0))).toBeLessThan(1e-12);
      const z32 = gc.pinv(Float32Array.from(a), n, n, { iterations: 20 });
      const az32 = mm(a, z32, n, n, n);
      for (let i = 0; i < n; i++) az32[i * n + i] -= 1;
      expect(Math.sqrt(az32.reduce((s, x) => s + x * x, 0))).toBeLessThan(1e-5);
    });

    it('enough iterations give the Moore–Penrose inverse of full-rank rectangular matrices (AZA = A, ZAZ = Z, symmetric AZ, ZA)', () => {
      const rnd = lcg32(11);
      for (const [rows, cols] of [[6, 10], [10, 6]]) {
        const a = new Float64Array(rows * cols);
        for (let i = 0; i < rows * cols; i++) a[i] = 0.2 * rnd();
        for (let i = 0; i < Math.min(rows, cols); i++) a[i * cols + i] += 1;
        const z = gc.pinv(a, rows, cols, { iterations: 25 });
        const aza = mm(mm(a, z, rows, cols, rows), a, rows, rows, cols);
        expect(relFro(aza, a)).toBeLessThan(1e-12);
        const zaz = mm(mm(z, a, cols, rows, cols), z, cols, cols, rows);
        expect(relFro(zaz, z)).toBeLessThan(1e-12);
        const az = mm(a, z, rows, cols, rows);
        for (let i = 0; i < rows; i++) for (let j = 0; j < i; j++) expect(az[i * rows + j]).toBeCloseTo(az[j * rows + i], 12);
      }
    });

    /** A well-conditioned rows×cols matrix (unit diagonal plus a small lcg32 perturbation), float64. */
    function wellConditioned(rows: number, cols: number, seed: number): Float64Array {
      const rnd = lcg32(seed);
      const a = new Float64Array(rows * cols);
      for (let i = 0; i < rows * cols; i++) a[i] = (0.3 * rnd()) / Math.sqrt(Math.max(rows, cols));
      for (let i = 0; i < Math.min(rows, cols); i++) a[i * cols + i] += 1;
      return a;
    }

    it('tiny or huge f64 entries (c = 1e-300, 1e200): pinv(c·A)·c matches pinv(A) and the float64 recurrence', () => {
      for (const [rows, cols] of [[12, 12], [6, 10], [10, 6]]) {
        const a = wellConditioned(rows, cols, 17);
        const want = refPinv(a, rows, cols, 20);
        const z = gc.pinv(a, rows, cols, { iterations: 20 });
        expect(relFro(z, want)).toBeLessThan(1e-12);
        for (const c of [1e-300, 1e200]) {
          const zc = gc.pinv(a.map((x) => x * c), rows, cols, { iterations: 20 });
          expect(zc.every((x) => Number.isFinite(x))).toBe(true);
          const back = zc.map((x) => x * c);
          expect(relFro(back, z)).toBeLessThan(1e-12);
          expect(relFro(back, want)).toBeLessThan(1e-12);
        }
      }
    });

    it('tiny or huge f32 entries (c = 1e-30, 1e30; 2^-127: subnormal entries): pinv(c·A)·c matches pinv(A) and the float64 recurrence', () => {
      for (const [rows, cols] of [[12, 12], [6, 10], [10, 6]]) {
        const a = wellConditioned(rows, cols, 19);
        const want = refPinv(a, rows, cols, 20);
        const z = gc.pinv(Float32Array.from(a), rows, cols, { iterations: 20 });
        expect(relFro(z, want)).toBeLessThan(1e-5);
        for (const c of [1e-30, 1e30, 2 ** -127]) {
          const ac = Float32Array.from(a, (x) => x * c);
          const zc = gc.pinv(ac, rows, cols, { iterations: 20 });
          expect(zc.every((x) => Number.isFinite(x))).toBe(true);
          const back = Float64Array.from(zc, (x) => x * c);
          // Reference on the rounded input itself (at 2^-127 the off-diagonal entries keep only ~17 bits).
          expect(relFro(back, refPinv(Float64Array.from(ac, (x) => x / c), rows, cols, 20))).toBeLessThan(1e-5);
          if (c !== 2 ** -127) {
            expect(relFro(back, z)).toBeLessThan(1e-5);
            expect(relFro(back, want)).toBeLessThan(1e-5);
          }
        }
      }
    });

    it('scaling A by a power of two scales Z by its inverse bit for bit (f64 2^-1000, 2^900; f32 2^-100, 2^100)', () => {
      const rnd = lcg32(23);
      const a64 = Float64Array.from({ length: 5 * 9 }, rnd);
      const a32 = Float32Array.from(a64);
      for (const [a, ks] of [[a64, [-1000, 900]], [a32, [-100, 100]]] as const) {
        for (const shape of [[5, 9], [9, 5]]) {
          const z = Array.from(gc.pinv(a, shape[0], shape[1]));
          for (const k of ks) {
            const ak = a instanceof Float64Array ? Float64Array.from(a, (x) => x * 2 ** k) : Float32Array.from(a, (x) => x * 2 ** k);
            expect(Array.from(gc.pinv(ak, shape[0], shape[1]), (x) => x * 2 ** k)).toEqual(z);
          }
        }
      }
      // Z_0 = Aᵀ/(‖A‖₁‖A‖∞) of 2^-1000·A: ‖·‖₁ = 9·2^-1000, ‖·‖∞ = 15·2^-1000, so Z_0 = 2^1000·Aᵀ/135.
      const small = Float64Array.from([1, -2, 3, 4, 5, -6], (x) => x * 2 ** -1000);
      expect(Array.from(gc.pinv(small, 2, 3, { iterations: 0 }))).toEqual([1, 4, -2, 5, 3, -6].map((x) => (x / 135) * 2 ** 1000));
    });

    it('extreme 2×1 columns: A⁺ = Aᵀ/‖A‖² where representable (also subnormal), ±Infinity where it overflows the type', () => {
      const exact = (a: ArrayLike<number>) => [a[0] / (a[0] * a[0] + a[1] * a[1]), a[1] / (a[0] * a[0] + a[1] * a[1])];
      // Representable: f32 subnormal entries with A⁺ ≈ 1.7e38 < 3.4e38, f32 3e38 with a subnormal A⁺, f64 1e308 likewise.
      for (const a of [Float32Array.from([3e-39, -3e-39]), Float32Array.from([3e38, 3e38])]) {
        const want = exact(a); // float64: the squares neither under- nor overflow here
        const z = gc.pinv(a, 2, 1, { iterations: 10 });
        for (let i = 0; i < 2; i++) expect(Math.abs(z[i] - want[i]) / Math.abs(want[i])).toBeLessThan(1e-5);
      }
      const huge = Float64Array.from([1e308, -1e308]);
      const z = gc.pinv(huge, 2, 1, { iterations: 10 });
      for (let i = 0; i < 2; i++) expect(Math.abs(z[i] - (i === 0 ? 5e-309 : -5e-309)) / 5e-309).toBeLessThan(1e-12);
      // Not representable: |A⁺| ≈ 3.6e44 (f32 max 3.4e38) and ≈ 1e323 (f64 max 1.8e308) → signed Infinity, never NaN.
      expect(Array.from(gc.pinv(Float32Array.from([1.4e-45, -1.4e-45]), 2, 1, { iterations: 10 }))).toEqual([Infinity, -Infinity]);
      expect(Array.from(gc.pinv(Float64Array.from([5e-324, 5e-324]), 1, 2, { iterations: 10 }))).toEqual([Infinity, Infinity]);
    });

    it('a zero matrix gives a zero Z; empty shapes give empty results', () => {
      expect(Array.from(gc.pinv(new Float64Array(6), 2, 3))).toEqual([0, 0, 0, 0, 0, 0]);
      expect(gc.pinv(new Float32Array(0), 0, 4).length).toBe(0);
      expect(gc.pinv(new Float64Array(0), 3, 0)).toBeInstanceOf(Float64Array);
    });

    it('fills opts.out and returns it', () => {
      const a = Float32Array.from([2, 0, 0, 4]);
      const out = new Float32Array(4);
      const z = gc.pinv(a, 2, 2, { iterations: 12, out });
      expect(z).toBe(out);
      expect(out[0]).toBeCloseTo(0.5, 6);
      expect(out[3]).toBeCloseTo(0.25, 6);
    });

    it('rejects bad input with TypeError / RangeError', () => {
      const a = new Float64Array(6);
      expect(() => gc.pinv([1, 2] as unknown as Float64Array, 1, 2)).toThrow(TypeError);
      expect(() => gc.pinv(a, 2, 2)).toThrow(RangeError);
      expect(() => gc.pinv(a, 2, 2)).toThrow(/a.length 6 does not match rows\*cols = 4/);
      expect(() => gc.pinv(a, -1, 3)).toThrow(RangeError);
      expect(() => gc.pinv(a, 2, 3, { iterations: 101 })).toThrow(RangeError);
      expect(() => gc.pinv(a, 2, 3, { iterations: 1.5 })).toThrow(RangeError);
      expect(() => gc.pinv(a, 2, 3, { iterations: '6' as unknown as number })).toThrow(TypeError);
      expect(() => gc.pinv(Float64Array.from([1, 2, NaN, 4, 5, 6]), 2, 3)).toThrow(/a\[2\] is NaN/);
      expect(() => gc.pinv(a, 2, 3, { out: new Float32Array(6) as unknown as Float64Array })).toThrow(TypeError);
      expect(() => gc.pinv(a, 2, 3, { out: new Float64Array(5) })).toThrow(RangeError);
      expect(() => gc.pinv(a, 2, 3, { out: a })).toThrow(/overlap/);
    });

    it('returns the heap to its baseline', () => {
      const base = gc.memory.bytesInUse;
      const a = Float32Array.from({ length: 64 * 64 }, lcg32(5));
      for (let i = 0; i < 20; i++) gc.pinv(a, 64, 64);
      expect(() => gc.pinv(Float32Array.from([NaN]), 1, 1)).toThrow(RangeError);
      expect(gc.memory.bytesInUse).toBe(base);
    });
  });
}
