import { describe, expect, it, beforeAll } from 'vitest';
import { init, type Gencore } from '../../bindings/index.js';
import { mulberry32 as rng } from '../helpers/reference.js';

/** A well-conditioned n×n matrix: random entries in [−1, 1) plus n/2 on the diagonal. */
function wellConditioned(n: number, seed: number): Float64Array {
  const r = rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) a[i] = 2 * r() - 1;
  for (let i = 0; i < n; i++) a[i * n + i] += n / 2 + 1;
  return a;
}

/** max |A·X − B| / (‖A‖∞·max|X| + max|B|): the normwise relative residual. */
function relResidual(a: ArrayLike<number>, x: ArrayLike<number>, b: ArrayLike<number>, n: number, nrhs: number): number {
  let worst = 0;
  let normA = 0;
  let maxX = 0;
  let maxB = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(a[i * n + j]);
    normA = Math.max(normA, s);
  }
  for (let i = 0; i < n * nrhs; i++) {
    maxX = Math.max(maxX, Math.abs(x[i]));
    maxB = Math.max(maxB, Math.abs(b[i]));
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nrhs; c++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * x[j * nrhs + c];
      worst = Math.max(worst, Math.abs(s - b[i * nrhs + c]));
    }
  }
  return worst / (normA * maxX + maxB);
}

/** Independent reference: Gauss–Jordan elimination with partial pivoting on plain arrays. */
function refSolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number, nrhs: number): Float64Array {
  const A = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => a[i * n + j]));
  const X = Array.from({ length: n }, (_, i) => Array.from({ length: nrhs }, (_, c) => b[i * nrhs + c]));
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i][k]) > Math.abs(A[p][k])) p = i;
    [A[k], A[p]] = [A[p], A[k]];
    [X[k], X[p]] = [X[p], X[k]];
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = A[i][k] / A[k][k];
      for (let j = k; j < n; j++) A[i][j] -= f * A[k][j];
      for (let c = 0; c < nrhs; c++) X[i][c] -= f * X[k][c];
    }
  }
  const out = new Float64Array(n * nrhs);
  for (let i = 0; i < n; i++) for (let c = 0; c < nrhs; c++) out[i * nrhs + c] = X[i][c] / A[i][i];
  return out;
}

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`gc.solve (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    const shapes: Array<[number, number]> = [
      [1, 1], [2, 1], [5, 3], [47, 1], [48, 2], [49, 7], [96, 8], [97, 16], [130, 1], [130, 130], [200, 33],
    ];
    for (const [n, nrhs] of shapes) {
      it(`residual ≤ 1e-10 relative and matches Gauss–Jordan: n = ${n}, nrhs = ${nrhs}`, () => {
        const a = wellConditioned(n, n * 31 + nrhs);
        const r = rng(n + 7 * nrhs);
        const b = Float64Array.from({ length: n * nrhs }, () => 2 * r() - 1);
        const aCopy = a.slice();
        const bCopy = b.slice();
        const x = gc.solve(a, b, n, nrhs);
        expect(x).toBeInstanceOf(Float64Array);
        expect(x.length).toBe(n * nrhs);
        expect(relResidual(a, x, b, n, nrhs)).toBeLessThanOrEqual(1e-10);
        const ref = refSolve(a, b, n, nrhs);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(x[i] - ref[i])).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(ref[i])));
        expect(a).toEqual(aCopy);
        expect(b).toEqual(bCopy);
      });
    }

    it('needs pivoting: a zero leading entry and a tiny one', () => {
      const x = gc.solve(Float64Array.of(0, 1, 1, 0), Float64Array.of(2, 3), 2, 1);
      expect(Array.from(x)).toEqual([3, 2]);
      // Without row interchanges the 1e-20 pivot would wipe out the answer.
      const y = gc.solve(Float64Array.of(1e-20, 1, 1, 1), Float64Array.of(1, 2), 2, 1);
      expect(y[0]).toBeCloseTo(1, 12);
      expect(y[1]).toBeCloseTo(1, 12);
    });

    it('a permutation-heavy matrix (anti-diagonal plus noise) of size 150', () => {
      const n = 150;
      const r = rng(5);
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) a[i * n + j] = 1e-3 * (r() - 0.5);
        a[i * n + (n - 1 - i)] = 1 + r();
      }
      const b = Float64Array.from({ length: n * 4 }, () => r());
      const x = gc.solve(a, b, n, 4);
      expect(relResidual(a, x, b, n, 4)).toBeLessThanOrEqual(1e-10);
    });

    it('Float32Array inputs: widened exactly, solved in f64, result rounded to f32 once', () => {
      const n = 20;
      const a32 = Float32Array.from(wellConditioned(n, 3));
      const b32 = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const x32 = gc.solve(a32, b32, n, 1);
      expect(x32).toBeInstanceOf(Float32Array);
      const x64 = gc.solve(Float64Array.from(a32), Float64Array.from(b32), n, 1);
      expect(Array.from(x32)).toEqual(Array.from(Float32Array.from(x64)));
    });

    it('singular A → RangeError (exactly zero pivot)', () => {
      expect(() => gc.solve(Float64Array.of(1, 2, 2, 4), Float64Array.of(1, 1), 2, 1)).toThrow(RangeError);
      expect(() => gc.solve(new Float64Array(9), new Float64Array(3), 3, 1)).toThrow(/singular/);
      // A zero column in the middle of a larger matrix (the second panel of the blocked LU).
      const n = 70;
      const a = wellConditioned(n, 9);
      for (let i = 0; i < n; i++) a[i * n + 60] = 0;
      expect(() => gc.solve(a, new Float64Array(n), n, 1)).toThrow(/column 60/);
    });

    it('bad arguments throw before any work, naming the parameter', () => {
      const a = Float64Array.of(1, 0, 0, 1);
      const b = Float64Array.of(1, 2);
      expect(() => gc.solve([1, 0, 0, 1] as unknown as Float64Array, b, 2, 1)).toThrow(TypeError);
      expect(() => gc.solve(a, Float32Array.of(1, 2) as unknown as Float64Array, 2, 1)).toThrow(TypeError);
      expect(() => gc.solve(a, b, 3, 1)).toThrow(/a\.length 4 does not match n\*n = 9/);
      expect(() => gc.solve(a, b, 2, 2)).toThrow(/b\.length 2 does not match n\*nrhs = 4/);
      expect(() => gc.solve(a, b, 1.5, 1)).toThrow(RangeError);
      expect(() => gc.solve(Float64Array.of(1, NaN, 0, 1), b, 2, 1)).toThrow(/a\[1\] is NaN/);
      expect(() => gc.solve(a, Float64Array.of(1, Infinity), 2, 1)).toThrow(RangeError);
    });

    it('empty systems', () => {
      expect(gc.solve(new Float64Array(0), new Float64Array(0), 0, 3).length).toBe(0);
      expect(gc.solve(Float64Array.of(2), new Float64Array(0), 1, 0).length).toBe(0);
    });

    it('memory returns to its baseline, also after a singular matrix', () => {
      const base = gc.memory.bytesInUse;
      for (let r = 0; r < 5; r++) {
        gc.solve(wellConditioned(60, r), new Float64Array(60 * 5).fill(1), 60, 5);
        expect(() => gc.solve(new Float64Array(4), Float64Array.of(1, 1), 2, 1)).toThrow(RangeError);
      }
      expect(gc.memory.bytesInUse).toBe(base);
    });
  });
}
