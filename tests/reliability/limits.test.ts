/**
 * Memory limits (issue #9 §6): sizes that cannot fit in the 4 GiB wasm32 address space are refused with
 * a RangeError before anything is allocated (the heap neither holds nor grows by a byte), and a refused
 * memory.grow surfaces as a RangeError from every wasm-backed function, after which the instance still
 * computes exactly what a fresh instance computes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore } from '../../bindings/index.js';
import { hashLogits, linearDenoiser, schedule } from './cases.js';
import { Rng, floats, tokenSeqs } from './gen.js';

const realGrow = WebAssembly.Memory.prototype.grow;
afterEach(() => {
  WebAssembly.Memory.prototype.grow = realGrow;
});

/** Expect `run` to be refused with a RangeError (sync throw or rejection) matching `pattern`. */
async function expectRangeError(run: () => unknown, pattern: RegExp): Promise<void> {
  let err: unknown;
  try {
    await run();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a RangeError').toBeInstanceOf(RangeError);
  expect((err as Error).name).toBe('RangeError');
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toMatch(/unreachable|RuntimeError|out of bounds/);
}

describe('sizes beyond the 4 GiB wasm address space are refused before any allocation', () => {
  let denoiserCalls = 0;
  const countingDenoiser = (x: Float32Array) => (denoiserCalls++, linearDenoiser(x));
  const cases: Array<[string, (gc: Gencore) => unknown]> = [
    ['matmul: C = 40 000² f32 (6.4 GB) from two 40 000-element operands', (gc) => gc.matmul(new Float32Array(40_000), new Float32Array(40_000), 40_000, 1, 40_000)],
    ['matmul: k = 0 and m·n = 1.2·10⁹ zeros (4.8 GB)', (gc) => gc.matmul(new Float32Array(0), new Float32Array(0), 40_000, 0, 30_000)],
    ['randomNormal: n = 2^31 − 1 (8 GB)', (gc) => gc.randomNormal(1, 0, 2 ** 31 - 1)],
    ['randomNormal: n = 1.1·10⁹ (4.4 GB)', (gc) => gc.randomNormal(1, 0, 1.1e9)],
    ['sample: shape [65 536, 65 536]', (gc) => gc.sample({ sampler: 'ddpm', schedule: schedule('linear', 10), steps: 2, shape: [65_536, 65_536], denoiser: countingDenoiser, seed: 1 })],
    ['sample: shape [40 000, 40 000] (6.4 GB of state)', (gc) => gc.sample({ sampler: 'ddpm', schedule: schedule('linear', 10), steps: 2, shape: [40_000, 40_000], denoiser: countingDenoiser, seed: 1 })],
    ['udmMaskStep: n·len·vocab beyond 2^31', (gc) => gc.udmMaskStep(new Int32Array(0), new Float32Array(0), { n: 65_536, len: 65_536, vocab: 2, maskId: 0, seed: 1 })],
  ];
  for (const [what, run] of cases) {
    it(what, async () => {
      const gc = await init();
      const before = { used: gc.memory.bytesInUse, size: gc.memory.byteLength };
      denoiserCalls = 0;
      await expectRangeError(() => run(gc), /./);
      expect(denoiserCalls).toBe(0);
      expect(gc.memory.bytesInUse).toBe(before.used);
      expect(gc.memory.byteLength).toBe(before.size);
      expect(Array.from(gc.matmul(new Float32Array([2]), new Float32Array([4]), 1, 1, 1))).toEqual([8]);
    });
  }

  it('entropy solves with cols = 0: rows beyond what a solve can hold are refused naming rows, before the per-row arrays', async () => {
    const gc = await init();
    const empty = new Float32Array(0);
    for (const rows of [2 ** 27 + 1, 2 ** 31 - 1]) {
      await expectRangeError(() => gc.entropyNormalize(empty, rows, 0, 1), new RegExp(`^entropyNormalize: rows must be an integer in \\[0, 134217728\\], got ${rows}$`));
      await expectRangeError(() => gc.temperatureForEntropy(empty, rows, 0, 1), new RegExp(`^temperatureForEntropy: rows must be an integer in \\[0, 134217728\\], got ${rows}$`));
    }
    expect(gc.memory.bytesInUse).toBe(0);
  });

  it('through a pool: refused in the worker (or on the shared memory) with a RangeError, and the pool keeps working', async () => {
    const pool = await createPool({ workers: 2 });
    try {
      await expectRangeError(() => pool.matmul(new Float32Array(40_000), new Float32Array(40_000), 40_000, 1, 40_000), /4 GiB|wasm32|exceeds/);
      await expectRangeError(() => pool.randomNormal(1, 0, 2 ** 31 - 1), /./);
      await expectRangeError(() => pool.sample({ sampler: 'ddim', schedule: schedule('linear', 10), steps: 2, shape: [65_536, 65_536], denoiser: linearDenoiser, seed: 1 }), /./);
      const x = floats(new Rng(1), Float32Array, 64 * 64);
      const gc = await init();
      expect(await pool.matmul(x, x, 64, 64, 64)).toEqual(gc.matmul(x, x, 64, 64, 64));
      const heaps = await (pool as unknown as { _pool: { workerHeapsForTest(): Promise<number[]> } })._pool.workerHeapsForTest();
      expect(heaps).toEqual([0, 0]);
    } finally {
      pool.terminate();
    }
  });
});

/**
 * One call per wasm-backed function, each needing more wasm memory than a fresh instance starts with
 * (4 pages), so it must grow. The arguments are rebuilt for every call (same seed, same values).
 */
const GROWING: Array<[string, (gc: Gencore) => unknown]> = [
  ['matmul', (gc) => { const a = floats(new Rng(1), Float32Array, 600 * 600); return gc.matmul(a, a, 600, 600, 600); }],
  ['pinv', (gc) => gc.pinv(floats(new Rng(2), Float64Array, 300 * 200), 300, 200)],
  ['solve', (gc) => { const a = floats(new Rng(3), Float64Array, 300 * 300); for (let i = 0; i < 300; i++) a[i * 301] += 300; return gc.solve(a, floats(new Rng(4), Float64Array, 300 * 2), 300, 2); }],
  ['attention', (gc) => { const q = floats(new Rng(5), Float32Array, 512 * 64); return gc.attention(q, q, q, { n: 512, d: 64 }); }],
  ['nystromAttention', (gc) => { const q = floats(new Rng(6), Float32Array, 512 * 64); return gc.nystromAttention(q, q, q, { n: 512, d: 64, landmarks: 32 }); }],
  ['buildTrie', (gc) => { const t = gc.buildTrie(tokenSeqs(new Rng(7), 8_000, 8, 1000), { endToken: 1000 }); const bytes = t.serialize(); t.dispose(); return new Uint8Array(bytes); }],
  ['beamSearch', (gc) => gc.beamSearch((b) => hashLogits(b, 100_000, 3), { beams: 2, maxLength: 2, endToken: 0 })],
  ['repetition', (gc) => {
    const n = 120;
    const P = floats(new Rng(8), Float64Array, n * n, 0, 1);
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += P[i * n + j]; for (let j = 0; j < n; j++) P[i * n + j] /= s * 1.001; }
    return gc.repetition(P, n).R;
  }],
  ['entropy', (gc) => gc.entropy(floats(new Rng(9), Float32Array, 100 * 2000, -3, 3), 100, 2000, { fromLogits: true })],
  ['entropyNormalize', (gc) => gc.entropyNormalize(floats(new Rng(10), Float32Array, 100 * 2000, -3, 3), 100, 2000, 3, { fromLogits: true })],
  ['temperatureForEntropy', (gc) => gc.temperatureForEntropy(floats(new Rng(11), Float32Array, 100 * 2000, -3, 3), 100, 2000, 3)],
  ['ddpmStep', (gc) => { const x = floats(new Rng(12), Float32Array, 200_000); return gc.ddpmStep(x, x, { schedule: schedule('linear', 100), t: 50, seed: 1 }).prevSample; }],
  ['sample', (gc) => gc.sample({ sampler: 'ddim', schedule: schedule('linear', 50), steps: 3, shape: [100, 1000], denoiser: linearDenoiser, seed: 5 })],
  ['randomNormal', (gc) => gc.randomNormal(3, 1, 200_000)],
  ['randomWords', (gc) => gc.randomWords(3, 1, 100_000)],
  ['energyDistance', (gc) => gc.energyDistance(floats(new Rng(13), Float32Array, 1000 * 100), floats(new Rng(14), Float32Array, 1000 * 100), 100)],
  ['meanDistance', (gc) => gc.meanDistance(floats(new Rng(15), Float32Array, 1000 * 100), null, 100)],
  ['mixtureDenoise', (gc) => gc.mixtureDenoise({ kind: 'gaussianMixture', means: new Float64Array(100), stds: new Float64Array([1]), weights: new Float64Array([1]), dim: 100, alphasCumprod: schedule('linear', 50).alphasCumprod }, floats(new Rng(16), Float32Array, 1000 * 100), 10, [1000, 100])],
];

describe('a refused memory.grow is a RangeError and the instance stays usable', () => {
  for (const [name, run] of GROWING) {
    it(name, async () => {
      const reference = await run(await init());
      const gc = await init();
      const before = { used: gc.memory.bytesInUse, size: gc.memory.byteLength };
      WebAssembly.Memory.prototype.grow = function () {
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      };
      try {
        await expectRangeError(() => run(gc), /grow|memory/);
      } finally {
        WebAssembly.Memory.prototype.grow = realGrow;
      }
      expect(gc.memory.bytesInUse).toBe(before.used);
      expect(gc.memory.byteLength).toBe(before.size);
      // Usable afterwards: the same call now succeeds with exactly the fresh instance's result.
      expect(await run(gc)).toEqual(reference);
      expect(gc.memory.bytesInUse).toBe(before.used);
    });
  }

  it('loadTrie of a large serialized trie', async () => {
    const donor = await init();
    const t = donor.buildTrie(tokenSeqs(new Rng(17), 8_000, 8, 1000));
    const bytes = t.serialize();
    t.dispose();
    const gc = await init();
    WebAssembly.Memory.prototype.grow = function () {
      throw new RangeError('refused');
    };
    try {
      await expectRangeError(() => gc.loadTrie(bytes), /grow|memory/);
    } finally {
      WebAssembly.Memory.prototype.grow = realGrow;
    }
    expect(gc.memory.bytesInUse).toBe(0);
    const loaded = gc.loadTrie(bytes);
    expect(new Uint8Array(loaded.serialize())).toEqual(new Uint8Array(bytes));
    loaded.dispose();
  });

  it('estimateAnalyticGamma', async () => {
    const run = (gc: Gencore) => gc.estimateAnalyticGamma(linearDenoiser, floats(new Rng(18), Float32Array, 1000 * 100), schedule('linear', 20), { dim: 100, seed: 4, timesteps: [3, 9] });
    const reference = await run(await init());
    const gc = await init();
    WebAssembly.Memory.prototype.grow = function () {
      throw new RangeError('refused');
    };
    try {
      await expectRangeError(() => run(gc), /grow|memory/);
    } finally {
      WebAssembly.Memory.prototype.grow = realGrow;
    }
    expect(gc.memory.bytesInUse).toBe(0);
    expect(await run(gc)).toEqual(reference);
  });

  it('a pool: a refused grow of the shared memory (split matmul) is a RangeError, nothing stays staged', async () => {
    const pool = await createPool({ workers: 2 });
    try {
      const mem = (pool as unknown as { _pool: { sharedMemoryForTest?: { bytesInUse: number; byteLength: number } } })._pool.sharedMemoryForTest!;
      // Operands beyond the 16 MiB the pool's shared memory starts with, so the split call must grow it.
      const n = 1300;
      const a = floats(new Rng(19), Float32Array, n * n);
      WebAssembly.Memory.prototype.grow = function () {
        throw new RangeError('refused');
      };
      try {
        await expectRangeError(() => pool.matmul(a, a, n, n, n), /grow|memory/);
      } finally {
        WebAssembly.Memory.prototype.grow = realGrow;
      }
      expect(mem.bytesInUse).toBe(0);
      const gc = await init();
      expect(await pool.matmul(a, a, n, n, n)).toEqual(gc.matmul(a, a, n, n, n));
    } finally {
      pool.terminate();
    }
  });
});
