/**
 * The one owner of wasm linear memory.
 *
 * Kernels never allocate: every buffer they read, write or use as scratch is allocated here, by the host,
 * and passed in as a byte address. The allocator is a first-fit free list with coalescing over the region
 * above the module's static data; it grows the `WebAssembly.Memory` on demand. Views are made fresh on
 * each request because `memory.grow` detaches the old `ArrayBuffer` of a non-shared memory.
 *
 * With a shared memory used by several workers, only the thread that created this owner allocates
 * (instances on the same memory each have their own view of nothing but the bytes; two allocators would
 * hand out the same block).
 */

/** Every block starts on a 16-byte boundary so v128 loads of a block's first element are aligned. */
export const ALIGN = 16;
const PAGE = 65536;
/** The wasm32 address space: 65 536 pages of 64 KiB. */
export const MAX_BYTES = 65536 * PAGE;

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array;
export type FloatArray = Float32Array | Float64Array;
type TypedArrayCtor<T extends TypedArray> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

const alignUp = (x: number): number => Math.ceil(x / ALIGN) * ALIGN;

/**
 * A request the wasm memory cannot hold next to what is in use (the address space is full or the engine
 * refused to grow). Named `RangeError` as every size error of the API; `bytes` is what was asked for, so
 * a caller can tell whether it would fit once other blocks are freed.
 */
export class WasmMemoryFullError extends RangeError {
  constructor(
    message: string,
    readonly bytes: number,
  ) {
    super(message);
  }
}

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  /** First byte the allocator may hand out. */
  readonly base: number;
  /** Sorted, non-adjacent free blocks [start, size), in bytes. */
  private freeList: Array<[number, number]> = [];
  /** Live blocks: start → size in bytes. */
  private live = new Map<number, number>();
  /** End of the region handed out so far (everything above is untouched memory). */
  private top: number;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = alignUp(Math.max(heapBase, ALIGN));
    this.top = this.base;
  }

  /** The current buffer (re-read after every grow). */
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** Bytes in live blocks (for leak tests: back to its baseline after a call). */
  get bytesInUse(): number {
    let sum = 0;
    for (const size of this.live.values()) sum += size;
    return sum;
  }

  /** Bytes this heap can hand out when nothing is in use. */
  get capacity(): number {
    return MAX_BYTES - this.base;
  }

  /** Size of the linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocate `bytes` (≥ 0) bytes aligned to 16. Grows the memory when needed.
   * @throws WasmMemoryFullError (a RangeError) when the request cannot fit in the 4 GiB wasm address space or the grow fails;
   *   nothing is allocated then and the memory stays usable.
   */
  alloc(bytes: number, what = 'buffer'): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new RangeError(`alloc: ${what} size ${bytes} bytes is not a non-negative integer`);
    }
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.freeList.length; i++) {
      const [start, free] = this.freeList[i];
      if (free >= size) {
        if (free === size) this.freeList.splice(i, 1);
        else this.freeList[i] = [start + size, free - size];
        this.live.set(start, size);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    if (end > MAX_BYTES) {
      throw new WasmMemoryFullError(
        `alloc: ${what} needs ${bytes} bytes; with ${this.bytesInUse} bytes in use this exceeds the 4 GiB wasm address space`,
        bytes,
      );
    }
    this.ensure(end, what, bytes);
    this.top = end;
    this.live.set(start, size);
    return start;
  }

  /**
   * Refuse, before allocating anything, a call whose blocks cannot all fit in the 4 GiB wasm address
   * space next to what is already in use.
   * @throws WasmMemoryFullError (a RangeError) naming `fn` and the byte count.
   */
  checkFits(fn: string, bytes: number): void {
    const room = this.capacity - this.bytesInUse;
    if (bytes > room) {
      throw new WasmMemoryFullError(
        `${fn}: needs ${bytes} bytes of wasm memory but only ${room} of the 4 GiB wasm32 address space are free`,
        bytes,
      );
    }
  }

  /** Free a block returned by `alloc`. Freeing 0 is a no-op; freeing an unknown pointer throws. */
  free(ptr: number): void {
    if (ptr === 0) return;
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`free: ${ptr} is not a live allocation`);
    this.live.delete(ptr);
    this.insertFree(ptr, size);
  }

  /** Bytes of wasm memory needed so that the top of the heap can reach `end`. */
  private ensure(end: number, what: string, bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new WasmMemoryFullError(
        `alloc: could not grow wasm memory by ${pages} pages for ${what} (${bytes} bytes); the engine refused`,
        bytes,
      );
    }
  }

  private insertFree(start: number, size: number): void {
    const list = this.freeList;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid][0] < start) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, [start, size]);
    // Coalesce with the right neighbour, then the left one.
    if (lo + 1 < list.length && list[lo][0] + list[lo][1] === list[lo + 1][0]) {
      list[lo][1] += list[lo + 1][1];
      list.splice(lo + 1, 1);
    }
    if (lo > 0 && list[lo - 1][0] + list[lo - 1][1] === list[lo][0]) {
      list[lo - 1][1] += list[lo][1];
      list.splice(lo, 1);
      lo--;
    }
    // A free block touching the top is returned to untouched memory.
    const last = list[list.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      list.pop();
    }
  }

  // --- views (valid until the next alloc that grows a non-shared memory) ---

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /** True when `arr` is a view into this memory (its data can be passed by pointer without a copy). */
  contains(arr: TypedArray): boolean {
    return arr.buffer === this.memory.buffer;
  }

  /** Open a scope: every block allocated through it is freed by `close()`. */
  openScope(): Scope {
    return new Scope(this);
  }

  /** Run `fn` with a scope that is closed afterwards, also when `fn` throws. */
  scoped<T>(fn: (scope: Scope) => T): T {
    const scope = new Scope(this);
    try {
      return fn(scope);
    } finally {
      scope.close();
    }
  }
}

/** Where a caller's array was when its call began: its byte address in wasm memory (-1: elsewhere). */
interface Pin {
  ptr: number;
  length: number;
  byteLength: number;
}

/**
 * A group of allocations freed together: the normal way for a binding to hold the inputs, outputs and
 * scratch of one call. `close()` is idempotent.
 *
 * Caller arrays that live in this memory (views on `memory.buffer`, passed without a copy) are pinned
 * first, with `pin()`: a grow of a non-shared memory detaches every view on it, the caller's included,
 * and a detached view reports length 0 and byte offset 0. Once pinned, an array is read and written only
 * through its pin (`copyIn`, `view`, `resultPtr`, `copyOut`), so growing the memory during the call,
 * also from a callback, changes nothing.
 */
export class Scope {
  private ptrs: number[] = [];
  private pins = new Map<TypedArray, Pin>();
  constructor(readonly mem: WasmMemory) {}

  /**
   * Record where each caller array is, before this scope allocates anything (`undefined` entries are
   * skipped). Arrays gencore made itself need no pin (they never live in wasm memory), nor does an array
   * copied in before the scope's first allocation.
   * @throws Error when the scope has already allocated (a grow may have detached the arrays: a gencore bug).
   */
  pin(...arrays: Array<TypedArray | undefined>): void {
    if (this.ptrs.length > 0) throw new Error('Scope.pin: caller arrays must be pinned before the scope allocates');
    for (const arr of arrays) if (arr !== undefined && !this.pins.has(arr)) this.pins.set(arr, this.locate(arr));
  }

  /** True when `arr` lives in this memory: it is passed by pointer, never copied. */
  resident(arr: TypedArray): boolean {
    return this.where(arr).ptr >= 0;
  }

  /**
   * The elements of `arr` now: `arr` itself, or, when the memory grew since `arr` (in this memory) was
   * pinned, a new view on the same bytes (valid until the next grow).
   */
  view<T extends TypedArray>(arr: T): T {
    const { ptr, length } = this.where(arr);
    if (ptr < 0 || arr.buffer === this.mem.buffer) return arr;
    return new (arr.constructor as TypedArrayCtor<T>)(this.mem.buffer, ptr, length);
  }

  /** Allocate `bytes` bytes (16-byte aligned) owned by this scope. */
  alloc(bytes: number, what?: string): number {
    const ptr = this.mem.alloc(bytes, what);
    this.ptrs.push(ptr);
    return ptr;
  }

  /**
   * Pointer to a copy of `arr` in wasm memory. Zero-copy when `arr` lives in this memory (its own
   * pointer is returned and nothing is allocated).
   */
  copyIn(arr: TypedArray, what?: string): number {
    const { ptr } = this.where(arr);
    if (ptr >= 0) return ptr;
    const dst = this.alloc(arr.byteLength, what);
    // An empty array (also one detached before the call, whose buffer cannot be viewed) has nothing to copy.
    if (arr.byteLength > 0) {
      new Uint8Array(this.mem.buffer, dst, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    }
    return dst;
  }

  /**
   * Where a kernel writes a result of `bytes` bytes meant for `out`: straight into `out`'s bytes when `out`
   * lives in this memory and shares none with another pinned array (an input the kernel still reads),
   * else a new block that `copyOut` copies from. An `out` that is itself an input (in place) is not
   * passed here: its result goes through a new block.
   */
  resultPtr(out: TypedArray | undefined, bytes: number, what?: string): number {
    const at = out === undefined ? undefined : this.where(out);
    if (at !== undefined && at.ptr >= 0) {
      const apart = (p: Pin) => p.ptr < 0 || p.ptr >= at.ptr + at.byteLength || at.ptr >= p.ptr + p.byteLength;
      if ([...this.pins].every(([arr, p]) => arr === out || apart(p))) return at.ptr;
    }
    return this.alloc(bytes, what);
  }

  /**
   * The `length` elements at `ptr` as the call's result: copied into `dst` and `dst` returned, or a new
   * array of `ctor` without `dst`. When `dst` lives in this memory and the call grew it, `dst` itself is
   * detached and cannot be revived: the result is then a new view on `dst`'s bytes (see `view`).
   */
  copyOut<T extends TypedArray>(ctor: TypedArrayCtor<T>, ptr: number, length: number, dst?: T): T {
    const src = new ctor(this.mem.buffer, ptr, length);
    if (dst === undefined) return src.slice() as T;
    const at = this.where(dst).ptr;
    if (at < 0) {
      dst.set(src);
      return dst;
    }
    if (at !== ptr) new Uint8Array(this.mem.buffer).copyWithin(at, ptr, ptr + src.byteLength);
    return this.view(dst);
  }

  /** Free everything this scope allocated. */
  close(): void {
    const ptrs = this.ptrs;
    this.ptrs = [];
    for (let i = ptrs.length - 1; i >= 0; i--) this.mem.free(ptrs[i]);
  }

  private locate(arr: TypedArray): Pin {
    return { ptr: this.mem.contains(arr) ? arr.byteOffset : -1, length: arr.length, byteLength: arr.byteLength };
  }

  /** The pin of `arr`, or where an unpinned (gencore-made) array is now. */
  private where(arr: TypedArray): Pin {
    return this.pins.get(arr) ?? this.locate(arr);
  }
}
