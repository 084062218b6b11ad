/**
 * Argument checks shared by every binding. They run before any wasm call and throw `TypeError` for the
 * wrong kind of value and `RangeError` for a value out of range, with a message that names the function,
 * the parameter and the value seen.
 */
import type { FloatArray, TypedArray } from '../wasm/memory.js';

/** Short, safe rendering of a value for an error message. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v == null) return String(v);
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'function') return 'a function';
  return `a ${(v as object).constructor?.name ?? 'object'}`;
}

/** A size or count: an integer in [min, max]. */
export function checkInt(fn: string, name: string, v: unknown, min = 0, max = 2 ** 31 - 1): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    const range = max === 2 ** 31 - 1 ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(`${fn}: ${name} must be ${range}, got ${v}`);
  }
  return v;
}

/** A finite number, optionally within [min, max]. */
export function checkNumber(fn: string, name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${show(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${name} must be finite, got ${v}`);
  if (v < min || v > max) throw new RangeError(`${fn}: ${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function checkBool(fn: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${show(v)}`);
  return v;
}

/** An options object (or undefined → {}). */
export function checkOptions<T extends object>(fn: string, opts: T | undefined, name = 'opts'): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${fn}: ${name} must be an object, got ${show(opts)}`);
  }
  return opts;
}

/** One of a fixed set of strings. */
export function checkEnum<T extends string>(fn: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new (typeof v === 'string' ? RangeError : TypeError)(
      `${fn}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`,
    );
  }
  return v as T;
}

/** A Float32Array or Float64Array (plain arrays are refused: they would be copied element by element). */
export function checkFloatArray(fn: string, name: string, v: unknown, length?: number, lengthText?: string): FloatArray {
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw new TypeError(`${fn}: ${name} must be a Float32Array or Float64Array, got ${show(v)}`);
  }
  if (length !== undefined && v.length !== length) {
    throw new RangeError(`${fn}: ${name}.length ${v.length} does not match ${lengthText ?? 'expected'} = ${length}`);
  }
  return v;
}

/** A Float32Array exactly. */
export function checkF32(fn: string, name: string, v: unknown, length?: number, lengthText?: string): Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`${fn}: ${name} must be a Float32Array, got ${show(v)}`);
  return checkFloatArray(fn, name, v, length, lengthText) as Float32Array;
}

/** A typed array of the given constructor, with an optional exact length. */
export function checkTyped<T extends TypedArray>(
  fn: string,
  name: string,
  v: unknown,
  ctor: { new (n: number): T; name: string },
  length?: number,
  lengthText?: string,
): T {
  if (!(v instanceof ctor)) throw new TypeError(`${fn}: ${name} must be a ${ctor.name}, got ${show(v)}`);
  if (length !== undefined && v.length !== length) {
    throw new RangeError(`${fn}: ${name}.length ${v.length} does not match ${lengthText ?? 'expected'} = ${length}`);
  }
  return v;
}

/** All arrays have the same element type as the first one. */
export function checkSameType(fn: string, arrays: Array<[string, FloatArray | undefined]>): void {
  const [firstName, first] = arrays[0];
  for (const [name, arr] of arrays.slice(1)) {
    if (arr !== undefined && first !== undefined && arr.constructor !== first.constructor) {
      throw new TypeError(
        `${fn}: ${name} is a ${arr.constructor.name} but ${firstName} is a ${first.constructor.name}; all arrays must have one type`,
      );
    }
  }
}

/** Every element finite; the message names the first bad index. */
export function checkFinite(fn: string, name: string, arr: ArrayLike<number>): void {
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (x - x !== 0) throw new RangeError(`${fn}: ${name}[${i}] is ${x}; values must be finite`);
  }
}

/** Two typed arrays share bytes. */
export function overlaps(a: TypedArray, b: TypedArray): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** `out` must not share bytes with any input. */
export function checkNoOverlap(fn: string, outName: string, out: TypedArray, inputs: Array<[string, TypedArray]>): void {
  for (const [name, arr] of inputs) {
    if (overlaps(out, arr)) throw new RangeError(`${fn}: ${outName} must not overlap ${name}`);
  }
}

/** m·k style products stay below 2^31 elements (wasm32 indexes and the 4 GiB address space). */
export function checkProduct(fn: string, what: string, ...factors: number[]): number {
  const p = factors.reduce((a, b) => a * b, 1);
  if (p > 2 ** 31 - 1) throw new RangeError(`${fn}: ${what} = ${p} elements exceeds the wasm32 limit of 2^31 − 1`);
  return p;
}

/** An optional AbortSignal. */
export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const s = signal as AbortSignal;
  if (typeof signal !== 'object' || signal === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new TypeError(`${fn}: signal must be an AbortSignal, got ${show(signal)}`);
  }
  return signal as AbortSignal;
}

/** An optional callback. */
export function checkFunction<T extends Function>(fn: string, name: string, v: unknown, optional = false): T | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'function') throw new TypeError(`${fn}: ${name} must be a function, got ${show(v)}`);
  return v as T;
}
