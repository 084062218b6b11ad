/**
 * Repetition analysis of decoders modelled as bigram chains (docs/repetition.md): Su's repetition rate
 * R = tr((I − M)⁻¹M) with its exact infinity test, bounds and estimates, Fu et al.'s average repetition
 * probability (ARP) with its corollary bounds, decoding rules as matrix transforms, termination
 * statistics, and one round of rebalanced encoding. All arithmetic is float64; the O(m³) parts (matrix
 * powers, LU solves, bidiagonalisation) run in the wasm kernels, the O(m²) graph work in TypeScript.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray, TypedArray } from '../wasm/memory.js';
import { checkFloatArray, checkInt, checkNoOverlap, checkOptions, checkProduct, show } from '../shared/validate.js';
import { analyse } from './analyse.js';
import { buildChain, checkEntries, checkIndex, checkRowSumTol, checkSquare, checkUnitInterval, DEFAULT_TERMS, rowSum } from './chain.js';
import { checkDecodeSpec, transformRow } from './decode.js';
import { termination } from './termination.js';
import type { DecodeSpec, DecodeTransformOptions, HighInflowResult, RepetitionOptions, RepetitionResult, TerminationStats } from './types.js';

export function repetitionApi(inst: WasmInstance) {
  return {
    /**
     * Su's repetition rate R = Σ_L tr(M^L) = tr((I − M)⁻¹M), M = B∘B, of a decoder modelled as the bigram
     * chain P (docs/repetition.md §2), with the exact test for R = ∞ (deterministic loops), ρ(M) with a
     * Collatz–Wielandt bracket, the exact repetition probabilities tr(M^k), Su's upper and lower bounds
     * and estimates, and Fu et al.'s ARP with its Theorem 1 / Corollary 1.1 / 1.2 bounds.
     * Costs O(m³) (about 3⌈K/2⌉ GEMMs, two LU solves with m right-hand sides, two bidiagonalisations).
     *
     * @param P - n×n row-major next-token probabilities, Float32Array or Float64Array, entries finite
     *   ≥ 0, each row summing to at most 1 + rowSumTol (row eosIndex is not read).
     * @param n - number of tokens (integer ≥ 1; ≥ 2 with an eosIndex).
     * @throws TypeError / RangeError on bad input (docs/repetition.md §1), before any work.
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
     * Apply a decoding rule T(p) to every row of A (docs/repetition.md §3): greedy, top-k, nucleus
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
     * Termination of the chain A with an end token (docs/repetition.md §4): probability of ever emitting
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
     * One round of Fu et al.'s rebalanced encoding (docs/repetition.md §5): with add-one smoothing
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
