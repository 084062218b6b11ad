/**
 * The data paths of the heavy pool methods (matmul, entropyNormalize, temperatureForEntropy, attention,
 * nystromAttention): with a shared memory every call, split or not, is staged once into that memory and
 * run by pointer; without one, operands travel by message. Whatever the path, the worker count and
 * `opts.out`, a result is bit-identical to the sync API's, the caller may refill its inputs as soon as the
 * call is made, and the heaps return to their baselines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { canonical } from '../helpers/canonical.js';
import { mulberry32, randomArray } from '../helpers/reference.js';

interface PoolInternals {
  sharedMemoryForTest?: { bytesInUse: number };
  workerHeapsForTest(): Promise<number[]>;
  workerPrivateMemoryForTest(): Promise<number[]>;
}
const internals = (pool: Pool) => (pool as unknown as { _pool: PoolInternals })._pool;

type Api = Record<string, (...args: unknown[]) => unknown>;

/** One call: its method, fresh arguments (with or without an `opts.out`), and where the out ends up. */
interface PathCase {
  label: string;
  method: string;
  args(out: boolean): unknown[];
  /** The typed arrays the call only reads (refilled by the caller right after the call is made). */
  inputs(args: unknown[]): ArrayBufferView[];
  /** The caller's out in the args, and the result's part that must be that very array. */
  outOf?: (args: unknown[]) => unknown;
  resultOut?: (result: unknown) => unknown;
}

const rnd = (seed: number) => mulberry32(seed);

/** Logit rows with some masked (−∞) entries. */
function logits<C extends Float32ArrayConstructor | Float64ArrayConstructor>(ctor: C, rows: number, cols: number, seed: number): InstanceType<C> {
  const r = rnd(seed);
  const z = new ctor(rows * cols) as InstanceType<C>;
  for (let i = 0; i < z.length; i++) z[i] = 3 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  for (let i = 0; i < z.length; i += 11) z[i] = -Infinity;
  return z;
}

function matmulCase(ctor: Float32ArrayConstructor | Float64ArrayConstructor, m: number, k: number, n: number, beta: number): PathCase {
  return {
    label: `matmul ${ctor.name} ${m}×${k}×${n}${beta ? ', alpha and beta' : ''}`,
    method: 'matmul',
    args: (out) => {
      const r = rnd(m * 31 + k * 7 + n);
      const typed = ctor as { new (length: number): Float32Array | Float64Array };
      const a = randomArray(typed, m * k, r);
      const b = randomArray(typed, k * n, r);
      const c = randomArray(typed, m * n, r);
      return out ? [a, b, m, k, n, { alpha: 0.75, beta, out: c, transB: false }] : [a, b, m, k, n, { transA: false }];
    },
    inputs: (args) => args.slice(0, 2) as ArrayBufferView[],
    outOf: (args) => (args[5] as { out?: unknown }).out,
    resultOut: (result) => result,
  };
}

function entropyCase(ctor: Float32ArrayConstructor | Float64ArrayConstructor, rows: number, cols: number): PathCase {
  return {
    label: `entropyNormalize ${ctor.name} ${rows}×${cols}`,
    method: 'entropyNormalize',
    args: (out) => {
      const z = logits(ctor, rows, cols, rows + cols);
      const targets = new Float64Array(rows).map((_, i) => 0.5 + (i * Math.log(cols)) / rows);
      const opts = { fromLogits: true, tol: ctor === Float64Array ? 1e-9 : 1e-5 };
      return [z, rows, cols, targets, out ? { ...opts, out: new ctor(rows * cols) } : opts];
    },
    inputs: (args) => [args[0], args[3]] as ArrayBufferView[],
    outOf: (args) => (args[4] as { out?: unknown }).out,
    resultOut: (result) => (result as { out: unknown }).out,
  };
}

function temperatureCase(rows: number, cols: number): PathCase {
  return {
    label: `temperatureForEntropy ${rows}×${cols}`,
    method: 'temperatureForEntropy',
    args: () => [logits(Float32Array, rows, cols, 3 * rows + cols), rows, cols, 2.5, { method: 'su', initialTemperature: 0.8 }],
    inputs: (args) => [args[0]] as ArrayBufferView[],
  };
}

function attentionCase(method: 'attention' | 'nystromAttention', heads: number, n: number, d: number, dv: number, extra: Record<string, unknown>): PathCase {
  return {
    label: `${method} ${heads} heads, n ${n}, d ${d}, dv ${dv}`,
    method,
    args: (out) => {
      const r = rnd(heads * n + d);
      const nk = (extra.nk as number | undefined) ?? n;
      const q = randomArray(Float32Array, heads * n * d, r);
      const k = randomArray(Float32Array, heads * nk * d, r);
      const v = randomArray(Float32Array, heads * nk * dv, r);
      const keyMask = Uint8Array.from({ length: heads * nk }, () => (r() > 0.2 ? 1 : 0));
      const opts = { n, d, dv, heads, keyMask, ...extra };
      return [q, k, v, out ? { ...opts, out: new Float32Array(heads * n * dv) } : opts];
    },
    inputs: (args) => [args[0], args[1], args[2], (args[3] as { keyMask: Uint8Array }).keyMask] as ArrayBufferView[],
    outOf: (args) => (args[3] as { out?: unknown }).out,
    resultOut: (result) => result,
  };
}

/** Small calls (one block at any worker count) and calls large enough to be split across two workers. */
const CASES: PathCase[] = [
  matmulCase(Float32Array, 9, 13, 7, 0),
  matmulCase(Float64Array, 9, 13, 7, -2),
  matmulCase(Float32Array, 130, 257, 129, 0),
  matmulCase(Float64Array, 150, 90, 70, 0.5),
  entropyCase(Float32Array, 3, 50),
  entropyCase(Float64Array, 13, 5000),
  entropyCase(Float32Array, 13, 5000),
  temperatureCase(2, 40),
  temperatureCase(12, 4000),
  attentionCase('attention', 2, 5, 3, 3, { nk: 7 }),
  attentionCase('attention', 3, 257, 33, 17, { nk: 190 }),
  attentionCase('nystromAttention', 1, 40, 8, 8, { landmarks: 4 }),
  attentionCase('nystromAttention', 3, 300, 32, 24, { landmarks: 20, convKernel: randomArray(Float32Array, 3 * 5, rnd(9)) }),
];

/** Each case with and without an `opts.out` (temperatureForEntropy has none). */
const CALLS = CASES.flatMap((c) => (c.outOf ? [[c, false], [c, true]] : [[c, false]]) as Array<[PathCase, boolean]>);

for (const sharedMemory of [true, false]) {
  for (const workers of [1, 2]) {
    describe(`pool of ${workers} (sharedMemory: ${sharedMemory})`, () => {
      let pool: Pool;
      let gc: Gencore;
      let want: string[];
      beforeAll(async () => {
        pool = await createPool({ workers, sharedMemory });
        gc = await init({ simd: pool.features.build });
        want = CALLS.map(([c, out]) => canonical((gc as unknown as Api)[c.method](...c.args(out))));
      });
      afterAll(() => pool?.terminate());

      it('every call equals the sync result bit for bit, and fills the caller’s out', async () => {
        for (const [i, [c, out]] of CALLS.entries()) {
          const args = c.args(out);
          const result = await (pool as unknown as Api)[c.method](...args);
          expect(canonical(result), `${c.label}${out ? ', opts.out' : ''}`).toBe(want[i]);
          if (out) expect(c.resultOut!(result), `${c.label}: the result is the caller's out`).toBe(c.outOf!(args));
        }
      });

      it('a call has read its inputs when it returns its promise: refilling them at once changes nothing', async () => {
        const pending = CALLS.map(([c, out]) => {
          const args = c.args(out);
          const call = (pool as unknown as Api)[c.method](...args) as Promise<unknown>;
          for (const input of c.inputs(args)) new Uint8Array(input.buffer, input.byteOffset, input.byteLength).fill(0xff); // NaN floats, all-ones masks
          return call;
        });
        const got = await Promise.all(pending);
        got.forEach((result, i) => expect(canonical(result), `${CALLS[i][0].label}${CALLS[i][1] ? ', opts.out' : ''}`).toBe(want[i]));
      });

      it('after many calls, sequential and concurrent, the shared memory and the worker heaps are back at their baselines', async () => {
        const heaps = await internals(pool).workerHeapsForTest();
        const shared = internals(pool).sharedMemoryForTest;
        const before = shared?.bytesInUse;
        for (let round = 0; round < 3; round++) {
          for (const [c, out] of CALLS) await (pool as unknown as Api)[c.method](...c.args(out));
          await Promise.all(CALLS.map(([c, out]) => (pool as unknown as Api)[c.method](...c.args(out))));
        }
        expect(shared?.bytesInUse).toBe(before);
        expect(await internals(pool).workerHeapsForTest()).toEqual(heaps);
      });
    });
  }
}

describe('with a shared memory, every call runs by pointer on it', () => {
  for (const workers of [1, 2]) {
    it(`no call stages its operands in a worker’s private memory (pool of ${workers})`, async () => {
      const pool = await createPool({ workers, sharedMemory: true });
      try {
        // A fresh pool: its workers' private memories are as small as they start (a grow is never undone).
        const sizes = await internals(pool).workerPrivateMemoryForTest();
        for (const [c, out] of CALLS) await (pool as unknown as Api)[c.method](...c.args(out));
        expect(await internals(pool).workerPrivateMemoryForTest()).toEqual(sizes);
      } finally {
        pool.terminate();
      }
    });
  }
});
