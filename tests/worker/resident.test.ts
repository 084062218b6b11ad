/**
 * Resident arrays of a pool (`pool.alloc`, in the pool's shared memory): every function family gives the
 * same bytes on resident arrays as on ordinary ones, in a pool of 1 and of 2, and writes a resident `out`
 * in place; released and foreign arrays are refused; a release while a call is pending defers the free
 * until the call (and its worker) is done; heap accounting returns to its baseline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, noiseSchedule, ResidentArrayReleasedError, type Gencore, type Pool, type ResidentArray } from '../../bindings/index.js';
import { FAMILY_CASES, bytesOf, residentCopies, type AnyApi } from '../helpers/resident.js';

const sharedHeap = (pool: Pool) => (pool as unknown as { _pool: { sharedMemoryForTest: { bytesInUse: number; byteLength: number } } })._pool.sharedMemoryForTest;

let gc: Gencore;
let pool1: Pool;
let pool2: Pool;
beforeAll(async () => {
  gc = await init();
  [pool1, pool2] = await Promise.all([createPool({ workers: 1 }), createPool({ workers: 2 })]);
});
afterAll(() => {
  pool1.terminate();
  pool2.terminate();
});

for (const size of [1, 2]) {
  describe(`pool.alloc, pool of ${size}: every function family on resident arrays`, () => {
    for (const c of FAMILY_CASES) {
      it(c.name, async () => {
        const pool = size === 1 ? pool1 : pool2;
        const api = pool as unknown as AnyApi;
        const baseline = sharedHeap(pool).bytesInUse;
        const want = bytesOf(await c.call(api, c.arrays()));
        const ordinary = c.arrays();
        const residents = residentCopies(pool.alloc, ordinary);
        const held = sharedHeap(pool).bytesInUse;
        const got = await c.call(api, residents);
        expect(bytesOf(got)).toEqual(want);
        if (c.outIndex !== undefined) {
          const returned = c.outAt === '' ? got : (got as Record<string, unknown>)[c.outAt!];
          expect(returned, 'the result is out.array').toBe(residents[c.outIndex].array);
        }
        residents.forEach((ra, i) => {
          if (i !== c.outIndex) expect(bytesOf(ra.array), `input ${i} unchanged`).toEqual(bytesOf(ordinary[i]));
        });
        expect(sharedHeap(pool).bytesInUse, 'only the resident arrays are left').toBe(held);
        residents.forEach((ra) => ra.release());
        expect(sharedHeap(pool).bytesInUse).toBe(baseline);
      });
    }
  });
}

describe('pool.alloc', () => {
  it('a pool without shared memory says why it cannot allocate', async () => {
    const transfers = await createPool({ workers: 1, sharedMemory: false });
    try {
      expect(() => transfers.alloc(Float32Array, 4)).toThrow(
        new RangeError("pool.alloc: resident arrays live in the pool's shared memory, and this pool has none: it was created with sharedMemory: false"),
      );
    } finally {
      transfers.terminate();
    }
  });

  it('refuses a bad type or length, naming the parameter and the value', () => {
    expect(() => pool1.alloc(Uint16Array as never, 4)).toThrow(new TypeError('pool.alloc: type must be Float32Array, Float64Array, Int32Array or Uint8Array, got Uint16Array'));
    expect(() => pool1.alloc(Float32Array, -2)).toThrow(new RangeError('pool.alloc: length must be an integer in [0, 9007199254740991], got -2'));
  });

  it('.array views the same bytes after the shared memory grew; a split call writes a resident out after growth', async () => {
    const n = 64;
    const a = pool2.alloc(Float32Array, n * n);
    const out = pool2.alloc(Float32Array, n * n);
    const av = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
    a.array.set(av);
    const oldView = a.array;
    const size = sharedHeap(pool2).byteLength;
    const big = pool2.alloc(Uint8Array, size);
    expect(sharedHeap(pool2).byteLength).toBeGreaterThan(size);
    expect(a.array, 'a new view on the new SharedArrayBuffer object').not.toBe(oldView);
    expect(bytesOf(a.array)).toEqual(bytesOf(av));
    const got = await pool2.matmul(a, a, n, n, n, { out });
    expect(got).toBe(out.array);
    expect(bytesOf(got)).toEqual(bytesOf(await pool2.matmul(av, av, n, n, n)));
    for (const ra of [a, out, big]) ra.release();
  });

  it("released and foreign arrays are refused before anything runs; nothing is lost", async () => {
    const baseline = sharedHeap(pool2).bytesInUse;
    const a = pool2.alloc(Float32Array, 4);
    const out = pool2.alloc(Float32Array, 4);
    a.array.set([1, 2, 3, 4]);
    out.array.fill(-1);
    const gone = pool2.alloc(Float32Array, 4);
    gone.release();
    await expect(pool2.matmul(a, gone, 2, 2, 2)).rejects.toThrow(new ResidentArrayReleasedError('matmul: argument 2 is a ResidentArray that was released'));
    const local = gc.alloc(Float32Array, 4);
    const other = pool1.alloc(Float32Array, 4);
    await expect(pool2.matmul(local, a, 2, 2, 2)).rejects.toThrow(/^matmul: argument 1 is a ResidentArray of another gencore instance or pool/);
    await expect(pool2.matmul(a, a, 2, 2, 2, { out: other })).rejects.toThrow(TypeError);
    await expect(pool2.matmul(a, a, 2, 2, 2, { out: other })).rejects.toThrow(/^matmul: out of argument 6 is a ResidentArray of another/);
    expect(Array.from(out.array)).toEqual([-1, -1, -1, -1]);
    expect(Array.from(await pool2.matmul(a, a, 2, 2, 2, { out }))).toEqual([7, 10, 15, 22]);
    for (const ra of [a, out, local, other]) ra.release();
    expect(sharedHeap(pool2).bytesInUse).toBe(baseline);
  });

  it('release during a pending call defers the free until it settles: a new allocation is not corrupted', async () => {
    const schedule = noiseSchedule({ kind: 'linear' });
    const baseline = sharedHeap(pool1).bytesInUse;
    const xT = pool1.alloc(Float32Array, 8);
    const out = pool1.alloc(Float32Array, 8);
    xT.array.set([0.5, -0.25, 1, 0, 0.75, -1, 0.1, 0.2]);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const denoiser = async (x: Float32Array) => {
      await gate;
      return x.map((v) => v * 0.1);
    };
    const opts = { sampler: 'ddim' as const, schedule, steps: 3, shape: [2, 4] as [number, number], denoiser, seed: 2 };
    const run = pool1.sample({ ...opts, xT, out });
    const held = sharedHeap(pool1).bytesInUse;
    out.release();
    expect(() => out.array).toThrow(ResidentArrayReleasedError);
    expect(sharedHeap(pool1).bytesInUse, 'the pending call still holds out').toBe(held);
    const newcomer = pool1.alloc(Float32Array, 8);
    expect(newcomer.byteOffset).not.toBe(out.byteOffset);
    newcomer.array.fill(42);
    open();
    await expect(run).rejects.toThrow(ResidentArrayReleasedError); // its result lived in the released out
    expect(Array.from(newcomer.array), 'the call wrote into its own block only').toEqual(new Array(8).fill(42));
    xT.release();
    newcomer.release();
    expect(sharedHeap(pool1).bytesInUse).toBe(baseline);
  });

  it('an aborted call keeps a released array until its worker has replied', async () => {
    const schedule = noiseSchedule({ kind: 'linear' });
    const baseline = sharedHeap(pool1).bytesInUse;
    const out = pool1.alloc(Float32Array, 8);
    const controller = new AbortController();
    let called!: () => void;
    const denoiserCalled = new Promise<void>((r) => (called = r));
    const denoiser = (x: Float32Array) => {
      called();
      return new Promise<Float32Array>((r) => setTimeout(() => r(x.map((v) => v * 0.1)), 50));
    };
    const run = pool1.sample({ sampler: 'ddim', schedule, steps: 3, shape: [2, 4], denoiser, seed: 3, out, signal: controller.signal });
    await denoiserCalled;
    controller.abort();
    await expect(run).rejects.toThrow(/aborted/);
    // The call has rejected, but its worker has not answered yet: the block must outlive the release.
    const before = sharedHeap(pool1).bytesInUse;
    out.release();
    expect(sharedHeap(pool1).bytesInUse).toBe(before);
    await pool1.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1); // the worker has replied by now
    expect(sharedHeap(pool1).bytesInUse).toBe(baseline);
  });

  for (const size of [1, 2]) {
    it(`pool of ${size}: bytes in use are back to their baseline after 10 000 mixed calls`, async () => {
      const pool = size === 1 ? pool1 : pool2;
      const schedule = noiseSchedule({ kind: 'linear' });
      const baseline = sharedHeap(pool).bytesInUse;
      const a = pool.alloc(Float32Array, 4);
      const x = pool.alloc(Float64Array, 6);
      const out = pool.alloc(Float32Array, 4);
      const y = pool.alloc(Float32Array, 4);
      a.array.set([1, 2, 3, 4]);
      x.array.set([0.1, 0.5, -0.3, 1.2, 0, -1]);
      const held = sharedHeap(pool).bytesInUse;
      const one = async (i: number): Promise<unknown> => {
        switch (i % 5) {
          case 0:
            return pool.matmul(a, a, 2, 2, 2, { out });
          case 1:
            return pool.entropyNormalize(x, 2, 3, 0.5, { fromLogits: true });
          case 2:
            return pool.ddpmStep(a, out, { schedule, t: 10, seed: i, out: y });
          case 3: {
            const tmp: ResidentArray<Uint8Array> = pool.alloc(Uint8Array, 1 + (i % 37));
            const pending = pool.gatherRows(tmp, 1, Int32Array.of(0));
            tmp.release(); // while pending: freed when the call settles
            return pending;
          }
          default: {
            const gone = pool.alloc(Float32Array, 4);
            gone.release();
            return expect(pool.matmul(a, gone, 2, 2, 2)).rejects.toThrow(ResidentArrayReleasedError);
          }
        }
      };
      for (let i = 0; i < 10_000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => one(i + j)));
      expect(sharedHeap(pool).bytesInUse).toBe(held);
      for (const ra of [a, x, out, y]) ra.release();
      expect(sharedHeap(pool).bytesInUse).toBe(baseline);
    }, 60_000);
  }
});
