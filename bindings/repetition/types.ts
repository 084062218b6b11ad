/** Public types of the repetition analysis (docs/repetition.md). */
import type { FloatArray } from '../wasm/memory.js';

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
