import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { mulberry32, randomArray, refGemm } from '../helpers/reference.js';

interface PoolInternals {
  killWorkerForTest(index: number): void;
  sharedMemoryForTest?: { bytesInUse: number };
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return den === 0 ? num : num / den;
}

for (const sharedMemory of [true, false]) {
  describe(`pool of 2 worker_threads (sharedMemory: ${sharedMemory})`, () => {
    let pool: Pool;
    let gc: Gencore;
    beforeAll(async () => {
      pool = await createPool({ workers: 2, sharedMemory });
      gc = await init();
    });
    afterAll(() => pool.terminate());

    it('reports its features and size', () => {
      expect(pool.size).toBe(2);
      expect(pool.features.sharedMemory).toBe(sharedMemory);
      expect(pool.features.build).toBe(gc.features.build);
    });

    for (const [m, k, n, transA, transB] of [
      [1, 1, 1, false, false],
      [7, 13, 5, false, false],
      [130, 257, 129, false, false],
      [130, 257, 129, true, false],
      [131, 67, 250, true, true],
      [300, 200, 100, false, true],
    ] as Array<[number, number, number, boolean, boolean]>) {
      it(`f32 matmul ${m}×${k}×${n} transA=${transA} transB=${transB} equals the sync result`, async () => {
        const rnd = mulberry32(m + k + n);
        const a = randomArray(Float32Array, m * k, rnd);
        const b = randomArray(Float32Array, k * n, rnd);
        const got = await pool.matmul(a, b, m, k, n, { transA, transB });
        expect(got).toBeInstanceOf(Float32Array);
        // Row blocks run the same kernel on the same rows as the sync call: identical bits.
        expect(got).toEqual(gc.matmul(a, b, m, k, n, { transA, transB }));
        expect(maxRelError(got, refGemm(a, b, undefined, m, k, n, { transA, transB }))).toBeLessThan(1e-5);
      });
    }

    it('f64 with alpha, beta and out: fills the caller out and returns it', async () => {
      const [m, k, n] = [150, 90, 70];
      const rnd = mulberry32(5);
      const a = randomArray(Float64Array, m * k, rnd);
      const b = randomArray(Float64Array, k * n, rnd);
      const c0 = randomArray(Float64Array, m * n, rnd);
      const out = c0.slice();
      const res = await pool.matmul(a, b, m, k, n, { alpha: 0.5, beta: -2, out });
      expect(res).toBe(out);
      expect(maxRelError(out, refGemm(a, b, c0, m, k, n, { alpha: 0.5, beta: -2 }))).toBeLessThan(1e-13);
    });

    it('leaves the caller inputs intact (cloned, not transferred)', async () => {
      const a = new Float32Array(200 * 200).fill(1);
      const b = new Float32Array(200 * 200).fill(2);
      const c = await pool.matmul(a, b, 200, 200, 200);
      expect(a.length).toBe(40000);
      expect(b[39999]).toBe(2);
      expect(c[12345]).toBe(400);
    });

    it('bad input rejects with the same error classes as the sync API', async () => {
      await expect(pool.matmul(new Float32Array(3), new Float32Array(4), 2, 2, 2)).rejects.toThrow(RangeError);
      await expect(pool.matmul([1] as unknown as Float32Array, new Float32Array(1), 1, 1, 1)).rejects.toThrow(TypeError);
      // Small calls run whole in one worker (by pointer, or a generic call without a shared memory): same classes.
      const err = await pool.matmul(new Float32Array(4), new Float32Array(4), 2, 2, 2, { alpha: NaN }).catch((e) => e);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toMatch(/opts.alpha must be finite, got NaN/);
    });

    it('runs many concurrent calls correctly', async () => {
      const rnd = mulberry32(77);
      const jobs = Array.from({ length: 40 }, (_, i) => {
        const m = 1 + (i * 7) % 90;
        const k = 1 + (i * 13) % 70;
        const n = 1 + (i * 5) % 110;
        const a = randomArray(Float32Array, m * k, rnd);
        const b = randomArray(Float32Array, k * n, rnd);
        return { a, b, m, k, n };
      });
      const results = await Promise.all(jobs.map((j) => pool.matmul(j.a, j.b, j.m, j.k, j.n)));
      results.forEach((c, i) => expect(c).toEqual(gc.matmul(jobs[i].a, jobs[i].b, jobs[i].m, jobs[i].k, jobs[i].n)));
    });

    it('a worker that dies mid-call rejects that call with WorkerCrashedError, is replaced, and the next call works', async () => {
      const n = 1536;
      const a = new Float32Array(n * n).fill(0.5);
      const b = new Float32Array(n * n).fill(0.25);
      await pool.matmul(new Float32Array(4), new Float32Array(4), 2, 2, 2); // workers are up
      const baseline = internals(pool).sharedMemoryForTest?.bytesInUse;
      const pending = pool.matmul(a, b, n, n, n);
      setTimeout(() => internals(pool).killWorkerForTest(0), 5);
      const err = await pending.catch((e) => e);
      expect(err?.name).toBe('WorkerCrashedError');
      expect(err).toBeInstanceOf(Error);
      if (baseline !== undefined) expect(internals(pool).sharedMemoryForTest?.bytesInUse).toBe(baseline);
      const m = 64;
      const c = await pool.matmul(new Float32Array(m * m).fill(1), new Float32Array(m * m).fill(1), m, m, m);
      expect(c.every((x) => x === m)).toBe(true);
      const big = await pool.matmul(new Float32Array(256 * 256).fill(1), new Float32Array(256 * 256).fill(1), 256, 256, 256);
      expect(big.every((x) => x === 256)).toBe(true);
    });

    if (sharedMemory) {
      it('frees everything it staged in the shared memory', async () => {
        const mem = internals(pool).sharedMemoryForTest!;
        const before = mem.bytesInUse;
        for (let i = 0; i < 20; i++) await pool.matmul(new Float32Array(100 * 120), new Float32Array(120 * 90), 100, 120, 90);
        expect(mem.bytesInUse).toBe(before);
      });
    }
  });
}

describe('createPool options', () => {
  it('validates its options', async () => {
    await expect(createPool({ workers: 0 })).rejects.toThrow(/opts.workers must be an integer in \[1, 64\], got 0/);
    await expect(createPool({ workers: 1.5 })).rejects.toThrow(RangeError);
    await expect(createPool({ sharedMemory: 'yes' as unknown as boolean })).rejects.toThrow(TypeError);
  });
  it('terminate() rejects later calls with a named error', async () => {
    const pool = await createPool({ workers: 1 });
    expect(await pool.matmul(new Float32Array([2]), new Float32Array([3]), 1, 1, 1)).toEqual(new Float32Array([6]));
    pool.terminate();
    const err = await pool.matmul(new Float32Array([2]), new Float32Array([3]), 1, 1, 1).catch((e) => e);
    expect(err.name).toBe('WorkerCrashedError');
  });
});

describe('pool limits', () => {
  it('refuses a split product that cannot fit in the shared 4 GiB address space before staging anything', async () => {
    const pool = await createPool({ workers: 2 });
    try {
      const mem = internals(pool).sharedMemoryForTest!;
      const before = mem.bytesInUse;
      const n = 40_000;
      const a = new Float32Array(n);
      await expect(pool.matmul(a, a, n, 1, n)).rejects.toThrow(/matmul: needs \d+ bytes of wasm memory/);
      expect(mem.bytesInUse).toBe(before);
    } finally {
      pool.terminate();
    }
  });
});
