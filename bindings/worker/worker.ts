/**
 * A gencore worker: one wasm instance with the synchronous API, exposed over Comlink. When the pool
 * shares a memory, a second instance on that memory runs pointer-only kernel calls for split work
 * (the pool's thread allocates everything there; this worker never does).
 */
import * as Comlink from 'comlink';
import { parentEndpoint } from '../wasm/platform.js';
import { WasmInstance, type Build } from '../wasm/load.js';
import { createApi, type Api } from '../api.js';
import { AbortError } from '../shared/errors.js';
import { isCallbackSlot, isPlainObject, isSignalSlot, transferablesOf } from './protocol.js';
import type { SplitTask } from './split.js';
import { CAPABILITIES } from '../registry.js';

/** Every capability's split-task runners, by task kind. */
const TASKS: Record<string, (inst: WasmInstance, task: SplitTask) => void> = Object.assign({}, ...CAPABILITIES.map((c) => c.tasks ?? {}));

export interface WorkerConfig {
  module: WebAssembly.Module;
  build: Build;
  relaxedAvailable: boolean;
  /** The pool's shared memory, when it has one. */
  sharedMemory?: WebAssembly.Memory;
  sharedModule?: WebAssembly.Module;
}

/** A method's result and where the caller's `opts.out` stands in it (see `call`). */
export interface CallResult {
  result: unknown;
  outAt?: string;
}

let api: Api | undefined;
let privateInstance: WasmInstance | undefined;
let sharedInstance: WasmInstance | undefined;
const controllers = new Map<number, AbortController>();
/** Calls still running in this worker (an aborted loop lets go at its next step). */
const running = new Set<Promise<unknown>>();

type Callback = (...args: unknown[]) => Promise<unknown>;

/** Put callbacks and the signal back where the pool left placeholders. */
function revive(value: unknown, callbacks: Callback[], signal: AbortSignal, depth = 0): unknown {
  if (isCallbackSlot(value)) return callbacks[value.__gencoreCallback];
  if (isSignalSlot(value)) return signal;
  if (depth < 3 && Array.isArray(value)) return value.map((v) => revive(v, callbacks, signal, depth + 1));
  if (depth < 3 && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = revive(v, callbacks, signal, depth + 1);
    return out;
  }
  return value;
}

/**
 * Make the OS map every page of the shared memory now, in this worker, rather than page by page when the
 * pool's thread first copies operands in (see SHARED_INITIAL_PAGES in pool.ts). An atomic add of 0 per
 * 4 KiB page writes without changing a byte, so blocks the pool's thread is already using are safe.
 */
function prefault(memory: WebAssembly.Memory): void {
  const words = new Int32Array(memory.buffer);
  for (let i = 0; i < words.length; i += 1024) Atomics.add(words, i, 0);
}

const workerApi = {
  init(cfg: WorkerConfig): void {
    const features = { build: cfg.build, relaxedSimdAvailable: cfg.relaxedAvailable, sharedMemory: false };
    privateInstance = new WasmInstance(cfg.module, features);
    api = createApi(privateInstance);
    if (cfg.sharedMemory && cfg.sharedModule) {
      sharedInstance = new WasmInstance(cfg.sharedModule, { ...features, sharedMemory: true }, cfg.sharedMemory);
      prefault(cfg.sharedMemory);
    }
  },

  /**
   * Run `api[method](...args)`; results' typed arrays are transferred back. `outAt` tells the pool where
   * the caller's `opts.out` stands in the result (found by identity: the method returned the buffer it
   * filled), so the pool can fill the caller's own buffer: `''` the result itself, a key of the result,
   * or undefined when the result does not contain it.
   */
  async call(method: string, args: unknown[], callId: number, ...callbacks: Callback[]): Promise<CallResult> {
    if (!api) throw new Error('gencore worker: call before init');
    const fn = (api as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function') throw new TypeError(`gencore worker: no method ${method}`);
    const controller = new AbortController();
    controllers.set(callId, controller);
    const revived = revive(args, callbacks, controller.signal) as unknown[];
    const work = Promise.resolve().then(() => fn.apply(api, revived));
    running.add(work);
    try {
      const result = await work;
      const out = revived.map((a) => (isPlainObject(a) ? a.out : undefined)).find((o) => o !== undefined);
      let outAt: string | undefined;
      if (out !== undefined && result === out) outAt = '';
      else if (out !== undefined && isPlainObject(result)) outAt = Object.keys(result).find((key) => result[key] === out);
      const reply: CallResult = { result, outAt };
      return Comlink.transfer(reply, transferablesOf(result));
    } finally {
      running.delete(work);
      controllers.delete(callId);
    }
  },

  /** Abort a running `call` (the pool forwards its caller's AbortSignal here). */
  abort(callId: number, reason?: string): void {
    controllers.get(callId)?.abort(new AbortError(reason ?? 'aborted'));
  },

  /** Run one piece of split work on the shared memory (pointers only). */
  splitTask(task: SplitTask): void {
    if (!sharedInstance) throw new Error('gencore worker: no shared memory');
    const run = TASKS[task.kind];
    if (!run) throw new TypeError(`gencore worker: no split task ${task.kind}`);
    run(sharedInstance, task);
  },

  /**
   * Test hook: trap inside a kernel, through `inst.run` as every binding does, so the trap becomes a
   * KernelFaultError and this worker's instance is reset (not public API).
   */
  trapForTest(): void {
    if (!privateInstance) throw new Error('gencore worker: trapForTest before init');
    privateInstance.run('trapForTest', (k) => k.trapForTest());
  },

  /** Test hook: bytes in use in this worker's private wasm heap, for leak checks (not public API). */
  async heapForTest(): Promise<number> {
    // A loop that yields lets this message in before it has seen its abort and freed its blocks.
    await Promise.allSettled(running);
    return privateInstance ? privateInstance.mem.bytesInUse : -1;
  },

  /** Test hook: byte length of this worker's private wasm memory (it grows when a call stages operands there). */
  privateMemoryForTest(): number {
    return privateInstance ? privateInstance.mem.byteLength : -1;
  },
};

export type WorkerApi = typeof workerApi;

// No top-level await: bundlers emit module workers in formats (iife) that cannot have one.
void parentEndpoint().then((endpoint) => Comlink.expose(workerApi, endpoint));
