/**
 * Resident arrays of the synchronous API (`gc.alloc`): every function family gives the same bytes on
 * resident arrays as on ordinary ones, and writes a resident `out` in place; views survive memory growth;
 * released, foreign and reset arrays are refused with a clear error before any wasm call, losing nothing;
 * heap accounting returns to its baseline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, KernelFaultError, noiseSchedule, ResidentArrayReleasedError, type Gencore, type ResidentArray } from '../../bindings/index.js';
import type { WasmInstance } from '../../bindings/wasm/load.js';
import { FAMILY_CASES, bytesOf, residentCopies, type AnyApi } from '../helpers/resident.js';
import { mulberry32, randomArray, refGemm, relFro } from '../helpers/reference.js';

const instanceOf = (gc: Gencore) => (gc as unknown as { _instance: WasmInstance })._instance;

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

/** Allocate blocks with gc.memory until the next allocation must grow it; returns a function freeing them. */
function fillMemory(): () => void {
  const mem = gc.memory;
  const blocks: number[] = [];
  // A block handed out past the old top ends the heap at the memory's end (or grows it once, then fills).
  for (let i = 0; i < 2; i++) {
    const probe = mem.alloc(16);
    blocks.push(probe);
    const rest = mem.byteLength - probe - 16 - 16;
    if (rest > 0) blocks.push(mem.alloc(rest));
  }
  return () => blocks.forEach((p) => mem.free(p));
}

describe('gc.alloc: every function family on resident arrays', () => {
  for (const c of FAMILY_CASES) {
    it(c.name, async () => {
      const api = gc as unknown as AnyApi;
      const baseline = gc.memory.bytesInUse;
      const want = bytesOf(await c.call(api, c.arrays()));
      const ordinary = c.arrays();
      const residents = residentCopies(gc.alloc, ordinary);
      const held = residents.reduce((sum, ra) => sum + Math.ceil(Math.max(ra.array.byteLength, 1) / 16) * 16, 0);
      expect(gc.memory.bytesInUse, 'resident arrays count in bytesInUse').toBe(baseline + held);
      const got = await c.call(api, residents);
      expect(bytesOf(got)).toEqual(want);
      if (c.outIndex !== undefined) {
        const out = residents[c.outIndex];
        const returned = c.outAt === '' ? got : (got as Record<string, unknown>)[c.outAt!];
        expect(returned, 'the result is out.array').toBe(out.array);
      }
      residents.forEach((ra, i) => {
        if (i !== c.outIndex) expect(bytesOf(ra.array), `input ${i} unchanged`).toEqual(bytesOf(ordinary[i]));
      });
      expect(gc.memory.bytesInUse, 'only the resident arrays are left').toBe(baseline + held);
      residents.forEach((ra) => ra.release());
      expect(gc.memory.bytesInUse).toBe(baseline);
    });
  }
});

describe('gc.alloc', () => {
  it('refuses a bad type or length, naming the parameter and the value', () => {
    const alloc = gc.alloc as (type: unknown, length: unknown) => unknown;
    expect(() => alloc(Int16Array, 4)).toThrow(new TypeError('alloc: type must be Float32Array, Float64Array, Int32Array or Uint8Array, got Int16Array'));
    expect(() => alloc('f32', 4)).toThrow(new TypeError('alloc: type must be Float32Array, Float64Array, Int32Array or Uint8Array, got "f32"'));
    expect(() => alloc(Float32Array, -1)).toThrow(new RangeError('alloc: length must be an integer in [0, 9007199254740991], got -1'));
    expect(() => alloc(Float32Array, 2.5)).toThrow(RangeError);
    expect(() => alloc(Float32Array, '4')).toThrow(new TypeError('alloc: length must be a number, got "4"'));
    expect(() => alloc(Float64Array, 2 ** 30)).toThrow(RangeError); // 8 GiB: beyond wasm32
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('an empty array is valid and releases cleanly', () => {
    const ra = gc.alloc(Float32Array, 0);
    expect(ra.array.length).toBe(0);
    expect(ra.length).toBe(0);
    ra.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('.array views the same bytes after the memory grew; a call writes a resident out after growth', () => {
    const a = gc.alloc(Float32Array, 6);
    const b = gc.alloc(Float32Array, 6);
    const out = gc.alloc(Float32Array, 4);
    const av = randomArray(Float32Array, 6, mulberry32(1));
    const bv = randomArray(Float32Array, 6, mulberry32(2));
    a.array.set(av);
    b.array.set(bv);
    const oldView = a.array;
    const size = gc.memory.byteLength;
    const big = gc.alloc(Uint8Array, size); // cannot fit below the top: the memory grows
    expect(gc.memory.byteLength).toBeGreaterThan(size);
    expect(oldView.length, 'the old view was detached by the grow').toBe(0);
    expect(Array.from(a.array)).toEqual(Array.from(av));
    expect(a.array.byteOffset).toBe(a.byteOffset);
    const got = gc.matmul(a, b, 2, 3, 2, { out });
    expect(got).toBe(out.array);
    expect(relFro(got, refGemm(av, bv, undefined, 2, 3, 2))).toBeLessThan(1e-6);
    for (const ra of [a, b, out, big]) ra.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('a call that grows the memory itself returns out.array, which holds the result', () => {
    const a = gc.alloc(Float64Array, 64 * 64);
    const out = gc.alloc(Float64Array, 64 * 64);
    const av = randomArray(Float64Array, 64 * 64, mulberry32(3));
    a.array.set(av);
    const want = gc.pinv(av, 64, 64);
    const freeFill = fillMemory();
    const size = gc.memory.byteLength;
    const got = gc.pinv(a, 64, 64, { out });
    expect(gc.memory.byteLength, 'the call grew the memory').toBeGreaterThan(size);
    expect(got).toBe(out.array);
    expect(bytesOf(got)).toEqual(bytesOf(want));
    freeFill();
    a.release();
    out.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('a released array is refused with a clear error before any wasm call; nothing else is lost', () => {
    const a = gc.alloc(Float32Array, 4);
    const b = gc.alloc(Float32Array, 4);
    const out = gc.alloc(Float32Array, 4);
    a.array.set([1, 2, 3, 4]);
    b.array.set([5, 6, 7, 8]);
    out.array.fill(-1);
    const held = gc.memory.bytesInUse;
    b.release();
    b.release(); // idempotent
    expect(b.released).toBe(true);
    expect(gc.memory.bytesInUse).toBe(held - 16);
    expect(() => b.array).toThrow(new ResidentArrayReleasedError('ResidentArray.array: the array is a ResidentArray that was released'));
    expect(() => gc.matmul(a, b, 2, 2, 2, { out })).toThrow(new ResidentArrayReleasedError('matmul: argument 2 is a ResidentArray that was released'));
    const released = gc.alloc(Float32Array, 4);
    released.release();
    expect(() => gc.matmul(a, a, 2, 2, 2, { out: released })).toThrow(ResidentArrayReleasedError);
    expect(() => gc.matmul(a, a, 2, 2, 2, { out: released })).toThrow('matmul: out of argument 6 is a ResidentArray that was released');
    expect(Array.from(out.array), 'out untouched').toEqual([-1, -1, -1, -1]);
    expect(Array.from(a.array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(gc.matmul(a, a, 2, 2, 2, { out }))).toEqual([7, 10, 15, 22]);
    a.release();
    out.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it("another instance's or a pool's array is refused with a TypeError naming the function and the parameter", async () => {
    const other = await init();
    const pool = await createPool({ workers: 1 });
    try {
      const a = gc.alloc(Float32Array, 4);
      a.array.set([1, 2, 3, 4]);
      const foreign = other.alloc(Float32Array, 4);
      const pooled = pool.alloc(Float32Array, 4);
      expect(() => gc.matmul(a, foreign, 2, 2, 2)).toThrow(TypeError);
      expect(() => gc.matmul(a, foreign, 2, 2, 2)).toThrow(/^matmul: argument 2 is a ResidentArray of another gencore instance or pool/);
      expect(() => gc.attention(a, a, a, { n: 2, d: 2, out: pooled })).toThrow(/^attention: out of argument 4 is a ResidentArray of another/);
      expect(() => gc.entropyNormalize(a, 1, 4, [foreign] as never)).toThrow(/^entropyNormalize: element 0 of argument 4 is a ResidentArray of another/);
      expect(Array.from(gc.matmul(a, a, 2, 2, 2))).toEqual([7, 10, 15, 22]);
      expect(foreign.released).toBe(false);
      a.release();
      expect(gc.memory.bytesInUse).toBe(0);
    } finally {
      pool.terminate();
    }
  });

  it('release while a loop holds the array defers the free until the loop settles', async () => {
    const schedule = noiseSchedule({ kind: 'linear' });
    const xT = gc.alloc(Float32Array, 8);
    const out = gc.alloc(Float32Array, 8);
    xT.array.set(randomArray(Float32Array, 8, mulberry32(4)));
    const held = gc.memory.bytesInUse;
    let newcomer: ResidentArray<Float32Array> | undefined;
    const denoiser = (x: Float32Array) => {
      if (newcomer === undefined) {
        const before = gc.memory.bytesInUse;
        out.release();
        expect(out.released).toBe(true);
        expect(gc.memory.bytesInUse, 'the loop still holds out').toBe(before);
        newcomer = gc.alloc(Float32Array, 8);
        newcomer.array.fill(42);
      }
      return x.map((v) => v * 0.1);
    };
    const run = gc.sample({ sampler: 'ddim', schedule, steps: 4, shape: [2, 4], denoiser, seed: 1, xT, out });
    // The result lived in the released out: reading it fails, clearly.
    await expect(run).rejects.toThrow(new ResidentArrayReleasedError('ResidentArray.array: the array is a ResidentArray that was released'));
    expect(newcomer!.byteOffset).not.toBe(out.byteOffset);
    expect(Array.from(newcomer!.array), 'the loop wrote into its own block only').toEqual(new Array(8).fill(42));
    expect(gc.memory.bytesInUse, 'out freed once the loop settled').toBe(held);
    xT.release();
    newcomer!.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('a kernel fault resets the instance: its resident arrays then throw a clear error', async () => {
    const local = await init();
    const a = local.alloc(Float32Array, 4);
    a.array.set([1, 2, 3, 4]);
    expect(() => instanceOf(local).run('trapForTest', (k) => k.trapForTest())).toThrow(KernelFaultError);
    expect(a.released).toBe(true);
    expect(() => a.array).toThrow(ResidentArrayReleasedError);
    expect(() => a.array).toThrow(/a kernel fault reset its wasm instance/);
    expect(() => local.matmul(a, a, 2, 2, 2)).toThrow(/^matmul: argument 1 was lost when a kernel fault reset its wasm instance/);
    a.release(); // nothing to free in the new memory
    expect(local.memory.bytesInUse).toBe(0);
    const b = local.alloc(Float32Array, 4);
    b.array.set([1, 2, 3, 4]);
    expect(Array.from(local.matmul(b, b, 2, 2, 2))).toEqual([7, 10, 15, 22]);
    b.release();
    expect(local.memory.bytesInUse).toBe(0);
  });

  it('bytes in use are back to their baseline after 10 000 mixed calls', () => {
    const schedule = noiseSchedule({ kind: 'linear' });
    const a = gc.alloc(Float32Array, 4);
    const x = gc.alloc(Float64Array, 6);
    const out = gc.alloc(Float32Array, 4);
    const y = gc.alloc(Float32Array, 4);
    a.array.set([1, 2, 3, 4]);
    x.array.set([0.1, 0.5, -0.3, 1.2, 0, -1]);
    const baseline = gc.memory.bytesInUse;
    for (let i = 0; i < 10_000; i++) {
      switch (i % 5) {
        case 0:
          gc.matmul(a, a, 2, 2, 2, { out });
          break;
        case 1:
          gc.entropyNormalize(x, 2, 3, 0.5, { fromLogits: true });
          break;
        case 2:
          gc.ddpmStep(a, out, { schedule, t: 10, seed: i, out: y });
          break;
        case 3: {
          const tmp = gc.alloc(Uint8Array, 1 + (i % 37));
          gc.gatherRows(tmp, 1, Int32Array.of(0));
          tmp.release();
          break;
        }
        case 4: {
          const gone = gc.alloc(Float32Array, 4);
          gone.release();
          expect(() => gc.matmul(a, gone, 2, 2, 2)).toThrow(ResidentArrayReleasedError);
          break;
        }
      }
    }
    expect(gc.memory.bytesInUse).toBe(baseline);
    for (const ra of [a, x, out, y]) ra.release();
    expect(gc.memory.bytesInUse).toBe(0);
  });
});
