/**
 * Numerical helpers on m×m float64 matrices in wasm memory: Perron root with a Collatz–Wielandt bracket,
 * diagonals of matrix powers, resolvent traces, singular values. The O(m³) work runs in the wasm kernels.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { Scope } from '../wasm/memory.js';
import { gemmAt, gemmScratchBytes, luFactorAt, luSolveAt, paddedLd } from '../linalg/linalg.js';
import { rowSum, supportHasCycle } from './chain.js';

export interface Perron {
  rho: number;
  lo: number;
  hi: number;
  converged: boolean;
}

const TWO_M26 = 2 ** -26;
const TWO_M500 = 2 ** -500;

/** Shifted power steps before switching to shifted inverse iteration (see perronAt). */
const POWER_STEPS = 200;

/**
 * Perron root of X ≥ 0 (m×m f64 at `xPtr`) with a Collatz–Wielandt bracket (docs/repetition.md §2.2): shifted power
 * iteration x ← (Xx + αx)/max, upper end min_i (Xx)_i/x_i, lower end from x and from x with its tiny
 * components zeroed (reducible X). An acyclic support graph gives exactly 0.
 *
 * Chains whose second eigenvalue is close to ρ (real bigram models: thousands of steps) switch after
 * POWER_STEPS steps to inverse iteration x ← (σI − X)⁻¹x with σ just above the current upper end: for
 * σ > ρ(X) that inverse is entrywise ≥ 0, so x stays positive and every bracket is still a
 * Collatz–Wielandt bracket, reached in a few O(m²) steps after one LU.
 */
export function perronAt(inst: WasmInstance, scope: Scope, xPtr: number, X: Float64Array, m: number): Perron {
  if (!supportHasCycle(X, m)) return { rho: 0, lo: 0, hi: 0, converged: true };
  let alpha = 0;
  for (let i = 0; i < m; i++) alpha = Math.max(alpha, rowSum(X, i * m, m));
  const vecs = scope.alloc(5 * m * 8, 'perron vectors');
  const [px, pz, py, pw, pv] = [0, 1, 2, 3, 4].map((k) => vecs + k * m * 8);
  // Views are re-made after the LU allocation below (a grow detaches them).
  let [x, z, y, w, v] = [px, pz, py, pw, pv].map((p) => inst.mem.f64(p, m));
  x.fill(1);
  let lo = 0;
  let hi = Infinity;
  let converged = false;
  let inverse: { lu: number; ipiv: number } | null = null;
  for (let it = 0; it < 10000; it++) {
    let xMax = 0;
    for (let i = 0; i < m; i++) xMax = Math.max(xMax, x[i]);
    const cut = TWO_M26 * xMax;
    for (let i = 0; i < m; i++) z[i] = x[i] < cut ? 0 : x[i];
    inst.run('perron', (k) => k.matvec2_f64(xPtr, m, m, m, px, pz, py, pw));
    let rMax = 0;
    let rMin = Infinity;
    let zMin = Infinity;
    for (let i = 0; i < m; i++) {
      const r = y[i] / x[i];
      if (r > rMax) rMax = r;
      if (r < rMin) rMin = r;
      if (z[i] > 0) {
        const q = w[i] / z[i];
        if (q < zMin) zMin = q;
      }
    }
    hi = Math.min(hi, rMax);
    lo = Math.max(lo, rMin, zMin === Infinity ? 0 : zMin);
    if (hi - lo <= 1e-12 * hi) {
      converged = true;
      break;
    }
    if (inverse === null && it === POWER_STEPS && hi > 0) {
      const lu = scope.alloc(m * m * 8, 'perron shifted matrix');
      const ipiv = scope.alloc(m * 4, 'perron pivots');
      const A = inst.mem.f64(lu, m * m);
      const sigma = hi * (1 + 1e-7);
      for (let i = 0; i < m * m; i++) A[i] = -X[i];
      for (let i = 0; i < m; i++) A[i * m + i] += sigma;
      if (luFactorAt(inst, scope, lu, m, ipiv) === 0) inverse = { lu, ipiv };
      [x, z, y, w, v] = [px, pz, py, pw, pv].map((p) => inst.mem.f64(p, m));
    }
    let nMax = 0;
    if (inverse !== null) {
      v.set(x);
      luSolveAt(inst, scope, inverse.lu, m, inverse.ipiv, pv, 1);
      for (let i = 0; i < m; i++) {
        x[i] = v[i];
        if (v[i] > nMax) nMax = v[i];
      }
    } else {
      for (let i = 0; i < m; i++) {
        const t = y[i] + alpha * x[i];
        x[i] = t;
        if (t > nMax) nMax = t;
      }
    }
    for (let i = 0; i < m; i++) {
      const t = x[i] / nMax;
      x[i] = t < TWO_M500 ? TWO_M500 : t;
    }
  }
  return { rho: hi, lo: Math.min(lo, hi), hi, converged };
}

/** C = X·Y for m×m f64 matrices in wasm memory (the SIMD GEMM). */
export function gemmSquare(inst: WasmInstance, x: number, y: number, c: number, m: number, scratch: number): void {
  inst.run('repetition', (kern) => gemmAt(kern, { f64: true, m, k: m, n: m, a: x, lda: m, b: y, ldb: m, c, ldc: m, scratch }));
}

/**
 * Diagonals of X^k, k = 1..K, for the m×m f64 X at `xPtr`: powers up to h = ⌈K/2⌉ by GEMM, then
 * (X^{a+b})_ii = Σ_j (X^a)_ij (X^b)_ji. `x2Ptr` may supply X² when the caller already has it.
 */
export function powerDiagonals(inst: WasmInstance, xPtr: number, m: number, K: number, x2Ptr?: number): Float64Array[] {
  const h = Math.ceil(K / 2);
  return inst.mem.scoped((scope) => {
    const pows: number[] = [xPtr];
    if (h >= 2) {
      const scratch = scope.alloc(gemmScratchBytes(inst, true, m, m, m), 'gemm scratch');
      for (let j = 2; j <= h; j++) {
        if (j === 2 && x2Ptr !== undefined) {
          pows.push(x2Ptr);
          continue;
        }
        const c = scope.alloc(m * m * 8, 'matrix power');
        gemmSquare(inst, pows[j - 2], xPtr, c, m, scratch);
        pows.push(c);
      }
    }
    // Transposed copies make every diagonal a sum of contiguous row products.
    const views = pows.map((p) => inst.mem.f64(p, m * m));
    const transposed = views.map((v) => {
      const t = new Float64Array(m * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) t[j * m + i] = v[i * m + j];
      return t;
    });
    const diags: Float64Array[] = [];
    for (let k = 1; k <= K; k++) {
      const d = new Float64Array(m);
      if (k === 1) {
        for (let i = 0; i < m; i++) d[i] = views[0][i * m + i];
      } else {
        const a = Math.ceil(k / 2);
        const Xa = views[a - 1];
        const XbT = transposed[k - a - 1];
        for (let i = 0; i < m; i++) {
          let s = 0;
          const off = i * m;
          for (let j = 0; j < m; j++) s += Xa[off + j] * XbT[off + j];
          d[i] = s;
        }
      }
      diags.push(d);
    }
    return diags;
  });
}

/** tr(A⁻¹·Y) for A = shift·I − Y (m×m f64 Y at `yPtr`) by one LU and an m-right-hand-side solve; null when singular. */
export function traceResolvent(inst: WasmInstance, yPtr: number, m: number, shift: number): number | null {
  return inst.mem.scoped((scope) => {
    const ld = paddedLd(m);
    const a = scope.alloc(m * ld * 8, 'resolvent matrix');
    const x = scope.alloc(m * m * 8, 'resolvent rhs');
    const ipiv = scope.alloc(m * 4, 'pivots');
    const Y = inst.mem.f64(yPtr, m * m);
    const A = inst.mem.f64(a, m * ld);
    const X = inst.mem.f64(x, m * m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) A[i * ld + j] = -Y[i * m + j];
      A[i * ld + i] += shift;
    }
    X.set(Y);
    if (luFactorAt(inst, scope, a, m, ipiv, ld) !== 0) return null;
    luSolveAt(inst, scope, a, m, ipiv, x, m, ld);
    const Xs = inst.mem.f64(x, m * m);
    let tr = 0;
    for (let i = 0; i < m; i++) tr += Xs[i * m + i];
    return tr;
  });
}

/**
 * Singular values (descending) of the bidiagonal (d, e): bisection with Sturm counts on the Golub–Kahan
 * tridiagonal [0 d0; d0 0 e0; …] whose eigenvalues are ±σ_i. Absolute accuracy ≈ 2⁻⁵²·‖B‖.
 */
function bidiagonalSingularValues(d: Float64Array, e: Float64Array, smallestOnly = false): Float64Array {
  const n = d.length;
  const off = new Float64Array(2 * n - 1);
  let bound = 0;
  for (let i = 0; i < n; i++) {
    off[2 * i] = d[i];
    if (i < n - 1) off[2 * i + 1] = e[i];
  }
  let maxOff2 = 0;
  for (let k = 0; k < off.length; k++) {
    const left = k > 0 ? Math.abs(off[k - 1]) : 0;
    bound = Math.max(bound, Math.abs(off[k]) + left, Math.abs(off[k]) + (k + 1 < off.length ? Math.abs(off[k + 1]) : 0));
    maxOff2 = Math.max(maxOff2, off[k] * off[k]);
  }
  const sv = new Float64Array(n);
  if (bound === 0) return sv;
  const off2 = off.map((v) => v * v);
  const pivmin = Number.MIN_VALUE * 2 ** 60 * Math.max(1, maxOff2);
  // Number of eigenvalues of the 2n×2n tridiagonal below x, minus the n at or below −0 (those are −σ_i).
  const below = (x: number): number => {
    let count = 0;
    let q = -x;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
    for (let k = 0; k < off2.length; k++) {
      q = -x - off2[k] / q;
      if (Math.abs(q) < pivmin) q = -pivmin;
      if (q < 0) count++;
    }
    return count - n;
  };
  const absTol = bound * 2 ** -60;
  for (let idx = 0; idx < (smallestOnly ? 1 : n); idx++) {
    // idx-th smallest singular value: the smallest x with below(x) ≥ idx + 1.
    let lo = idx > 0 ? sv[idx - 1] : 0;
    let hi = bound * (1 + 2 ** -50) + absTol;
    for (let it = 0; it < 200 && hi - lo > Math.max(absTol, 2 ** -52 * hi); it++) {
      const mid = 0.5 * (lo + hi);
      if (below(mid) >= idx + 1) hi = mid;
      else lo = mid;
    }
    sv[idx] = 0.5 * (lo + hi);
  }
  return smallestOnly ? sv.subarray(0, 1) : sv.reverse();
}

/**
 * Singular values (descending) of the m×m f64 matrix copied from `src` (Householder bidiagonalisation in
 * wasm, then bisection); with `smallestOnly`, just [σ_min].
 */
export function singularValues(inst: WasmInstance, src: ArrayLike<number>, m: number, smallestOnly = false): Float64Array {
  return inst.mem.scoped((scope) => {
    const a = scope.alloc(m * m * 8, 'svd matrix');
    const de = scope.alloc((4 * m + 1) * 8, 'svd vectors');
    inst.mem.f64(a, m * m).set(src);
    inst.run('svd', (k) => k.bidiag_f64(a, m, m, de, de + m * 8, de + 2 * m * 8));
    const d = inst.mem.f64(de, m).slice();
    const e = inst.mem.f64(de + m * 8, Math.max(m - 1, 0)).slice();
    return bidiagonalSingularValues(d, e, smallestOnly);
  });
}
