/**
 * `npm run bench pipeline`: a short pipeline, X·W (n×d by d×d) → exact attention of the product with itself
 * (n queries, keys and values of width d) → entropyNormalize of the n attention rows (from logits, target
 * ½·log d), timed per pipeline on ordinary arrays (every call copies its inputs in and returns a new
 * array) against resident arrays (`gc.alloc` / `pool.alloc`: inputs and results stay in wasm memory), in the
 * sync API and in pools of 1 and 2, in interleaved rounds. Each form's result is checked against the sync
 * ordinary one (the same bytes) before timing. docs/memory.md.
 */
import { loadavg } from 'node:os';
import { createPool, init, type Pool, type ResidentArray } from '../bindings/index.js';
import { fmt, measureInterleaved, printTable, writeResults } from './lib.js';
import { QUICK } from './node-env.js';
import { randomF32 } from './shared/timing.js';

const N = QUICK ? 128 : 1024;
const D = 64;
const TARGET = 0.5 * Math.log(D);

/** Both APIs through the pool's signatures: awaiting a sync result is harmless. */
type Api = Pool;

/** The pipeline on ordinary arrays: each step's result is a new array, copied in again by the next. */
async function ordinary(api: Api, x: Float32Array, w: Float32Array): Promise<Float32Array> {
  const h = await api.matmul(x, w, N, D, D);
  const a = await api.attention(h, h, h, { n: N, d: D });
  return (await api.entropyNormalize(a, N, D, TARGET, { fromLogits: true })).out;
}

/** Resident inputs, intermediates and result of one API: nothing is copied between the steps. */
interface Residents {
  x: ResidentArray<Float32Array>;
  w: ResidentArray<Float32Array>;
  h: ResidentArray<Float32Array>;
  a: ResidentArray<Float32Array>;
  p: ResidentArray<Float32Array>;
}

function allocResidents(api: Api, x: Float32Array, w: Float32Array): Residents {
  const r = { x: api.alloc(Float32Array, N * D), w: api.alloc(Float32Array, D * D), h: api.alloc(Float32Array, N * D), a: api.alloc(Float32Array, N * D), p: api.alloc(Float32Array, N * D) };
  r.x.array.set(x);
  r.w.array.set(w);
  return r;
}

async function resident(api: Api, r: Residents): Promise<Float32Array> {
  await api.matmul(r.x, r.w, N, D, D, { out: r.h });
  await api.attention(r.h, r.h, r.h, { n: N, d: D, out: r.a });
  return (await api.entropyNormalize(r.a, N, D, TARGET, { fromLogits: true, out: r.p })).out;
}

const sameBytes = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

export async function run(): Promise<void> {
  const gc = await init();
  const [pool1, pool2] = await Promise.all([createPool({ workers: 1 }), createPool({ workers: 2 })]);
  try {
    // Scale W so the attention logits are of order one.
    const x = randomF32(N * D, 1);
    const w = randomF32(D * D, 2).map((v) => v / Math.sqrt(D));
    const apis = { sync: gc as unknown as Api, 'pool of 1': pool1, 'pool of 2': pool2 };
    const residents = new Map<Api, Residents>(Object.values(apis).map((api) => [api, allocResidents(api, x, w)]));
    const want = await ordinary(apis.sync, x, w);
    for (const [name, api] of Object.entries(apis)) {
      if (!sameBytes(await ordinary(api, x, w), want) || !sameBytes(await resident(api, residents.get(api)!), want)) {
        throw new Error(`bench pipeline: ${name} does not give the sync result`);
      }
    }
    const fns: Record<string, () => Promise<unknown>> = {};
    for (const [name, api] of Object.entries(apis)) {
      fns[`${name}, ordinary`] = () => ordinary(api, x, w);
      fns[`${name}, resident`] = () => resident(api, residents.get(api)!);
    }
    const load1 = loadavg()[0];
    const t = await measureInterleaved(fns, { rounds: QUICK ? 2 : 9 });
    const rows = Object.keys(apis).map((name) => {
      const plain = t[`${name}, ordinary`].median * 1e3;
      const res = t[`${name}, resident`].median * 1e3;
      return { api: name, 'ordinary ms': plain, 'resident ms': res, 'ordinary/resident': plain / res };
    });
    printTable(
      `pipeline: matmul ${N}×${D}×${D} → exact attention n ${N}, d ${D} → entropyNormalize ${N}×${D}, f32, ms per pipeline (median of ${QUICK ? 2 : 9} rounds; load avg 1 min ${fmt(load1)}${QUICK ? '; QUICK: not a measurement' : ''})`,
      rows,
    );
    console.log(`wrote ${writeResults('pipeline', { n: N, d: D, quick: QUICK, load1, rows, timings: t })}`);
    for (const r of residents.values()) for (const ra of Object.values(r)) ra.release();
  } finally {
    pool1.terminate();
    pool2.terminate();
  }
}
