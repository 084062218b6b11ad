/**
 * The GEMM suite that Node and the browser share: f32 n×n×n on the caller's ordinary Float32Arrays through
 * sync calls (new result and `opts.out`; both builds against a register-only peak probe), pools of 1 and 2
 * workers (both ways), tfjs-backend-wasm and onnxruntime-web (wasm EP, one thread each); then where the
 * time of a pool-of-1 call goes, measured from outside the public API.
 */
import type { Gencore, Pool } from '../../bindings/index.js';
import { describePeers, type BenchEnv, type SuiteResult } from './env.js';
import { matmulModel } from './onnx.js';
import { fmt, measure, measureInterleaved, poolRatios, randomF32, relFro, type Row, type Table, type Timing } from './timing.js';

const gflops = (n: number, seconds: number) => (2 * n * n * n) / seconds / 1e9;

/** Results of two implementations must agree before either is timed. */
function checkAgrees(what: string, got: ArrayLike<number>, want: ArrayLike<number>): number {
  const err = relFro(got, want);
  if (!(err < 1e-5)) throw new Error(`gemm bench: ${what} differs from gencore's result (relF ${err})`);
  return err;
}

/** One onnxruntime-web MatMul session for n×n×n, its inputs bound, checked against `want`. */
async function ortMatmul(ort: BenchEnv['ort'], a: Float32Array, b: Float32Array, n: number, want: Float32Array) {
  const session = await ort.InferenceSession.create(matmulModel(n, n, n), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { A: new ort.Tensor('float32', a, [n, n]), B: new ort.Tensor('float32', b, [n, n]) };
  const run = async () => (await session.run(feeds)).C.data as Float32Array;
  const relErr = checkAgrees('onnxruntime-web', await run(), want);
  return { run, relErr, release: () => session.release() };
}

/**
 * GFLOP/s of the register-only f32x4 multiply-add loop (bench/assembly/peak.ts, 12 independent accumulators,
 * 8 flops per multiply-add): what a GEMM could reach at best in this runtime.
 */
async function peakGflops(bytes: Uint8Array<ArrayBuffer>, quick: boolean): Promise<number> {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { memory, abort: () => {} } });
  const peak = instance.exports.peak as (iters: number, s: number) => number;
  const iters = quick ? 200_000 : 2_000_000;
  const t = await measure(() => peak(iters, 0.5), quick ? { warmup: 1, minRepeats: 2, minSeconds: 0 } : { minRepeats: 7 });
  return (iters * 12 * 8) / t.median / 1e9;
}

/** Median milliseconds of a timing. */
const ms = (t: Timing) => t.median * 1e3;

export async function gemmSuite(env: BenchEnv): Promise<SuiteResult> {
  const { tf, ort, quick } = env;
  const sizes = quick ? [32, 64] : [256, 512, 1024];
  const breakdownSizes = quick ? [64] : [512, 1024];
  const gc = await env.gencore.init();
  const plainBuild = await env.gencore.init({ simd: 'plain' });
  const peakPlain = await peakGflops(await env.probe('peak', false), quick);
  const peakRelaxed = gc.features.build === 'relaxed' ? await peakGflops(await env.probe('peak', true), quick) : NaN;
  const pool1 = await env.gencore.createPool({ workers: 1 });
  const pool2 = await env.gencore.createPool({ workers: 2 });
  const throughput: Row[] = [];
  const ratios: Row[] = [];
  const builds: Row[] = [];
  const sizesRecord: Record<string, number>[] = [];
  try {
    for (const n of sizes) {
      env.log(`gemm n = ${n}`);
      const a = randomF32(n * n, 1 + n);
      const b = randomF32(n * n, 2 + n);
      const out = new Float32Array(n * n);
      const want = gc.matmul(a, b, n, n, n);
      const ta = tf.tensor2d(a, [n, n]);
      const tb = tf.tensor2d(b, [n, n]);
      const tfjsRun = () => {
        const c = tf.matMul(ta, tb);
        const data = c.dataSync();
        c.dispose();
        return data;
      };
      let onnx: Awaited<ReturnType<typeof ortMatmul>> | undefined;
      let tfjsErr: number;
      let t: Record<'syncNew' | 'syncOut' | 'plainBuildOut' | 'pool1New' | 'pool1Out' | 'pool2New' | 'pool2Out' | 'tfjs' | 'ort', Timing>;
      try {
        tfjsErr = checkAgrees('tfjs-backend-wasm', tfjsRun(), want);
        onnx = await ortMatmul(ort, a, b, n, want);
        checkAgrees('a pool of 2', await pool2.matmul(a, b, n, n, n), want);
        t = await measureInterleaved(
          {
            syncNew: () => gc.matmul(a, b, n, n, n),
            syncOut: () => gc.matmul(a, b, n, n, n, { out }),
            plainBuildOut: () => plainBuild.matmul(a, b, n, n, n, { out }),
            pool1New: () => pool1.matmul(a, b, n, n, n),
            pool1Out: () => pool1.matmul(a, b, n, n, n, { out }),
            pool2New: () => pool2.matmul(a, b, n, n, n),
            pool2Out: () => pool2.matmul(a, b, n, n, n, { out }),
            tfjs: tfjsRun,
            ort: onnx.run,
          },
          quick ? { rounds: 2, warmup: 1, minSampleSeconds: 0 } : { rounds: n >= 1024 ? 9 : 15 },
        );
      } finally {
        tf.dispose([ta, tb]);
        await onnx?.release();
      }
      const [load1] = await env.loadavg();
      const g = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, gflops(n, (v as Timing).median)])) as Record<keyof typeof t, number>;
      sizesRecord.push({ n, ...g, loadavg1: load1, tfjsRelErr: tfjsErr, ortRelErr: onnx.relErr });
      throughput.push({
        n,
        'sync new': g.syncNew,
        'sync out': g.syncOut,
        'pool(1) new': g.pool1New,
        'pool(1) out': g.pool1Out,
        'pool(2) new': g.pool2New,
        'pool(2) out': g.pool2Out,
        'load avg 1 min': load1,
        'tfjs-wasm': g.tfjs,
        'onnxruntime-web': g.ort,
      });
      ratios.push({
        n,
        ...poolRatios((form) => g[form], load1),
        'gencore/tfjs': g.syncOut / g.tfjs,
        'gencore/onnxruntime': g.syncOut / g.ort,
      });
      builds.push({
        n,
        'plain build': g.plainBuildOut,
        [`${gc.features.build} build`]: g.syncOut,
        [`${gc.features.build}/plain`]: g.syncOut / g.plainBuildOut,
        'plain/its peak': g.plainBuildOut / peakPlain,
        [`${gc.features.build}/its peak`]: g.syncOut / (gc.features.build === 'relaxed' ? peakRelaxed : peakPlain),
      });
    }
    const breakdown = await poolBreakdown(env, gc, pool1, breakdownSizes);
    const tables: Table[] = [
      {
        title: `f32 GEMM n×n×n, GFLOP/s (median of interleaved rounds; ${gc.features.build} build, pools: ${pool2.features.sharedMemory ? 'shared' : 'transferred'} memory; peers single-threaded wasm)`,
        rows: throughput,
      },
      { title: 'f32 GEMM ratios (throughput; targets: pool1/sync ≥ 0.9, pool2/sync ≥ 1.75 at n ≥ 512 and ≥ 1.3 at 256, new/out ≥ 0.95, gencore/peer ≥ 1.6)', rows: ratios },
      {
        title: `f32 GEMM by build, sync with opts.out, GFLOP/s, against the register-only f32x4 multiply-add peak probe (plain ${fmt(peakPlain)}, relaxed ${fmt(peakRelaxed)} GFLOP/s; target relaxed/its peak ≥ 0.9 at n = 1024)`,
        rows: builds,
      },
      breakdown.table,
    ];
    return { tables, record: { runtime: env.runtime, peers: await describePeers(tf, env.ort), build: gc.features.build, peakPlain, peakRelaxed, poolFeatures: pool2.features, quick, sizes: sizesRecord, poolBreakdown: breakdown.record } };
  } finally {
    pool1.terminate();
    pool2.terminate();
  }
}

/**
 * Where a pool-of-1 GEMM call's time goes, from the outside: the sync call with `opts.out` on this thread is
 * staging + kernel + copy-out; the staging copies are timed alone (a and b into a shared wasm memory, as the
 * pool stages them; the result into `out`, and into a new array the way a fresh result is made); a 1×1×1
 * call through the pool (the same path by pointer: one task on the worker) less the same call sync is the
 * message round trip. What is left of the pool call is the pool's own extra work (scheduling, the task's
 * allocations and finiteness scans on the pool's thread).
 */
async function poolBreakdown(env: BenchEnv, gc: Gencore, pool1: Pool, sizes: number[]) {
  const rows: Row[] = [];
  const record: Record<string, number>[] = [];
  const one = new Float32Array([2]);
  const oneOut = new Float32Array(1);
  for (const n of sizes) {
    env.log(`gemm pool breakdown n = ${n}`);
    const a = randomF32(n * n, 3 + n);
    const b = randomF32(n * n, 4 + n);
    const out = new Float32Array(n * n);
    const bytes = 4 * n * n;
    const pages = Math.ceil((3 * bytes) / 65536);
    const shared = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const plain = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const stagedA = new Float32Array(shared.buffer, 0, n * n);
    const stagedB = new Float32Array(shared.buffer, bytes, n * n);
    const result = new Float32Array(plain.buffer, 2 * bytes, n * n);
    const t = await measureInterleaved(
      {
        pool1Out: () => pool1.matmul(a, b, n, n, n, { out }),
        pool1New: () => pool1.matmul(a, b, n, n, n),
        syncOut: () => gc.matmul(a, b, n, n, n, { out }),
        copyIn: () => {
          stagedA.set(a);
          stagedB.set(b);
        },
        copyOut: () => out.set(result),
        copyOutSlice: () => result.slice(),
        copyOutNewSet: () => new Float32Array(n * n).set(result),
        tinyPool: () => pool1.matmul(one, one, 1, 1, 1, { out: oneOut }),
        tinySync: () => gc.matmul(one, one, 1, 1, 1, { out: oneOut }),
      },
      env.quick ? { rounds: 2, warmup: 1, minSampleSeconds: 0 } : { rounds: 9 },
    );
    const roundTrip = Math.max(0, ms(t.tinyPool) - ms(t.tinySync));
    const kernel = Math.max(0, ms(t.syncOut) - ms(t.copyIn) - ms(t.copyOut));
    const rest = ms(t.pool1Out) - kernel - ms(t.copyIn) - ms(t.copyOut) - roundTrip;
    const parts: Array<[string, number]> = [
      ['pool(1) call, opts.out', ms(t.pool1Out)],
      ['· kernel (sync out − copies)', kernel],
      ['· copy a, b in (2 n² f32)', ms(t.copyIn)],
      ['· copy result to out (n² f32)', ms(t.copyOut)],
      ['· message round trip (1×1×1 pool − sync)', roundTrip],
      ['· rest: pool overhead beyond one sync call', rest],
      ['pool(1) call, new result', ms(t.pool1New)],
      ['· new result: view.slice() (n² f32)', ms(t.copyOutSlice)],
      ['· new result: new + set (n² f32)', ms(t.copyOutNewSet)],
      ['sync call, opts.out', ms(t.syncOut)],
    ];
    record.push({ n, ...Object.fromEntries(Object.entries(t).map(([k, v]) => [`${k}Ms`, ms(v as Timing)])), roundTripMs: roundTrip, kernelMs: kernel, restMs: rest });
    for (const [what, value] of parts) rows.push({ n, component: what, ms: value, 'share of pool(1) out': value / ms(t.pool1Out) });
  }
  const table: Table = { title: 'Where a pool(1) f32 GEMM call goes (ms, medians of interleaved rounds, measured outside the API; the parts are differences of medians, so a small negative rest is noise)', rows };
  return { table, record };
}
