/**
 * Concurrency (issue #9 §4): 200 pool calls of mixed kinds in flight at once — small generic calls, calls
 * split across workers, calls with callbacks into this thread — all return exactly what the sync API
 * returns for the same arguments, and the heaps are back at their baselines afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { FUNCTION_CASES, hashLogits, linearDenoiser, schedule, type CaseContext } from './cases.js';
import { makeContext } from './harness.js';
import { Rng, floats, seedFor } from './gen.js';

interface PoolInternals {
  workerHeapsForTest(): Promise<number[]>;
  sharedMemoryForTest?: { bytesInUse: number };
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;

/** Functions whose results are plain data comparable across sync and pool (no tries, no closures). */
const MIXED = [
  'matmul', 'pinv', 'solve', 'attention', 'nystromAttention', 'beamSearch', 'buildTrieBuffer', 'repetition', 'decodeTransform',
  'terminationStats', 'highInflowPairs', 'ddpmStep', 'ddimStep', 'sample', 'estimateAnalyticGamma', 'mixtureDenoise', 'mixturePosterior',
  'randomNormal', 'randomWords', 'energyDistance', 'meanDistance', 'udmMaskStep', 'sampleUDM', 'entropy', 'entropyNormalize',
  'temperatureForEntropy', 'topKFilter', 'nucleusFilter',
];

/** Large calls that take the split paths (row blocks, heads) while the small ones run. */
function bigCalls(i: number): { name: string; args: () => unknown[] } {
  const rng = new Rng(seedFor('big', i));
  const seed = rng.int(0, 1e6);
  switch (i % 5) {
    case 0:
      return { name: 'matmul', args: () => { const r = new Rng(seed); return [floats(r, Float32Array, 200 * 160), floats(r, Float32Array, 160 * 180), 200, 160, 180]; } };
    case 1:
      return { name: 'attention', args: () => { const r = new Rng(seed); const q = floats(r, Float32Array, 4 * 128 * 32); return [q, q.slice().reverse(), q, { n: 128, d: 32, heads: 4 }]; } };
    case 2:
      return { name: 'entropyNormalize', args: () => [floats(new Rng(seed), Float32Array, 256 * 512, -3, 3), 256, 512, 2.5, { fromLogits: true }] };
    case 3:
      return { name: 'sample', args: () => [{ sampler: 'ddim', schedule: schedule('cosine', 100), steps: 8, shape: [64, 32], denoiser: linearDenoiser, seed, eta: 0.5 }] };
    default:
      return { name: 'beamSearch', args: () => [(b: { rows: number; step: number; prefixes: Int32Array }) => hashLogits(b, 64, seed), { beams: 6, maxLength: 8, endToken: 3, queries: 3 }] };
  }
}

describe('200 concurrent pool calls of mixed kinds', () => {
  let gc: Gencore;
  let pool: Pool;
  let ctx: CaseContext;
  beforeAll(async () => {
    gc = await init();
    pool = await createPool({ workers: 2 });
    ctx = await makeContext(gc, false);
  });
  afterAll(() => {
    pool?.terminate();
    ctx?.trie.dispose();
    ctx?.substring.dispose();
  });

  it('all equal the sync results, bit for bit', async () => {
    const specs = FUNCTION_CASES.filter((c) => MIXED.includes(c.name));
    expect(specs.map((s) => s.name).sort()).toEqual([...MIXED].sort());
    const calls: Array<{ name: string; args: () => unknown[] }> = [];
    for (let i = 0; i < 200; i++) {
      if (i % 8 === 7) {
        calls.push(bigCalls(i));
        continue;
      }
      const spec = specs[i % specs.length];
      // Arguments are generated twice from one seed: the sync and the pool call get equal, separate arrays.
      calls.push({ name: spec.name, args: () => spec.valid(new Rng(seedFor(`concurrency/${spec.name}`, i)), ctx).args });
    }
    const api = (x: Gencore | Pool, name: string) => (x as unknown as Record<string, (...a: unknown[]) => unknown>)[name].bind(x);
    const want = [];
    for (const c of calls) want.push(await api(gc, c.name)(...c.args()));
    const heaps = await internals(pool).workerHeapsForTest();
    const got = await Promise.all(calls.map((c) => api(pool, c.name)(...c.args())));
    for (let i = 0; i < calls.length; i++) expect(got[i], `call ${i}: ${calls[i].name}`).toEqual(want[i]);
    expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
    expect(internals(pool).sharedMemoryForTest?.bytesInUse ?? 0).toBe(0);
    expect(gc.memory.bytesInUse).toBeGreaterThan(0); // only the context's trie and constraint
  });
});
