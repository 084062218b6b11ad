/**
 * Tour section: exact vs Nyström attention. How close Nyström gets to exact attention as the number of
 * landmarks grows, on smooth token sequences (where segment means summarise their tokens well) and on
 * i.i.d. tokens (where they cannot), and how much faster it is as n grows. Prints two tables and writes
 * attention-landmarks.png and attention-speedup.png.
 */
import { join } from 'node:path';
import { relFro } from '../../bench/lib.js';
import { linePlot, writePng } from '../lib/plot.js';
import type { TourContext } from '../tour.js';

/** Seeded standard normals (LCG + Box–Muller), so the tour prints the same numbers every run. */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** q, k, v for one head: i.i.d. N(0, 1), or an AR(1) sequence (ρ = 0.99) through random d×d projections. */
function tokens(kind: 'iid' | 'smooth', n: number, d: number, seed: number): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const g = normals(seed);
  if (kind === 'iid') {
    const draw = () => Float32Array.from({ length: n * d }, g);
    return { q: draw(), k: draw(), v: draw() };
  }
  const rho = 0.99;
  const x = new Float64Array(n * d);
  for (let c = 0; c < d; c++) x[c] = g();
  for (let t = 1; t < n; t++) for (let c = 0; c < d; c++) x[t * d + c] = rho * x[(t - 1) * d + c] + Math.sqrt(1 - rho * rho) * g();
  const project = (gain: number) => {
    const w = Float64Array.from({ length: d * d }, () => g() / Math.sqrt(d));
    const out = new Float32Array(n * d);
    for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += x[t * d + c] * w[c * d + j];
      out[t * d + j] = gain * s;
    }
    return out;
  };
  return { q: project(2), k: project(2), v: project(1) };
}

/** Error of the trivial approximation "every row is the mean of v" (the baseline Nyström must beat). */
function meanOfVError(v: Float32Array, exact: Float32Array, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let c = 0; c < d; c++) mean[c] += v[t * d + c] / n;
  const guess = new Float64Array(n * d);
  for (let t = 0; t < n; t++) guess.set(mean, t * d);
  return relFro(guess, exact);
}

/**
 * Least CPU time of this process over `reps` calls, in ms. The calls run on this thread, so on an idle
 * machine this equals wall time; on a busy one it is not inflated by other processes.
 */
function bestCpuMs(fn: () => unknown, reps: number): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const d = 64;
  const n = quick ? 512 : 1024;
  const landmarks = quick ? [8, 16, 32, 64, 128, 256] : [16, 32, 64, 128, 256, 512];

  // 1. Error vs landmarks.
  const errRows: Array<Record<string, string | number>> = [];
  const curves: Record<string, number[]> = { smooth: [], iid: [] };
  const baselines: Record<string, number> = {};
  const data = { smooth: tokens('smooth', n, d, 7), iid: tokens('iid', n, d, 7) };
  const exact = {
    smooth: gc.attention(data.smooth.q, data.smooth.k, data.smooth.v, { n, d }),
    iid: gc.attention(data.iid.q, data.iid.k, data.iid.v, { n, d }),
  };
  for (const kind of ['smooth', 'iid'] as const) baselines[kind] = meanOfVError(data[kind].v, exact[kind], n, d);
  for (const m of landmarks) {
    const row: Record<string, string | number> = { landmarks: m };
    for (const kind of ['smooth', 'iid'] as const) {
      const { q, k, v } = data[kind];
      const err = relFro(gc.nystromAttention(q, k, v, { n, d, landmarks: m }), exact[kind]);
      curves[kind].push(err);
      row[kind === 'smooth' ? 'relF, smooth (AR(1) ρ=0.99)' : 'relF, i.i.d. N(0,1)'] = err.toFixed(3);
    }
    errRows.push(row);
  }
  errRows.push({ landmarks: 'mean of v', 'relF, smooth (AR(1) ρ=0.99)': baselines.smooth.toFixed(3), 'relF, i.i.d. N(0,1)': baselines.iid.toFixed(3) });
  printRows(`Nyström vs exact attention, n = ${n}, d = ${d}, 6 pinv steps: relF = ‖Nyström − exact‖_F / ‖exact‖_F`, errRows);
  console.log('Segment means summarise smooth sequences well; on i.i.d. tokens Nyström barely beats returning the mean of v.');
  writePng(join(outDir, 'attention-landmarks.png'), linePlot({
    title: `Nystrom attention error vs landmarks (n = ${n}, d = ${d})`,
    xLabel: 'landmarks m',
    yLabel: 'relative Frobenius error vs exact',
    logX: true,
    series: [
      { name: 'smooth tokens (AR(1))', x: landmarks, y: curves.smooth },
      { name: 'i.i.d. tokens', x: landmarks, y: curves.iid },
      { name: 'mean of v, smooth', x: landmarks, y: landmarks.map(() => baselines.smooth), color: 'gray' },
      { name: 'mean of v, i.i.d.', x: landmarks, y: landmarks.map(() => baselines.iid), color: 'brown' },
    ],
  }));

  // 2. Speed-up vs n (m = 64).
  const sizes = quick ? [256, 512, 1024, 2048] : [256, 512, 1024, 2048, 4096];
  const speedRows: Array<Record<string, string | number>> = [];
  const speedups: number[] = [];
  for (const len of sizes) {
    const { q, k, v } = tokens('iid', len, d, 11);
    const out = new Float32Array(len * d);
    const tExact = bestCpuMs(() => gc.attention(q, k, v, { n: len, d, out }), len >= 4096 ? 3 : 5);
    const tNys = bestCpuMs(() => gc.nystromAttention(q, k, v, { n: len, d, landmarks: 64, out }), 7);
    speedups.push(tExact / tNys);
    speedRows.push({ n: len, 'exact ms': tExact.toFixed(2), 'Nyström (m = 64) ms': tNys.toFixed(2), 'speed-up': (tExact / tNys).toFixed(1) + '×' });
  }
  printRows(`Speed: exact vs Nyström attention, one head, d = ${d}, ${gc.features.build} SIMD build (least CPU time of a few runs)`, speedRows);
  writePng(join(outDir, 'attention-speedup.png'), linePlot({
    title: `Nystrom (m = 64) speed-up over exact attention, d = ${d}`,
    xLabel: 'sequence length n',
    yLabel: 'exact time / Nystrom time',
    logX: true,
    logY: true,
    series: [
      { name: 'measured speed-up', x: sizes, y: speedups },
      { name: 'break-even', x: sizes, y: sizes.map(() => 1), color: 'gray' },
    ],
  }));

  // 3. The same call split across the pool's workers (heads × row blocks): identical result.
  const heads = 4;
  const len = quick ? 512 : 1024;
  const g = tokens('iid', heads * len, d, 3);
  const sync = gc.attention(g.q, g.k, g.v, { n: len, d, heads });
  const t0 = performance.now();
  const split = await pool.attention(g.q, g.k, g.v, { n: len, d, heads });
  const tPool = performance.now() - t0;
  const same = sync.every((x, i) => x === split[i]);
  console.log(`\n${heads} heads × n = ${len} on a pool of ${pool.size} workers: ${tPool.toFixed(1)} ms, result ${same ? 'bit-identical to' : 'DIFFERENT from'} the calling thread's.`);
  console.log('Pictures: attention-landmarks.png, attention-speedup.png. Full benchmark: npm run bench attention');
}

function printRows(title: string, rows: Array<Record<string, string | number>>): void {
  console.log(`\n${title}`);
  const cols = Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  console.log(cols.map((c, i) => c.padStart(widths[i])).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(row.map((v, i) => v.padStart(widths[i])).join('  '));
}
