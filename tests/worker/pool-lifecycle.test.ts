/**
 * Pool call lifecycle: terminate() settles every pending call, an abort is not held up by a worker busy
 * inside wasm, a call reads its inputs when it is made, split calls queue for the shared memory instead
 * of failing, callbacks' bad results and shared signals behave as in the sync API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, gaussianMixture, noiseSchedule, type Pool } from '../../bindings/index.js';
import { MAX_BYTES, type WasmMemory } from '../../bindings/wasm/memory.js';
import { mulberry32, randomArray, refGemm } from '../helpers/reference.js';

interface PoolInternals {
  sharedMemoryForTest?: WasmMemory;
  workerHeapsForTest(): Promise<number[]>;
  killWorkerForTest(index: number): void;
  slots: Array<{ busy: number }>;
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;

const schedule = noiseSchedule({ kind: 'linear' });
const blob = gaussianMixture({ means: [0.5, -0.5, -0.5, 0.5], stds: [0.2, 0.3] });

/** How a promise settles, and when (ms after `t0`). */
async function settle(p: Promise<unknown>, t0: number): Promise<{ name?: string; value?: unknown; ms: number }> {
  try {
    const value = await p;
    return { value, ms: performance.now() - t0 };
  } catch (err) {
    return { name: (err as Error).name, ms: performance.now() - t0 };
  }
}

/** float64 entropy (nats) of each probability row. */
function refEntropy(x: ArrayLike<number>, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let h = 0;
    for (let c = 0; c < cols; c++) {
      const p = x[r * cols + c];
      if (p > 0) h -= p * Math.log(p);
    }
    return h;
  });
}

describe('terminate()', () => {
  for (const [workers, sharedMemory] of [[2, true], [2, false], [1, true], [1, false]] as const) {
    it(`rejects in-flight matmul, entropyNormalize and a sample awaiting its denoiser (pool of ${workers}, sharedMemory: ${sharedMemory})`, async () => {
      const pool = await createPool({ workers, sharedMemory });
      await pool.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1); // workers are up
      const mem = internals(pool).sharedMemoryForTest;
      const baseline = mem?.bytesInUse;
      const n = 1024;
      const rows = 4096;
      const cols = 256;
      const logits = randomArray(Float32Array, rows * cols, mulberry32(3));
      const slow = (x: Float32Array) => new Promise<Float32Array>((r) => setTimeout(() => r(x), 10_000));
      const started = performance.now();
      const pending = [
        pool.matmul(new Float32Array(n * n).fill(1), new Float32Array(n * n).fill(1), n, n, n),
        pool.entropyNormalize(logits, rows, cols, 2, { fromLogits: true }),
        pool.sample({ sampler: 'ddim', schedule, steps: 10, shape: [8192, 2], seed: 1, denoiser: slow }),
      ].map((p) => settle(p, started));
      await new Promise((r) => setTimeout(r, 20));
      // Measured from terminate(): making the calls (copying 12 MiB of operands) is not part of it.
      const t0 = performance.now();
      pool.terminate();
      const results = await Promise.all(pending);
      expect(results.map((r) => r.name)).toEqual(['WorkerCrashedError', 'WorkerCrashedError', 'WorkerCrashedError']);
      for (const r of results) expect(r.ms - (t0 - started)).toBeLessThan(2000);
      // Nothing can write the blocks of those calls any more: they are freed.
      if (mem) expect(mem.bytesInUse).toBe(baseline);
      const later = await settle(pool.entropy(new Float32Array([0.5, 0.5]), 1, 2), t0);
      expect(later.name).toBe('WorkerCrashedError');
    });
  }

  it('rejects calls still waiting for a just-created pool’s workers to start', async () => {
    const pool = await createPool({ workers: 2 });
    const pending = [pool.matmul(new Float32Array(4), new Float32Array(4), 2, 2, 2), pool.entropy(new Float32Array([1]), 1, 1)];
    pool.terminate();
    const results = await Promise.all(pending.map((p) => settle(p, 0)));
    expect(results.map((r) => r.name)).toEqual(['WorkerCrashedError', 'WorkerCrashedError']);
  });
});

describe('a worker that dies before it starts', () => {
  it('hands the calls waiting for it to its replacement', async () => {
    const pool = await createPool({ workers: 2, sharedMemory: false });
    try {
      const x = new Float32Array(16).fill(1);
      const calls = Array.from({ length: 6 }, () => pool.matmul(x, x, 4, 4, 4));
      internals(pool).killWorkerForTest(1); // still starting: workers take a while to start from sources
      const settled = await Promise.allSettled(calls);
      expect(settled.map((r) => r.status)).toEqual(new Array(6).fill('fulfilled'));
      for (const r of settled) expect((r as PromiseFulfilledResult<Float32Array>).value).toEqual(new Float32Array(16).fill(4));
    } finally {
      pool.terminate();
    }
  });
});

describe('abort while the worker is busy inside wasm', () => {
  let pool: Pool;
  let heaps: number[];
  beforeAll(async () => {
    pool = await createPool({ workers: 2 });
    heaps = await internals(pool).workerHeapsForTest();
  });
  afterAll(() => pool.terminate());

  const longSample = (signal: AbortSignal, batch: number) =>
    pool.sample({ sampler: 'ddpm', schedule, steps: 1000, shape: [batch, 2], seed: 5, denoiser: blob, signal });

  // The unsplit batch stays under the split threshold (4096 values); 1000 steps of it take well over the
  // 20 ms before the abort.
  for (const [label, batch] of [['unsplit', 2000], ['split', 16384]] as const) {
    it(`pool.sample (${label}, mixture denoiser in wasm) rejects with AbortError promptly; the late reply is dropped cleanly`, async () => {
      const c = new AbortController();
      const t0 = performance.now();
      const run = settle(longSample(c.signal, batch), t0);
      await new Promise((r) => setTimeout(r, 20));
      const abortedAt = performance.now() - t0;
      c.abort();
      const result = await run;
      expect(result.name).toBe('AbortError');
      expect(result.ms - abortedAt).toBeLessThan(100);
      // The workers finish (or stop) in their own time; then their heaps and busy counts are as before.
      expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
      expect(internals(pool).slots.map((s) => s.busy)).toEqual([0, 0]);
    });
  }

  it('pool.estimateAnalyticGamma rejects with AbortError promptly', async () => {
    const c = new AbortController();
    const data = randomArray(Float32Array, 20_000 * 2, mulberry32(9));
    const t0 = performance.now();
    const run = settle(pool.estimateAnalyticGamma(blob, data, schedule, { dim: 2, seed: 1, timesteps: Array.from({ length: 200 }, (_, i) => 999 - 5 * i), signal: c.signal }), t0);
    await new Promise((r) => setTimeout(r, 100));
    const abortedAt = performance.now() - t0;
    c.abort();
    const result = await run;
    expect(result.name).toBe('AbortError');
    expect(result.ms - abortedAt).toBeLessThan(100);
    expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
  });
});

describe('a call reads its inputs when it is made', () => {
  for (const started of [false, true]) {
    it(`matmul, entropy and solve, each fed one array refilled between calls (${started ? 'running' : 'just-created'} pool)`, async () => {
      const pool = await createPool({ workers: 2 });
      try {
        if (started) await pool.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1);
        const a = new Float32Array(64);
        const b = randomArray(Float32Array, 64, mulberry32(1));
        const probs = new Float32Array(8);
        const sys = new Float64Array(4);
        const rhs = Float64Array.from([1, 1]);
        const calls: Array<Promise<unknown>> = [];
        const want: unknown[] = [];
        for (let i = 1; i <= 3; i++) {
          a.fill(i);
          calls.push(pool.matmul(a, b, 8, 8, 8));
          want.push(refGemm(a, b, undefined, 8, 8, 8));
          // Row i − 1 is uniform (ln 4 nats), the others one-hot (0 nats).
          probs.fill(0);
          for (let r = 0; r < 2; r++) for (let c = 0; c < 4; c++) probs[r * 4 + c] = r === i - 1 ? 0.25 : c === 0 ? 1 : 0;
          calls.push(pool.entropy(probs, 2, 4));
          want.push(refEntropy(probs, 2, 4));
          sys.set([i, 0, 0, 2 * i]); // diag(i, 2i) · x = 1 → x = (1/i, 1/(2i))
          calls.push(pool.solve(sys, rhs, 2, 1));
          want.push([1 / i, 1 / (2 * i)]);
        }
        const got = await Promise.all(calls);
        got.forEach((g, j) => {
          const w = want[j] as ArrayLike<number>;
          const arr = g as ArrayLike<number>;
          expect(arr.length, `call ${j}`).toBe(w.length);
          for (let e = 0; e < w.length; e++) expect(Math.abs(arr[e] - w[e]), `call ${j} [${e}]`).toBeLessThan(1e-5 * Math.max(1, Math.abs(w[e])));
        });
      } finally {
        pool.terminate();
      }
    });
  }
});

describe('split calls and the shared memory', () => {
  let pool: Pool;
  let mem: WasmMemory;
  beforeAll(async () => {
    pool = await createPool({ workers: 2 });
    mem = internals(pool).sharedMemoryForTest!;
  });
  afterAll(() => pool.terminate());

  /** Fill the shared memory so that only `room` bytes are left. */
  function hog(room: number): number {
    return mem.alloc(MAX_BYTES - mem.base - mem.bytesInUse - room, 'test hog');
  }

  it('a split call that does not fit next to running ones waits for them (in order) instead of failing', async () => {
    const [m, k, n] = [512, 64, 512];
    const callBytes = 4 * (m * k + k * n + m * n);
    const baseline = mem.bytesInUse;
    const block = hog(callBytes + callBytes / 2); // one call fits, two do not
    try {
      const rnd = mulberry32(8);
      const jobs = Array.from({ length: 4 }, () => ({ a: randomArray(Float32Array, m * k, rnd), b: randomArray(Float32Array, k * n, rnd) }));
      const order: number[] = [];
      const results = await Promise.all(jobs.map((j, i) => pool.matmul(j.a, j.b, m, k, n).then((c) => (order.push(i), c))));
      expect(order).toEqual([0, 1, 2, 3]);
      results.forEach((c, i) => {
        const want = refGemm(jobs[i].a, jobs[i].b, undefined, m, k, n);
        let worst = 0;
        for (let e = 0; e < want.length; e++) worst = Math.max(worst, Math.abs(c[e] - want[e]));
        expect(worst).toBeLessThan(1e-4);
      });
    } finally {
      mem.free(block);
    }
    expect(mem.bytesInUse).toBe(baseline);
  });

  it('a call that could never fit gets its RangeError at once, also while others run; one blocked by other memory fails too', async () => {
    const x = new Float32Array(256 * 256).fill(1);
    const running = pool.matmul(x, x, 256, 256, 256);
    const huge = new Float32Array(40_000);
    await expect(pool.matmul(huge, huge, 40_000, 1, 40_000)).rejects.toThrow(/matmul: needs \d+ bytes of wasm memory/);
    expect((await running)[0]).toBe(256);
    // Nothing running will free the hog: waiting would be forever.
    const block = hog(1 << 20);
    try {
      await expect(pool.matmul(x, x, 256, 256, 256)).rejects.toThrow(RangeError);
    } finally {
      mem.free(block);
    }
  });
});

describe('callbacks and signals as in the sync API', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = await createPool({ workers: 1 });
  });
  afterAll(() => pool.terminate());

  it('a callback returning a detached array gets the RangeError naming the callback', async () => {
    const detached = () => {
      const a = new Float32Array(8);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      return a;
    };
    const opts = { sampler: 'ddpm' as const, schedule, steps: 5, shape: [2, 4] as [number, number], seed: 1 };
    for (const denoiser of [detached, async () => detached()]) {
      const err = await pool.sample({ ...opts, denoiser }).catch((e) => e);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toMatch(/^sample: the denoiser returned 0 values/);
    }
  });

  it('many concurrent calls sharing one AbortSignal add no warning, and leave no listener behind', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const c = new AbortController();
      const slowIdentity = async (x: Float32Array) => (await new Promise((r) => setTimeout(r, 1)), x);
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          pool.sample({ sampler: 'ddim', schedule, steps: 3, shape: [2, 2], seed: i, denoiser: slowIdentity, signal: c.signal }),
        ),
      );
      await new Promise((r) => setTimeout(r, 10));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
