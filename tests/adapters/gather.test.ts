import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Gencore } from '../../bindings/index.js';
import { mulberry32, randomArray } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

/** Row gather written out element by element. */
function refGather(src: ArrayLike<number>, rowLength: number, index: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let r = 0; r < index.length; r++) for (let j = 0; j < rowLength; j++) out.push(src[index[r] * rowLength + j]);
  return out;
}

describe('gatherRows', () => {
  it('reorders, repeats and drops rows of every element type', () => {
    const rnd = mulberry32(7);
    const src = randomArray(Float32Array, 5 * 12, rnd);
    const index = Int32Array.of(4, 0, 0, 2, 4, 4, 1);
    const base = gc.memory.bytesInUse;
    expect(Array.from(gc.gatherRows(src, 12, index))).toEqual(refGather(src, 12, index));
    const f64 = randomArray(Float64Array, 5 * 3, rnd);
    expect(Array.from(gc.gatherRows(f64, 3, index))).toEqual(refGather(f64, 3, index));
    const u16 = Uint16Array.from({ length: 5 * 7 }, (_, i) => i * 97);
    const got = gc.gatherRows(u16, 7, index);
    expect(got).toBeInstanceOf(Uint16Array);
    expect(Array.from(got)).toEqual(refGather(u16, 7, index));
    const out = new Float32Array(7 * 12);
    expect(gc.gatherRows(src, 12, index, { out })).toBe(out);
    expect(Array.from(out)).toEqual(refGather(src, 12, index));
    expect(gc.gatherRows(src, 12, new Int32Array(0)).length).toBe(0);
    expect(gc.memory.bytesInUse).toBe(base);
  });

  it('refuses bad arguments before any wasm call, naming them', () => {
    const src = new Float32Array(12);
    const base = gc.memory.bytesInUse;
    expect(() => gc.gatherRows([1, 2] as never, 1, Int32Array.of(0))).toThrow(/gatherRows: src must be a typed array/);
    expect(() => gc.gatherRows(src, 5, Int32Array.of(0))).toThrow(/gatherRows: src.length 12 is not a multiple of rowLength 5/);
    expect(() => gc.gatherRows(src, 0, Int32Array.of(0))).toThrow(RangeError);
    expect(() => gc.gatherRows(src, 4, [0] as never)).toThrow(/gatherRows: index must be a Int32Array/);
    expect(() => gc.gatherRows(src, 4, Int32Array.of(0, 3))).toThrow(/gatherRows: index\[1\] is 3; src has 3 rows/);
    expect(() => gc.gatherRows(src, 4, Int32Array.of(-1))).toThrow(RangeError);
    expect(() => gc.gatherRows(src, 4, Int32Array.of(0), { out: new Float32Array(3) })).toThrow(/opts.out.length 3 does not match/);
    expect(() => gc.gatherRows(src, 4, Int32Array.of(0), { out: new Float64Array(4) as never })).toThrow(TypeError);
    expect(() => gc.gatherRows(src, 4, Int32Array.of(0), { out: src.subarray(0, 4) })).toThrow(/opts.out must not overlap src/);
    expect(gc.memory.bytesInUse).toBe(base);
  });
});
