/**
 * `npm run bench gemm`: the shared GEMM suite (bench/shared/gemm.ts: sync new/out, pools of 1 and 2,
 * tfjs-backend-wasm and onnxruntime-web, the pool-call breakdown), then, in Node only, the plain and relaxed
 * SIMD builds against ml-matrix and naive JS with a register-only f32x4 multiply-add probe, so the fraction
 * of the machine's wasm peak is visible, and f64 vs f32 at n = 512.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Matrix } from 'ml-matrix';
import { init } from '../bindings/index.js';
import { fmt, measure, measureInterleaved, printTable, writeResults } from './lib.js';
import { nodeEnv } from './node-env.js';
import { gemmSuite } from './shared/gemm.js';

const SIZES = [128, 256, 512, 1024];
const gflops = (n: number, seconds: number) => (2 * n * n * n) / seconds / 1e9;

/** Compile bench/assembly/peak.ts for one build and return GFLOP/s of its register-only loop. */
async function peakProbe(relaxed: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gencore-peak-'));
  try {
    const out = path.join(dir, 'peak.wasm');
    const root = fileURLToPath(new URL('..', import.meta.url));
    const enable = relaxed ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
    execFileSync(process.execPath, [path.join(root, 'node_modules/assemblyscript/bin/asc.js'), path.join(root, 'bench/assembly/peak.ts'), ...enable, '-O3', '--runtime', 'stub', '-o', out]);
    // asconfig.json's defaults apply (imported memory), so the probe gets a memory like the real builds.
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
    const { instance } = await WebAssembly.instantiate(readFileSync(out), { env: { memory, abort: () => {} } });
    const peak = instance.exports.peak as (iters: number, s: number) => number;
    const iters = 2_000_000;
    const t = await measure(() => peak(iters, 0.5), { minRepeats: 7 });
    return (iters * 12 * 8) / t.median / 1e9;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    console.log(`\nwrote ${writeResults('gemm', shared.record)} (quick mode: builds and peak probe skipped)`);
    return;
  }
  const plain = await init({ simd: 'plain' });
  const relaxed = await init({ simd: 'auto' });
  const rows: Record<string, string | number>[] = [];
  const records: Record<string, number>[] = [];
  const peakPlain = await peakProbe(false);
  const peakRelaxed = relaxed.features.build === 'relaxed' ? await peakProbe(true) : NaN;
  for (const n of SIZES) {
    const a = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const b = new Float32Array(n * n).map(() => Math.random() - 0.5);
    const out = new Float32Array(n * n);
    const t = await measureInterleaved(
      {
        plain: () => plain.matmul(a, b, n, n, n, { out }),
        relaxed: () => relaxed.matmul(a, b, n, n, n, { out }),
      },
      { rounds: n >= 1024 ? 9 : 15 },
    );
    const ma = new Matrix(n, n);
    const mb = new Matrix(n, n);
    const tMl = n <= 512 ? await measure(() => ma.mmul(mb), { minRepeats: 2, warmup: 1, minSeconds: 0.5 }) : undefined;
    const tNaive = n <= 512 ? await measure(() => naiveJs(a, b, n), { minRepeats: 2, warmup: 1, minSeconds: 0.5 }) : undefined;
    const r = {
      n,
      plain: gflops(n, t.plain.median),
      relaxed: gflops(n, t.relaxed.median),
      mlMatrix: tMl ? gflops(n, tMl.median) : NaN,
      naiveJs: tNaive ? gflops(n, tNaive.median) : NaN,
    };
    records.push(r);
    rows.push({
      n,
      'plain GF/s': r.plain,
      'relaxed GF/s': r.relaxed,
      'ml-matrix GF/s': r.mlMatrix,
      'naive JS GF/s': r.naiveJs,
      'relaxed/plain': r.relaxed / r.plain,
      'relaxed/peak': r.relaxed / peakRelaxed,
    });
  }
  printTable(`f32 GEMM by build, sync with opts.out, GFLOP/s (median of interleaved rounds); peak probe: plain ${fmt(peakPlain)} GF/s, relaxed ${fmt(peakRelaxed)} GF/s`, rows);

  const n = 512;
  const a64 = new Float64Array(n * n).map(() => Math.random() - 0.5);
  const b64 = new Float64Array(n * n).map(() => Math.random() - 0.5);
  const t64 = await measure(() => relaxed.matmul(a64, b64, n, n, n), { minSeconds: 1 });
  const f64 = gflops(n, t64.median);
  const f32 = records.find((r) => r.n === 512)!.relaxed;
  printTable('f64 vs f32 GEMM at n = 512 (relaxed build)', [{ 'f64 GF/s': f64, 'f32 GF/s': f32, 'f64/f32': f64 / f32 }]);
  const file = writeResults('gemm', { ...shared.record, builds: { build: relaxed.features.build, peakPlain, peakRelaxed, sizes: records, f64At512: f64, f64OverF32At512: f64 / f32 } });
  console.log(`\nwrote ${file}`);
}
