/**
 * entropyNormalize / temperatureForEntropy split by rows across a pool of 2 (shared memory and message
 * transfer): results bit-identical to a synchronous call on the same build; small calls, filters and
 * errors through the generic worker call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { mulberry32 } from '../helpers/reference.js';

function logitRows<C extends Float32ArrayConstructor | Float64ArrayConstructor>(ctor: C, rows: number, cols: number, seed: number): InstanceType<C> {
  const rnd = mulberry32(seed);
  const z = new ctor(rows * cols) as InstanceType<C>;
  for (let i = 0; i < z.length; i++) z[i] = 3 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  for (let i = 0; i < z.length; i += 11) z[i] = -Infinity;
  return z;
}

for (const sharedMemory of [true, false]) {
  describe(`entropy in a pool of 2 (sharedMemory ${sharedMemory})`, () => {
    let pool: Pool;
    let gc: Gencore;
    beforeAll(async () => {
      pool = await createPool({ workers: 2, sharedMemory });
      gc = await init({ simd: pool.features.build });
    });
    afterAll(() => pool?.terminate());

    // The pool has one overload per float type, so each case runs with a concrete array type.
    const splitCase = async <T extends Float32Array | Float64Array>(z: T, rows: number, cols: number) => {
      {
        const targets = new Float64Array(rows).map((_, i) => 0.5 + (i * Math.log(cols)) / rows);
        targets[3] = 100; // ClampedHigh
        targets[4] = -1; // ClampedLow
        const opts = { fromLogits: true, tol: z instanceof Float64Array ? 1e-9 : 1e-5 };
        const want = gc.entropyNormalize(z, rows, cols, targets, opts);
        const got = await (pool.entropyNormalize as (...a: unknown[]) => Promise<typeof want>)(z, rows, cols, targets, opts);
        expect(got.out).toBeInstanceOf(z.constructor);
        expect(Array.from(got.out)).toEqual(Array.from(want.out));
        expect(Array.from(got.gamma)).toEqual(Array.from(want.gamma));
        expect(Array.from(got.entropy)).toEqual(Array.from(want.entropy));
        expect(Array.from(got.iterations)).toEqual(Array.from(want.iterations));
        expect(Array.from(got.status)).toEqual(Array.from(want.status));
        const wantT = gc.temperatureForEntropy(z, rows, cols, targets, { method: 'su' });
        const gotT = await pool.temperatureForEntropy(z, rows, cols, targets, { method: 'su' });
        expect(Array.from(gotT.temperature)).toEqual(Array.from(wantT.temperature));
        expect(Array.from(gotT.status)).toEqual(Array.from(wantT.status));
        // Probability rows, warm start array and a caller-side out.
        const p = gc.entropyNormalize(z, rows, cols, 3, { fromLogits: true }).out;
        const out = new (z.constructor as new (n: number) => T)(rows * cols);
        const warm = new Float64Array(rows).fill(1.3);
        const wantP = gc.entropyNormalize(p, rows, cols, 2.5, { initialGamma: warm });
        const gotP = await (pool.entropyNormalize as (...a: unknown[]) => Promise<typeof wantP>)(p, rows, cols, 2.5, { initialGamma: warm, out });
        expect(gotP.out).toBe(out);
        expect(Array.from(out)).toEqual(Array.from(wantP.out));
        expect(Array.from(gotP.iterations)).toEqual(Array.from(wantP.iterations));
      }
    };
    it('Float32Array: split rows give the synchronous result bit for bit', () => splitCase(logitRows(Float32Array, 13, 5000, 17), 13, 5000));
    it('Float64Array: split rows give the synchronous result bit for bit', () => splitCase(logitRows(Float64Array, 13, 5000, 17), 13, 5000));

    it('small calls, entropy and filters run whole in one worker; errors keep their class name', async () => {
      const z = logitRows(Float64Array, 2, 50, 3);
      const want = gc.entropyNormalize(z, 2, 50, 2, { fromLogits: true });
      const got = await pool.entropyNormalize(z, 2, 50, 2, { fromLogits: true });
      expect(Array.from(got.gamma)).toEqual(Array.from(want.gamma));
      expect(Array.from(await pool.entropy(z, 2, 50, { fromLogits: true }))).toEqual(Array.from(gc.entropy(z, 2, 50, { fromLogits: true })));
      expect(Array.from(await pool.topKFilter(z, 2, 50, 5, { consistent: true, endToken: 0 }))).toEqual(
        Array.from(gc.topKFilter(z, 2, 50, 5, { consistent: true, endToken: 0 })),
      );
      expect(Array.from(await pool.nucleusFilter(z, 2, 50, 0.7))).toEqual(Array.from(gc.nucleusFilter(z, 2, 50, 0.7)));
      await expect(pool.entropyNormalize(z, 3, 50, 2)).rejects.toMatchObject({ name: 'RangeError' });
      const big = logitRows(Float32Array, 8, 8000, 4);
      await expect(pool.entropyNormalize(big, 8, 8000, NaN)).rejects.toMatchObject({ name: 'RangeError' });
    });

    it("the pool's shared memory returns to its baseline", async () => {
      const shared = (pool as unknown as { _pool: { sharedMemoryForTest?: { bytesInUse: number } } })._pool.sharedMemoryForTest;
      const before = shared?.bytesInUse ?? 0;
      const z = logitRows(Float32Array, 8, 8000, 5);
      for (let i = 0; i < 3; i++) await pool.entropyNormalize(z, 8, 8000, 4, { fromLogits: true });
      expect(shared?.bytesInUse ?? 0).toBe(before);
    });
  });
}
