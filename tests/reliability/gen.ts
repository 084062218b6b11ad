/**
 * A small seeded generator library for the reliability suite: reproducible random valid arguments and
 * targeted corruptions of them (wrong kinds, wrong lengths, NaN / ±Infinity, negative and huge sizes,
 * aliasing). Every fuzz case is a pure function of (seed, function name, call index), so a failure report
 * names the exact input that reproduces it.
 */

/** mulberry32: a tiny 32-bit PRNG, uniform in [0, 1). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Uniform in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** A standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** A seed that depends on a label and an index only (FNV-1a of the label, mixed with the index). */
export function seedFor(label: string, index: number, base = 0x9e3779b9): number {
  let h = 0x811c9dc5 ^ base;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return (Math.imul(h ^ index, 0x85ebca6b) ^ (index >>> 16)) >>> 0;
}

export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Uniform values in [lo, hi). */
export function floats(rng: Rng, ctor: Float32ArrayConstructor, n: number, lo?: number, hi?: number): Float32Array;
export function floats(rng: Rng, ctor: Float64ArrayConstructor, n: number, lo?: number, hi?: number): Float64Array;
export function floats(rng: Rng, ctor: FloatCtor, n: number, lo?: number, hi?: number): Float32Array | Float64Array;
export function floats(rng: Rng, ctor: FloatCtor, n: number, lo = -1, hi = 1): Float32Array | Float64Array {
  const out = new ctor(n);
  for (let i = 0; i < n; i++) out[i] = rng.float(lo, hi);
  return out;
}

/** Row-stochastic n×n (or rows×cols) matrix with a random sparsity pattern; row sums exactly ≤ 1. */
export function stochastic(rng: Rng, ctor: FloatCtor, rows: number, cols: number, zeroProb = 0.3): Float32Array | Float64Array {
  const out = new ctor(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const row = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      row[j] = rng.bool(zeroProb) ? 0 : rng.next() + 0.01;
      s += row[j];
    }
    if (s === 0) {
      row[rng.int(0, cols - 1)] = 1;
      s = 1;
    }
    // Scaling by a little under 1/s keeps the f32-rounded row sum below 1 + 1e-6.
    for (let j = 0; j < cols; j++) out[i * cols + j] = (row[j] / s) * (1 - 1e-7);
  }
  return out;
}

/** Token sequences: count sequences of length 1..maxLen over [0, vocab). */
export function tokenSeqs(rng: Rng, count: number, maxLen: number, vocab: number): number[][] {
  return Array.from({ length: count }, () => Array.from({ length: rng.int(1, maxLen) }, () => rng.int(0, vocab - 1)));
}

// ------------------------------------------------------------------ corruptions

/** Numbers that are wrong for a size, a count, a scalar option or an index. */
export const BAD_NUMBERS: readonly number[] = [
  NaN, Infinity, -Infinity, -1, -7, 0.5, 1.5, -0.5, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE,
  -Number.MAX_VALUE, Number.MIN_VALUE, -0, 0, 1e308, -1e308, 65536, 1e9,
];

/** Values of the wrong kind for any parameter. */
export function wrongKind(rng: Rng, pool: boolean): unknown {
  const kinds: Array<() => unknown> = [
    () => undefined,
    () => null,
    () => true,
    () => 'abc',
    () => '3',
    () => ({}),
    () => [],
    () => [1, 2, 3],
    () => [NaN],
    () => 3n,
    () => new Int8Array(3),
    () => new Uint8Array(4),
    () => new Int32Array([1, 2]),
    () => new Float32Array(2),
    () => new Float64Array(1),
    () => new DataView(new ArrayBuffer(8)),
    () => new ArrayBuffer(16),
    () => new Date(0),
    () => new Map(),
    () => Object.create(null),
    () => ({ length: 3, 0: 1, 1: 2, 2: 3 }),
    () => ({ length: -1 }),
    () => ({ length: 2 ** 40 }),
    () => rng.pick(BAD_NUMBERS),
  ];
  // A function or a symbol cannot cross a worker boundary as a value: the pool turns functions into
  // proxies (a valid call shape), and a symbol fails to clone, which is exercised separately.
  if (!pool) {
    kinds.push(() => Symbol('x'));
    kinds.push(() => () => 1);
  }
  return rng.pick(kinds)();
}

/** True for a view whose buffer was transferred away. */
export function isDetached(v: ArrayBufferView): boolean {
  try {
    new Uint8Array(v.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A typed array corrupted in one way: wrong type, wrong length, a non-finite entry, empty, or detached. */
export function corruptArray(rng: Rng, arr: ArrayLike<number> & { length: number; constructor: Function }): unknown {
  const ctor = arr.constructor as { new (n: number | ArrayLike<number>): ArrayLike<number> & { length: number } };
  const n = arr.length;
  if (isDetached(arr as unknown as ArrayBufferView)) return wrongKind(rng, false);
  switch (rng.int(0, 9)) {
    case 0: // wrong length
      return new ctor(Math.max(0, n + rng.pick([-1, 1, 7, -n])));
    case 1: {
      // NaN / ±Infinity somewhere (only meaningful for float arrays; integer arrays get a negative)
      const copy = new ctor(arr) as unknown as number[] & { length: number };
      if (copy.length > 0) copy[rng.int(0, copy.length - 1)] = rng.pick([NaN, Infinity, -Infinity, -1]);
      return copy;
    }
    case 2: // other element type, same length
      return rng.pick([
        () => new Float32Array(Array.from(arr)),
        () => new Float64Array(Array.from(arr)),
        () => new Int32Array(n),
        () => new Uint8Array(n),
        () => Array.from(arr),
      ])();
    case 3: // empty
      return new ctor(0);
    case 4: {
      // detached buffer (transferred away)
      const copy = new ctor(arr) as unknown as { buffer: ArrayBuffer };
      structuredClone(copy.buffer, { transfer: [copy.buffer] });
      return copy;
    }
    case 5: {
      // a view at an odd byte offset into a larger buffer (valid data, unusual layout)
      const bytes = (ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 8;
      const buf = new ArrayBuffer((n + 2) * bytes);
      const view = new (ctor as unknown as { new (b: ArrayBuffer, o: number, l: number): number[] })(buf, bytes, n);
      for (let i = 0; i < n; i++) view[i] = arr[i];
      return view;
    }
    case 6: // huge values
      return new ctor(Array.from(arr, () => rng.pick([1e30, -1e30, 3.4e38, 1e-45])));
    default:
      return wrongKind(rng, false);
  }
}

/** Replace one entry of an options object: drop it, make it wrong, or add an unknown key. */
export function corruptOptions(rng: Rng, opts: Record<string, unknown> | undefined, pool: boolean): unknown {
  if (opts === undefined || rng.bool(0.15)) return rng.pick([null, 'opts', 5, [], true, () => 1]);
  const copy: Record<string, unknown> = { ...opts };
  const keys = Object.keys(copy);
  const r = rng.next();
  if (keys.length > 0 && r < 0.3) {
    delete copy[rng.pick(keys)];
  } else if (keys.length > 0 && r < 0.85) {
    const key = rng.pick(keys);
    const v = copy[key];
    copy[key] = ArrayBuffer.isView(v) && !(v instanceof DataView) ? corruptArray(rng, v as unknown as Float32Array) : rng.bool(0.6) ? rng.pick(BAD_NUMBERS) : wrongKind(rng, pool);
  } else {
    copy[rng.pick(['unknownOption', 'out', 'signal', 'alpha', 'eta'])] = wrongKind(rng, pool);
  }
  return copy;
}

/** Corrupt one argument of a valid argument list (the position and the way are random). */
export function corruptArgs(rng: Rng, args: unknown[], pool: boolean): unknown[] {
  const out = args.slice();
  const r = rng.next();
  if (r < 0.07) return out.slice(0, rng.int(0, Math.max(0, out.length - 1))); // missing arguments
  const i = rng.int(0, out.length - 1);
  const v = out[i];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out[i] = corruptArray(rng, v as unknown as Float32Array);
  else if (typeof v === 'number') out[i] = rng.bool(0.75) ? rng.pick(BAD_NUMBERS) : wrongKind(rng, pool);
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) out[i] = corruptOptions(rng, v as Record<string, unknown>, pool);
  else out[i] = wrongKind(rng, pool);
  return out;
}

/** Every typed array reachable in `value` (two levels of plain objects / arrays). */
export function typedArraysIn(value: unknown, depth = 0, found: ArrayBufferView[] = []): ArrayBufferView[] {
  if (ArrayBuffer.isView(value)) found.push(value);
  else if (depth < 3 && value !== null && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    for (const v of Object.values(value)) typedArraysIn(v, depth + 1, found);
  }
  return found;
}

/** A byte snapshot of a view (empty when detached). */
export function bytesOf(v: ArrayBufferView): Uint8Array {
  try {
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  } catch {
    return new Uint8Array(0);
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Trap text that must never reach a caller. */
export const TRAP_TEXT = /unreachable|RuntimeError|memory access out of bounds|out of bounds memory|table index|divide by zero|integer overflow|call stack|wasm-function|invalid conversion/i;
