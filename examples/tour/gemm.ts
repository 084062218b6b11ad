/**
 * Tour section: blocked SIMD GEMM. Multiplies random matrices, checks the result against a float64
 * JavaScript reference, and compares throughput with tfjs-backend-wasm measured in the same process.
 */
import { measure, printTable } from '../../bench/lib.js';
import { tfjsWasm } from '../../bench/node-env.js';
import { barChart, writePng } from '../lib/plot.js';
import type { TourContext } from '../tour.js';

/** Largest |C − C_ref| relative to the largest |C_ref|, with C_ref computed in float64. */
function relativeErrorVsFloat64(a: Float32Array, b: Float32Array, c: Float32Array, n: number, rowsToCheck: number): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < rowsToCheck; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p] * b[p * n + j];
      err = Math.max(err, Math.abs(c[i * n + j] - s));
      scale = Math.max(scale, Math.abs(s));
    }
  }
  return err / scale;
}

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const tf = await tfjsWasm();
  const sizes = quick ? [256, 512] : [256, 512, 1024];
  const rows = [];
  const bars: Array<[string, number]> = [];
  for (const n of sizes) {
    const a = new Float32Array(n * n).map(() => Math.random() * 2 - 1);
    const b = new Float32Array(n * n).map(() => Math.random() * 2 - 1);
    const c = gc.matmul(a, b, n, n, n);
    const err = relativeErrorVsFloat64(a, b, c, n, 8);
    const opts = { minRepeats: 3, minSeconds: 0.3 };
    const tSync = await measure(() => gc.matmul(a, b, n, n, n, { out: c }), opts);
    const tPool = await measure(() => pool.matmul(a, b, n, n, n, { out: c }), opts);
    const ta = tf.tensor2d(a, [n, n]);
    const tb = tf.tensor2d(b, [n, n]);
    const tTf = await measure(() => {
      const tc = tf.matMul(ta, tb);
      tc.dataSync();
      tc.dispose();
    }, opts);
    tf.dispose([ta, tb]);
    const gf = (t: number) => (2 * n ** 3) / t / 1e9;
    bars.push([`gencore ${n}`, gf(tSync.median)], [`pool ${n}`, gf(tPool.median)], [`tfjs ${n}`, gf(tTf.median)]);
    rows.push({
      n,
      'rel. error vs f64': err.toExponential(1),
      'gencore GFLOP/s': gf(tSync.median),
      [`pool(${pool.size}) GFLOP/s`]: gf(tPool.median),
      'tfjs-wasm GFLOP/s': gf(tTf.median),
      'gencore / tfjs': tTf.median / tSync.median,
    });
  }
  printTable(`C = A·B, f32, ${gc.features.build} SIMD build (median of repeats; this machine's other load shows up here)`, rows);
  const png = barChart({
    title: `f32 GEMM throughput, n x n x n (${gc.features.build} SIMD; pool of ${pool.size})`,
    labels: bars.map(([label]) => label),
    values: bars.map(([, v]) => v),
    yLabel: 'GFLOP/s',
  });
  writePng(`${outDir}/gemm-throughput.png`, png);
  console.log('\nwrote examples/output/gemm-throughput.png');
  console.log('Full comparison with ml-matrix, naive JS and the peak probe: npm run bench gemm');
}
