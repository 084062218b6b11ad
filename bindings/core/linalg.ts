/**
 * Linear algebra: matmul (blocked SIMD GEMM), and the solvers built on it.
 * Semantics: spec/attention.md §2 (matmul).
 */
import type { WasmInstance } from '../wasm/load.js';
import { copyOut, type FloatArray, type Scope } from '../wasm/memory.js';
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
} from './validate.js';

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
  checkFinite(fn, 'a', a);
  checkFinite(fn, 'b', b);
  if (out !== undefined && beta !== 0) checkFinite(fn, 'opts.out', out);
  return { a, b, m, k, n, transA, transB, alpha, beta, out, f64: a instanceof Float64Array };
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
  inst.run('matmul', (k) =>
    k[p.f64 ? 'gemm_f64' : 'gemm_f32'](
      +p.transA, +p.transB, rows, p.k, p.n, p.alpha, aRow, lda, ptrs.b, ldb, p.beta, ptrs.c + i0 * p.n * bytes, p.n, ptrs.scratch,
    ),
  );
}

/** Copy the operands of a planned call into `scope` (zero-copy for arrays already in wasm memory). */
export function stageMatmul(scope: Scope, p: MatmulPlan<FloatArray>): { a: number; b: number; c: number } {
  const a = scope.copyIn(p.a, 'a');
  const b = scope.copyIn(p.b, 'b');
  let c: number;
  if (p.out !== undefined && scope.mem.contains(p.out)) c = p.out.byteOffset;
  else if (p.out !== undefined && p.beta !== 0) c = scope.copyIn(p.out, 'out');
  else c = scope.alloc(p.m * p.n * (p.f64 ? 8 : 4), 'out');
  return { a, b, c };
}

export function linalgApi(inst: WasmInstance) {
  return {
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
      if (m === 0 || n === 0) return p.out ?? (new (ctor as unknown as { new (n: number): T })(0));
      const mem = inst.mem;
      return mem.scoped((scope) => {
        const ptrs = stageMatmul(scope, p);
        const scratch = scope.alloc(gemmScratchBytes(inst, p.f64, m, k, n), 'gemm scratch');
        gemmRows(inst, p, { ...ptrs, scratch }, 0, m);
        return copyOut(scope.mem, ctor, ptrs.c, m * n, p.out);
      });
    },
  };
}
