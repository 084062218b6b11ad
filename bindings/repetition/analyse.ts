/** repetition(): the analysis proper of the chain B (docs/repetition.md §2). */
import type { WasmInstance } from '../wasm/load.js';
import { gemmScratchBytes } from '../linalg/linalg.js';
import { functionalCycles } from './chain.js';
import { gemmSquare, perronAt, powerDiagonals, singularValues, traceResolvent, type Perron } from './numerics.js';
import type { RepetitionResult } from './types.js';

const toOriginal = (i: number, eos: number): number => (eos >= 0 && i >= eos ? i + 1 : i);

export function analyse(inst: WasmInstance, B: Float64Array, m: number, eos: number, K: number, zetaOverride: number | undefined): RepetitionResult {
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
