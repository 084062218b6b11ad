/**
 * Finding, compiling and instantiating the gencore wasm module.
 *
 * One AssemblyScript source gives four release builds: plain SIMD or relaxed SIMD (fused multiply-add),
 * each with a private or a shared (worker-visible) imported memory. `init()` picks relaxed when the
 * runtime validates a relaxed-SIMD probe, else plain SIMD; a runtime without SIMD gets a clear error.
 */
import { enableRelaxedSimd, readBinary } from './platform.js';
import { WasmMemory } from './memory.js';
import type { Kernels } from './kernels.js';
import { KernelFaultError } from '../shared/errors.js';

export type Build = 'relaxed' | 'plain';

/** What `init()` chose. */
export interface Features {
  /** The build in use: `relaxed` (f32x4.relaxed_madd) or `plain` SIMD. */
  build: Build;
  /** The runtime validates relaxed SIMD (whether or not it was chosen). */
  relaxedSimdAvailable: boolean;
  /** The instance's memory is a shared `WebAssembly.Memory` (worker pools pass pointers). */
  sharedMemory: boolean;
}

export interface LoadOptions {
  /** `auto` (default): relaxed when available; `relaxed` fails if unavailable; `plain` forces plain SIMD. */
  simd?: 'auto' | 'relaxed' | 'plain';
  /** A wasm binary (bytes, or URL / path to fetch) to use instead of the packaged builds. */
  wasm?: URL | string | BufferSource;
}

export type { Kernels } from './kernels.js';

// Minimal modules returning a v128 constant, and one that also runs f32x4.relaxed_madd.
const SIMD_PROBE = 'AGFzbQEAAAABBQFgAAF7AwIBAAoWARQA/QwAAAAAAAAAAAAAAAAAAAAACw==';
const RELAXED_PROBE =
  'AGFzbQEAAAABBQFgAAF7AwIBAAo9ATsA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/YUCCw==';

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const WASM_URLS = {
  plain: () => new URL('../../build/gencore.simd.wasm', import.meta.url),
  relaxed: () => new URL('../../build/gencore.relaxed.wasm', import.meta.url),
  'plain-shared': () => new URL('../../build/gencore.simd.shared.wasm', import.meta.url),
  'relaxed-shared': () => new URL('../../build/gencore.relaxed.shared.wasm', import.meta.url),
} as const;

/** Probe the runtime: SIMD is required; relaxed SIMD is optional. */
export function detectSimd(): { simd: boolean; relaxed: boolean } {
  const simd = WebAssembly.validate(fromBase64(SIMD_PROBE));
  let relaxed = false;
  if (simd) {
    enableRelaxedSimd();
    relaxed = WebAssembly.validate(fromBase64(RELAXED_PROBE));
  }
  return { simd, relaxed };
}

/** Choose the build for `opts.simd`, or throw a clear error. */
export function chooseBuild(simd: LoadOptions['simd'] = 'auto'): { build: Build; relaxedAvailable: boolean } {
  if (simd !== 'auto' && simd !== 'relaxed' && simd !== 'plain') {
    throw new RangeError(`init: simd must be 'auto', 'relaxed' or 'plain', got ${String(simd)}`);
  }
  const probe = detectSimd();
  if (!probe.simd) {
    throw new Error(
      'gencore needs WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+, Node 16.4+); this runtime does not support it',
    );
  }
  if (simd === 'relaxed' && !probe.relaxed) {
    throw new Error("init: simd: 'relaxed' was requested but this runtime does not support relaxed SIMD");
  }
  const build: Build = simd === 'plain' ? 'plain' : probe.relaxed ? 'relaxed' : 'plain';
  return { build, relaxedAvailable: probe.relaxed };
}

/** Fetch and compile one build. */
export async function compileBuild(build: Build, shared: boolean, wasm?: LoadOptions['wasm']): Promise<WebAssembly.Module> {
  let bytes: BufferSource;
  if (wasm === undefined) bytes = await readBinary(WASM_URLS[shared ? (`${build}-shared` as const) : build]());
  else if (typeof wasm === 'string' || wasm instanceof URL) bytes = await readBinary(wasm);
  else if (ArrayBuffer.isView(wasm) || wasm instanceof ArrayBuffer) bytes = wasm;
  else throw new TypeError(`init: wasm must be a URL, a string or a BufferSource, got ${typeof wasm}`);
  return WebAssembly.compile(bytes);
}

// AssemblyScript calls env.abort on a failed assertion; release builds have none, but a trap stays a trap.
function abort(_msg: number, _file: number, line: number, col: number): never {
  throw new WebAssembly.RuntimeError(`gencore kernel abort at ${line}:${col}`);
}

/**
 * A live module instance with its memory owner. `run()` is the only way bindings call kernels: a trap
 * (a gencore bug) discards this instance's memory and state, a fresh instance takes its place, and the
 * caller gets a `KernelFaultError` instead of a raw `RuntimeError`.
 */
export class WasmInstance {
  kernels!: Kernels;
  mem!: WasmMemory;

  constructor(
    readonly module: WebAssembly.Module,
    readonly features: Features,
    memory?: WebAssembly.Memory,
  ) {
    this.instantiate(memory);
  }

  /** Instantiate on `memory` (a shared one from the pool) or on a new private memory. */
  private instantiate(memory?: WebAssembly.Memory): void {
    const mem =
      memory ?? new WebAssembly.Memory({ initial: 4, maximum: 65536, shared: this.features.sharedMemory } as WebAssembly.MemoryDescriptor);
    const instance = new WebAssembly.Instance(this.module, { env: { memory: mem, abort } });
    this.kernels = instance.exports as unknown as Kernels;
    this.mem = new WasmMemory(mem, this.kernels.heapBase());
  }

  /**
   * Throw a `KernelFaultError` naming `fn` when the instance was reset since `mem` was its memory. A call
   * holding pointers across an await (a step loop awaiting a callback) checks after every await: a
   * kernel fault in another call meanwhile discarded the memory its pointers lead into.
   */
  checkNotResetSince(fn: string, mem: WasmMemory): void {
    if (this.mem !== mem) {
      throw new KernelFaultError(`${fn}: a kernel fault in another call reset the wasm instance while this call was waiting; its buffers were lost, please retry`);
    }
  }

  /** Call kernels; converts a trap into `KernelFaultError` and replaces the instance. */
  run<T>(what: string, fn: (k: Kernels) => T): T {
    try {
      return fn(this.kernels);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) {
        // Shared memory belongs to the pool: a worker instance on it cannot start afresh on its own.
        if (!this.features.sharedMemory) this.instantiate();
        // The engine's trap text stays in `cause`; the message speaks to the user.
        throw new KernelFaultError(`${what}: an internal gencore kernel fault occurred; the instance was reset, please report it`, { cause: err });
      }
      throw err;
    }
  }
}

/** Load, compile and instantiate gencore for the calling thread. */
export async function loadInstance(opts: LoadOptions = {}): Promise<WasmInstance> {
  const { build, relaxedAvailable } = chooseBuild(opts.simd);
  const module = await compileBuild(build, false, opts.wasm);
  return new WasmInstance(module, { build, relaxedSimdAvailable: relaxedAvailable, sharedMemory: false });
}
