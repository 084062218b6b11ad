/**
 * What the diffusion calls share: the size limit of arrays built from size arguments, the shape and
 * callback-result checks, and progress reports.
 */
import type { FloatArray } from '../wasm/memory.js';
import { awaitCallback } from '../shared/callbacks.js';
import { checkInt, checkProduct, show } from '../shared/validate.js';

/**
 * Most values an array built from size arguments alone (no input array of that size exists yet) may
 * hold: 2^29, i.e. 2 GiB of f32, at least what a gc.sample batch can use (its two batch·dim f32 buffers
 * share the 4 GiB wasm32 memory). Checked before allocating, so a huge size is a RangeError naming the
 * parameter, not an out-of-memory kill.
 */
const MAX_VALUES = 2 ** 29;

/** `count` (the product named `what`) is at most MAX_VALUES. */
export function checkValues(fn: string, what: string, count: number): number {
  if (count > MAX_VALUES) throw new RangeError(`${fn}: ${what} = ${count} exceeds the limit of 2^29 values`);
  return count;
}

/** Progress of a long loop: step i of n done (1-based), at timestep t. */
export interface DiffusionProgress {
  step: number;
  steps: number;
  t: number;
}

/** Validate a denoiser / callback result: a float array of `length` finite values. */
export function checkCallbackResult(fn: string, what: string, v: unknown, length: number, t: number): FloatArray {
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw new TypeError(`${fn}: ${what} must return a Float32Array or Float64Array, got ${show(v)} at t = ${t}`);
  }
  if (v.length !== length) throw new RangeError(`${fn}: ${what} returned ${v.length} values at t = ${t}; expected batch*dim = ${length}`);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) throw new RangeError(`${fn}: ${what} returned ${x} at index ${i} (t = ${t}); values must be finite`);
  }
  return v;
}

export function checkShape(fn: string, shape: unknown): [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) throw new TypeError(`${fn}: opts.shape must be [batch, dim], got ${show(shape)}`);
  const batch = checkInt(fn, 'opts.shape[0] (batch)', shape[0], 1);
  const dim = checkInt(fn, 'opts.shape[1] (dim)', shape[1], 1);
  checkProduct(fn, 'batch*dim', batch, dim);
  return [batch, dim];
}

/**
 * Report progress. An async reporter (or one proxied from another thread) is awaited, so every report
 * arrives before the call resolves and a rejection rejects the call; a sync reporter costs nothing more.
 */
export async function report(onProgress: ((p: DiffusionProgress) => void) | undefined, p: DiffusionProgress, fn: string, signal: AbortSignal | undefined): Promise<void> {
  if (!onProgress) return;
  // A reporter that never settles must not outlive an abort.
  await awaitCallback(onProgress(p) as unknown, { fn, what: 'opts.onProgress', signal });
}
