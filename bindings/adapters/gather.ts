/**
 * `gatherRows`: row r of the result is row index[r] of the source, in one wasm call. The model adapters
 * reorder a KV cache by a beam step's `parentRow` and expand an encoder output to one row per beam with it.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { TypedArray } from '../wasm/memory.js';
import { checkInt, checkNoOverlap, checkOptions, checkProduct, checkTyped, show } from '../shared/validate.js';

/** Element types `gatherRows` moves (bytes are copied as they are: an fp16 cache travels as Uint16Array). */
export type GatherArray = TypedArray;

const GATHERABLE = [Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array, Int8Array, Int16Array, Uint16Array];

export function gatherApi(inst: WasmInstance) {
  /**
   * Gather rows: `out[r·rowLength … (r+1)·rowLength)` = `src[index[r]·rowLength …]` for r < index.length.
   * A row is the slab below the leading dimension of a tensor ([rows, heads, seq, headDim] → rowLength =
   * heads·seq·headDim elements), so this reorders a KV cache by parent row or repeats rows.
   *
   * @param src - rows×rowLength elements, row-major (any non-BigInt typed array).
   * @param rowLength - elements per row, integer ≥ 1 dividing `src.length`.
   * @param index - source row of each output row: an Int32Array of values in [0, src.length / rowLength).
   * @param opts.out - destination of index.length×rowLength elements, same type as `src`, not overlapping
   *   it; a new array is returned otherwise.
   * @throws TypeError for a wrong array type; RangeError for a bad rowLength, an index out of range or a
   *   wrong `out` length.
   */
  function gatherRows<T extends GatherArray>(src: T, rowLength: number, index: Int32Array, opts?: { out?: T }): T {
    const fn = 'gatherRows';
    const out = checkOptions(fn, opts).out;
    if (!GATHERABLE.some((c) => src instanceof c)) throw new TypeError(`${fn}: src must be a typed array (not BigInt), got ${show(src)}`);
    checkInt(fn, 'rowLength', rowLength, 1);
    if (src.length % rowLength !== 0) throw new RangeError(`${fn}: src.length ${src.length} is not a multiple of rowLength ${rowLength}`);
    checkTyped(fn, 'index', index, Int32Array);
    const srcRows = src.length / rowLength;
    for (let r = 0; r < index.length; r++) {
      const i = index[r];
      if (i < 0 || i >= srcRows) throw new RangeError(`${fn}: index[${r}] is ${i}; src has ${srcRows} rows`);
    }
    const ctor = src.constructor as { new (n: number): T; name: string; BYTES_PER_ELEMENT: number };
    const n = checkProduct(fn, 'index.length × rowLength', index.length, rowLength);
    if (out !== undefined) {
      checkTyped(fn, 'opts.out', out, ctor, n, 'index.length × rowLength');
      checkNoOverlap(fn, 'opts.out', out, [['src', src]]);
    }
    const rowBytes = rowLength * ctor.BYTES_PER_ELEMENT;
    const mem = inst.mem;
    mem.checkFits(fn, src.byteLength + index.byteLength + n * ctor.BYTES_PER_ELEMENT + 64);
    return mem.scoped((scope) => {
      scope.pin(src, index, out);
      const srcPtr = scope.copyIn(src, 'src');
      const indexPtr = scope.copyIn(index, 'index');
      const dst = scope.resultPtr(out, n * ctor.BYTES_PER_ELEMENT, 'gathered rows');
      inst.run(fn, (k) => k.gather_rows(srcPtr, rowBytes, indexPtr, index.length, dst));
      return scope.copyOut(ctor as never, dst, n, out) as T;
    });
  }

  return { gatherRows };
}
