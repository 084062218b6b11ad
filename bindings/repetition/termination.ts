/** terminationStats(): absorption probabilities, expected lengths and greedy loops (docs/repetition.md §4). */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray } from '../wasm/memory.js';
import { luFactorAt, luSolveAt } from '../linalg/linalg.js';
import { canReach, functionalCycles } from './chain.js';
import { perronAt } from './numerics.js';
import type { TerminationStats } from './types.js';

export function termination(inst: WasmInstance, A: FloatArray, n: number, e: number, B: Float64Array, b: Float64Array, m: number): TerminationStats {
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
