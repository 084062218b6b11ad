/**
 * Step loops (sample, estimateAnalyticGamma, sampleUDM, beamSearch) under an abort that arrives as a timer
 * or a message while every callback settles at once, and under a kernel fault that resets the instance
 * while a loop awaits a callback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, gaussianMixture, init, noiseSchedule, type Gencore, type Pool } from '../../bindings/index.js';
import type { WasmInstance } from '../../bindings/wasm/load.js';

interface PoolInternals {
  trapWorkerForTest(index: number): Promise<void>;
  workerHeapsForTest(): Promise<number[]>;
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;
const instanceOf = (gc: Gencore) => (gc as unknown as { _instance: WasmInstance })._instance;

const schedule = noiseSchedule({ kind: 'linear' });
const means: number[] = [];
for (let k = 0; k < 8; k++) means.push(0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8));
const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });

/** How a promise ends: 'resolved' or the error's name. */
const outcome = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.name);

let gc: Gencore;
let pool: Pool;
beforeAll(async () => {
  gc = await init();
  pool = await createPool({ workers: 1 });
});
afterAll(() => pool.terminate());

describe('an abort by timer while every callback settles at once', () => {
  it('stops gc.sample (denoiser in wasm), gc.estimateAnalyticGamma, gc.sampleUDM and gc.beamSearch mid-loop; memory freed', async () => {
    const runs: Array<[string, (signal: AbortSignal, onStep: () => void) => Promise<unknown>, number]> = [
      ['sample', (signal, onStep) => gc.sample({ sampler: 'ddpm', schedule, steps: 1000, shape: [8192, 2], seed: 1, denoiser: ring, signal, onProgress: onStep }), 1000],
      [
        'estimateAnalyticGamma',
        (signal, onStep) => gc.estimateAnalyticGamma(ring, ring.sample(8192, 1), schedule, { dim: 2, seed: 1, signal, onProgress: onStep }),
        1000,
      ],
      [
        'sampleUDM',
        (signal, onStep) =>
          gc.sampleUDM({
            kind: 'deterministic', xT: new Float32Array(2000 * 64), shape: [2000, 64], timesteps: Array.from({ length: 1000 }, (_, i) => 1000 - i),
            degrade: (x0) => x0, predictX0: (xt) => xt, signal, onProgress: onStep,
          }),
        1000,
      ],
      [
        'beamSearch',
        // End token never scores: no hypothesis finishes, so the search runs all maxLength steps.
        (signal, onStep) =>
          gc.beamSearch((b) => new Float32Array(b.rows * 8).map((_, i) => (i % 8 === 0 ? -Infinity : -(i % 8))), {
            beams: 4, maxLength: 3000, endToken: 0, signal, onProgress: onStep,
          }),
        3000,
      ],
    ];
    for (const [name, run, steps] of runs) {
      const ac = new AbortController();
      let done = 0;
      setTimeout(() => ac.abort(), 30);
      expect(await outcome(run(ac.signal, () => done++)), name).toBe('AbortError');
      expect(done, name).toBeLessThan(steps);
      expect(gc.memory.bytesInUse, name).toBe(0);
    }
  });

  it("pool.sample with a wasm denoiser: the worker's loop stops, so the worker is free long before the run would end", async () => {
    const opts = { sampler: 'ddpm' as const, schedule, steps: 400, shape: [32768, 2] as [number, number], seed: 1, denoiser: ring };
    const heaps = await internals(pool).workerHeapsForTest();
    let t0 = performance.now();
    await pool.sample(opts);
    const full = performance.now() - t0;
    const ac = new AbortController();
    t0 = performance.now();
    const run = outcome(pool.sample({ ...opts, signal: ac.signal }));
    setTimeout(() => ac.abort(), full / 10);
    expect(await run).toBe('AbortError');
    // Answered by the worker once its loop has let go of the thread.
    expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
    expect(performance.now() - t0).toBeLessThan(full / 2);
  });
});

describe('a kernel fault while a loop awaits a callback', () => {
  /** Trap the sync instance (as a fault in another call would), swallowing its own KernelFaultError. */
  const trapSync = () => {
    try {
      instanceOf(gc).run('trapForTest', (k) => k.trapForTest());
    } catch (e) {
      expect((e as Error).name).toBe('KernelFaultError');
    }
  };

  it('rejects gc.sample, gc.estimateAnalyticGamma and gc.beamSearch (scorer and transform) with KernelFaultError; memory consistent', async () => {
    const trapOnCall = <A extends unknown[], R>(f: (...a: A) => R, at: number) => {
      let calls = 0;
      return async (...a: A) => {
        if (++calls === at) trapSync();
        return f(...a);
      };
    };
    const sampleOpts = { sampler: 'ddim' as const, schedule, steps: 6, shape: [16, 2] as [number, number], seed: 3 };
    const logits = (b: { rows: number }) => new Float32Array(b.rows * 8).map((_, i) => -(i % 8));
    const beamOpts = { beams: 2, maxLength: 5, endToken: 7 }; // the end token scores lowest: nothing finishes early
    const runs: Array<[string, () => Promise<unknown>]> = [
      ['sample', () => gc.sample({ ...sampleOpts, denoiser: trapOnCall(ring.denoiser, 3) })],
      ['estimateAnalyticGamma', () => gc.estimateAnalyticGamma(trapOnCall(ring.denoiser, 2), ring.sample(40, 1), schedule, { dim: 2, seed: 1, timesteps: [10, 20, 30] })],
      ['beamSearch scorer', () => gc.beamSearch(trapOnCall(logits, 2), beamOpts)],
      ['beamSearch transform', () => gc.beamSearch(logits, { ...beamOpts, transform: trapOnCall(() => undefined, 2) })],
    ];
    for (const [name, run] of runs) {
      expect(await outcome(run()), name).toBe('KernelFaultError');
      expect(gc.memory.bytesInUse, name).toBe(0);
    }
    // The reset instance works: the same bytes as an instance that never faulted.
    const want = await (await init()).sample({ ...sampleOpts, denoiser: ring.denoiser });
    expect(Array.from(await gc.sample({ ...sampleOpts, denoiser: ring.denoiser }))).toEqual(Array.from(want));
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('rejects pool.sample and pool.estimateAnalyticGamma when the worker is reset while awaiting the denoiser; heaps at baseline', async () => {
    const heaps = await internals(pool).workerHeapsForTest();
    const trapWorkerOnCall = (at: number) => {
      let calls = 0;
      return async (x: Float32Array, t: number, s: [number, number]) => {
        if (++calls === at) expect(await outcome(internals(pool).trapWorkerForTest(0))).toBe('KernelFaultError');
        return ring.denoiser(x, t, s);
      };
    };
    const sampleOpts = { sampler: 'ddim' as const, schedule, steps: 6, shape: [16, 2] as [number, number], seed: 3 };
    expect(await outcome(pool.sample({ ...sampleOpts, denoiser: trapWorkerOnCall(3) }))).toBe('KernelFaultError');
    const est = pool.estimateAnalyticGamma(trapWorkerOnCall(2), ring.sample(40, 1), schedule, { dim: 2, seed: 1, timesteps: [10, 20, 30] });
    expect(await outcome(est)).toBe('KernelFaultError');
    expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
    const ok = await pool.sample({ ...sampleOpts, denoiser: ring });
    expect(Array.from(ok)).toEqual(Array.from(await gc.sample({ ...sampleOpts, denoiser: ring })));
  });
});
