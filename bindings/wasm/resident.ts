/**
 * Resident arrays: typed arrays kept in an instance's wasm memory (or a pool's shared memory) across
 * calls, so a pipeline passes them from function to function by pointer, with no copy in or out
 * (docs/memory.md). Every API method accepts one wherever it accepts a typed array; `callWithResidents`
 * turns them into views at the API boundary, so no binding knows about them.
 */
import type { WasmInstance } from './load.js';
import type { WasmMemory } from './memory.js';
import { ResidentArrayReleasedError } from '../shared/errors.js';
import { checkInt, show } from '../shared/validate.js';
import { isPlainObject } from '../worker/protocol.js';

/** The element types a resident array can have. */
export type ResidentElements = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The constructor of a resident element type, as passed to `alloc`. */
export type ResidentType<T extends ResidentElements = ResidentElements> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const RESIDENT_TYPES: readonly ResidentType[] = [Float32Array, Float64Array, Int32Array, Uint8Array];

/** What a resident array's owner tracks of it: only this module reads or changes it. */
interface Block {
  /** The instance whose memory holds the block (a pool's host instance for a pool). */
  readonly home: WasmInstance;
  /** `home.mem` when the block was allocated: a kernel fault replaces it, and the block with it. */
  readonly mem: WasmMemory;
  released: boolean;
  /** Calls that received the array and have not settled: the block is freed only when none is left. */
  uses: number;
}

let blockOf: (ra: ResidentArray) => Block;
/** The resident array behind each view `.array` handed out (a pool call may receive the view itself). */
const arrayOfView = new WeakMap<ResidentElements, ResidentArray>();

/**
 * A typed array that lives in gencore's wasm memory until `release()`: made by `gc.alloc` or `pool.alloc`.
 * Pass it (or its `.array`) to any function of the same instance or pool, as an input or as `opts.out`:
 * it is read and written in place, with no copy. Its bytes count in the heap's `bytesInUse` until released.
 */
export class ResidentArray<T extends ResidentElements = ResidentElements> {
  /** Number of elements. */
  readonly length: number;
  /** Byte address of the first element in the wasm memory (16-byte aligned). */
  readonly byteOffset: number;
  /** The element type. */
  readonly type: ResidentType<T>;
  #block: Block;
  #view: T;

  /** @internal Made by `alloc` (`gc.alloc`, `pool.alloc`), never directly. */
  constructor(home: WasmInstance, type: ResidentType<T>, length: number) {
    this.type = type;
    this.length = length;
    this.byteOffset = home.mem.alloc(length * type.BYTES_PER_ELEMENT, `resident ${type.name}`);
    this.#block = { home, mem: home.mem, released: false, uses: 0 };
    this.#view = new type(home.mem.buffer, this.byteOffset, length);
    arrayOfView.set(this.#view, this);
  }

  static {
    blockOf = (ra) => ra.#block;
  }

  /**
   * A view on the array's bytes. When the memory has grown since the last read, this is a new view on
   * the same bytes (a grow detaches the old views of a private memory): read `.array` again after any
   * gencore call or allocation rather than keeping the view.
   * @throws ResidentArrayReleasedError after `release()`, or when a kernel fault reset the instance (its memory was replaced).
   */
  get array(): T {
    const block = this.#block;
    checkAlive(block, 'ResidentArray.array', 'the array');
    if (this.#view.buffer !== block.mem.buffer) {
      this.#view = new this.type(block.mem.buffer, this.byteOffset, this.length);
      arrayOfView.set(this.#view, this);
    }
    return this.#view;
  }

  /** True after `release()`, or once a kernel fault reset the instance that held the array. */
  get released(): boolean {
    return this.#block.released || this.#block.home.mem !== this.#block.mem;
  }

  /**
   * Give the bytes back to the heap (idempotent). `.array` throws from now on. A pool call that received
   * the array and has not settled keeps the block until it does, so it never writes into another array.
   */
  release(): void {
    const block = this.#block;
    if (block.released) return;
    block.released = true;
    freeIfUnused(block, this.byteOffset);
  }
}

function checkAlive(block: Block, fn: string, what: string): void {
  if (block.home.mem !== block.mem) {
    throw new ResidentArrayReleasedError(`${fn}: ${what} was lost when a kernel fault reset its wasm instance (the instance replaced its memory); allocate it again`);
  }
  if (block.released) throw new ResidentArrayReleasedError(`${fn}: ${what} is a ResidentArray that was released`);
}

function freeIfUnused(block: Block, ptr: number): void {
  // After a reset the block went with the old memory: there is nothing to free.
  if (block.released && block.uses === 0 && block.home.mem === block.mem) block.mem.free(ptr);
}

/**
 * Allocate a resident array of `length` elements of `type` in `home`'s memory (zero-filled when the memory
 * is fresh, else holding whatever a freed block left: write it before reading).
 * @throws TypeError for another `type`; RangeError for a `length` that is not a non-negative safe integer,
 *   or a `WasmMemoryFullError` when it does not fit in the 4 GiB wasm address space.
 */
export function allocResident<T extends ResidentElements>(home: WasmInstance, fn: string, type: ResidentType<T>, length: number): ResidentArray<T> {
  if (!RESIDENT_TYPES.includes(type as ResidentType)) {
    throw new TypeError(`${fn}: type must be Float32Array, Float64Array, Int32Array or Uint8Array, got ${typeof type === 'function' ? type.name || 'a function' : show(type)}`);
  }
  checkInt(fn, 'length', length, 0, Number.MAX_SAFE_INTEGER);
  return new ResidentArray(home, type, length);
}

/** One resident array met among a call's arguments: where, and the view it was replaced by. */
interface Use {
  ra: ResidentArray;
  view: ResidentElements;
  /** Passed as an options object's `out`: the call's result is then `ra.array`. */
  isOut: boolean;
}

/**
 * Run `call` with every `ResidentArray` among `args` (top level, and one level into options objects and
 * arrays) replaced by its view. Each one must belong to `home` and be alive (checked before `call` runs);
 * it is held until the call settles (a Promise's settling), so releasing it meanwhile defers the free.
 * A result that views a resident `opts.out` is returned as that array's `.array`.
 */
export function callWithResidents<R>(fn: string, home: WasmInstance | undefined, args: unknown[], call: (args: unknown[]) => R): R {
  const uses: Use[] = [];
  const resolve = (v: unknown, where: string, isOut: boolean): unknown => {
    if (!(v instanceof ResidentArray)) return v;
    const block = blockOf(v);
    if (block.home !== home) {
      throw new TypeError(`${fn}: ${where} is a ResidentArray of another gencore instance or pool; pass arrays allocated by this one (its data is not in this memory, and a silent copy would defeat the point)`);
    }
    checkAlive(block, fn, where);
    const view = v.array;
    uses.push({ ra: v, view, isOut });
    return view;
  };
  const resolved = args.map((arg, i) => {
    const where = `argument ${i + 1}`;
    if (Array.isArray(arg)) return replaceSome(arg, (x, j) => resolve(x, `element ${j} of ${where}`, false));
    if (isPlainObject(arg)) return replaceSomeValues(arg, (x, key) => resolve(x, `${key} of ${where}`, key === 'out'));
    return resolve(arg, where, false);
  });
  if (uses.length === 0) return call(args);
  const releases = uses.map((u) => hold(u.ra));
  const settle = () => releases.forEach((release) => release());
  let result: R;
  try {
    result = call(resolved);
  } catch (err) {
    settle();
    throw err;
  }
  const out = uses.find((u) => u.isOut);
  if (result instanceof Promise) {
    return result.then(
      (r) => (settle(), out ? asOutArray(r, out) : r),
      (err) => {
        settle();
        throw err;
      },
    ) as R;
  }
  settle();
  return out ? (asOutArray(result, out) as R) : result;
}

/**
 * Keep the block that `view` (a view `.array` handed out) belongs to until the returned function is
 * called: a worker may still write into it after its call was abandoned (an abort does not wait for a
 * worker busy in wasm). Undefined when `view` is no resident array's.
 */
export function holdResidentView(view: ResidentElements): (() => void) | undefined {
  const ra = arrayOfView.get(view);
  return ra && hold(ra);
}

/** Count one more call using `ra` until the returned function is called (once). */
function hold(ra: ResidentArray): () => void {
  const block = blockOf(ra);
  block.uses++;
  return () => {
    block.uses--;
    freeIfUnused(block, ra.byteOffset);
  };
}

/** `v` with every element `replace` changes; `v` itself when none changes. */
function replaceSome(v: unknown[], replace: (x: unknown, i: number) => unknown): unknown[] {
  let copy: unknown[] | undefined;
  v.forEach((x, i) => {
    const y = replace(x, i);
    if (y !== x) (copy ??= [...v])[i] = y;
  });
  return copy ?? v;
}

function replaceSomeValues(v: Record<string, unknown>, replace: (x: unknown, key: string) => unknown): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, x] of Object.entries(v)) {
    const y = replace(x, key);
    if (y !== x) (copy ??= { ...v })[key] = y;
  }
  return copy ?? v;
}

/**
 * The result with the resident `out` in it as `out.array`: a binding returns the view it was given, or,
 * when the call grew the memory, a new view on the same bytes.
 */
function asOutArray(result: unknown, { ra, view }: Use): unknown {
  const isOut = (v: unknown) =>
    v === view || (ArrayBuffer.isView(v) && v.constructor === ra.type && v.byteOffset === ra.byteOffset && (v as ResidentElements).length === ra.length && v.buffer === blockOf(ra).mem.buffer);
  if (isOut(result)) return ra.array;
  if (isPlainObject(result) && Object.values(result).some(isOut)) return replaceSomeValues(result, (x) => (isOut(x) ? ra.array : x));
  return result;
}
