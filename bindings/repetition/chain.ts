/**
 * Argument validation, construction of the chain B without EOS from a next-token matrix, and the O(m²)
 * graph helpers on its support (cycles, reachability).
 */
import type { FloatArray } from '../wasm/memory.js';
import { checkFloatArray, checkInt, checkProduct, show } from '../shared/validate.js';

// ---------------------------------------------------------------------------------------------------
// Validation and chain construction

export const DEFAULT_TERMS = 8;
const DEFAULT_ROW_SUM_TOL = 1e-5;

export function checkRowSumTol(fn: string, v: unknown): number {
  if (v === undefined) return DEFAULT_ROW_SUM_TOL;
  if (typeof v !== 'number') throw new TypeError(`${fn}: opts.rowSumTol must be a number, got ${show(v)}`);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${fn}: opts.rowSumTol must be finite and ≥ 0, got ${v}`);
  return v;
}

export function checkIndex(fn: string, name: string, v: unknown, n: number, nName = 'n'): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    throw new RangeError(`${fn}: ${name} must be an integer in [0, ${nName}) = [0, ${n}), got ${v}`);
  }
  return v;
}

export function checkUnitInterval(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!(v > 0 && v <= 1)) throw new RangeError(`${fn}: ${name} must be in (0, 1], got ${v}`);
  return v;
}

/** Entries finite and ≥ 0, except row `skipRow`; the message gives row, column and value. */
export function checkEntries(fn: string, name: string, a: ArrayLike<number>, rows: number, cols: number, skipRow = -1): void {
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

export function rowSum(a: ArrayLike<number>, off: number, len: number): number {
  let s = 0;
  for (let j = 0; j < len; j++) s += a[off + j];
  return s;
}

/**
 * The chain without EOS: B (m×m, f64) and b (the EOS column, or the missing mass without an EOS).
 * `exact` = false (repetition): rows summing above 1 + tol are refused, rows in (1, 1 + tol] divided by
 * their sum. `exact` = true (terminationStats): rows must sum to 1 within tol and are all divided.
 */
export function buildChain(fn: string, P: FloatArray, n: number, eos: number, tol: number, exact: boolean): { B: Float64Array; b: Float64Array; m: number } {
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

export function checkSquare(fn: string, name: string, P: unknown, n: unknown, minN: number): [FloatArray, number] {
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
export function functionalCycles(next: Int32Array): number[][] {
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
export function supportHasCycle(X: ArrayLike<number>, m: number): boolean {
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
export function canReach(A: ArrayLike<number>, n: number, targets: Uint8Array, skipRow: number): Uint8Array {
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
