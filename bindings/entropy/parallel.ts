/**
 * Pool side of entropyNormalize / temperatureForEntropy: rows are split into contiguous blocks, one per
 * worker. With a shared memory the pool's thread stages the rows once and each worker solves its block by
 * pointer (with its own scratch row), whatever the worker count (a call too small to split is one block,
 * run by the least busy worker); without one, each worker gets its block of rows by message, and an
 * unsplit call is a generic call. Rows are solved independently, so the result is bit-identical to a
 * synchronous call on the same build.
 */
import {
  collectEntropySolve,
  entropyScratchBytes,
  entropySolveResult,
  planEntropySolve,
  stageEntropySolve,
  type EntropyNormalizeOptions,
  type EntropyNormalizeResult,
  type EntropySolvePlan,
  type EntropySolvePtrs,
  type TemperatureOptions,
  type TemperatureResult,
} from './entropy.js';
import type { FloatArray } from '../wasm/memory.js';
import type { WorkerPool } from '../worker/pool.js';
import { splitRange } from '../worker/split.js';

/** Rows [r0, r0 + rows) of an entropy solve, by pointer on the shared memory. */
export type EntropySolveTask = {
  kind: 'entropySolve';
  plan: Pick<EntropySolvePlan, 'cols' | 'f64' | 'fromLogits' | 'tol' | 'maxIter' | 'method'>;
  ptrs: EntropySolvePtrs;
  r0: number;
  rows: number;
  scratch: number;
};

/** Calls below this many elements run whole in one worker: splitting would cost more than it saves. */
const SPLIT_MIN_ELEMENTS = 1 << 15;

async function parallelSolve<T extends FloatArray>(
  pool: WorkerPool,
  method: 'entropyNormalize' | 'temperatureForEntropy',
  p: EntropySolvePlan<T>,
  args: unknown[],
): Promise<EntropyNormalizeResult<T> | TemperatureResult> {
  const blocks = splitRange(p.rows, p.rows * p.cols < SPLIT_MIN_ELEMENTS ? 1 : pool.size);
  if (pool.host) {
    return pool.runShared((host, scope) => {
      const scratchBytes = entropyScratchBytes(p);
      const ptrs = stageEntropySolve(scope, p, scratchBytes * blocks.length);
      const plan = { cols: p.cols, f64: p.f64, fromLogits: p.fromLogits, tol: p.tol, maxIter: p.maxIter, method: p.method };
      const tasks: EntropySolveTask[] = blocks.map(([r0, rows]) => ({
        kind: 'entropySolve',
        plan,
        ptrs,
        r0,
        rows,
        scratch: scope.alloc(scratchBytes, 'entropy scratch'),
      }));
      return async () => {
        await pool.splitShared(tasks);
        return entropySolveResult(p, collectEntropySolve(scope, p, ptrs));
      };
    });
  }
  if (blocks.length < 2) return (await pool.call(method, args)) as EntropyNormalizeResult<T> | TemperatureResult;
  // No shared memory: each worker solves its block of rows, sent by message.
  const slots = pool.pick(blocks.length);
  const parts = await Promise.all(
    blocks.map(([r0, rows], w) => {
      const x = p.x.slice(r0 * p.cols, (r0 + rows) * p.cols);
      const opts = { tol: p.tol, maxIter: p.maxIter, method: p.method === 1 ? 'su' : 'safeguarded' };
      const targets = p.targets.slice(r0, r0 + rows);
      const gamma0 = p.gamma0.slice(r0, r0 + rows);
      const partArgs =
        method === 'entropyNormalize'
          ? [x, rows, p.cols, targets, { ...opts, fromLogits: p.fromLogits, initialGamma: gamma0 }]
          : [x, rows, p.cols, targets, { ...opts, initialTemperature: gamma0.map((g) => 1 / g) }];
      return pool.call(method, partArgs, slots[w]) as Promise<Record<string, FloatArray | Int32Array | Uint8Array>>;
    }),
  );
  const assemble = <A extends FloatArray | Int32Array | Uint8Array>(key: string, make: (n: number) => A, width: number, into?: A): A => {
    const all = into ?? make(p.rows * width);
    blocks.forEach(([r0], w) => all.set(parts[w][key] as never, r0 * width));
    return all;
  };
  const common = {
    status: assemble('status', (n) => new Uint8Array(n), 1),
    iterations: assemble('iterations', (n) => new Int32Array(n), 1),
    entropy: assemble('entropy', (n) => new Float64Array(n), 1),
  };
  if (method === 'temperatureForEntropy') {
    return { temperature: assemble('temperature', (n) => new Float64Array(n), 1), ...common };
  }
  const Typed = (p.f64 ? Float64Array : Float32Array) as unknown as { new (n: number): T };
  return {
    out: assemble('out', (n) => new Typed(n), p.cols, p.out),
    gamma: assemble('gamma', (n) => new Float64Array(n), 1),
    ...common,
  };
}

export async function parallelEntropyNormalize<T extends FloatArray>(
  pool: WorkerPool,
  x: T,
  rows: number,
  cols: number,
  targetH: number | Float64Array,
  opts?: EntropyNormalizeOptions<T>,
): Promise<EntropyNormalizeResult<T>> {
  const p = planEntropySolve('entropyNormalize', x, rows, cols, targetH, opts, false);
  return parallelSolve(pool, 'entropyNormalize', p, [x, rows, cols, targetH, opts]) as Promise<EntropyNormalizeResult<T>>;
}

export async function parallelTemperatureForEntropy(
  pool: WorkerPool,
  logits: FloatArray,
  rows: number,
  cols: number,
  targetH: number | Float64Array,
  opts?: TemperatureOptions,
): Promise<TemperatureResult> {
  const p = planEntropySolve('temperatureForEntropy', logits, rows, cols, targetH, opts, true);
  return parallelSolve(pool, 'temperatureForEntropy', p, [logits, rows, cols, targetH, opts]) as Promise<TemperatureResult>;
}

