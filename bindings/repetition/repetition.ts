/**
 * Repetition analysis of decoders modelled as bigram chains (spec/repetition.md): Su's repetition rate
 * R = tr((I − M)⁻¹M) with its exact infinity test, bounds and estimates, Fu et al.'s average repetition
 * probability (ARP) with its corollary bounds, decoding rules as matrix transforms, termination
 * statistics, and one round of rebalanced encoding. All arithmetic is float64; the O(m³) parts (matrix
 * powers, LU solves, bidiagonalisation) run in the wasm kernels, the O(m²) graph work in TypeScript.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray, Scope, TypedArray } from '../wasm/memory.js';
import { gemmAt, gemmScratchBytes, luFactorAt, luSolveAt, paddedLd } from '../linalg/linalg.js';
import { checkBool, checkEnum, checkFloatArray, checkInt, checkNoOverlap, checkOptions, checkProduct, show } from '../shared/validate.js';
import { selectKept, type KeepRule } from '../entropy/select.js';

// ---------------------------------------------------------------------------------------------------
// Public types

export interface RepetitionOptions {
  /** Index of the end-of-sequence token: its row and column are removed (B is then (n−1)×(n−1)). */
  eosIndex?: number;
  /** K, the number of series terms in the lower bounds and estimates: integer in [1, 64]. Default 8. */
  terms?: number;
  /** Overrides ζ = nnz(B)/m² in the estimates and the ARP: a number in (0, 1]. */
  zeta?: number;
  /** Rows summing to at most 1 + rowSumTol are accepted (and divided by their sum when above 1). Default 1e-5. */
  rowSumTol?: number;
}

/** Fu et al.'s average repetition probability and the bounds of their Theorem 1 and Corollaries 1.1, 1.2. */
export interface ArpResult {
  /** ζ used (nnz(B)/m², or `opts.zeta`). */
  zeta: number;
  /** ζ·m. */
  zetaM: number;
  /** ρ(B), upper end of its Collatz–Wielandt bracket. */
  rhoB: number;
  /** rhoB². */
  rhoB2: number;
  rhoBConverged: boolean;
  /** rhoB² < ζm: the series converges (conservative test). */
  finite: boolean;
  /** R_ARP = tr(B²(ζmI − B²)⁻¹), or Infinity when not finite. */
  value: number;
  /** Σ_{k≤K} tr(B^k∘B^k)/(ζm)^k: the per-word estimate with Su's correction (an estimate, not a bound). */
  corrected: number;
  /** ‖B²‖_* (sum of singular values). */
  nuclearB2: number;
  /** Numerical rank of B²: #{σ_i > σ_1·m·2⁻⁵²}. */
  rankB2: number;
  /** σ_min(ζmI − B²). */
  sigmaMinC: number;
  /** Theorem 1: nuclearB2 / sigmaMinC. */
  thm1Bound: number;
  /** Corollary 1.1 in the paper's form. */
  cor11: number;
  /** Corollary 1.1 with the (1/m)-weighted last sum: rank·‖B‖_F²/σ_min. */
  cor11Tight: number;
  /** Σ_j (B²)_ij per row i. */
  outflow: Float64Array;
  /** Σ_j (B²)_ji per column i. */
  inflow: Float64Array;
  /** Johnson's lower bound on σ_min(C): min_i [ζm − ½(outflow_i + inflow_i)]. */
  johnson: number;
  /** ζm exceeds every outflow and inflow. */
  diagonallyDominant: boolean;
  /** Corollary 1.2: nuclearB2 / johnson when johnson > 0, else null. */
  cor12: number | null;
}

export interface RepetitionResult {
  /** Size of B (n, or n − 1 with an EOS). */
  m: number;
  /** Su's repetition rate Σ_L tr(M^L); Infinity when a deterministic loop exists (or status 'singular'). */
  R: number;
  /** No deterministic loop: R < ∞. */
  finite: boolean;
  /** Deterministic loops (original token indices), each from its smallest index, sorted. */
  cycles: Int32Array[];
  /** ρ(M), upper end of the Collatz–Wielandt bracket. */
  rhoM: number;
  /** [lo, hi] with lo ≤ ρ(M) ≤ hi. */
  rhoMBracket: [number, number];
  rhoMConverged: boolean;
  /** Extremes of the row sums s_i = Σ_j B_ij² (s_min ≤ ρ(M) ≤ s_max). */
  rowSquareSums: { min: number; max: number };
  /** ζ used (nnz(B)/m², or `opts.zeta`). */
  zeta: number;
  /** tr(M^k), k = 1..K: the exact probability mass of length-k repetitions. */
  traces: Float64Array;
  /** tr(B^k), k = 1..K. */
  tracesB: Float64Array;
  /** Su's upper bounds on R. */
  upperBounds: { spectral: number; rowSquare: number };
  /** Rigorous lower bounds (partial ≥ diagonal ≥ trace) and Su's estimates (not bounds). */
  lowerBounds: { terms: number; partial: number; trace: number; diagonal: number; estimateR2: number; estimateR3: number };
  arp: ArpResult;
  /** 'singular' when an LU of I − M met an exactly zero pivot although no deterministic loop exists. */
  status: 'ok' | 'singular';
}

/**
 * A decoding rule applied to every row of a next-token matrix (docs/repetition.md §3). `eosIndex` of
 * 'topK' / 'nucleus' means what `endToken` means for `topKFilter` / `nucleusFilter`.
 */
export type DecodeSpec =
  | { kind: 'greedy' }
  | { kind: 'topK'; k: number; consistent?: boolean; eosIndex?: number }
  | { kind: 'nucleus'; p: number; consistent?: boolean; eosIndex?: number }
  | { kind: 'temperature'; t: number }
  | { kind: 'lengthPenalty'; beta: number; eosIndex: number };

export interface DecodeTransformOptions<T extends FloatArray> {
  /** rows×cols result buffer of the input's type; may alias `A`. */
  out?: T;
  /** Rows may sum to at most 1 + rowSumTol. Default 1e-5. */
  rowSumTol?: number;
}

export interface TerminationStats {
  /** ρ(B) of the chain without EOS (upper end of its bracket). */
  rhoB: number;
  rhoBConverged: boolean;
  /** Every state reaches EOS with probability 1 and finite expected length. */
  almostSure: boolean;
  /** Probability of ever emitting EOS from each state (1 at eosIndex). */
  absorbProb: Float64Array;
  /** Expected number of tokens before EOS, counting the start token; Infinity where EOS is not sure; 0 at eosIndex. */
  expectedLength: Float64Array;
  /** Greedy decoding: argmax successor, its loops, and which states never emit EOS. */
  greedy: { next: Int32Array; cycles: Int32Array[]; loops: Uint8Array };
}

export interface HighInflowResult {
  /** Flattened (i, j) pairs with smoothed A_ij > threshold, row-major: [i0, j0, i1, j1, …]. */
  pairs: Int32Array;
  /** max A_ij. */
  maxProb: number;
  /** Column sums of A. */
  inflow: Float64Array;
  maxInflow: number;
  /** Lowest index attaining maxInflow. */
  maxInflowIndex: number;
}

// ---------------------------------------------------------------------------------------------------
// Validation and chain construction

const DEFAULT_TERMS = 8;
const DEFAULT_ROW_SUM_TOL = 1e-5;

function checkRowSumTol(fn: string, v: unknown): number {
  if (v === undefined) return DEFAULT_ROW_SUM_TOL;
  if (typeof v !== 'number') throw new TypeError(`${fn}: opts.rowSumTol must be a number, got ${show(v)}`);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${fn}: opts.rowSumTol must be finite and ≥ 0, got ${v}`);
  return v;
}

function checkIndex(fn: string, name: string, v: unknown, n: number, nName = 'n'): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    throw new RangeError(`${fn}: ${name} must be an integer in [0, ${nName}) = [0, ${n}), got ${v}`);
  }
  return v;
}

function checkUnitInterval(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!(v > 0 && v <= 1)) throw new RangeError(`${fn}: ${name} must be in (0, 1], got ${v}`);
  return v;
}

/** Entries finite and ≥ 0, except row `skipRow`; the message gives row, column and value. */
function checkEntries(fn: string, name: string, a: ArrayLike<number>, rows: number, cols: number, skipRow = -1): void {
  for (let i = 0; i < rows; i++) {
    if (i === skipRow) continue;
    const off = i * cols;
    for (let j = 0; j < cols; j++) {
      const v = a[off + j];
      if (!(v >= 0) || v === Infinity) {
        throw new RangeError(`${fn}: ${name}[${off + j}] (row ${i}, column ${j}) is ${v}; entries must be finite and ≥ 0`);
      }
    }
  }
}

function rowSum(a: ArrayLike<number>, off: number, len: number): number {
  let s = 0;
  for (let j = 0; j < len; j++) s += a[off + j];
  return s;
}

/**
 * The chain without EOS: B (m×m, f64) and b (the EOS column, or the missing mass without an EOS).
 * `exact` = false (repetition): rows summing above 1 + tol are refused, rows in (1, 1 + tol] divided by
 * their sum. `exact` = true (terminationStats): rows must sum to 1 within tol and are all divided.
 */
function buildChain(fn: string, P: FloatArray, n: number, eos: number, tol: number, exact: boolean): { B: Float64Array; b: Float64Array; m: number } {
  const m = eos >= 0 ? n - 1 : n;
  const B = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let i = 0, bi = 0; i < n; i++) {
    if (i === eos) continue;
    const s = rowSum(P, i * n, n);
    if (exact ? Math.abs(s - 1) > tol : s > 1 + tol) {
      throw new RangeError(
        exact
          ? `${fn}: row ${i} sums to ${s}; rows other than eosIndex must sum to 1 within rowSumTol = ${tol}`
          : `${fn}: row ${i} sums to ${s} > 1 + rowSumTol (rowSumTol = ${tol})`,
      );
    }
    const divide = exact || s > 1;
    for (let j = 0, bj = 0; j < n; j++) {
      const v = divide ? P[i * n + j] / s : P[i * n + j];
      if (j === eos) b[bi] = v;
      else B[bi * m + bj++] = v;
    }
    if (eos < 0) {
      let rs = 0;
      for (let j = 0; j < m; j++) rs += B[bi * m + j];
      b[bi] = Math.max(0, 1 - rs);
    }
    bi++;
  }
  return { B, b, m };
}

function checkSquare(fn: string, name: string, P: unknown, n: unknown, minN: number): [FloatArray, number] {
  const arr = checkFloatArray(fn, name, P);
  const nn = checkInt(fn, 'n', n, minN);
  checkProduct(fn, 'n*n', nn, nn);
  checkFloatArray(fn, name, arr, nn * nn, 'n*n');
  return [arr, nn];
}

// ---------------------------------------------------------------------------------------------------
// Graph helpers (O(m²))

/**
 * Cycles of a functional graph (next[i] = successor or −1), each rotated to start at its smallest
 * index and sorted by that index.
 */
function functionalCycles(next: Int32Array): number[][] {
  const n = next.length;
  const state = new Uint8Array(n); // 0 unseen, 1 on the current path, 2 finished
  const cycles: number[][] = [];
  const path: number[] = [];
  for (let s = 0; s < n; s++) {
    if (state[s]) continue;
    path.length = 0;
    let v = s;
    while (v >= 0 && state[v] === 0) {
      state[v] = 1;
      path.push(v);
      v = next[v];
    }
    if (v >= 0 && state[v] === 1) {
      const cyc = path.slice(path.indexOf(v));
      let lo = 0;
      for (let i = 1; i < cyc.length; i++) if (cyc[i] < cyc[lo]) lo = i;
      cycles.push([...cyc.slice(lo), ...cyc.slice(0, lo)]);
    }
    for (const u of path) state[u] = 2;
  }
  cycles.sort((x, y) => x[0] - y[0]);
  return cycles;
}

/** True when the support graph (i → j iff X_ij > 0) of the m×m X has a cycle (Kahn's topological sort). */
function supportHasCycle(X: ArrayLike<number>, m: number): boolean {
  const indeg = new Int32Array(m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (X[i * m + j] > 0) indeg[j]++;
  const queue: number[] = [];
  for (let i = 0; i < m; i++) if (indeg[i] === 0) queue.push(i);
  let seen = 0;
  while (queue.length) {
    const i = queue.pop()!;
    seen++;
    for (let j = 0; j < m; j++) if (X[i * m + j] > 0 && --indeg[j] === 0) queue.push(j);
  }
  return seen < m;
}

/** States from which `targets` can be reached along edges i → j (A_ij > 0; the edges out of `skipRow` are not followed). */
function canReach(A: ArrayLike<number>, n: number, targets: Uint8Array, skipRow: number): Uint8Array {
  const reach = Uint8Array.from(targets);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) if (reach[i]) stack.push(i);
  while (stack.length) {
    const j = stack.pop()!;
    for (let i = 0; i < n; i++) {
      if (!reach[i] && i !== skipRow && A[i * n + j] > 0) {
        reach[i] = 1;
        stack.push(i);
      }
    }
  }
  return reach;
}

// ---------------------------------------------------------------------------------------------------
// Numerical helpers on wasm memory

interface Perron {
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
 * Perron root of X ≥ 0 (m×m f64 at `xPtr`) with a Collatz–Wielandt bracket (spec §2.2): shifted power
 * iteration x ← (Xx + αx)/max, upper end min_i (Xx)_i/x_i, lower end from x and from x with its tiny
 * components zeroed (reducible X). An acyclic support graph gives exactly 0.
 *
 * Chains whose second eigenvalue is close to ρ (real bigram models: thousands of steps) switch after
 * POWER_STEPS steps to inverse iteration x ← (σI − X)⁻¹x with σ just above the current upper end: for
 * σ > ρ(X) that inverse is entrywise ≥ 0, so x stays positive and every bracket is still a
 * Collatz–Wielandt bracket, reached in a few O(m²) steps after one LU.
 */
function perronAt(inst: WasmInstance, scope: Scope, xPtr: number, X: Float64Array, m: number): Perron {
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
function gemmSquare(inst: WasmInstance, x: number, y: number, c: number, m: number, scratch: number): void {
  inst.run('repetition', (kern) => gemmAt(kern, { f64: true, m, k: m, n: m, a: x, lda: m, b: y, ldb: m, c, ldc: m, scratch }));
}

/**
 * Diagonals of X^k, k = 1..K, for the m×m f64 X at `xPtr`: powers up to h = ⌈K/2⌉ by GEMM, then
 * (X^{a+b})_ii = Σ_j (X^a)_ij (X^b)_ji. `x2Ptr` may supply X² when the caller already has it.
 */
function powerDiagonals(inst: WasmInstance, xPtr: number, m: number, K: number, x2Ptr?: number): Float64Array[] {
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
function traceResolvent(inst: WasmInstance, yPtr: number, m: number, shift: number): number | null {
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
function singularValues(inst: WasmInstance, src: ArrayLike<number>, m: number, smallestOnly = false): Float64Array {
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

const toOriginal = (i: number, eos: number): number => (eos >= 0 && i >= eos ? i + 1 : i);

// ---------------------------------------------------------------------------------------------------
// The API

export function repetitionApi(inst: WasmInstance) {
  return {
    /**
     * Su's repetition rate R = Σ_L tr(M^L) = tr((I − M)⁻¹M), M = B∘B, of a decoder modelled as the bigram
     * chain P (spec/repetition.md §2), with the exact test for R = ∞ (deterministic loops), ρ(M) with a
     * Collatz–Wielandt bracket, the exact repetition probabilities tr(M^k), Su's upper and lower bounds
     * and estimates, and Fu et al.'s ARP with its Theorem 1 / Corollary 1.1 / 1.2 bounds.
     * Costs O(m³) (about 3⌈K/2⌉ GEMMs, two LU solves with m right-hand sides, two bidiagonalisations).
     *
     * @param P - n×n row-major next-token probabilities, Float32Array or Float64Array, entries finite
     *   ≥ 0, each row summing to at most 1 + rowSumTol (row eosIndex is not read).
     * @param n - number of tokens (integer ≥ 1; ≥ 2 with an eosIndex).
     * @throws TypeError / RangeError on bad input (spec §1), before any work.
     */
    repetition(P: FloatArray, n: number, opts?: RepetitionOptions): RepetitionResult {
      const fn = 'repetition';
      checkFloatArray(fn, 'P', P);
      const o = checkOptions(fn, opts);
      if (o.eosIndex !== undefined && typeof o.eosIndex !== 'number') {
        throw new TypeError(`${fn}: opts.eosIndex must be a number, got ${show(o.eosIndex)}`);
      }
      const hasEos = o.eosIndex !== undefined;
      checkSquare(fn, 'P', P, n, hasEos ? 2 : 1);
      const eos = hasEos ? checkIndex(fn, 'opts.eosIndex', o.eosIndex, n) : -1;
      const K = o.terms === undefined ? DEFAULT_TERMS : checkInt(fn, 'opts.terms', o.terms, 1, 64);
      const zetaOverride = o.zeta === undefined ? undefined : checkUnitInterval(fn, 'opts.zeta', o.zeta);
      const tol = checkRowSumTol(fn, o.rowSumTol);
      checkEntries(fn, 'P', P, n, n, eos);
      const { B, m } = buildChain(fn, P, n, eos, tol, false);
      return analyse(inst, B, m, eos, K, zetaOverride);
    },

    /**
     * Apply a decoding rule T(p) to every row of A (spec/repetition.md §3): greedy, top-k, nucleus
     * (optionally consistent: EOS always kept), temperature, or an EOS logit bonus. Kept tokens keep
     * their ratios; order is by probability descending, ties to the lower index; top-k / nucleus select
     * by the rule of `topKFilter` / `nucleusFilter` (docs/entropy.md §6); every non-zero output row sums
     * to 1 and an all-zero row stays zero. Arithmetic is float64.
     *
     * @param A - rows×cols row-major distributions (Float32Array or Float64Array), entries finite ≥ 0,
     *   row sums ≤ 1 + rowSumTol.
     * @returns `opts.out` (may alias A) or a new array of A's type.
     */
    decodeTransform<T extends FloatArray>(A: T, rows: number, cols: number, spec: DecodeSpec, opts?: DecodeTransformOptions<T>): T {
      const fn = 'decodeTransform';
      checkFloatArray(fn, 'A', A);
      checkInt(fn, 'rows', rows, 1);
      checkInt(fn, 'cols', cols, 1);
      checkProduct(fn, 'rows*cols', rows, cols);
      checkFloatArray(fn, 'A', A, rows * cols, 'rows*cols');
      const rule = checkDecodeSpec(fn, spec, cols);
      const o = checkOptions(fn, opts);
      const tol = checkRowSumTol(fn, o.rowSumTol);
      if (o.out !== undefined) {
        checkFloatArray(fn, 'opts.out', o.out, rows * cols, 'rows*cols');
        if (o.out.constructor !== A.constructor) {
          throw new TypeError(`${fn}: opts.out is a ${o.out.constructor.name} but A is a ${A.constructor.name}`);
        }
        // Rows are written as they are transformed, so an out shifted against A would be read after it
        // was written; only out = A itself (same bytes) is safe.
        const sameBytes = o.out.buffer === A.buffer && o.out.byteOffset === A.byteOffset;
        if (!sameBytes) checkNoOverlap(fn, 'opts.out', o.out, [['A', A]]);
      }
      checkEntries(fn, 'A', A, rows, cols);
      for (let i = 0; i < rows; i++) {
        const s = rowSum(A, i * cols, cols);
        if (s > 1 + tol) throw new RangeError(`${fn}: row ${i} sums to ${s} > 1 + rowSumTol (rowSumTol = ${tol})`);
      }
      const out = (o.out ?? new (A.constructor as { new (n: number): T })(rows * cols)) as T;
      const row = new Float64Array(cols);
      const res = new Float64Array(cols);
      const keep = new Uint8Array(cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) row[j] = A[i * cols + j];
        transformRow(row, res, keep, rule);
        for (let j = 0; j < cols; j++) out[i * cols + j] = res[j];
      }
      return out;
    },

    /**
     * Termination of the chain A with an end token (spec/repetition.md §4): probability of ever emitting
     * EOS and expected length from every state (LU solves on the states that can reach EOS), ρ(B), and
     * greedy decoding's successors, loops and the states it never stops from.
     *
     * @param A - n×n row-major chain including EOS; rows other than eosIndex must sum to 1 within
     *   rowSumTol (they are divided by their sums); row eosIndex is not read.
     * @param n - states including EOS (integer ≥ 2).
     * @param eosIndex - the absorbing end token, integer in [0, n).
     */
    terminationStats(A: FloatArray, n: number, eosIndex: number, opts?: { rowSumTol?: number }): TerminationStats {
      const fn = 'terminationStats';
      checkFloatArray(fn, 'A', A);
      checkSquare(fn, 'A', A, n, 2);
      const e = checkIndex(fn, 'eosIndex', eosIndex, n);
      const o = checkOptions(fn, opts);
      const tol = checkRowSumTol(fn, o.rowSumTol);
      checkEntries(fn, 'A', A, n, n, e);
      const { B, b, m } = buildChain(fn, A, n, e, tol, true);
      return termination(inst, A, n, e, B, b, m);
    },

    /**
     * One round of Fu et al.'s rebalanced encoding (spec/repetition.md §5): with add-one smoothing
     * A = (C + 1)/rowsum(C + 1), the pairs (i, j) with A_ij > threshold, the largest A_ij, and the
     * inflow (column sums of A). No pairs ⇔ maxProb ≤ threshold, the stop rule.
     *
     * @param counts - n×n bigram counts (any non-BigInt typed array), finite ≥ 0.
     * @param opts.threshold - in (0, 1]; default 0.1.
     */
    highInflowPairs(counts: TypedArray, n: number, opts?: { threshold?: number }): HighInflowResult {
      const fn = 'highInflowPairs';
      if (!ArrayBuffer.isView(counts) || counts instanceof DataView || typeof (counts as unknown as BigInt64Array)[0] === 'bigint') {
        throw new TypeError(`${fn}: counts must be a (non-BigInt) typed array, got ${show(counts)}`);
      }
      const nn = checkInt(fn, 'n', n, 1);
      checkProduct(fn, 'n*n', nn, nn);
      if (counts.length !== nn * nn) throw new RangeError(`${fn}: counts.length ${counts.length} does not match n*n = ${nn * nn}`);
      const o = checkOptions(fn, opts);
      const threshold = o.threshold === undefined ? 0.1 : checkUnitInterval(fn, 'opts.threshold', o.threshold);
      checkEntries(fn, 'counts', counts, nn, nn);
      const pairs: number[] = [];
      const inflow = new Float64Array(nn);
      let maxProb = 0;
      for (let i = 0; i < nn; i++) {
        const s = rowSum(counts, i * nn, nn) + nn;
        for (let j = 0; j < nn; j++) {
          const a = (counts[i * nn + j] + 1) / s;
          inflow[j] += a;
          if (a > maxProb) maxProb = a;
          if (a > threshold) pairs.push(i, j);
        }
      }
      let maxInflowIndex = 0;
      for (let j = 1; j < nn; j++) if (inflow[j] > inflow[maxInflowIndex]) maxInflowIndex = j;
      return { pairs: Int32Array.from(pairs), maxProb, inflow, maxInflow: inflow[maxInflowIndex], maxInflowIndex };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// repetition(): the analysis proper

function analyse(inst: WasmInstance, B: Float64Array, m: number, eos: number, K: number, zetaOverride: number | undefined): RepetitionResult {
  // O(m²): M = B∘B, support, ζ, row statistics, deterministic loops.
  const M = new Float64Array(m * m);
  const S = new Float64Array(m * m);
  let nnz = 0;
  let sMin = Infinity;
  let sMax = 0;
  const succ = new Int32Array(m).fill(-1);
  const rowSums = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) {
      const v = B[i * m + j];
      M[i * m + j] = v * v;
      s += v * v;
      rowSums[i] += v;
      if (v > 0) {
        S[i * m + j] = 1;
        nnz++;
      }
      if (v >= 1 && succ[i] < 0) succ[i] = j;
    }
    sMin = Math.min(sMin, s);
    sMax = Math.max(sMax, s);
  }
  const zeta = zetaOverride ?? nnz / (m * m);
  const zetaM = zeta * m;
  const cycles = functionalCycles(succ).map((c) => Int32Array.from(c, (i) => toOriginal(i, eos)));
  const finite = cycles.length === 0;

  return inst.mem.scoped((scope) => {
    const bPtr = scope.alloc(m * m * 8, 'B');
    const mPtr = scope.alloc(m * m * 8, 'M');
    const sPtr = scope.alloc(m * m * 8, 'S');
    const b2Ptr = scope.alloc(m * m * 8, 'B²');
    const scratch = scope.alloc(gemmScratchBytes(inst, true, m, m, m), 'gemm scratch');
    inst.mem.f64(bPtr, m * m).set(B);
    inst.mem.f64(mPtr, m * m).set(M);
    inst.mem.f64(sPtr, m * m).set(S);
    gemmSquare(inst, bPtr, bPtr, b2Ptr, m, scratch);

    // Perron roots (ρ(M) only matters when finite; ρ(B) for the ARP).
    let rhoM: Perron = { rho: 1, lo: 1, hi: 1, converged: true };
    if (finite) rhoM = perronAt(inst, scope, mPtr, M, m);
    const rhoB = perronAt(inst, scope, bPtr, B, m);

    // R by one LU solve of (I − M) X = M.
    let R = Infinity;
    let status: 'ok' | 'singular' = 'ok';
    if (finite) {
      const tr = traceResolvent(inst, mPtr, m, 1);
      if (tr === null) status = 'singular';
      else R = tr;
    }

    // Series terms from the diagonals of the powers of B, S and M.
    const diagB = powerDiagonals(inst, bPtr, m, K, b2Ptr);
    const diagS = powerDiagonals(inst, sPtr, m, K);
    const diagM = powerDiagonals(inst, mPtr, m, K);
    const sum = (v: Float64Array) => v.reduce((a, x) => a + x, 0);
    const traces = Float64Array.from(diagM, sum);
    const tracesB = Float64Array.from(diagB, sum);
    let partial = 0;
    let traceLB = 0;
    let diagonalLB = 0;
    let estimateR2 = 0;
    let estimateR3 = 0;
    let corrected = 0;
    for (let k = 1; k <= K; k++) {
      const dB = diagB[k - 1];
      const dS = diagS[k - 1];
      const trB = tracesB[k - 1];
      const trS = sum(dS);
      partial += traces[k - 1];
      if (trS > 0) traceLB += (trB * trB) / trS;
      let sq = 0;
      for (let i = 0; i < m; i++) {
        sq += dB[i] * dB[i];
        if (dS[i] > 0) diagonalLB += (dB[i] * dB[i]) / dS[i];
      }
      // Terms with a zero numerator are 0 even when ζ = 0 (B = 0).
      if (trB !== 0) estimateR2 += (trB * trB) / zetaM ** k;
      if (sq !== 0) {
        estimateR3 += sq / (zeta ** k * m ** (k - 1));
        corrected += sq / zetaM ** k;
      }
    }

    // Upper bounds.
    const rho = rhoM.rho;
    const spectral = !finite || rho >= 1 ? Infinity : (m * rho) / (1 - rho);
    const rowSquare = !finite || sMax >= 1 ? Infinity : (m * sMax) / (1 - sMax);

    // ARP (Fu et al.): B², its singular values, C = ζmI − B².
    const B2 = inst.mem.f64(b2Ptr, m * m).slice();
    const outflow = new Float64Array(m);
    const inflow = new Float64Array(m);
    let b2Zero = true;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const v = B2[i * m + j];
        outflow[i] += v;
        inflow[j] += v;
        if (v !== 0) b2Zero = false;
      }
    }
    const sv = singularValues(inst, B2, m);
    const sigma1 = sv[0];
    const nuclearB2 = sum(sv);
    const rankB2 = sv.filter((s) => s > sigma1 * m * 2 ** -52).length;
    const C = new Float64Array(m * m);
    for (let i = 0; i < m * m; i++) C[i] = -B2[i];
    for (let i = 0; i < m; i++) C[i * m + i] += zetaM;
    const sigmaMinC = singularValues(inst, C, m, true)[0];
    let johnson = Infinity;
    let diagonallyDominant = true;
    for (let i = 0; i < m; i++) {
      johnson = Math.min(johnson, zetaM - 0.5 * (outflow[i] + inflow[i]));
      if (!(zetaM > outflow[i] && zetaM > inflow[i])) diagonallyDominant = false;
    }
    const rhoB2 = rhoB.rho * rhoB.rho;
    const arpFinite = b2Zero || rhoB2 < zetaM;
    let value = Infinity;
    let thm1Bound = Infinity;
    let cor11 = Infinity;
    let cor11Tight = Infinity;
    if (b2Zero) {
      value = thm1Bound = cor11 = cor11Tight = corrected = 0;
    } else if (arpFinite) {
      value = traceResolvent(inst, b2Ptr, m, zetaM) ?? Infinity;
      thm1Bound = nuclearB2 / sigmaMinC;
      // Corollary 1.1: Σ_ij (B_ij − μ_i)² + (weight)·Σ_i (1 − b_i)², μ_i = (Σ_j B_ij)/m.
      let centred = 0;
      let rowMass = 0;
      for (let i = 0; i < m; i++) {
        const mu = rowSums[i] / m;
        for (let j = 0; j < m; j++) {
          const dlt = B[i * m + j] - mu;
          centred += dlt * dlt;
        }
        rowMass += rowSums[i] * rowSums[i];
      }
      cor11 = (rankB2 * (centred + rowMass)) / sigmaMinC;
      cor11Tight = (rankB2 * (centred + rowMass / m)) / sigmaMinC;
    }
    const cor12 = b2Zero ? 0 : johnson > 0 ? nuclearB2 / johnson : null;

    return {
      m,
      R,
      finite,
      cycles,
      rhoM: rhoM.rho,
      rhoMBracket: [rhoM.lo, rhoM.hi],
      rhoMConverged: rhoM.converged,
      rowSquareSums: { min: sMin, max: sMax },
      zeta,
      traces,
      tracesB,
      upperBounds: { spectral, rowSquare },
      lowerBounds: { terms: K, partial, trace: traceLB, diagonal: diagonalLB, estimateR2, estimateR3 },
      arp: {
        zeta,
        zetaM,
        rhoB: rhoB.rho,
        rhoB2,
        rhoBConverged: rhoB.converged,
        finite: arpFinite,
        value,
        corrected,
        nuclearB2,
        rankB2,
        sigmaMinC,
        thm1Bound,
        cor11,
        cor11Tight,
        outflow,
        inflow,
        johnson,
        diagonallyDominant,
        cor12,
      },
      status,
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// decodeTransform()

type Rule =
  | { kind: 'greedy' }
  | KeepRule
  | { kind: 'temperature'; t: number }
  | { kind: 'lengthPenalty'; beta: number; eos: number };

const KINDS = ['greedy', 'topK', 'nucleus', 'temperature', 'lengthPenalty'] as const;

function checkDecodeSpec(fn: string, spec: unknown, cols: number): Rule {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`${fn}: spec must be an object, got ${show(spec)}`);
  }
  const s = spec as Record<string, unknown>;
  if (typeof s.kind !== 'string') throw new TypeError(`${fn}: spec.kind must be a string, got ${show(s.kind)}`);
  const kind = checkEnum(fn, 'spec.kind', s.kind, KINDS);
  const consistentEos = (): number => {
    const consistent = s.consistent === undefined ? false : checkBool(fn, 'spec.consistent', s.consistent);
    if (!consistent) return -1;
    if (s.eosIndex === undefined) throw new RangeError(`${fn}: spec.consistent needs spec.eosIndex in [0, cols) = [0, ${cols})`);
    return checkIndex(fn, 'spec.eosIndex', s.eosIndex, cols, 'cols');
  };
  switch (kind) {
    case 'greedy':
      return { kind };
    case 'topK':
      return { kind, k: checkInt(fn, 'spec.k', s.k, 1), endToken: consistentEos() };
    case 'nucleus':
      return { kind, p: checkUnitInterval(fn, 'spec.p', s.p), endToken: consistentEos() };
    case 'temperature': {
      if (typeof s.t !== 'number') throw new TypeError(`${fn}: spec.t must be a number, got ${show(s.t)}`);
      if (!(Number.isFinite(s.t) && s.t > 0)) throw new RangeError(`${fn}: spec.t must be finite and > 0, got ${s.t}`);
      return { kind, t: s.t };
    }
    case 'lengthPenalty': {
      if (typeof s.beta !== 'number') throw new TypeError(`${fn}: spec.beta must be a number, got ${show(s.beta)}`);
      if (!Number.isFinite(s.beta)) throw new RangeError(`${fn}: spec.beta must be finite, got ${s.beta}`);
      if (s.eosIndex === undefined) throw new RangeError(`${fn}: lengthPenalty needs spec.eosIndex in [0, cols) = [0, ${cols})`);
      return { kind, beta: s.beta, eos: checkIndex(fn, 'spec.eosIndex', s.eosIndex, cols, 'cols') };
    }
  }
}

/** Write T(row) into res (float64). `keep` is scratch of the row's length. */
function transformRow(row: Float64Array, res: Float64Array, keep: Uint8Array, rule: Rule): void {
  const cols = row.length;
  res.fill(0);
  let pMax = 0;
  for (let j = 0; j < cols; j++) if (row[j] > pMax) pMax = row[j];
  if (pMax === 0) return;
  switch (rule.kind) {
    case 'greedy': {
      let best = 0;
      for (let j = 1; j < cols; j++) if (row[j] > row[best]) best = j;
      res[best] = 1;
      return;
    }
    case 'topK':
    case 'nucleus': {
      // The kept tokens (docs/entropy.md §6), renormalised.
      selectKept(row, 0, cols, 'probabilities', rule, keep);
      let s = 0;
      for (let j = 0; j < cols; j++) if (keep[j]) s += row[j];
      for (let j = 0; j < cols; j++) if (keep[j]) res[j] = row[j] / s;
      return;
    }
    case 'temperature': {
      const lnMax = Math.log(pMax);
      let s = 0;
      for (let j = 0; j < cols; j++) {
        if (row[j] > 0) {
          res[j] = Math.exp((Math.log(row[j]) - lnMax) / rule.t);
          s += res[j];
        }
      }
      for (let j = 0; j < cols; j++) res[j] /= s;
      return;
    }
    case 'lengthPenalty': {
      const bonus = Math.exp(rule.beta);
      let s = 0;
      for (let j = 0; j < cols; j++) {
        res[j] = j === rule.eos ? bonus * row[j] : row[j];
        s += res[j];
      }
      for (let j = 0; j < cols; j++) res[j] /= s;
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// terminationStats()

function termination(inst: WasmInstance, A: FloatArray, n: number, e: number, B: Float64Array, b: Float64Array, m: number): TerminationStats {
  // Classify on the support graph of A (row e not followed: EOS absorbs).
  const isEos = new Uint8Array(n);
  isEos[e] = 1;
  const reachEos = canReach(A, n, isEos, e);
  const doomed = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (!reachEos[i]) doomed[i] = 1;
  const reachDoomed = canReach(A, n, doomed, e);
  const sure = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (i !== e && reachEos[i] && !reachDoomed[i]) sure[i] = 1;
  let almostSure = true;
  for (let i = 0; i < n; i++) if (i !== e && !sure[i]) almostSure = false;

  // Greedy: argmax successor over all n columns (ties → lower index), EOS absorbing. Read before the
  // solves allocate: a grow would detach an A that lives in wasm memory.
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (i === e) {
      next[i] = e;
      continue;
    }
    let best = 0;
    for (let j = 1; j < n; j++) if (A[i * n + j] > A[i * n + best]) best = j;
    next[i] = best;
  }

  const absorbProb = new Float64Array(n);
  const expectedLength = new Float64Array(n).fill(Infinity);
  absorbProb[e] = 1;
  expectedLength[e] = 0;
  const bIndex = (i: number) => (i > e ? i - 1 : i);
  const transient: number[] = [];
  const sureList: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === e) continue;
    if (reachEos[i]) transient.push(i);
    if (sure[i]) sureList.push(i);
  }
  // h_T = (I − B_TT)⁻¹ b_T on T = sure ∪ mixed; expected lengths (I − B_SS)⁻¹𝟙 on the sure set.
  const solveOn = (states: number[], rhs: (i: number) => number): Float64Array =>
    inst.mem.scoped((scope) => {
      const t = states.length;
      const a = scope.alloc(t * t * 8, 'I − B_TT');
      const x = scope.alloc(t * 8, 'rhs');
      const ipiv = scope.alloc(t * 4, 'pivots');
      const Av = inst.mem.f64(a, t * t);
      const xv = inst.mem.f64(x, t);
      for (let r = 0; r < t; r++) {
        const bi = bIndex(states[r]);
        for (let c = 0; c < t; c++) Av[r * t + c] = (r === c ? 1 : 0) - B[bi * m + bIndex(states[c])];
        xv[r] = rhs(states[r]);
      }
      if (luFactorAt(inst, scope, a, t, ipiv) !== 0) return new Float64Array(t).fill(NaN);
      luSolveAt(inst, scope, a, t, ipiv, x, 1);
      return inst.mem.f64(x, t).slice();
    });
  if (transient.length) {
    const h = solveOn(transient, (i) => b[bIndex(i)]);
    transient.forEach((i, r) => (absorbProb[i] = sure[i] ? 1 : h[r]));
  }
  if (sureList.length) {
    const len = solveOn(sureList, () => 1);
    sureList.forEach((i, r) => (expectedLength[i] = len[r]));
  }

  const rhoB = inst.mem.scoped((scope) => {
    const p = scope.alloc(m * m * 8, 'B');
    inst.mem.f64(p, m * m).set(B);
    return perronAt(inst, scope, p, B, m);
  });

  const succ = Int32Array.from(next, (j, i) => (i === e ? -1 : j));
  const cycles = functionalCycles(succ).map((c) => Int32Array.from(c));
  const loops = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Follow the greedy path at most n steps: it either meets EOS or is caught in a cycle.
    let v = i;
    let steps = 0;
    while (v !== e && steps <= n) {
      v = next[v];
      steps++;
    }
    loops[i] = v === e ? 0 : 1;
  }
  return { rhoB: rhoB.rho, rhoBConverged: rhoB.converged, almostSure, absorbProb, expectedLength, greedy: { next, cycles, loops } };
}
