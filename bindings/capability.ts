/**
 * What one capability (linalg, attention, constrained, entropy, diffusion, repetition) contributes to
 * gencore. Each capability folder's `index.ts` declares one; `registry.ts` lists them, and the sync API
 * (`api.ts`), the pool (`worker/pool.ts`) and the workers (`worker/worker.ts`) iterate over that list.
 */
import type { WasmInstance } from './wasm/load.js';
import type { WorkerPool } from './worker/pool.js';

/** A pool version of method `F`: same arguments after the pool, a Promise of the same result. */
type PoolSplit<F> = F extends (...args: infer P) => infer R ? (pool: WorkerPool, ...args: P) => Promise<Awaited<R>> : never;

export interface Capability<A extends object> {
  /** The synchronous methods, bound to one wasm instance. */
  api(inst: WasmInstance): A;
  /**
   * Pool versions of some methods, which split their work across workers or run parts on the caller's
   * thread; every other method runs whole in the least busy worker.
   */
  parallel?: { [K in keyof A]?: PoolSplit<A[K]> };
  /** Pieces of split work a worker runs by pointer on the pool's shared memory, by task `kind`. */
  tasks?: Record<string, (inst: WasmInstance, task: never) => void>;
}

/** Declare a capability (identity at run time; it checks the parts against each other). */
export function defineCapability<A extends object>(capability: Capability<A>): Capability<A> {
  return capability;
}
