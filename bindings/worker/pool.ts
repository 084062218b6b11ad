/**
 * `createPool()`: the synchronous API's methods, each returning a Promise, run in Web Workers /
 * worker_threads through Comlink. Large GEMMs are split by row blocks across workers; with a shared
 * memory (Node always; browsers when cross-origin isolated) only pointers travel, else the blocks'
 * operands are transferred. A worker that dies mid-call rejects that call with `WorkerCrashedError`
 * and is replaced.
 */
import * as Comlink from 'comlink';
import { canShareMemory, defaultWorkerCount, spawnWorker, type WorkerHandle } from '../wasm/platform.js';
import { chooseBuild, compileBuild, WasmInstance, type Features, type LoadOptions } from '../wasm/load.js';
import type { FloatArray, WasmMemory } from '../wasm/memory.js';
import { createApi, type Api } from '../core/api.js';
import { AbortError, WorkerCrashedError } from '../core/errors.js';
import { checkBool, checkInt, checkOptions } from '../core/validate.js';
import { parallelMatmul } from './parallel/linalg.js';
import { ATTENTION_PARALLEL } from './parallel/attention.js';
import { CONSTRAINED_PARALLEL } from './parallel/beam.js';
import { EDIT_LOOKAHEAD_PARALLEL } from '../constrained/edit-lookahead.js';
import { DIFFUSION_PARALLEL } from './parallel/diffusion.js';
import { ENTROPY_PARALLEL } from './parallel/entropy.js';
import { isPlainObject, type CallbackSlot, type SignalSlot } from './protocol.js';
import type { SplitTask } from './split.js';
import type { CallResult, WorkerApi, WorkerConfig } from './worker.js';

export interface PoolOptions {
  /** Number of workers (integer ≥ 1). Default min(4, cores). */
  workers?: number;
  /** As in `init()`. */
  simd?: LoadOptions['simd'];
  /**
   * Share one wasm memory with the workers so split work passes pointers. Default: when the platform
   * allows it (Node; browsers when `crossOriginIsolated`). `false` forces transfers.
   */
  sharedMemory?: boolean;
}

type Promisified<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** Methods generic over the float type: a mapped type would erase `T`, so they get one overload per type. */
type FloatGeneric =
  | 'matmul'
  | 'pinv'
  | 'solve'
  | 'ddpmStep'
  | 'ddimStep'
  | 'entropyNormalize'
  | 'topKFilter'
  | 'nucleusFilter'
  | 'decodeTransform';
declare const api: Api;
/** f32 → f32, f64 → f64, and a union in gives the union out. */
type Overloads<F32, F64, Either> = Promisified<F32> & Promisified<F64> & Promisified<Either>;
type PerFloatType = {
  matmul: Overloads<typeof api.matmul<Float32Array>, typeof api.matmul<Float64Array>, typeof api.matmul<FloatArray>>;
  pinv: Overloads<typeof api.pinv<Float32Array>, typeof api.pinv<Float64Array>, typeof api.pinv<FloatArray>>;
  solve: Overloads<typeof api.solve<Float32Array>, typeof api.solve<Float64Array>, typeof api.solve<FloatArray>>;
  ddpmStep: Overloads<typeof api.ddpmStep<Float32Array>, typeof api.ddpmStep<Float64Array>, typeof api.ddpmStep<FloatArray>>;
  ddimStep: Overloads<typeof api.ddimStep<Float32Array>, typeof api.ddimStep<Float64Array>, typeof api.ddimStep<FloatArray>>;
  entropyNormalize: Overloads<typeof api.entropyNormalize<Float32Array>, typeof api.entropyNormalize<Float64Array>, typeof api.entropyNormalize<FloatArray>>;
  topKFilter: Overloads<typeof api.topKFilter<Float32Array>, typeof api.topKFilter<Float64Array>, typeof api.topKFilter<FloatArray>>;
  nucleusFilter: Overloads<typeof api.nucleusFilter<Float32Array>, typeof api.nucleusFilter<Float64Array>, typeof api.nucleusFilter<FloatArray>>;
  decodeTransform: Overloads<typeof api.decodeTransform<Float32Array>, typeof api.decodeTransform<Float64Array>, typeof api.decodeTransform<FloatArray>>;
};

/** Every API method, returning a Promise (f32 in → f32 out, f64 in → f64 out, as in the sync API). */
export type PoolApi = { [K in Exclude<keyof Api, FloatGeneric>]: Promisified<Api[K]> } & PerFloatType;

export type Pool = PoolApi & {
  /** Which wasm build the workers run, and whether memory is shared. */
  readonly features: Features;
  /** Number of workers. */
  readonly size: number;
  /** Stop every worker; pending calls reject with `WorkerCrashedError`. */
  terminate(): void;
};

/** Replacements tried for a worker that keeps dying before it starts. */
const MAX_START_FAILURES = 3;

export interface Slot {
  handle: WorkerHandle;
  remote: Comlink.Remote<WorkerApi>;
  ready: Promise<void>;
  /** Rejects when this worker dies. */
  crashed: Promise<never>;
  busy: number;
}

/**
 * Methods that split their work across workers (one file per module under parallel/); every other
 * method runs whole in the least busy worker.
 */
const PARALLEL: { [K in keyof Api]?: (pool: WorkerPool, ...args: Parameters<Api[K]>) => Promise<Awaited<ReturnType<Api[K]>>> } = {
  matmul: parallelMatmul,
  ...ATTENTION_PARALLEL,
  ...CONSTRAINED_PARALLEL,
  ...EDIT_LOOKAHEAD_PARALLEL,
  ...DIFFUSION_PARALLEL,
  ...ENTROPY_PARALLEL,
};

export class WorkerPool {
  private slots: Slot[] = [];
  private nextCallId = 1;
  private terminated = false;
  /** The pool thread's instance on the shared memory: the one allocator of that memory. */
  readonly host?: WasmInstance;

  constructor(
    readonly features: Features,
    private readonly config: WorkerConfig,
    size: number,
  ) {
    if (config.sharedMemory && config.sharedModule) {
      this.host = new WasmInstance(config.sharedModule, features, config.sharedMemory);
    }
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  get size(): number {
    return this.slots.length;
  }

  #caller?: WasmInstance;
  /** An instance on a private memory in the pool's own thread, for kernels that run beside the caller's callbacks. */
  callerInstance(): WasmInstance {
    return (this.#caller ??= new WasmInstance(this.config.module, { ...this.features, sharedMemory: false }));
  }

  /** Workers in a row that died before answering `init`, per slot: past the limit a slot stays down. */
  private startFailures: number[] = [];

  private spawn(index: number): Slot {
    const handle = spawnWorker();
    const remote = Comlink.wrap<WorkerApi>(handle.endpoint);
    let reject!: (err: Error) => void;
    const crashed = new Promise<never>((_, r) => (reject = r));
    crashed.catch(() => {}); // observed by calls racing it; never unhandled
    let started = false;
    handle.onCrash((reason) => {
      const failures = started ? 0 : (this.startFailures[index] ?? 0) + 1;
      this.startFailures[index] = failures;
      // A worker that cannot start at all (a missing worker file, say) would fail forever: stop retrying.
      const replace = failures <= MAX_START_FAILURES && !this.terminated && this.slots[index]?.handle === handle;
      reject(new WorkerCrashedError(`gencore pool: worker ${index} died (${reason})${replace ? '; it has been replaced' : ''}`));
      if (replace) {
        handle.terminate();
        this.slots[index] = this.spawn(index);
      }
    });
    const ready = Promise.race([remote.init(this.config), crashed]).then(() => {
      started = true;
      this.startFailures[index] = 0;
    });
    ready.catch(() => {});
    return { handle, remote, ready, crashed, busy: 0 };
  }

  /** The `count` least busy workers. */
  pick(count: number): Slot[] {
    return [...this.slots].sort((a, b) => a.busy - b.busy).slice(0, count);
  }

  /** Run `fn` on a worker; rejects with `WorkerCrashedError` if that worker dies first. */
  async onWorker<T>(slot: Slot, fn: (remote: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    if (this.terminated) throw new WorkerCrashedError('gencore pool: the pool was terminated');
    slot.busy++;
    try {
      await slot.ready;
      return await Promise.race([fn(slot.remote), slot.crashed]);
    } finally {
      slot.busy--;
    }
  }

  /** Generic call: `api[method](...args)` in the least busy worker. */
  async call(method: string, args: unknown[], slot = this.pick(1)[0]): Promise<unknown> {
    const callbacks: unknown[] = [];
    let signal: AbortSignal | undefined;
    const outs: unknown[] = [];
    const strip = (v: unknown, depth: number): unknown => {
      if (typeof v === 'function') {
        const fn = v as (...a: unknown[]) => unknown;
        // The worker hears of an abort by message, which callback replies can overtake: a callback
        // called after the abort refuses here, so the loop stops within one step as in the sync API.
        const guarded = (...a: unknown[]) => {
          if (signal?.aborted) throw new AbortError(`${method}: aborted`, { cause: signal.reason });
          return fn(...a);
        };
        callbacks.push(Comlink.proxy(guarded));
        return { __gencoreCallback: callbacks.length - 1 } satisfies CallbackSlot;
      }
      // A detached array (byteLength 0) cannot be posted; the sync API sees it as empty, and so does this.
      if (ArrayBuffer.isView(v) && !(v instanceof DataView) && v.byteLength === 0) {
        return new (v.constructor as new (n: number) => ArrayBufferView)(0);
      }
      if (typeof AbortSignal !== 'undefined' && v instanceof AbortSignal) {
        signal = v;
        return { __gencoreSignal: true } satisfies SignalSlot;
      }
      if (depth < 3 && Array.isArray(v)) return v.map((x) => strip(x, depth + 1));
      if (depth < 3 && isPlainObject(v)) {
        const copy: Record<string, unknown> = {};
        for (const [key, x] of Object.entries(v)) {
          if (key === 'out' && depth === 1) outs.push(x);
          copy[key] = strip(x, depth + 1);
        }
        return copy;
      }
      return v;
    };
    const wireArgs = args.map((a) => strip(a, 1));
    if (signal?.aborted) throw new AbortError(`${method}: aborted`, { cause: signal.reason });
    const callId = this.nextCallId++;
    const onAbort = () => void slot.remote.abort(callId, String(signal?.reason ?? 'aborted')).catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.onWorker(slot, (r) => r.call(method, wireArgs, callId, ...(callbacks as never[])));
      return fillOut(reply, outs[0]);
    } catch (err) {
      // A value that cannot cross to a worker (a symbol, a class instance with private state) is the
      // caller's error, named as the sync API would.
      if ((err as Error)?.name === 'DataCloneError') {
        throw new TypeError(`${method}: an argument cannot be sent to a worker (${(err as Error).message})`);
      }
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Split work on the shared memory: one task per worker, all awaited. */
  async splitShared(tasks: SplitTask[]): Promise<void> {
    const slots = this.pick(tasks.length);
    // Wait for every task, even after one fails: the caller frees the shared blocks they write to.
    const settled = await Promise.allSettled(tasks.map((task, i) => this.onWorker(slots[i], (r) => r.splitTask(task))));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  terminate(): void {
    this.terminated = true;
    for (const slot of this.slots) slot.handle.terminate();
  }

  /** Test hook: kill worker `index` abruptly, as a crash would. */
  killWorkerForTest(index: number): void {
    this.slots[index].handle.kill();
  }

  /** Test hook: make worker `index` trap inside a kernel (rejects with KernelFaultError). */
  trapWorkerForTest(index: number): Promise<void> {
    return this.onWorker(this.slots[index], (r) => r.trapForTest());
  }

  /** Test hook: bytes in use in each worker's private wasm heap. */
  workerHeapsForTest(): Promise<number[]> {
    return Promise.all(this.slots.map((slot) => this.onWorker(slot, (r) => r.heapForTest())));
  }

  /** Test hook: the pool thread's shared-memory owner, if any. */
  get sharedMemoryForTest(): WasmMemory | undefined {
    return this.host?.mem;
  }
}

/** Put the worker's copy of `opts.out` into the caller's own buffer, where the method returned it. */
function fillOut({ result, outAt }: CallResult, out: unknown): unknown {
  if (outAt === undefined || !ArrayBuffer.isView(out)) return result;
  const dst = out as FloatArray;
  if (outAt === '') {
    dst.set(result as FloatArray);
    return dst;
  }
  const record = result as Record<string, unknown>;
  dst.set(record[outAt] as FloatArray);
  return { ...record, [outAt]: dst };
}

/**
 * Start a pool of gencore workers with the same methods as `init()`'s result, each returning a Promise.
 *
 * @param opts.workers - number of workers (integer ≥ 1); default min(4, cores).
 * @param opts.simd - wasm build choice, as in `init()`.
 * @param opts.sharedMemory - share one wasm memory with the workers (default: when the platform allows).
 */
export async function createPool(opts?: PoolOptions): Promise<Pool> {
  const o = checkOptions('createPool', opts);
  const workers = o.workers === undefined ? defaultWorkerCount() : checkInt('createPool', 'opts.workers', o.workers, 1, 64);
  const wantShared = o.sharedMemory === undefined ? canShareMemory() : checkBool('createPool', 'opts.sharedMemory', o.sharedMemory);
  if (wantShared && !canShareMemory()) {
    throw new RangeError('createPool: opts.sharedMemory is true but this page is not cross-origin isolated (COOP/COEP)');
  }
  const { build, relaxedAvailable } = chooseBuild(o.simd);
  const module = await compileBuild(build, false);
  const config: WorkerConfig = { module, build, relaxedAvailable };
  if (wantShared) {
    config.sharedModule = await compileBuild(build, true);
    config.sharedMemory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  }
  const features: Features = { build, relaxedSimdAvailable: relaxedAvailable, sharedMemory: wantShared };
  const pool = new WorkerPool(features, config, workers);
  // The method list comes from the sync API itself, so the pool offers exactly what `init()` offers.
  const methods = Object.keys(createApi(new WasmInstance(module, { ...features, sharedMemory: false })));
  const api: Record<string, unknown> = {};
  for (const name of methods) {
    const parallel = PARALLEL[name as keyof Api] as ((p: WorkerPool, ...a: unknown[]) => Promise<unknown>) | undefined;
    api[name] = parallel ? (...args: unknown[]) => parallel(pool, ...args) : (...args: unknown[]) => pool.call(name, args);
  }
  Object.defineProperties(api, {
    features: { value: features, enumerable: true },
    size: { get: () => pool.size, enumerable: true },
    terminate: { value: () => pool.terminate() },
    // Test hooks (not part of the public API).
    _pool: { value: pool },
  });
  return api as Pool;
}
