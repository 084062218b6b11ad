/**
 * Diffusion samplers in the worker pool: a batch split across 1, 2 and 4 workers gives the same bytes as
 * the calling thread (counter-based random numbers), for a mixture evaluated in the workers and for a
 * JS denoiser called back on this thread with each worker's slice; errors, abort and progress cross the
 * boundary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, gaussianMixture, init, noiseSchedule, type Gencore, type Pool } from '../../bindings/index.js';

const schedule = noiseSchedule({ kind: 'linear' });
const means: number[] = [];
for (let k = 0; k < 8; k++) means.push(0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8));
const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });

let gc: Gencore;
const pools: Pool[] = [];
let pool1: Pool;
let pool2: Pool;
let pool4: Pool;

beforeAll(async () => {
  gc = await init();
  [pool1, pool2, pool4] = await Promise.all([createPool({ workers: 1 }), createPool({ workers: 2 }), createPool({ workers: 4 })]);
  pools.push(pool1, pool2, pool4);
});

afterAll(() => {
  for (const p of pools) p.terminate();
});

const bytes = (a: Float32Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

describe('pool.sample', () => {
  it('same seed → identical bytes in sync, 1, 2 and 4 workers (mixture in the workers; analytic and thresholded plans)', async () => {
    const sigmaBar2 = ring.sigmaBar2({ timesteps: [900, 800, 700, 600, 500, 400, 300, 200, 100, 0], samples: 2000 });
    const cases = [
      { sampler: 'ddpm' as const, steps: 25 },
      { sampler: 'analytic-ddim' as const, steps: 10, sigmaBar2, eta: 0.5 },
      { sampler: 'ddim' as const, steps: 10, eta: 1, thresholding: { ratio: 0.9 } },
    ];
    for (const c of cases) {
      const opts = { schedule, shape: [5003, 2] as [number, number], seed: 31, ...c };
      const want = bytes(await gc.sample({ ...opts, denoiser: ring.denoiser }));
      for (const p of [pool1, pool2, pool4]) {
        expect(bytes(await p.sample({ ...opts, denoiser: ring.denoiser })), `${c.sampler}, ${p.size} workers`).toEqual(want);
      }
      // the mixture object and its params are accepted too
      expect(bytes(await pool2.sample({ ...opts, denoiser: ring }))).toEqual(want);
      expect(bytes(await pool2.sample({ ...opts, denoiser: ring.params }))).toEqual(want);
    }
  });

  it('a JS denoiser is called back on this thread with each worker’s slice; results identical to sync', async () => {
    const seen: Array<[number, number]> = [];
    const denoiser = async (x: Float32Array, t: number, shape: [number, number]) => {
      seen.push(shape);
      return ring.denoiser(x, t, shape);
    };
    const opts = { sampler: 'ddim' as const, eta: 0.3, schedule, steps: 8, shape: [6000, 2] as [number, number], seed: 4 };
    const want = bytes(await gc.sample({ ...opts, denoiser }));
    seen.length = 0;
    const progress: number[] = [];
    const got = await pool2.sample({ ...opts, denoiser, onProgress: (p) => progress.push(p.step) });
    expect(bytes(got)).toEqual(want);
    expect(seen.length).toBe(16); // 8 steps × 2 slices
    expect(new Set(seen.map((s) => s[0]))).toEqual(new Set([3000]));
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // xT and out are honoured
    const xT = gc.randomNormal(9, 0, 12000);
    const out = new Float32Array(12000);
    const r = await pool4.sample({ ...opts, denoiser: ring, xT, out });
    expect(r).toBe(out);
    expect(bytes(out)).toEqual(bytes(await gc.sample({ ...opts, denoiser: ring, xT })));
  });

  it('errors and abort cross the boundary; worker heaps return to their baseline', async () => {
    const heaps = () => (pool2 as unknown as { _pool: { workerHeapsForTest(): Promise<number[]> } })._pool.workerHeapsForTest();
    const before = await heaps();
    const opts = { sampler: 'ddpm' as const, schedule, steps: 20, shape: [6000, 2] as [number, number], seed: 4 };
    await expect(pool2.sample({ ...opts, denoiser: () => new Float32Array(5) })).rejects.toMatchObject({ name: 'RangeError' });
    await expect(pool2.sample({ ...opts, steps: 5000, denoiser: ring })).rejects.toThrow(RangeError);
    const ctrl = new AbortController();
    let calls = 0;
    const p = pool2.sample({
      ...opts,
      signal: ctrl.signal,
      denoiser: async (x, t, s) => {
        if (++calls === 3) ctrl.abort();
        return ring.denoiser(x, t, s);
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBeLessThanOrEqual(6); // stops within one step on each of the two slices
    expect(await heaps()).toEqual(before);
    // the pool still works afterwards
    const ok = await pool2.sample({ ...opts, steps: 3, denoiser: ring });
    expect(bytes(ok)).toEqual(bytes(await gc.sample({ ...opts, steps: 3, denoiser: ring })));
    expect(await heaps()).toEqual(before);
  });

  it('a denoiser that never settles: abort → AbortError, opts.timeoutMs → TimeoutError (whole and split batches); heaps at baseline', async () => {
    const heaps = () => (pool2 as unknown as { _pool: { workerHeapsForTest(): Promise<number[]> } })._pool.workerHeapsForTest();
    const before = await heaps();
    const settle = (p: Promise<unknown>) =>
      Promise.race([p.then(() => 'resolved', (e: Error) => e.name), new Promise((r) => setTimeout(() => r('still pending after 5 s'), 5000))]);
    const never = () => new Promise<Float32Array>(() => {});
    for (const shape of [[4, 2], [6000, 2]] as Array<[number, number]>) {
      const opts = { sampler: 'ddim' as const, schedule, steps: 5, shape, seed: 4, denoiser: never };
      const c = new AbortController();
      const p = pool2.sample({ ...opts, signal: c.signal });
      setTimeout(() => c.abort(), 20);
      expect(await settle(p), `abort, shape ${shape}`).toBe('AbortError');
      expect(await settle(pool2.sample({ ...opts, timeoutMs: 30 })), `timeout, shape ${shape}`).toBe('TimeoutError');
    }
    const data = ring.sample(50, 1);
    const est = pool2.estimateAnalyticGamma(never, data, schedule, { dim: 2, seed: 1, timesteps: [10], timeoutMs: 30 });
    expect(await settle(est)).toBe('TimeoutError');
    await expect(pool2.sample({ sampler: 'ddim', schedule, steps: 5, shape: [4, 2], seed: 4, denoiser: ring, timeoutMs: 0 })).rejects.toMatchObject({ name: 'RangeError' });
    expect(await heaps()).toEqual(before);
    // the pool still works afterwards
    const ok = await pool2.sample({ sampler: 'ddpm', schedule, steps: 3, shape: [6000, 2], seed: 4, denoiser: ring });
    expect(bytes(ok)).toEqual(bytes(await gc.sample({ sampler: 'ddpm', schedule, steps: 3, shape: [6000, 2], seed: 4, denoiser: ring })));
  });

  it('split batch: an async onProgress is awaited and its rejection rejects the call, as unsplit (no unhandled rejection)', async () => {
    const heaps = () => (pool2 as unknown as { _pool: { workerHeapsForTest(): Promise<number[]> } })._pool.workerHeapsForTest();
    const before = await heaps();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const shape of [[4, 2], [5000, 2]] as Array<[number, number]>) {
        const opts = { sampler: 'ddpm' as const, schedule, steps: 6, shape, seed: 4, denoiser: ring };
        const finished: number[] = [];
        await pool2.sample({
          ...opts,
          onProgress: async (p) => {
            await new Promise((r) => setTimeout(r, 15));
            finished.push(p.step);
          },
        });
        expect(finished, `awaited, shape ${shape}`).toEqual([1, 2, 3, 4, 5, 6]);
        const failing = pool2.sample({
          ...opts,
          onProgress: async (p) => {
            if (p.step === 3) throw new Error('reporter broke');
          },
        });
        await expect(failing, `rejects, shape ${shape}`).rejects.toThrow('reporter broke');
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(await heaps()).toEqual(before);
  });

  it('estimateAnalyticGamma and mixtureDenoise run the mixture inside a worker', async () => {
    const data = ring.sample(3000, 1);
    const o = { dim: 2, timesteps: [10, 500, 990], seed: 2, sigmaBar2Max: 0.255 };
    const a = await gc.estimateAnalyticGamma(ring.denoiser, data, schedule, o);
    const b = await pool2.estimateAnalyticGamma(ring.denoiser, data, schedule, o);
    expect(Array.from(b.sigmaBar2)).toEqual(Array.from(a.sigmaBar2));
    const x = gc.randomNormal(3, 3, 200);
    expect(bytes(await pool2.mixtureDenoise(ring, x, 400, [100, 2]))).toEqual(bytes(gc.mixtureDenoise(ring, x, 400, [100, 2])));
  });
});
