/**
 * Pool side of matmul: C is split into row blocks, one per worker. With a shared memory the operands are
 * staged once by the pool's thread and workers get pointers, whatever the worker count (a product too
 * small to split is one block, run by the least busy worker); without one, each worker gets its rows of
 * op(A) (and of C when beta ≠ 0) and all of op(B) by message, and an unsplit product is a generic call.
 */
import { emptyMatmul, gemmScratchBytes, planMatmul, stageMatmul, type MatmulOptions, type MatmulPlan } from './linalg.js';
import type { FloatArray } from '../wasm/memory.js';
import { checkFinite } from '../shared/validate.js';
import type { WorkerPool } from '../worker/pool.js';
import { splitRange } from '../worker/split.js';

/** Rows [i0, i0 + rows) of C, computed by pointer on the shared memory. */
export type GemmTask = {
  kind: 'gemm';
  plan: Pick<MatmulPlan<FloatArray>, 'm' | 'k' | 'n' | 'transA' | 'transB' | 'alpha' | 'beta' | 'f64'>;
  ptrs: { a: number; b: number; c: number; scratch: number };
  i0: number;
  rows: number;
};

/** GEMMs below this many multiply-adds run whole in one worker: splitting would cost more than it saves. */
const SPLIT_MIN_MACS = 64 * 64 * 64;
/** Row blocks start on multiples of the micro-kernel height. */
const ROW_GRANULE = 8;

export async function parallelMatmul<T extends FloatArray>(
  pool: WorkerPool,
  a: T,
  b: T,
  m: number,
  k: number,
  n: number,
  opts?: MatmulOptions<T>,
): Promise<T> {
  const p = planMatmul(a, b, m, k, n, opts);
  if (m === 0 || n === 0) return emptyMatmul(p);
  const blocks = splitRange(m, m * k * n < SPLIT_MIN_MACS ? 1 : pool.size, ROW_GRANULE);
  const ctor = (p.f64 ? Float64Array : Float32Array) as unknown as new (buf: ArrayBufferLike, off: number, len: number) => T;
  if (pool.host) {
    return pool.runShared((host, scope) => {
      const scratchBytes = blocks.map(([, rows]) => gemmScratchBytes(host, p.f64, rows, k, n));
      const ptrs = stageMatmul(host, scope, p, scratchBytes.reduce((x, y) => x + y, 0));
      const tasks: GemmTask[] = blocks.map(([i0, rows], w) => ({
        kind: 'gemm',
        plan: { m, k, n, transA: p.transA, transB: p.transB, alpha: p.alpha, beta: p.beta, f64: p.f64 },
        ptrs: { ...ptrs, scratch: scope.alloc(scratchBytes[w], 'gemm scratch') },
        i0,
        rows,
      }));
      return async () => {
        await pool.splitShared(tasks);
        return scope.copyOut(ctor as never, ptrs.c, m * n, p.out) as T;
      };
    });
  }
  if (blocks.length < 2) return (await pool.call('matmul', [a, b, m, k, n, opts])) as T;
  // No shared memory: each worker gets its rows of op(A) (and of C when beta ≠ 0) by transfer. Check the
  // whole arrays here, so an error names the caller's index, not one inside a worker's block.
  checkFinite('matmul', 'a', a);
  checkFinite('matmul', 'b', b);
  if (p.out !== undefined && p.beta !== 0) checkFinite('matmul', 'opts.out', p.out);
  const slots = pool.pick(blocks.length);
  const Typed = (p.f64 ? Float64Array : Float32Array) as unknown as { new (n: number): T };
  const parts = await Promise.all(
    blocks.map(([i0, rows], w) => {
      const aRows = new Typed(rows * k);
      if (p.transA) for (let r = 0; r < k; r++) aRows.set(a.subarray(r * m + i0, r * m + i0 + rows), r * rows);
      else aRows.set(a.subarray(i0 * k, (i0 + rows) * k));
      const cRows = p.out && p.beta !== 0 ? (p.out.slice(i0 * n, (i0 + rows) * n) as T) : undefined;
      const partOpts = { transA: p.transA, transB: p.transB, alpha: p.alpha, beta: p.beta, out: cRows };
      return pool.call('matmul', [aRows, b, rows, k, n, partOpts], slots[w]) as Promise<T>;
    }),
  );
  const out = p.out ?? new Typed(m * n);
  blocks.forEach(([i0], w) => out.set(parts[w], i0 * n));
  return out;
}
