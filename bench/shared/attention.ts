/**
 * The exact-attention suite that Node and the browser share: one head, n = 1024, d = dv = 64, f32, through
 * sync calls (new result and `opts.out`), pools of 1 and 2 (both ways) and an exact attention composed from
 * tfjs-backend-wasm ops (matMul with Kᵀ → mul(scale) → softmax → matMul), in interleaved rounds.
 */
import { describePeers, type BenchEnv, type SuiteResult } from './env.js';
import { measureInterleaved, poolRatios, randomF32, relFro, type Row, type Timing } from './timing.js';

const D = 64;

export async function attentionSuite(env: BenchEnv): Promise<SuiteResult> {
  const { tf } = env;
  const n = env.quick ? 128 : 1024;
  const q = randomF32(n * D, 11);
  const k = randomF32(n * D, 12);
  const v = randomF32(n * D, 13);
  const out = new Float32Array(n * D);
  const gc = await env.gencore.init();
  const pool1 = await env.gencore.createPool({ workers: 1 });
  const pool2 = await env.gencore.createPool({ workers: 2 });
  const tq = tf.tensor2d(q, [n, D]);
  const tk = tf.tensor2d(k, [n, D]);
  // K is transposed once, outside the timing: tfjs's matMul(…, transposeB) is several times slower than a
  // plain matMul with a transposed operand, and the faster composition is the fair peer.
  const tkT = tf.transpose(tk);
  const tv = tf.tensor2d(v, [n, D]);
  const scale = 1 / Math.sqrt(D);
  const tfjsRun = () => {
    const r = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tkT), scale)), tv));
    const data = r.dataSync();
    r.dispose();
    return data;
  };
  env.log(`exact attention n = ${n}, d = ${D}`);
  let t: Record<'syncNew' | 'syncOut' | 'pool1New' | 'pool1Out' | 'pool2New' | 'pool2Out' | 'tfjs', Timing>;
  let relErrTfjs: number;
  try {
    const want = gc.attention(q, k, v, { n, d: D });
    relErrTfjs = relFro(tfjsRun(), want);
    const relErrPool = relFro(await pool2.attention(q, k, v, { n, d: D }), want);
    if (!(relErrTfjs < 1e-5 && relErrPool < 1e-6)) throw new Error(`attention bench: results differ (tfjs relF ${relErrTfjs}, pool of 2 relF ${relErrPool})`);
    t = await measureInterleaved(
      {
        syncNew: () => gc.attention(q, k, v, { n, d: D }),
        syncOut: () => gc.attention(q, k, v, { n, d: D, out }),
        pool1New: () => pool1.attention(q, k, v, { n, d: D }),
        pool1Out: () => pool1.attention(q, k, v, { n, d: D, out }),
        pool2New: () => pool2.attention(q, k, v, { n, d: D }),
        pool2Out: () => pool2.attention(q, k, v, { n, d: D, out }),
        tfjs: tfjsRun,
      },
      env.quick ? { rounds: 2, warmup: 1, minSampleSeconds: 0 } : { rounds: 9 },
    );
  } finally {
    tf.dispose([tq, tk, tkT, tv]);
    pool1.terminate();
    pool2.terminate();
  }
  const [load1] = await env.loadavg();
  const labels: Record<keyof typeof t, string> = {
    syncNew: 'sync, new result',
    syncOut: 'sync, opts.out',
    pool1New: 'pool(1), new result',
    pool1Out: 'pool(1), opts.out',
    pool2New: 'pool(2), new result',
    pool2Out: 'pool(2), opts.out',
    tfjs: 'tfjs-wasm composite',
  };
  const keys = Object.keys(labels) as Array<keyof typeof t>;
  const msOf = (key: keyof typeof t) => t[key].median * 1e3;
  const speed = (key: keyof typeof t, over: keyof typeof t) => msOf(over) / msOf(key);
  const timings: Row[] = keys.map((key) => ({ impl: labels[key], 'ms median': msOf(key), 'GFLOP/s': (4 * n * n * D) / t[key].median / 1e9, 'speed vs sync out': speed(key, 'syncOut') }));
  const ratios: Row = {
    ...poolRatios((form) => 1 / msOf(form), load1),
    'gencore/tfjs (sync out)': speed('syncOut', 'tfjs'),
  };
  return {
    tables: [
      { title: `exact attention, one head, n = ${n}, d = dv = ${D}, f32 (median of interleaved rounds; ${gc.features.build} build)`, rows: timings },
      { title: 'exact attention ratios (speed; targets: pool1/sync ≥ 0.9, gencore/tfjs ≥ 1.5)', rows: [ratios] },
    ],
    record: { runtime: env.runtime, peers: await describePeers(tf, env.ort), build: gc.features.build, quick: env.quick, n, d: D, relErrTfjs, msMedian: Object.fromEntries(keys.map((key) => [key, msOf(key)])), ratios },
  };
}
