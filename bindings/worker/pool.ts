/**
 * `createPool()`: the synchronous API's methods, each returning a Promise, run in Web Workers /
 * worker_threads through Comlink. Two data paths:
 * - the heavy methods (matmul, entropyNormalize, temperatureForEntropy, attention, nystromAttention; each
 *   capability's `parallel` table): with a shared memory (Node always; browsers when cross-origin
 *   isolated) the operands are staged once into it (`runShared`) and workers run tasks by pointer, split
 *   or as one task whatever the worker count; without one, operands are transferred;
 * - every other method: the generic `call`, the sync method whole in one worker's private instance.
 * A worker that dies mid-call rejects that call with `WorkerCrashedError` and is replaced; `terminate()`
 * rejects every pending call the same way.
 */
import * as Comlink from 'comlink';
import { canShareMemory, defaultWorkerCount, spawnWorker, type WorkerHandle } from '../wasm/platform.js';
import { chooseBuild, compileBuild, WasmInstance, type Features, type LoadOptions } from '../wasm/load.js';
import { WasmMemoryFullError, type FloatArray, type Scope, type TypedArray, type WasmMemory } from '../wasm/memory.js';
import { createApi, type AcceptResidents, type Api, type FloatInstances } from '../api.js';
import { allocResident, callWithResidents, holdResidentView, type ResidentArray, type ResidentElements, type ResidentType } from '../wasm/resident.js';
import { CAPABILITIES } from '../registry.js';
import { onAbort } from '../shared/abort.js';
import { awaitCallback, isThenable } from '../shared/callbacks.js';
import { AbortError, WorkerCrashedError } from '../shared/errors.js';
import { checkBool, checkInt, checkOptions } from '../shared/validate.js';
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

/** Every API method, returning a Promise (f32 in → f32 out, f64 in → f64 out, as in the sync API), resident arrays accepted. */
export type PoolApi = { [K in Exclude<keyof Api, keyof FloatInstances>]: Promisified<AcceptResidents<Api[K]>> } & {
  [K in keyof FloatInstances]: Promisified<AcceptResidents<FloatInstances[K][0]>> &
    Promisified<AcceptResidents<FloatInstances[K][1]>> &
    Promisified<AcceptResidents<FloatInstances[K][2]>>;
};

export type Pool = PoolApi & {
  /** Which wasm build the workers run, and whether memory is shared. */
  readonly features: Features;
  /** Number of workers. */
  readonly size: number;
  /** Stop every worker; pending calls (running or queued) and later calls reject with `WorkerCrashedError`. */
  terminate(): void;
  /**
   * Allocate a resident array in the pool's shared memory: `length` elements of `type`, kept until
   * `release()`. Pass it to any method of this pool, as an input or as `opts.out`: split calls (matmul,
   * entropyNormalize, attention) compute on it in place with no copy; a call run whole by one worker
   * reads it without a copy on the caller's thread and copies its result into a resident `opts.out`
   * (docs/memory.md). Releasing it while a call that received it is pending defers the free until that
   * call settles. Its contents are unspecified until written.
   *
   * @param type - `Float32Array`, `Float64Array`, `Int32Array` or `Uint8Array`.
   * @param length - number of elements (a non-negative safe integer).
   * @throws RangeError when the pool has no shared memory (`sharedMemory: false`, or a page that is not
   *   cross-origin isolated), for a bad `length`, or when the 4 GiB wasm address space is full; TypeError for another `type`.
   */
  alloc<T extends ResidentElements>(type: ResidentType<T>, length: number): ResidentArray<T>;
};

/**
 * Pages (64 KiB) the pool's shared memory starts with: 16 MiB, which the workers touch while they start
 * (`prefault` in worker.ts). A call's operands are copied into this memory on the caller's thread, and the
 * first write to a page the OS has not mapped yet costs a fault — about 15 µs per 4 KiB page on the test
 * machines, ~45 ms for the 12 MiB of a 1024² GEMM, all in one main-thread task.
 */
const SHARED_INITIAL_PAGES = 256;

/** Replacements tried for a worker that keeps dying before it starts. */
const MAX_START_FAILURES = 3;

export interface Slot {
  index: number;
  handle: WorkerHandle;
  remote: Comlink.Remote<WorkerApi>;
  ready: Promise<void>;
  /** Rejects when this worker dies or the pool is terminated. */
  crashed: Promise<never>;
  /** Reject `crashed`, and so every call waiting on this worker, with `err`. */
  fail(err: Error): void;
  busy: number;
}

/** Every capability's pool splits, by method name; every other method runs whole in the least busy worker. */
const PARALLEL: Record<string, (pool: WorkerPool, ...args: unknown[]) => Promise<unknown>> = Object.assign(
  {},
  ...CAPABILITIES.map((c) => c.parallel ?? {}),
);

/** A detached array (byteLength 0) cannot be posted; the sync API sees it as empty, and so does the pool. */
function emptyIfDetached(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && v.byteLength === 0) {
    return new (v.constructor as new (n: number) => ArrayBufferView)(0);
  }
  return v;
}

export class WorkerPool {
  private slots: Slot[] = [];
  private nextCallId = 1;
  private terminated = false;
  /** Calls by pointer waiting for room in the shared memory, oldest first: each retries its staging. */
  private memoryQueue: Array<() => boolean> = [];
  /** Calls holding blocks in the shared memory (each frees them when its tasks have settled). */
  private sharedHolders = 0;
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
    let fail!: (err: Error) => void;
    const crashed = new Promise<never>((_, r) => (fail = r));
    crashed.catch(() => {}); // observed by calls racing it; never unhandled
    let started = false;
    handle.onCrash((reason) => {
      if (this.terminated) return;
      const failures = started ? 0 : (this.startFailures[index] ?? 0) + 1;
      this.startFailures[index] = failures;
      // A worker that cannot start at all (a missing worker file, say) would fail forever: stop retrying.
      const replace = failures <= MAX_START_FAILURES && this.slots[index]?.handle === handle;
      fail(
        new WorkerCrashedError(
          started
            ? `gencore pool: worker ${index} died (${reason})${replace ? '; it has been replaced' : ''}`
            : `gencore pool: worker ${index} could not start: ${reason}`,
        ),
      );
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
    return { index, handle, remote, ready, crashed, fail, busy: 0 };
  }

  private throwIfTerminated(): void {
    if (this.terminated) throw new WorkerCrashedError('gencore pool: the pool was terminated');
  }

  /** The `count` least busy workers. */
  pick(count: number): Slot[] {
    return [...this.slots].sort((a, b) => a.busy - b.busy).slice(0, count);
  }

  /** Run `fn` on a worker; rejects with `WorkerCrashedError` if that worker dies first. */
  async onWorker<T>(slot: Slot, fn: (remote: Comlink.Remote<WorkerApi>) => Promise<T>): Promise<T> {
    this.throwIfTerminated();
    slot.busy++;
    try {
      try {
        await slot.ready;
      } catch (err) {
        // Nothing reached a worker that never started: its replacement, if there is one, takes the call.
        const replacement = this.slots[slot.index];
        if (replacement === slot || this.terminated) throw err;
        return await this.onWorker(replacement, fn);
      }
      return await Promise.race([fn(slot.remote), slot.crashed]);
    } finally {
      slot.busy--;
    }
  }

  /**
   * Generic call: `api[method](...args)` in the least busy worker. The arguments are captured when the
   * call is made (typed arrays copied, the copies then moved to the worker), not when it is posted.
   */
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
          const returned = fn(...a);
          return isThenable(returned) ? Promise.resolve(returned).then(emptyIfDetached) : emptyIfDetached(returned);
        };
        callbacks.push(Comlink.proxy(guarded));
        return { __gencoreCallback: callbacks.length - 1 } satisfies CallbackSlot;
      }
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return staged.stage(v as TypedArray);
      if (v instanceof ArrayBuffer) return staged.copy(v);
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
    const staged = new StagedArgs(this);
    let wireArgs: unknown[];
    try {
      wireArgs = Comlink.transfer(
        args.map((a) => strip(a, 1)),
        staged.transfers,
      );
    } catch (err) {
      staged.release();
      throw err;
    }
    if (signal?.aborted) {
      staged.release();
      throw new AbortError(`${method}: aborted`, { cause: signal.reason });
    }
    const callId = this.nextCallId++;
    const stopWorker = signal && onAbort(signal, () => void slot.remote.abort(callId, String(signal?.reason ?? 'aborted')).catch(() => {}));
    const reply = this.onWorker(slot, (r) => r.call(method, wireArgs, callId, ...(callbacks as never[])));
    try {
      // A worker busy inside wasm reads the abort message only when it yields: the caller does not wait
      // for it. Its late reply is dropped; the worker stays counted busy until it actually replies.
      return ownResult(await awaitCallback(reply, { fn: method, what: 'its worker', signal }), outs[0]);
    } catch (err) {
      // A value that cannot cross to a worker (a symbol, a class instance with private state) is the
      // caller's error, named as the sync API would.
      if ((err as Error)?.name === 'DataCloneError') {
        throw new TypeError(`${method}: an argument cannot be sent to a worker (${(err as Error).message})`);
      }
      throw err;
    } finally {
      stopWorker?.();
      // The worker reads the staged arguments until it has replied (or died): they are freed only then,
      // and after `ownResult` has copied out of them.
      const release = () => staged.release();
      void reply.then(release, release);
    }
  }

  /**
   * A call by pointer on the shared memory (split, or one task). `stage` allocates the call's blocks in
   * `scope` (synchronously, when the call is made) and returns its work; the blocks are freed once that
   * work, and every task it started, has settled. A call whose blocks do not fit next to other calls'
   * waits until they free theirs (first come, first served); one that cannot fit otherwise fails with its
   * RangeError.
   */
  async runShared<R>(stage: (host: WasmInstance, scope: Scope) => () => Promise<R>): Promise<R> {
    const { scope, work } = await this.admit(stage);
    try {
      return await work();
    } finally {
      scope.close();
      this.releaseShared();
    }
  }

  /** @internal A call starts holding blocks of the shared memory (split work or staged arguments). */
  holdShared(): void {
    this.sharedHolders++;
  }

  /** @internal A call freed its blocks of the shared memory: let waiting calls in, in order, while they fit. */
  releaseShared(): void {
    this.sharedHolders--;
    while (this.memoryQueue.length > 0 && this.memoryQueue[0]()) this.memoryQueue.shift();
  }

  private admit<R>(stage: (host: WasmInstance, scope: Scope) => () => Promise<R>): Promise<{ scope: Scope; work: () => Promise<R> }> {
    const host = this.host;
    if (!host) throw new Error('gencore pool: no shared memory');
    return new Promise((resolve, reject) => {
      /** Stage now: true when the call is settled (staged, or failed for good), false to wait. */
      const attempt = (): boolean => {
        if (this.terminated) {
          reject(new WorkerCrashedError('gencore pool: the pool was terminated'));
          return true;
        }
        const scope = host.mem.openScope();
        try {
          const work = stage(host, scope);
          this.holdShared();
          resolve({ scope, work });
        } catch (err) {
          scope.close();
          const mayFitLater = err instanceof WasmMemoryFullError && err.bytes <= host.mem.capacity && this.sharedHolders > 0;
          if (mayFitLater) return false;
          reject(err);
        }
        return true;
      };
      if (this.memoryQueue.length > 0 || !attempt()) this.memoryQueue.push(attempt);
    });
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
    if (this.terminated) return;
    this.terminated = true;
    const stopped = new WorkerCrashedError('gencore pool: the pool was terminated');
    // A terminated worker writes nothing more: the calls it ran may settle (and free their blocks) now.
    for (const slot of this.slots) {
      slot.handle.terminate();
      slot.fail(stopped);
    }
    for (const attempt of this.memoryQueue.splice(0)) attempt();
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

  /** Test hook: byte length of each worker's private wasm memory. */
  workerPrivateMemoryForTest(): Promise<number[]> {
    return Promise.all(this.slots.map((slot) => this.onWorker(slot, (r) => r.privateMemoryForTest())));
  }

  /** Test hook: the pool thread's shared-memory owner, if any. */
  get sharedMemoryForTest(): WasmMemory | undefined {
    return this.host?.mem;
  }
}

const isShared = (buf: ArrayBufferLike): boolean => typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;

/**
 * The typed-array arguments of one pool call, captured when the call is made: a caller may refill its
 * arrays as soon as the call returns its promise. With a shared memory each array is copied into a block
 * of it (a memcpy into pages already in use) and the worker gets a view on the block; otherwise into a
 * fresh buffer that is transferred. Posting the caller's array itself would structured-clone it later, and
 * cloning costs main-thread time far above a memcpy (Chromium: ~7 ms per MiB). Views on shared memory
 * pass as they are (shared by design); an empty or detached array is sent as an empty one, as the sync
 * API sees it.
 */
class StagedArgs {
  /** Buffers to transfer with the call. */
  readonly transfers: ArrayBuffer[] = [];
  private blocks: number[] = [];
  /** Resident arrays passed as they are, held until `release`. */
  private residents: Array<() => void> = [];
  private readonly host?: WasmInstance;

  constructor(private readonly pool: WorkerPool) {
    this.host = pool.host;
  }

  stage(v: TypedArray): TypedArray {
    if (isShared(v.buffer)) {
      // A resident array's block stays allocated until the worker has replied, even if released meanwhile.
      const letGo = holdResidentView(v as ResidentElements);
      if (letGo) this.residents.push(letGo);
      return v;
    }
    const Ctor = v.constructor as TypedArrayCtor;
    if (this.host && v.byteLength > 0) {
      const ptr = this.tryAlloc(v.byteLength);
      if (ptr !== undefined) {
        const view = new Ctor(this.host.mem.buffer, ptr, v.length);
        view.set(v);
        return view;
      }
    }
    const copy = new Ctor(v.length);
    if (v.byteLength > 0) copy.set(v);
    this.transfers.push(copy.buffer as ArrayBuffer);
    return copy;
  }

  /** An ArrayBuffer argument (serialized trie bytes, say): copied and transferred. */
  copy(v: ArrayBuffer): ArrayBuffer {
    const copy = v.slice(0);
    this.transfers.push(copy);
    return copy;
  }

  /** A block of the shared memory, or undefined when it is full (the argument is then transferred). */
  private tryAlloc(bytes: number): number | undefined {
    try {
      const ptr = this.host!.mem.alloc(bytes, 'pool argument');
      if (this.blocks.length === 0) this.pool.holdShared();
      this.blocks.push(ptr);
      return ptr;
    } catch {
      return undefined;
    }
  }

  /** Free the shared blocks: only once the worker can no longer read them (its reply came, or it died). */
  release(): void {
    for (const letGo of this.residents.splice(0)) letGo();
    if (this.blocks.length === 0) return;
    for (const ptr of this.blocks) this.host!.mem.free(ptr);
    this.blocks = [];
    this.pool.releaseShared();
  }
}

type TypedArrayCtor = { new (n: number): TypedArray; new (buf: ArrayBufferLike, offset: number, length: number): TypedArray };

/**
 * The caller's result: the worker's copy of `opts.out` is put into the caller's own buffer where the
 * method returned it, and any other array still on the shared memory (a staged argument the method
 * returned) is copied out before the call's blocks are freed.
 */
function ownResult({ result, outAt }: CallResult, out: unknown): unknown {
  const own = (v: unknown) => (ArrayBuffer.isView(v) && isShared(v.buffer) && !(v instanceof DataView) ? copyOf(v as TypedArray) : v);
  if (outAt !== undefined && ArrayBuffer.isView(out)) {
    const dst = out as FloatArray;
    if (outAt === '') {
      dst.set(result as FloatArray);
      return dst;
    }
    const record = result as Record<string, unknown>;
    dst.set(record[outAt] as FloatArray);
    return { ...mapValues(record, own), [outAt]: dst };
  }
  if (isPlainObject(result)) return mapValues(result, own);
  return own(result);
}

function copyOf(v: TypedArray): TypedArray {
  const copy = new (v.constructor as TypedArrayCtor)(v.length);
  copy.set(v);
  return copy;
}

const mapValues = (record: Record<string, unknown>, fn: (v: unknown) => unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).map(([key, v]) => [key, fn(v)]));

/**
 * Start a pool of gencore workers with the same methods as `init()`'s result, each returning a Promise.
 *
 * A call reads its arguments when it is made (changing an input array afterwards does not affect it). With a
 * shared memory, matmul, entropyNormalize, temperatureForEntropy, attention and nystromAttention stage
 * their operands once into it and workers run them by pointer (split, or one task in the least busy
 * worker); other methods run whole in one worker's private memory (docs/README.md). A call whose operands
 * do not fit in the 4 GiB wasm address space next to those of other calls is queued until they finish
 * (first come, first served); a call that cannot fit even alone rejects at once with a `RangeError`.
 * `terminate()` rejects every pending and later call with `WorkerCrashedError`.
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
    config.sharedMemory = new WebAssembly.Memory({ initial: SHARED_INITIAL_PAGES, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  }
  const features: Features = { build, relaxedSimdAvailable: relaxedAvailable, sharedMemory: wantShared };
  const pool = new WorkerPool(features, config, workers);
  // The method list comes from the sync API itself, so the pool offers exactly what `init()` offers.
  const methods = Object.keys(createApi(new WasmInstance(module, { ...features, sharedMemory: false })));
  const api: Record<string, unknown> = {};
  for (const name of methods) {
    const parallel = PARALLEL[name];
    const run = parallel ? (args: unknown[]) => parallel(pool, ...args) : (args: unknown[]) => pool.call(name, args);
    // Resident arrays are resolved here, not in `call`: split methods never reach it.
    api[name] = async (...args: unknown[]) => callWithResidents(name, pool.host, args, run);
  }
  Object.defineProperties(api, {
    features: { value: features, enumerable: true },
    size: { get: () => pool.size, enumerable: true },
    terminate: { value: () => pool.terminate() },
    alloc: {
      value: <T extends ResidentElements>(type: ResidentType<T>, length: number) => {
        if (!pool.host) {
          const why = canShareMemory() ? 'it was created with sharedMemory: false' : 'this page is not cross-origin isolated (COOP/COEP)';
          throw new RangeError(`pool.alloc: resident arrays live in the pool's shared memory, and this pool has none: ${why}`);
        }
        return allocResident(pool.host, 'pool.alloc', type, length);
      },
    },
    // Test hooks (not part of the public API).
    _pool: { value: pool },
  });
  return api as Pool;
}
