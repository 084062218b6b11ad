/**
 * Linear algebra: matmul (blocked SIMD GEMM), and the solvers built on it.
 * Semantics: docs/linalg.md §2 (matmul).
 */
import type { Kernels, WasmInstance } from '../wasm/load.js';
import type { FloatArray, Scope } from '../wasm/memory.js';
import {
  checkBool,
  checkFinite,
  checkFloatArray,
  checkInt,
  checkNoOverlap,
  checkNumber,
  checkOptions,
  checkProduct,
  checkSameType,
} from '../shared/validate.js';

export interface MatmulOptions<T extends FloatArray> {
  /** `a` holds Aᵀ (k×m) instead of A (m×k). Default false. */
  transA?: boolean;
  /** `b` holds Bᵀ (n×k) instead of B (k×n). Default false. */
  transB?: boolean;
  /** Scale of op(A)·op(B). Default 1. */
  alpha?: number;
  /** Scale of the old C (needs `out`). Default 0: `out` is then never read. */
  beta?: number;
  /** m×n result buffer, same type as `a`; must not overlap `a` or `b`. */
  out?: T;
}

/** A checked matmul call, ready to run on any instance (the pool reuses it for row blocks). */
export interface MatmulPlan<T extends FloatArray> {
  a: T;
  b: T;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  out: T | undefined;
  f64: boolean;
}

/** Validate matmul arguments (throws TypeError / RangeError naming the parameter and value). */
export function planMatmul<T extends FloatArray>(a: T, b: T, m: number, k: number, n: number, opts?: MatmulOptions<T>): MatmulPlan<T> {
  const fn = 'matmul';
  checkFloatArray(fn, 'a', a);
  checkFloatArray(fn, 'b', b);
  checkSameType(fn, [['a', a], ['b', b]]);
  checkInt(fn, 'm', m);
  checkInt(fn, 'k', k);
  checkInt(fn, 'n', n);
  checkProduct(fn, 'm*k', m, k);
  checkProduct(fn, 'k*n', k, n);
  checkProduct(fn, 'm*n', m, n);
  const o = checkOptions(fn, opts);
  const transA = o.transA === undefined ? false : checkBool(fn, 'opts.transA', o.transA);
  const transB = o.transB === undefined ? false : checkBool(fn, 'opts.transB', o.transB);
  const alpha = o.alpha === undefined ? 1 : checkNumber(fn, 'opts.alpha', o.alpha);
  const beta = o.beta === undefined ? 0 : checkNumber(fn, 'opts.beta', o.beta);
  checkFloatArray(fn, 'a', a, m * k, transA ? 'k*m' : 'm*k');
  checkFloatArray(fn, 'b', b, k * n, transB ? 'n*k' : 'k*n');
  const out = o.out;
  if (out !== undefined) {
    checkFloatArray(fn, 'opts.out', out, m * n, 'm*n');
    checkSameType(fn, [['a', a], ['opts.out', out]]);
    checkNoOverlap(fn, 'opts.out', out, [['a', a], ['b', b]]);
  } else if (beta !== 0) {
    throw new RangeError(`matmul: opts.beta is ${beta} but no opts.out was given to hold the C being updated`);
  }
  // Finiteness of a, b (and of out when beta ≠ 0) is checked on the staged copies (stageMatmul).
  return { a, b, m, k, n, transA, transB, alpha, beta, out, f64: a instanceof Float64Array };
}

/**
 * The result of a planned m = 0 or n = 0 product. Nothing is staged for it, so the inputs are checked here
 * (docs/linalg.md: non-finite → RangeError).
 */
export function emptyMatmul<T extends FloatArray>(p: MatmulPlan<T>): T {
  checkFinite('matmul', 'a', p.a);
  checkFinite('matmul', 'b', p.b);
  return p.out ?? ((p.f64 ? new Float64Array(0) : new Float32Array(0)) as T);
}

/**
 * RangeError naming the parameter and index when the staged copy at `ptr` of `arr` (pinned in `scope`)
 * holds ±∞ or NaN. The scan runs in wasm (a read-only SIMD pass, ~20× faster than a JS loop on large
 * inputs) before any kernel computes on the copy; only a failure walks the elements in JS, for the message.
 */
export function checkStagedFinite(inst: WasmInstance, scope: Scope, fn: string, name: string, arr: FloatArray, ptr: number): void {
  const now = scope.view(arr);
  if (now.length === 0) return;
  const scan = now instanceof Float64Array ? 'nonfinite_index_f64' : 'nonfinite_index_f32';
  if (inst.run(fn, (k) => k[scan](ptr, now.length)) >= 0) checkFinite(fn, name, now);
}

/**
 * One GEMM by pointer, the kernel's 14 numbers named: C = alpha·op(A)·op(B) + beta·C with op(A) m×k,
 * op(B) k×n, C m×n, all row-major in wasm memory. Pointers are byte addresses (16-byte aligned),
 * leading dimensions are in elements; `scratch` holds `gemmScratchBytes(…)` bytes.
 */
export interface GemmArgs {
  f64: boolean;
  transA?: boolean;
  transB?: boolean;
  m: number;
  k: number;
  n: number;
  alpha?: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  beta?: number;
  c: number;
  ldc: number;
  scratch: number;
}

/** Call the f32 or f64 GEMM kernel with named arguments (alpha defaults to 1, beta to 0). */
export function gemmAt(kern: Kernels, g: GemmArgs): void {
  const gemm = g.f64 ? kern.gemm_f64 : kern.gemm_f32;
  gemm(+!!g.transA, +!!g.transB, g.m, g.k, g.n, g.alpha ?? 1, g.a, g.lda, g.b, g.ldb, g.beta ?? 0, g.c, g.ldc, g.scratch);
}

/** Bytes of packing scratch one GEMM of these sizes needs. */
export function gemmScratchBytes(inst: WasmInstance, f64: boolean, m: number, k: number, n: number): number {
  return inst.kernels[f64 ? 'gemm_f64_scratch_bytes' : 'gemm_f32_scratch_bytes'](m, k, n);
}

/**
 * Run GEMM on pointers already in `inst`'s memory: C[rows i0..i0+rows) of a planned call.
 * Leading dimensions follow from the packed layouts in the plan.
 */
export function gemmRows(
  inst: WasmInstance,
  p: Pick<MatmulPlan<FloatArray>, 'm' | 'k' | 'n' | 'transA' | 'transB' | 'alpha' | 'beta' | 'f64'>,
  ptrs: { a: number; b: number; c: number; scratch: number },
  i0: number,
  rows: number,
): void {
  const bytes = p.f64 ? 8 : 4;
  const lda = p.transA ? p.m : p.k;
  const ldb = p.transB ? p.k : p.n;
  const aRow = ptrs.a + (p.transA ? i0 : i0 * lda) * bytes;
  inst.run('matmul', (kern) =>
    gemmAt(kern, {
      f64: p.f64, transA: p.transA, transB: p.transB, m: rows, k: p.k, n: p.n, alpha: p.alpha, beta: p.beta,
      a: aRow, lda, b: ptrs.b, ldb, c: ptrs.c + i0 * p.n * bytes, ldc: p.n, scratch: ptrs.scratch,
    }),
  );
}

/**
 * Copy the operands of a planned call into `scope` (zero-copy for arrays already in wasm memory), after
 * checking that they and `scratchBytes` of scratch fit in the address space; then check the copies are
 * finite (RangeError naming the parameter and index) before any kernel computes on them.
 */
export function stageMatmul(inst: WasmInstance, scope: Scope, p: MatmulPlan<FloatArray>, scratchBytes: number): { a: number; b: number; c: number } {
  scope.pin(p.a, p.b, p.out);
  const bytes = p.f64 ? 8 : 4;
  const copied = (arr: FloatArray | undefined, len: number) => (arr !== undefined && scope.resident(arr) ? 0 : len * bytes);
  scope.mem.checkFits('matmul', copied(p.a, p.m * p.k) + copied(p.b, p.k * p.n) + copied(p.out, p.m * p.n) + scratchBytes);
  const a = scope.copyIn(p.a, 'a');
  const b = scope.copyIn(p.b, 'b');
  const c = p.out !== undefined && p.beta !== 0 ? scope.copyIn(p.out, 'out') : scope.resultPtr(p.out, p.m * p.n * bytes, 'out');
  checkStagedFinite(inst, scope, 'matmul', 'a', p.a, a);
  checkStagedFinite(inst, scope, 'matmul', 'b', p.b, b);
  if (p.out !== undefined && p.beta !== 0) checkStagedFinite(inst, scope, 'matmul', 'opts.out', p.out, c);
  return { a, b, c };
}

// --- LU with partial pivoting (f64), shared by gc.solve and the repetition analysis ---

/** Panel width of the blocked LU and of the blocked triangular solves (columns / rows per block). */
const LU_BLOCK = 48;

/**
 * Blocked right-looking LU with partial pivoting, in place, of the n×n row-major f64 matrix at `a`
 * (byte address in `inst`'s memory, leading dimension `lda` ≥ n elements): on return the strict lower
 * triangle holds L (unit diagonal), the upper triangle U, and the i32 vector at `ipiv` the row
 * interchanges (row j was swapped with ipiv[j]). Panels are factorised by the lu kernel; the trailing
 * updates A22 −= L21·U12 run on the f64 GEMM.
 *
 * @returns 0, or 1 + the first column with an exactly zero pivot (the factorisation still completes).
 */
export function luFactorAt(inst: WasmInstance, scope: Scope, a: number, n: number, ipiv: number, lda = n): number {
  const scratch = scope.alloc(gemmScratchBytes(inst, true, n, Math.min(LU_BLOCK, n), n), 'lu gemm scratch');
  const panel = scope.alloc(Math.min(LU_BLOCK, n) * n * 8, 'lu panel');
  const at = (i: number, j: number) => a + (i * lda + j) * 8;
  let info = 0;
  for (let k0 = 0; k0 < n; k0 += LU_BLOCK) {
    const nb = Math.min(LU_BLOCK, n - k0);
    const kEnd = k0 + nb;
    const rest = n - kEnd;
    inst.run('lu', (k) => {
      const panelInfo = k.lu_panel_f64(a, lda, n, n, k0, nb, ipiv, panel);
      if (info === 0 && panelInfo !== 0) info = panelInfo;
      if (rest > 0) {
        k.lu_trsm_f64(1, 1, at(k0, k0), lda, nb, at(k0, kEnd), lda, rest);
        k.gemm_f64(0, 0, rest, nb, rest, -1, at(kEnd, k0), lda, at(k0, kEnd), lda, 1, at(kEnd, kEnd), lda, scratch);
      }
    });
  }
  return info;
}

/**
 * Overwrite the n×nrhs row-major f64 right-hand sides at `x` (leading dimension nrhs) with the solution
 * of A·X = B, given the factors of `luFactorAt` (which must have returned 0; same `lda`). Many
 * right-hand sides are solved block by block with the GEMM doing the off-diagonal work; one or a few
 * use the kernel's substitution directly.
 */
export function luSolveAt(inst: WasmInstance, scope: Scope, lu: number, n: number, ipiv: number, x: number, nrhs: number, lda = n): void {
  const at = (i: number, j: number) => lu + (i * lda + j) * 8;
  inst.run('lu', (k) => k.lu_apply_pivots_f64(x, nrhs, nrhs, ipiv, 0, n));
  if (nrhs < 8 || n <= LU_BLOCK) {
    inst.run('lu', (k) => {
      k.lu_trsm_f64(1, 1, lu, lda, n, x, nrhs, nrhs);
      k.lu_trsm_f64(0, 0, lu, lda, n, x, nrhs, nrhs);
    });
    return;
  }
  // Right-looking: after each diagonal block is solved, one GEMM updates every row still to come
  // (tall m, k = block), so the packed right-hand-side panel is small and reused across all those rows.
  const scratch = scope.alloc(gemmScratchBytes(inst, true, n, LU_BLOCK, nrhs), 'lu gemm scratch');
  const row = (i: number) => x + i * nrhs * 8;
  inst.run('lu', (k) => {
    for (let i0 = 0; i0 < n; i0 += LU_BLOCK) {
      const nb = Math.min(LU_BLOCK, n - i0);
      const i1 = i0 + nb;
      k.lu_trsm_f64(1, 1, at(i0, i0), lda, nb, row(i0), nrhs, nrhs);
      if (i1 < n) k.gemm_f64(0, 0, n - i1, nb, nrhs, -1, at(i1, i0), lda, row(i0), nrhs, 1, row(i1), nrhs, scratch);
    }
    const last = Math.floor((n - 1) / LU_BLOCK) * LU_BLOCK;
    for (let i0 = last; i0 >= 0; i0 -= LU_BLOCK) {
      const nb = Math.min(LU_BLOCK, n - i0);
      k.lu_trsm_f64(0, 0, at(i0, i0), lda, nb, row(i0), nrhs, nrhs);
      if (i0 > 0) k.gemm_f64(0, 0, i0, nb, nrhs, -1, at(0, i0), lda, row(i0), nrhs, 1, row(0), nrhs, scratch);
    }
  });
}

/**
 * Leading dimension for an n-column f64 matrix: rows a multiple of 512 bytes apart map onto the same
 * cache sets, which the strided column walks of the LU punish; a 64-byte pad breaks the pattern.
 */
export function paddedLd(n: number): number {
  return n % 64 === 0 ? n + 8 : n;
}

/**
 * Copy an n×n matrix into a fresh f64 block of `scope` with leading dimension `ld` (a copy: LU works in
 * place). A caller's `src` must be pinned in `scope`.
 */
export function stageSquareF64(scope: Scope, arr: FloatArray, n: number, ld: number, what: string): number {
  const ptr = scope.alloc(n * ld * 8, what);
  const src = scope.view(arr);
  const view = scope.mem.f64(ptr, n * ld);
  if (ld === n) view.set(src);
  else for (let i = 0; i < n; i++) view.set(src.subarray(i * n, i * n + n), i * ld);
  return ptr;
}

/**
 * Copy a square or rectangular matrix into a fresh f64 block of `scope` (always a copy: LU works in
 * place). A caller's `arr` must be pinned in `scope`.
 */
export function stageF64(scope: Scope, arr: FloatArray, what: string): number {
  const ptr = scope.alloc(scope.view(arr).length * 8, what);
  const src = scope.view(arr); // again: the alloc may have grown the memory
  scope.mem.f64(ptr, src.length).set(src);
  return ptr;
}

// --- iterative Moore–Penrose inverse (docs/attention.md §3), shared by gc.pinv and Nyström attention ---

/** Largest `iterations` pinv accepts. */
export const PINV_MAX_ITERATIONS = 100;

/** Byte offsets of pinvAt's scratch parts (each 16-byte aligned) and the total. */
function pinvLayout(inst: WasmInstance, f64: boolean, rows: number, cols: number) {
  const bytes = f64 ? 8 : 4;
  const s = Math.min(rows, cols);
  const up = (x: number) => Math.ceil(x / 16) * 16;
  const square = up(s * s * bytes);
  const full = up(rows * cols * bytes);
  const gemm = Math.max(
    rows <= cols ? gemmScratchBytes(inst, f64, rows, cols, rows) : gemmScratchBytes(inst, f64, cols, rows, cols),
    gemmScratchBytes(inst, f64, s, s, s),
    rows <= cols ? gemmScratchBytes(inst, f64, cols, rows, rows) : gemmScratchBytes(inst, f64, cols, cols, rows),
  );
  const zAlt = 3 * square;
  const aScaled = zAlt + full;
  const gemmAt = aScaled + full;
  return { x: 0, p1: square, p2: 2 * square, zAlt, aScaled, gemm: gemmAt, total: gemmAt + up(gemm) };
}

/** 2^e exactly, for integer e in [-1074, 1023] (subnormal powers included), built from the bit pattern. */
function pow2(e: number): number {
  const bits = new DataView(new ArrayBuffer(8));
  if (e >= -1022) bits.setUint32(0, (e + 1023) << 20);
  else if (e >= -1042) bits.setUint32(0, 1 << (e + 1042)); // subnormal, bit in the high word
  else bits.setUint32(4, 2 ** (e + 1074)); //                  subnormal, bit in the low word (exact integer)
  return bits.getFloat64(0);
}

/**
 * Factors [f1, f2] with x·f1·f2 = x·2^e and one rounding at most (none unless the result leaves the
 * normal range), for integer e in [-1074, 2046]. For e > 1023 both enlarge |x|, so x·f1 is exact.
 * Computed once per call: building them per element would dominate a small pinv.
 */
function pow2Factors(e: number): [number, number] {
  return e > 1023 ? [pow2(1023), pow2(e - 1023)] : [pow2(e), 1];
}

/** ⌊log2 x⌋ exactly for finite x > 0 (subnormals included), from the exponent bits. */
function exponentOf(x: number): number {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, x);
  const biased = (bits.getUint32(0) >>> 20) & 0x7ff;
  return biased === 0 ? exponentOf(x * 2 ** 64) - 64 : biased - 1023;
}

/** Bytes of scratch `pinvAt` needs for a rows×cols matrix (three s×s work matrices, s = min(rows, cols), a second Z, a rescaled copy of A, GEMM packing). */
export function pinvScratchBytes(inst: WasmInstance, f64: boolean, rows: number, cols: number): number {
  return pinvLayout(inst, f64, rows, cols).total;
}

/**
 * Z_N of the cubic hyperpower iteration on pointers in `inst`'s memory: `a` is rows×cols (read only),
 * `z` receives cols×rows, `scratch` holds `pinvScratchBytes(...)` bytes (16-byte aligned); f32 or f64.
 * Z_0 = Aᵀ/(‖A‖₁‖A‖∞) from this matrix alone (A = 0 → Z = 0), then N steps in the 4-GEMM form on the
 * smaller side (X = A·Z when rows ≤ cols, else Y = Z·A); no identity matrix is formed.
 *
 * Range: the iteration runs on A' = 2^s·A with s chosen so that max|a'_ij| ∈ [1, 2) (a copy in scratch),
 * and Z = 2^s·Z'(A') at the end, because Z_N(c·A) = Z_N(A)/c for every step. Scaling by a power of two is
 * exact (X = A·Z is bit-identical to the unscaled run), so this only changes results whose norms, alpha or
 * Z would have under- or overflowed: tiny or huge entries then no longer give NaN or zeros. Entries of A
 * more than ~2^149 (f32) / 2^1074 (f64) below the largest one flush to zero in A'. An entry of Z outside
 * the output type's range comes out as ±Infinity (or rounds to a subnormal / ±0), not as NaN.
 */
export function pinvAt(inst: WasmInstance, f64: boolean, a: number, rows: number, cols: number, iterations: number, z: number, scratch: number): void {
  const bytes = f64 ? 8 : 4;
  const len = rows * cols;
  if (len === 0) return;
  const L = pinvLayout(inst, f64, rows, cols);
  const mem = inst.mem;
  // Scale, norms and Z_0 in float64 on the host: O(rows·cols), negligible next to the GEMMs.
  const av = f64 ? mem.f64(a, len) : mem.f32(a, len);
  const zv = f64 ? mem.f64(z, len) : mem.f32(z, len);
  let maxAbs = 0;
  for (let i = 0; i < len; i++) maxAbs = Math.max(maxAbs, Math.abs(av[i]));
  if (maxAbs === 0) {
    zv.fill(0);
    return;
  }
  const shift = -exponentOf(maxAbs); // in [-1023, 1074]; A' = 2^shift·A has max |entry| in [1, 2)
  let aIter = a;
  let asv = av;
  if (shift !== 0) {
    aIter = scratch + L.aScaled;
    asv = f64 ? mem.f64(aIter, len) : mem.f32(aIter, len);
    const [f1, f2] = pow2Factors(shift);
    for (let i = 0; i < len; i++) asv[i] = av[i] * f1 * f2; // exact when shift > 0; one rounding (to the type) otherwise
  }
  const colSums = new Float64Array(cols);
  let normInf = 0;
  for (let i = 0; i < rows; i++) {
    let rowSum = 0;
    for (let j = 0; j < cols; j++) {
      const x = Math.abs(asv[i * cols + j]);
      rowSum += x;
      colSums[j] += x;
    }
    if (rowSum > normInf) normInf = rowSum;
  }
  let norm1 = 0;
  for (let j = 0; j < cols; j++) if (colSums[j] > norm1) norm1 = colSums[j];
  // norm1, normInf ∈ [1, 2·max(rows, cols)]: alpha neither under- nor overflows.
  const alpha = 1 / (norm1 * normInf);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) zv[j * rows + i] = alpha * asv[i * cols + j];

  if (iterations > 0) {
    const x = scratch + L.x;
    const p1 = scratch + L.p1;
    const p2 = scratch + L.p2;
    const gs = scratch + L.gemm;
    const s = Math.min(rows, cols);
    const sqBytes = s * s * bytes;
    let zCur = z;
    let zNext = scratch + L.zAlt;
    inst.run('pinv', (k) => {
      const gemm = f64 ? k.gemm_f64 : k.gemm_f32;
      const heap = new Uint8Array(mem.buffer);
      for (let it = 0; it < iterations; it++) {
        if (rows <= cols) {
          gemm(0, 0, rows, cols, rows, 1, aIter, cols, zCur, rows, 0, x, rows, gs); //       X = A·Z
        } else {
          gemm(0, 0, cols, rows, cols, 1, zCur, rows, aIter, cols, 0, x, cols, gs); //       Y = Z·A
        }
        heap.copyWithin(p1, x, x + sqBytes);
        gemm(0, 0, s, s, s, -1, x, s, x, s, 7, p1, s, gs); //                                P1 = 7X − X·X
        heap.copyWithin(p2, x, x + sqBytes);
        gemm(0, 0, s, s, s, -1, x, s, p1, s, 15, p2, s, gs); //                              P2 = 15X − X·P1
        heap.copyWithin(zNext, zCur, zCur + len * bytes);
        if (rows <= cols) {
          gemm(0, 0, cols, rows, rows, -0.25, zCur, rows, p2, rows, 3.25, zNext, rows, gs); // Z' = 3.25Z − ¼·Z·P2
        } else {
          gemm(0, 0, cols, cols, rows, -0.25, p2, cols, zCur, rows, 3.25, zNext, rows, gs); // Z' = 3.25Z − ¼·P2·Z
        }
        const t = zCur;
        zCur = zNext;
        zNext = t;
      }
      if (zCur !== z) heap.copyWithin(z, zCur, zCur + len * bytes);
    });
  }
  if (shift !== 0) {
    // Z = 2^shift·Z': exact in float64, one rounding to the output type (±Infinity beyond its range).
    const zs = f64 ? mem.f64(z, len) : mem.f32(z, len);
    const [f1, f2] = pow2Factors(shift);
    for (let i = 0; i < len; i++) zs[i] = zs[i] * f1 * f2;
  }
}

export interface PinvOptions<T extends FloatArray> {
  /** Steps N of the hyperpower iteration, an integer in [0, 100]. Default 6 (part of the definition, §3). */
  iterations?: number;
  /** cols×rows result buffer, same type as `a`; must not overlap `a`. */
  out?: T;
}

export function linalgApi(inst: WasmInstance) {
  return {
    /**
     * Iterative Moore–Penrose inverse: Z_N of the cubic hyperpower iteration (Nyströmformer)
     * Z_{k+1} = ¼·Z_k·(13I − A·Z_k·(15I − A·Z_k·(7I − A·Z_k))) from Z_0 = Aᵀ/(‖A‖₁·‖A‖∞), run as four
     * GEMMs per step on the smaller side (docs/attention.md §3). N is part of the definition: with the
     * default 6 the result is a spectral filter of A (what Nyström attention uses), not A⁺; for an accurate
     * A⁺ of a well-conditioned A take N ≈ log(1/(alpha·σ_min²))/log 3.25 + 3. No status is reported.
     *
     * Range: any finite A works, also with tiny (subnormal) or huge entries. The iteration runs on 2^s·A,
     * s chosen so the largest |entry| is in [1, 2), and the result is scaled back by 2^s; both scalings are
     * exact, so Z_N(c·A) = Z_N(A)/c holds bit for bit when c is a power of two and nothing under/overflows.
     * When an entry of the result is beyond the output type's range (e.g. Float32 entries ≈ 1e-45, whose
     * inverse ≈ 1e44 > 3.4e38, or Float64 entries ≈ 5e-324) it is ±Infinity; entries below the smallest
     * subnormal become ±0. Never NaN for finite A. Entries more than ~2^149 (f32) or ~2^1074 (f64) below
     * A's largest |entry| count as zero.
     *
     * @param a - A, rows×cols row-major, Float32Array or Float64Array, finite.
     * @param rows - rows of A (integer ≥ 0).
     * @param cols - columns of A (integer ≥ 0); rows = 0 or cols = 0 gives an empty result.
     * @param opts.iterations - N, integer in [0, 100], default 6 (0 returns Z_0).
     * @param opts.out - cols×rows buffer of `a`'s type for the result.
     * @returns Z_N, cols×rows row-major, `opts.out` or a new array of `a`'s type.
     * @throws TypeError for a non-typed `a`, a wrong-typed `out` or option; RangeError for bad sizes,
     *   iterations outside [0, 100], non-finite entries, or `out` overlapping `a`.
     */
    pinv<T extends FloatArray>(a: T, rows: number, cols: number, opts?: PinvOptions<T>): T {
      const fn = 'pinv';
      checkFloatArray(fn, 'a', a);
      checkInt(fn, 'rows', rows);
      checkInt(fn, 'cols', cols);
      checkProduct(fn, 'rows*cols', rows, cols);
      checkFloatArray(fn, 'a', a, rows * cols, 'rows*cols');
      const o = checkOptions(fn, opts);
      const iterations = o.iterations === undefined ? 6 : checkInt(fn, 'opts.iterations', o.iterations, 0, PINV_MAX_ITERATIONS);
      const out = o.out;
      if (out !== undefined) {
        checkFloatArray(fn, 'opts.out', out, rows * cols, 'cols*rows');
        checkSameType(fn, [['a', a], ['opts.out', out]]);
        checkNoOverlap(fn, 'opts.out', out, [['a', a]]);
      }
      checkFinite(fn, 'a', a);
      const f64 = a instanceof Float64Array;
      const ctor = (f64 ? Float64Array : Float32Array) as unknown as { new (buf: ArrayBufferLike, off: number, len: number): T; new (len: number): T; BYTES_PER_ELEMENT: number };
      if (rows === 0 || cols === 0) return out ?? new ctor(0);
      const bytes = f64 ? 8 : 4;
      const scratchBytes = pinvScratchBytes(inst, f64, rows, cols);
      inst.mem.checkFits(fn, 2 * rows * cols * bytes + scratchBytes);
      return inst.mem.scoped((scope) => {
        scope.pin(a, out);
        const aPtr = scope.copyIn(a, 'pinv: a');
        const z = scope.resultPtr(out, rows * cols * bytes, 'pinv: z');
        const scratch = scope.alloc(scratchBytes, 'pinv scratch');
        pinvAt(inst, f64, aPtr, rows, cols, iterations, z, scratch);
        return scope.copyOut(ctor, z, rows * cols, out);
      });
    },
    /**
     * Solve A·X = B by LU with partial pivoting, in float64 (blocked; the O(n³) part runs on the SIMD
     * GEMM). A Float32Array input is widened exactly; the result has the type of `b`.
     *
     * @param a - A, n×n row-major, Float32Array or Float64Array, finite.
     * @param b - B, n×nrhs row-major, same type as `a`, finite.
     * @param n - order of A (integer ≥ 0).
     * @param nrhs - number of right-hand sides (integer ≥ 0).
     * @returns X, n×nrhs row-major, a new array of `b`'s type.
     * @throws TypeError for non-typed or mixed-type arrays; RangeError for bad sizes, non-finite entries,
     *   or a singular A (an exactly zero pivot, or a solution that overflows).
     */
    solve<T extends FloatArray>(a: T, b: T, n: number, nrhs: number): T {
      const fn = 'solve';
      checkFloatArray(fn, 'a', a);
      checkFloatArray(fn, 'b', b);
      checkSameType(fn, [['a', a], ['b', b]]);
      checkInt(fn, 'n', n);
      checkInt(fn, 'nrhs', nrhs);
      checkProduct(fn, 'n*n', n, n);
      checkProduct(fn, 'n*nrhs', n, nrhs);
      checkFloatArray(fn, 'a', a, n * n, 'n*n');
      checkFloatArray(fn, 'b', b, n * nrhs, 'n*nrhs');
      checkFinite(fn, 'a', a);
      checkFinite(fn, 'b', b);
      const Out = (b instanceof Float64Array ? Float64Array : Float32Array) as unknown as { new (len: number): T };
      if (n === 0 || nrhs === 0) return new Out(n * nrhs);
      return inst.mem.scoped((scope) => {
        scope.pin(a, b);
        const lda = paddedLd(n);
        const lu = stageSquareF64(scope, a, n, lda, 'solve: a');
        const x = stageF64(scope, b, 'solve: b');
        const ipiv = scope.alloc(n * 4, 'solve: pivots');
        const info = luFactorAt(inst, scope, lu, n, ipiv, lda);
        if (info !== 0) throw new RangeError(`solve: a is singular: the pivot of column ${info - 1} is exactly zero`);
        luSolveAt(inst, scope, lu, n, ipiv, x, nrhs, lda);
        const result = new Out(n * nrhs);
        const view = scope.mem.f64(x, n * nrhs);
        for (let i = 0; i < view.length; i++) {
          if (!Number.isFinite(view[i])) throw new RangeError(`solve: a is singular to working precision: X[${i}] is ${view[i]}`);
        }
        (result as unknown as Float64Array).set(view);
        return result;
      });
    },
    /**
     * General matrix multiply: C = alpha·op(A)·op(B) + beta·C, C is m×n, row-major.
     *
     * @param a - A as m×k (or k×m with `transA`), Float32Array or Float64Array.
     * @param b - B as k×n (or n×k with `transB`), same type as `a`.
     * @param m - rows of op(A) and C (integer ≥ 0).
     * @param k - inner dimension (integer ≥ 0); k = 0 gives C = beta·C.
     * @param n - columns of op(B) and C (integer ≥ 0).
     * @returns `opts.out` when given, else a new array of `a`'s type with m·n elements.
     * @throws TypeError for non-typed or mixed-type arrays; RangeError for bad sizes, non-finite values or
     *   alpha/beta, beta ≠ 0 without `out`, or `out` overlapping an input.
     */
    matmul<T extends FloatArray>(a: T, b: T, m: number, k: number, n: number, opts?: MatmulOptions<T>): T {
      const p = planMatmul(a, b, m, k, n, opts);
      const ctor = (p.f64 ? Float64Array : Float32Array) as unknown as { new (buf: ArrayBufferLike, off: number, len: number): T; BYTES_PER_ELEMENT: number };
      if (m === 0 || n === 0) return emptyMatmul(p);
      const mem = inst.mem;
      return mem.scoped((scope) => {
        const scratchBytes = gemmScratchBytes(inst, p.f64, m, k, n);
        const ptrs = stageMatmul(inst, scope, p, scratchBytes);
        const scratch = scope.alloc(scratchBytes, 'gemm scratch');
        gemmRows(inst, p, { ...ptrs, scratch }, 0, m);
        return scope.copyOut(ctor, ptrs.c, m * n, p.out);
      });
    },
  };
}
