/**
 * Cancellation (issue #9 §3): an AbortSignal stops beam search, sampling and the other long loops, the
 * call rejects with an error named AbortError, and everything the call allocated is freed (sync heap and
 * the workers' heaps back at their baselines). No callback runs after the abort is raised, in the calling
 * thread or through a pool.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { hashLogits, linearDenoiser, schedule } from './cases.js';
import { Rng, floats, tokenSeqs } from './gen.js';

interface PoolInternals {
  workerHeapsForTest(): Promise<number[]>;
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;

type Batch = { rows: number; step: number; prefixes: Int32Array };

describe('cancellation', () => {
  let gc: Gencore;
  let pool: Pool;
  let heaps: number[];
  beforeAll(async () => {
    gc = await init();
    pool = await createPool({ workers: 2 });
    heaps = await internals(pool).workerHeapsForTest();
  });
  afterAll(() => pool.terminate());
  afterEach(async () => {
    expect(gc.memory.bytesInUse).toBe(0);
    expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
  });

  const apis = () => [['sync', gc], ['pool', pool]] as const;

  /** An unconstrained search that would run maxLength = 200 steps (no token ends it early). */
  const longSearch = { beams: 4, maxLength: 200, endToken: 0, vocabSize: 50 };
  const neverEnd = (b: Batch) => {
    const out = hashLogits(b, 50, 3);
    for (let r = 0; r < b.rows; r++) out[r * 50] = -Infinity; // the end token is never chosen
    return out;
  };

  it('an already-aborted signal rejects before any scorer / denoiser call', async () => {
    const c = new AbortController();
    c.abort();
    for (const [, api] of apis()) {
      let calls = 0;
      const err = await api.beamSearch(() => (calls++, new Float32Array(1)), { ...longSearch, signal: c.signal }).catch((e) => e);
      expect(err?.name).toBe('AbortError');
      const err2 = await api.sample({ sampler: 'ddim', schedule: schedule('linear', 50), steps: 20, shape: [2, 3], denoiser: (x: Float32Array) => (calls++, x), seed: 1, signal: c.signal }).catch((e) => e);
      expect(err2?.name).toBe('AbortError');
      expect(calls).toBe(0);
    }
  });

  for (const where of ['in the scorer', 'in onProgress', 'from a timer while the scorer is pending']) {
    it(`beam search aborted ${where}: AbortError within one step, memory freed`, async () => {
      for (const [label, api] of apis()) {
        const c = new AbortController();
        let calls = 0;
        let callsAtAbort = -1;
        const abort = () => {
          if (callsAtAbort < 0) {
            callsAtAbort = calls;
            c.abort(new Error('user cancelled'));
          }
        };
        const scorer = async (b: Batch) => {
          calls++;
          if (where === 'in the scorer' && b.step === 5) abort();
          if (where.startsWith('from a timer') && b.step === 5) setTimeout(abort, 1);
          if (where.startsWith('from a timer')) await new Promise((r) => setTimeout(r, 5));
          return neverEnd(b);
        };
        const onProgress = where === 'in onProgress' ? (p: { step: number }) => void (p.step === 5 && abort()) : undefined;
        const err = await api.beamSearch(scorer, { ...longSearch, signal: c.signal, onProgress }).catch((e) => e);
        expect(err?.name, label).toBe('AbortError');
        expect(callsAtAbort, label).toBeGreaterThan(0);
        // Within one step: no scorer call after the abort, in the sync API and through a pool (the pool
        // refuses callbacks on the caller's side once the signal is aborted).
        expect(calls - callsAtAbort, label).toBe(0);
      }
    });
  }

  it('trie-constrained multi-query beam search aborted mid-way frees its temporary trie copy too', async () => {
    const trie = gc.buildTrie(tokenSeqs(new Rng(5), 60, 12, 40), { endToken: 41 });
    try {
      for (const [label, api] of apis()) {
        const c = new AbortController();
        const outcome = await api
          .beamSearch((b: Batch) => (b.step === 1 && c.abort(), hashLogits(b, 42, 9)), { constraint: trie, beams: 6, maxLength: 12, endToken: 41, queries: 3, signal: c.signal })
          .then(() => 'finished', (e: Error) => e.name);
        // A pool may finish this short search before its worker sees the abort (see above).
        expect(label === 'sync' ? ['AbortError'] : ['AbortError', 'finished'], label).toContain(outcome);
      }
      expect(gc.memory.bytesInUse).toBeGreaterThan(0); // the caller's own trie is still alive …
    } finally {
      trie.dispose();
    }
  });

  for (const sampler of ['ddpm', 'ddim', 'analytic-ddpm'] as const) {
    it(`sampling (${sampler}) aborted in the denoiser: AbortError within one step, memory freed`, async () => {
      const sch = schedule('cosine', 100);
      for (const [label, api] of apis()) {
        const c = new AbortController();
        let calls = 0;
        let callsAtAbort = -1;
        const denoiser = (x: Float32Array) => {
          calls++;
          if (calls === 7) {
            callsAtAbort = calls;
            c.abort();
          }
          return linearDenoiser(x);
        };
        const opts = {
          sampler, schedule: sch, steps: 50, shape: [8, 16] as [number, number], denoiser, seed: 3, signal: c.signal,
          ...(sampler.startsWith('analytic') ? { sigmaBar2: new Float64Array(100).fill(0.1) } : {}),
        };
        const err = await api.sample(opts).catch((e) => e);
        expect(err?.name, label).toBe('AbortError');
        expect(calls - callsAtAbort, label).toBe(0);
      }
    });
  }

  it('sampling aborted from a timer while an async denoiser is pending', async () => {
    for (const [label, api] of apis()) {
      const c = new AbortController();
      let calls = 0;
      const denoiser = async (x: Float32Array) => {
        if (++calls === 3) setTimeout(() => c.abort(), 1);
        await new Promise((r) => setTimeout(r, 5));
        return linearDenoiser(x);
      };
      const err = await api.sample({ sampler: 'ddim', schedule: schedule('linear', 100), steps: 100, shape: [4, 4], denoiser, seed: 8, signal: c.signal }).catch((e) => e);
      expect(err?.name, label).toBe('AbortError');
      if (label === 'sync') expect(calls, label).toBeLessThanOrEqual(4);
    }
  });

  it('sampleUDM and estimateAnalyticGamma honour the signal as well', async () => {
    for (const [label, api] of apis()) {
      const c = new AbortController();
      let calls = 0;
      const probs = (tokens: Int32Array) => {
        if (++calls === 2) c.abort();
        return new Float32Array(tokens.length * 5).fill(0.2);
      };
      const outcome = await api.sampleUDM({ kind: 'masking', n: 2, len: 12, vocab: 5, maskId: 4, probs, seed: 1, signal: c.signal }).then(() => 'finished', (e: Error) => e.name);
      // Twelve short steps: a pool may finish before its worker sees the abort (reported latency).
      expect(label === 'sync' ? ['AbortError'] : ['AbortError', 'finished'], label).toContain(outcome);
      if (label === 'sync') expect(calls, label).toBe(2);

      const c2 = new AbortController();
      let dcalls = 0;
      const den = (x: Float32Array) => {
        if (++dcalls === 3) c2.abort();
        return linearDenoiser(x);
      };
      const err2 = await api.estimateAnalyticGamma(den, floats(new Rng(4), Float32Array, 16 * 3), schedule('linear', 50), { dim: 3, seed: 2, signal: c2.signal }).catch((e) => e);
      expect(err2?.name, label).toBe('AbortError');
      if (label === 'sync') expect(dcalls, label).toBe(3);
    }
  });

  it('after an abort, the same calls still give the same results as before (sync = pool)', async () => {
    const opts = { sampler: 'ddpm' as const, schedule: schedule('linear', 50), steps: 12, shape: [3, 5] as [number, number], denoiser: linearDenoiser, seed: 99 };
    const want = await gc.sample(opts);
    expect(await pool.sample(opts)).toEqual(want);
    const scorer = (b: Batch) => hashLogits(b, 20, 4);
    const bopts = { beams: 3, maxLength: 6, endToken: 1 };
    expect(await pool.beamSearch(scorer, bopts)).toEqual(await gc.beamSearch(scorer, bopts));
  });
});

describe('abort while a callback never settles', () => {
  // beamSearch races the pending scorer against the AbortSignal: aborting while a scorer never settles
  // rejects with AbortError at once.
  it('beam search rejects with AbortError when aborted while its scorer never settles', async () => {
    const gc = await init();
    const c = new AbortController();
    const search = gc.beamSearch(() => new Promise<Float32Array>(() => {}), { beams: 2, maxLength: 5, endToken: 0, signal: c.signal });
    setTimeout(() => c.abort(), 10);
    const outcome = await Promise.race([search.then(() => 'resolved', (e: Error) => e.name), new Promise((r) => setTimeout(() => r('still pending after 3 s'), 3000))]);
    expect(outcome).toBe('AbortError');
  });

  // The same for sample's denoiser (raced against the signal as well).
  it('sampling rejects with AbortError when aborted while its denoiser never settles', async () => {
    const gc = await init();
    const c = new AbortController();
    const run = gc.sample({ sampler: 'ddim', schedule: schedule('linear', 50), steps: 10, shape: [1, 2], denoiser: () => new Promise<Float32Array>(() => {}), seed: 1, signal: c.signal });
    setTimeout(() => c.abort(), 10);
    const outcome = await Promise.race([run.then(() => 'resolved', (e: Error) => e.name), new Promise((r) => setTimeout(() => r('still pending after 3 s'), 3000))]);
    expect(outcome).toBe('AbortError');
  });
});
