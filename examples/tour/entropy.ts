/**
 * Tour section: entropy normalisation. A next-token distribution over a 50 000-token vocabulary is
 * sharpened (1 nat) and flattened (9.5 nats) to target entropies (the exponent γ = 1/T is solved per row), a batch of rows
 * gets its temperatures in one call (sync and in the pool), consistent top-k / nucleus filters keep the end
 * token, and the entropy-invariant attention scale is tabulated. Pictures: H(γ) of the row with the two
 * solved points, and the distribution before and after.
 */
import { performance } from 'node:perf_hooks';
import { entropyInvariantScale, EntropyStatus } from '../../bindings/index.js';
import { printTable } from '../../bench/lib.js';
import { linePlot, writePng } from '../lib/plot.js';
import type { TourContext } from '../tour.js';

/** LM-like logits: Gaussian noise with a few strongly boosted tokens per row (seeded). */
export function nextTokenLogits(rows: number, vocab: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const z = new Float32Array(rows * vocab);
  for (let i = 0; i < z.length; i++) z[i] = 2 * Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  for (let r = 0; r < rows; r++) for (let j = 0; j < 20; j++) z[r * vocab + Math.floor(rnd() * vocab)] += 6 + 4 * rnd();
  return z;
}

const statusName = (code: number) => Object.keys(EntropyStatus).find((k) => EntropyStatus[k as keyof typeof EntropyStatus] === code);

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const vocab = 50_000;
  const row = nextTokenLogits(1, vocab, 7);
  const h0 = gc.entropy(row, 1, vocab, { fromLogits: true })[0];
  console.log(`next-token row: ${vocab} logits, entropy ${h0.toFixed(3)} nats (max log n = ${Math.log(vocab).toFixed(3)})`);

  // Sharpen to 1 nat and flatten to 9.5 nats; the same call also clamps an unreachable target (> log n).
  const targets = [1, 9.5, 11];
  const x = new Float32Array(targets.length * vocab);
  for (let i = 0; i < targets.length; i++) x.set(row, i * vocab);
  const res = gc.entropyNormalize(x, targets.length, vocab, new Float64Array(targets), { fromLogits: true, tol: 1e-6 });
  printTable('entropyNormalize (f32 logits, tol 1e-6)', targets.map((t, i) => ({
    'target H': t,
    status: statusName(res.status[i]) ?? '?',
    'gamma (1/T)': res.gamma[i],
    temperature: 1 / res.gamma[i],
    'H reached': res.entropy[i],
    passes: res.iterations[i],
  })));

  // A batch of rows: temperature per row, synchronous and split across the pool.
  const rows = quick ? 16 : 64;
  const batch = nextTokenLogits(rows, vocab, 11);
  const half = 0.5 * Math.log(vocab);
  let t0 = performance.now();
  const sync = gc.temperatureForEntropy(batch, rows, vocab, half, { tol: 1e-6 });
  const tSync = performance.now() - t0;
  t0 = performance.now();
  const viaPool = await pool.temperatureForEntropy(batch, rows, vocab, half, { tol: 1e-6 });
  const tPool = performance.now() - t0;
  const same = sync.temperature.every((T, i) => T === viaPool.temperature[i]);
  const passes = Array.from(sync.iterations);
  printTable(`temperatureForEntropy: ${rows} rows × ${vocab}, target ½·log n = ${half.toFixed(3)} nats`, [
    { where: 'calling thread', ms: tSync, 'passes mean': passes.reduce((a, b) => a + b, 0) / rows, 'passes max': Math.max(...passes), 'T range': `${Math.min(...sync.temperature).toFixed(3)}–${Math.max(...sync.temperature).toFixed(3)}` },
    { where: `pool of ${pool.size}`, ms: tPool, 'passes mean': '', 'passes max': '', 'T range': same ? 'identical' : 'DIFFERENT' },
  ]);

  // Filters on the sharpened row: the end token (id 0 here) survives with `consistent`.
  const sharp = gc.entropyNormalize(row, 1, vocab, 1, { fromLogits: true }).gamma[0];
  const scaled = row.map((z) => z * sharp);
  const endToken = 0;
  const kept = (a: Float32Array) => a.reduce((n, v) => n + (v === -Infinity ? 0 : 1), 0);
  printTable('filters on the sharpened row (end token = 0)', [
    { filter: 'top-k, k = 40', kept: kept(gc.topKFilter(scaled, 1, vocab, 40)), 'kept (consistent)': kept(gc.topKFilter(scaled, 1, vocab, 40, { consistent: true, endToken })) },
    { filter: 'nucleus, p = 0.9', kept: kept(gc.nucleusFilter(scaled, 1, vocab, 0.9)), 'kept (consistent)': kept(gc.nucleusFilter(scaled, 1, vocab, 0.9, { consistent: true, endToken })) },
  ]);

  printTable('entropyInvariantScale(n, d = 64), trainLength 512 (pass as attention scale)', [512, 1024, 4096, 16384].map((n) => ({
    'keys n': n,
    scale: entropyInvariantScale(n, 64),
    'vs 1/√d': entropyInvariantScale(n, 64) * 8,
  })));

  // H(γ) of the row (entropy of softmax(γ z)), with the solved points.
  const gammas = Array.from({ length: 80 }, (_, i) => Math.exp(Math.log(0.02) + (i / 79) * Math.log(20 / 0.02)));
  const scaledRows = new Float32Array(gammas.length * vocab);
  gammas.forEach((g, i) => { for (let j = 0; j < vocab; j++) scaledRows[i * vocab + j] = row[j] * g; });
  const hs = gc.entropy(scaledRows, gammas.length, vocab, { fromLogits: true });
  writePng(`${outDir}/entropy-h-of-gamma.png`, linePlot({
    title: 'Entropy of softmax(gamma * z) for one 50k-token row',
    xLabel: 'gamma = 1/T (log scale)',
    yLabel: 'H (nats)',
    logX: true,
    series: [
      { name: 'H(gamma)', x: gammas, y: Array.from(hs) },
      { name: 'solved: 1 nat, 9.5 nats', x: [res.gamma[0], res.gamma[1]], y: [res.entropy[0], res.entropy[1]], points: true, color: 'red' },
      { name: 'gamma = 1 (input)', x: [1], y: [h0], points: true, color: 'green' },
    ],
  }));

  // The 60 most likely tokens before and after (probabilities, log scale).
  const softmax = (z: Float32Array, g: number) => {
    let mx = -Infinity;
    for (const v of z) mx = Math.max(mx, v);
    let sum = 0;
    const w = Array.from(z, (v) => Math.exp(g * (v - mx)));
    for (const v of w) sum += v;
    return w.map((v) => v / sum);
  };
  const before = softmax(row, 1);
  const order = before.map((_, i) => i).sort((a, b) => before[b] - before[a]).slice(0, 60);
  const rank = order.map((_, i) => i + 1);
  const pick = (arr: ArrayLike<number>, off: number) => order.map((i) => arr[off + i]);
  writePng(`${outDir}/entropy-before-after.png`, linePlot({
    title: 'Top 60 tokens: input vs sharpened (1 nat) vs flattened (9.5 nats)',
    xLabel: 'rank in the input distribution',
    yLabel: 'probability (log scale)',
    logY: true,
    series: [
      { name: `input, H = ${h0.toFixed(2)}`, x: rank, y: order.map((i) => before[i]) },
      { name: 'sharpened, H = 1', x: rank, y: pick(res.out, 0), color: 'red' },
      { name: 'flattened, H = 9.5', x: rank, y: pick(res.out, vocab), color: 'green' },
    ],
  }));
  console.log('wrote entropy-h-of-gamma.png, entropy-before-after.png');
}
