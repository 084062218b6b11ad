/**
 * What travels between the pool and its workers. Functions anywhere in the arguments (callbacks such as
 * a scorer, a denoiser, `onProgress`) become Comlink proxies; an `AbortSignal` stays on the caller's side
 * and is replaced by an abort message; typed arrays in results are transferred, not cloned.
 */

/** Placeholder for the i-th callback of a call. */
export interface CallbackSlot {
  __gencoreCallback: number;
}
/** Placeholder for the call's AbortSignal. */
export interface SignalSlot {
  __gencoreSignal: true;
}

export function isCallbackSlot(v: unknown): v is CallbackSlot {
  return typeof v === 'object' && v !== null && typeof (v as CallbackSlot).__gencoreCallback === 'number';
}
export function isSignalSlot(v: unknown): v is SignalSlot {
  return typeof v === 'object' && v !== null && (v as SignalSlot).__gencoreSignal === true;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Buffers of every typed array in `value` (top level, plain objects and arrays, two levels deep). */
export function transferablesOf(value: unknown, depth = 0, seen = new Set<ArrayBufferLike>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    // Only a whole, private buffer can be moved; a view into wasm memory or a shared buffer is cloned.
    if (buf instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buf.byteLength && !seen.has(buf)) {
      seen.add(buf);
    }
  } else if (depth < 3 && (Array.isArray(value) || isPlainObject(value))) {
    for (const v of Object.values(value)) transferablesOf(v, depth + 1, seen);
  }
  return depth === 0 ? ([...seen] as ArrayBuffer[]) : [];
}

import * as Comlink from 'comlink';
import { AbortError, KernelFaultError, TimeoutError, WorkerCrashedError } from '../shared/errors.js';

const ERROR_CLASSES: Record<string, new (message: string) => Error> = {
  TypeError,
  RangeError,
  AbortError,
  KernelFaultError,
  TimeoutError,
  WorkerCrashedError,
};

/**
 * Comlink rebuilds a thrown error as a plain `Error` with the original `name`. Rebuild gencore's error
 * classes instead, so `instanceof RangeError` holds across the worker boundary as it does in the sync API.
 * Installed on both sides by importing this module.
 */
function installErrorHandler(): void {
  const builtin = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, unknown>;
  if ((builtin as { gencore?: boolean }).gencore) return;
  Comlink.transferHandlers.set('throw', {
    gencore: true,
    canHandle: builtin.canHandle,
    serialize: builtin.serialize,
    deserialize(serialized: unknown): never {
      try {
        builtin.deserialize(serialized);
      } catch (err: unknown) {
        const e = err as Error;
        const Ctor = ERROR_CLASSES[e?.name];
        if (Ctor && Object.getPrototypeOf(e) !== Ctor.prototype) {
          const rebuilt = new Ctor(e.message);
          rebuilt.name = e.name;
          rebuilt.stack = e.stack;
          throw rebuilt;
        }
        throw err;
      }
      throw new Error('gencore: a worker error could not be decoded');
    },
  } as Comlink.TransferHandler<unknown, unknown>);
}
installErrorHandler();
