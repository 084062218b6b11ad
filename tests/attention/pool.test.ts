/**
 * Pool split of attention and Nyström attention over heads and row blocks: same results as the sync API
 * of the same build (bit-identical: rows are independent and keys go in a fixed order), with and without
 * a shared memory, and the shared heap back at its baseline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';

function lcg32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return 2 * (s / 4294967296) - 1;
  };
}
const randF32 = (len: number, rnd: () => number) => Float32Array.from({ length: len }, rnd);
const sharedHeap = (pool: Pool) => (pool as unknown as { _pool: { sharedMemoryForTest?: { bytesInUse: number } } })._pool.sharedMemoryForTest;

for (const sharedMemory of [true, false]) {
  describe(`attention in a pool of 2 workers (sharedMemory: ${sharedMemory})`, () => {
    let pool: Pool;
    let gc: Gencore;
    beforeAll(async () => {
      pool = await createPool({ workers: 2, sharedMemory });
      gc = await init({ simd: pool.features.build });
    });
    afterAll(() => pool.terminate());

    it('exact attention: heads and row blocks split, same result as sync', async () => {
      const rnd = lcg32(1);
      for (const [heads, n, nk, d, dv, masked] of [
        [3, 257, 190, 33, 17, true],
        [1, 513, 301, 64, 48, false],
        [2, 5, 7, 3, 3, false], // small: runs whole in one worker
      ] as const) {
        const q = randF32(heads * n * d, rnd);
        const k = randF32(heads * nk * d, rnd);
        const v = randF32(heads * nk * dv, rnd);
        const keyMask = masked ? Uint8Array.from({ length: heads * nk }, () => (rnd() > -0.5 ? 1 : 0)) : undefined;
        const opts = { n, nk, d, dv, heads, keyMask };
        const want = gc.attention(q, k, v, opts);
        const got = await pool.attention(q, k, v, opts);
        expect(got).toEqual(want);
        const out = new Float32Array(heads * n * dv);
        expect(await pool.attention(q, k, v, { ...opts, out })).toBe(out);
        expect(out).toEqual(want);
      }
    });

    it('Nyström attention: heads, landmark rows and output rows split, same result as sync', async () => {
      const rnd = lcg32(2);
      for (const [heads, n, d, dv, m, masked, kc] of [
        [3, 300, 32, 24, 20, true, 5],
        [1, 1000, 64, 64, 64, false, 0],
        [2, 200, 16, 16, 256, true, 3], // m ≥ n: exact branch
      ] as const) {
        const q = randF32(heads * n * d, rnd);
        const k = randF32(heads * n * d, rnd);
        const v = randF32(heads * n * dv, rnd);
        const keyMask = masked ? Uint8Array.from({ length: n }, () => (rnd() > -0.5 ? 1 : 0)) : undefined;
        const convKernel = kc ? randF32(heads * kc, rnd) : undefined;
        const opts = { n, d, dv, heads, landmarks: m, keyMask, convKernel };
        const want = gc.nystromAttention(q, k, v, opts);
        expect(await pool.nystromAttention(q, k, v, opts)).toEqual(want);
      }
    });

    it('rejects bad input with the sync API error classes', async () => {
      const q = new Float32Array(12);
      await expect(pool.attention(q, q, q, { n: 4, d: 3, keyMask: new Uint8Array(2) })).rejects.toThrow(RangeError);
      await expect(pool.nystromAttention(q, q, q, { n: 4, d: 3, landmarks: 0 })).rejects.toThrow(RangeError);
      await expect(pool.attention(q, q, [1] as unknown as Float32Array, { n: 4, d: 3 })).rejects.toThrow(TypeError);
      // Large enough to be split: the finiteness check runs on the staged copies (or before dispatch).
      const big = new Float32Array(2 * 700 * 32).fill(0.5);
      big[12345] = NaN;
      await expect(pool.attention(big, big.fill(0.5, 0, 1), big, { n: 700, d: 32, heads: 2 })).rejects.toThrow(/q\[12345\] is NaN/);
      await expect(pool.nystromAttention(new Float32Array(big.length), big, new Float32Array(big.length), { n: 700, d: 32, heads: 2, landmarks: 8 })).rejects.toThrow(/k\[12345\] is NaN/);
    });

    it('returns the shared heap to its baseline', async () => {
      const heap = sharedHeap(pool);
      const base = heap?.bytesInUse ?? 0;
      const rnd = lcg32(3);
      const q = randF32(2 * 600 * 32, rnd);
      for (let i = 0; i < 3; i++) {
        await pool.attention(q, q, q, { n: 600, d: 32, heads: 2 });
        await pool.nystromAttention(q, q, q, { n: 600, d: 32, heads: 2, landmarks: 16 });
      }
      expect(heap?.bytesInUse ?? 0).toBe(base);
    });
  });
}
