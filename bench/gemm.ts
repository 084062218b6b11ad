/**
 * `npm run bench gemm`: the shared GEMM suite (bench/shared/gemm.ts: sync new/out, both builds against the
 * register-only peak probe, pools of 1 and 2, tfjs-backend-wasm and onnxruntime-web, the pool-call
 * breakdown), then, in Node only, gencore against ml-matrix and naive JS, and f64 vs f32 at n = 512.
 */
import { Matrix } from 'ml-matrix';
import { init } from '../bindings/index.js';
import { measureInterleaved, printTable, writeResults } from './lib.js';
import { nodeEnv } from './node-env.js';
import { gemmSuite } from './shared/gemm.js';

/** Sizes for the JS peers (naive JS at 1024 would take seconds per call). */
const SIZES = [128, 256, 512];
const gflops = (n: number, seconds: number) => (2 * n * n * n) / seconds / 1e9;

function naiveJs(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const aip = a[i * n + p];
      const bRow = p * n;
      const cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j] += aip * b[bRow + j];
    }
  }
  return c;
}

export async function run(): Promise<void> {
  const env = await nodeEnv();
  const shared = await gemmSuite(env);
  for (const t of shared.tables) printTable(t.title, t.rows);
  if (env.quick) {
    console.log(`\nwrote ${writeResults('gemm', shared.record)} (quick mode: ml-matrix, naive JS and f64 skipped)`);
    return;
  }
  const gc = await init();
  const rows: Record<string, number>[] = [];
  for (const n of SIZES) {
    const a = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const b = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const out = new Float32Array(n * n);
    const ma = new Matrix(n, n);
    const mb = new Matrix(n, n);
    const t = await measureInterleaved(
      { gencore: () => gc.matmul(a, b, n, n, n, { out }), mlMatrix: () => ma.mmul(mb), naiveJs: () => naiveJs(a, b, n) },
      { rounds: 5, warmup: 1 },
    );
    const gencore = gflops(n, t.gencore.median);
    const mlMatrix = gflops(n, t.mlMatrix.median);
    const naive = gflops(n, t.naiveJs.median);
    rows.push({ n, 'gencore GF/s': gencore, 'ml-matrix GF/s': mlMatrix, 'naive JS GF/s': naive, 'gencore/ml-matrix': gencore / mlMatrix, 'gencore/naive JS': gencore / naive });
  }
  printTable(`f32 GEMM, sync with opts.out (${gc.features.build} build), against JS implementations, GFLOP/s (median of interleaved rounds)`, rows);

  const n = 512;
  const a32 = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const b32 = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const a64 = Float64Array.from(a32);
  const b64 = Float64Array.from(b32);
  const t = await measureInterleaved({ f32: () => gc.matmul(a32, b32, n, n, n), f64: () => gc.matmul(a64, b64, n, n, n) }, { rounds: 9 });
  const f32 = gflops(n, t.f32.median);
  const f64 = gflops(n, t.f64.median);
  printTable(`f64 vs f32 GEMM at n = 512, sync with a new result (${gc.features.build} build)`, [{ 'f64 GF/s': f64, 'f32 GF/s': f32, 'f64/f32': f64 / f32 }]);
  const file = writeResults('gemm', { ...shared.record, jsPeers: rows, f64At512: f64, f64OverF32At512: f64 / f32 });
  console.log(`\nwrote ${file}`);
}
