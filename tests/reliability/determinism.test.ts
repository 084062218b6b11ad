/**
 * Determinism (issue #9 §5): seeded sampling and beam search give byte-identical results in the calling
 * thread and in pools of 1, 2 and 4 workers (same wasm build), whatever the batch split.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, gaussianMixture, init, type Gencore, type Pool } from '../../bindings/index.js';
import { hashLogits, linearDenoiser, schedule } from './cases.js';
import { Rng, floats, tokenSeqs } from './gen.js';
import { canonical } from '../helpers/canonical.js';

type Batch = { rows: number; step: number; prefixes: Int32Array };

/** The seeded workloads, each run with a given API. */
function workloads(gc: Gencore) {
  const trie = gc.buildTrie(tokenSeqs(new Rng(31), 300, 10, 60), { endToken: 60 });
  const mixture = gaussianMixture({ means: [1, -1, 0.5, -2, 0, 3], stds: [0.3, 0.6, 0.2], schedule: schedule('cosine', 100) });
  const sch = schedule('linear', 100);
  const list: Array<[string, (api: Gencore | Pool) => Promise<unknown>]> = [
    ['DDPM, 64×32, 25 steps, JS denoiser', async (api) => api.sample({ sampler: 'ddpm', schedule: sch, steps: 25, shape: [64, 32], denoiser: linearDenoiser, seed: 2024 })],
    ['DDIM η = 0.7, 128×16, bigint seed', async (api) => api.sample({ sampler: 'ddim', schedule: sch, steps: 20, shape: [128, 16], denoiser: linearDenoiser, seed: 0xfedcba9876543210n, eta: 0.7 })],
    ['Analytic-DDPM with a Gaussian-mixture denoiser (wasm), 96×2', async (api) => api.sample({ sampler: 'analytic-ddpm', schedule: schedule('cosine', 100), steps: 30, shape: [96, 2], denoiser: mixture, seed: 7, sigmaBar2: new Float64Array(100).fill(0.05) })],
    ['DDPM with thresholding, rowOffset 5', async (api) => api.sample({ sampler: 'ddpm', schedule: sch, steps: 10, shape: [33, 8], denoiser: linearDenoiser, seed: 5, thresholding: true, rowOffset: 5 })],
    ['masking UDM', async (api) => api.sampleUDM({ kind: 'masking', n: 6, len: 10, vocab: 7, maskId: 6, perStep: 2, seed: 77, probs: (t: Int32Array) => Float32Array.from({ length: t.length * 7 }, (_, i) => 0.05 + ((i * 7919) % 13) / 13) })],
    ['randomNormal, 100 000 values', async (api) => api.randomNormal(99, 3, 100_000, { first: 12345 })],
    ['beam search, trie, 8 beams, 3 queries', async (api) => api.beamSearch((b: Batch) => hashLogits(b, 61, 11), { constraint: trie, beams: 8, maxLength: 11, endToken: 60, queries: 3 })],
    ['beam search, unconstrained, renormalize, α = 0.6', async (api) => api.beamSearch((b: Batch) => hashLogits(b, 40, 12, Float64Array), { beams: 5, maxLength: 9, endToken: 2, renormalize: true, lengthPenalty: 0.6 })],
    ['beam search, trie, async scorer, lcsLookahead transform', async (api) => api.beamSearch(async (b: Batch) => hashLogits(b, 61, 13), { constraint: trie, beams: 6, maxLength: 11, endToken: 60, transform: gc.lcsLookahead(trie, [3, 5, 8, 13], { always: true }) })],
  ];
  return { list, dispose: () => trie.dispose() };
}

describe('seeded results are byte-identical: sync, and pools of 1, 2 and 4 workers', () => {
  let gc: Gencore;
  let work: ReturnType<typeof workloads>;
  const want = new Map<string, string>();
  beforeAll(async () => {
    gc = await init();
    work = workloads(gc);
    for (const [name, run] of work.list) want.set(name, canonical(await run(gc)));
  });
  afterAll(() => work.dispose());

  for (const workers of [1, 2, 4]) {
    describe(`pool of ${workers}`, () => {
      let pool: Pool;
      beforeAll(async () => {
        pool = await createPool({ workers });
      });
      afterAll(() => pool?.terminate());
      it('every workload, run twice, equals the sync bytes', async () => {
        for (const [name, run] of work.list) {
          expect(canonical(await run(pool)), `${name} (pool of ${workers})`).toBe(want.get(name));
        }
        // Concurrently too: splitting and scheduling must not change a bit.
        const again = await Promise.all(work.list.map(([, run]) => run(pool)));
        again.forEach((r, i) => expect(canonical(r), `${work.list[i][0]} (concurrent, pool of ${workers})`).toBe(want.get(work.list[i][0])));
      });
    });
  }

  it('a second instance in this thread gives the same bytes (no hidden state between calls)', async () => {
    const other = await init();
    const w = workloads(other);
    try {
      for (const [name, run] of w.list) expect(canonical(await run(other)), name).toBe(want.get(name));
    } finally {
      w.dispose();
    }
  });

  it('the plain-SIMD build is deterministic across threads as well', async () => {
    const plain = await init({ simd: 'plain' });
    const pool = await createPool({ workers: 2, simd: 'plain' });
    try {
      const x = floats(new Rng(3), Float32Array, 300 * 200);
      const run = (api: Gencore | Pool) => api.sample({ sampler: 'ddim', schedule: schedule('linear', 100), steps: 12, shape: [48, 24], denoiser: linearDenoiser, seed: 12, eta: 1 });
      expect(canonical(await run(pool))).toBe(canonical(await run(plain)));
      expect(canonical(await pool.matmul(x, x, 300, 200, 300, { transB: true }))).toBe(canonical(plain.matmul(x, x, 300, 200, 300, { transB: true })));
    } finally {
      pool.terminate();
    }
  });
});
