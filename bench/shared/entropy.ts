/**
 * The entropyNormalize suite that Node and the browser share: 64 rows × 50 000 f32 logits (LM-like),
 * target ½·log n, tol 1e-6, through sync calls (new result and `opts.out`), pools of 1 and 2 (both ways)
 * and a plain-JS implementation of the same safeguarded solver, in interleaved rounds.
 */
import type { BenchEnv, SuiteResult } from './env.js';
import { mulberry32 } from './random.js';
import { measureInterleaved, poolRatios, type Row, type Timing } from './timing.js';

/** LM-like logits: Gaussian (σ = 2) with 20 boosted tokens per row, from a fixed seed. */
export function lmLogits(rows: number, cols: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const z = new Float32Array(rows * cols);
  for (let i = 0; i < z.length; i++) z[i] = 2 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  for (let r = 0; r < rows; r++) for (let j = 0; j < 20; j++) z[r * cols + Math.floor(rnd() * cols)] += 6 + 4 * rnd();
  return z;
}

/**
 * The safeguarded solver of docs/entropy.md §3.3 in plain JS on one logit row (float64 moments, Math.exp), with the
 * output row written from the weights of the final pass. Returns the passes used.
 */
export function jsSolveRow(z: Float32Array, off: number, n: number, target: number, tol: number, out: Float32Array, w: Float64Array): number {
  let mx = -Infinity;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = z[off + i];
    if (v !== -Infinity) m++;
    if (v > mx) mx = v;
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (z[off + i] === mx) k++;
  const logM = Math.log(m);
  const logK = Math.log(k);
  const LOG30 = Math.log(30);
  const rstar = Math.log((logM - target) / (target - logK));
  let u = 0;
  let ulo = -Infinity;
  let uhi = Infinity;
  let dx1 = Infinity;
  let dx2 = Infinity;
  let Z = 1;
  let pass = 0;
  while (pass < 30) {
    pass++;
    const beta = Math.exp(u);
    Z = 0;
    let A = 0;
    let B = 0;
    for (let i = 0; i < n; i++) {
      const s = z[off + i] - mx;
      const e = s === -Infinity ? 0 : Math.exp(beta * s);
      w[i] = e;
      Z += e;
      const es = s === -Infinity ? 0 : e * s;
      A += es;
      B += es * s;
    }
    const mu = A / Z;
    const v = B / Z - mu * mu;
    const h = Math.log(Z) - beta * mu;
    if (Math.abs(h - target) <= tol) break;
    if (h > target) ulo = u;
    else uhi = u;
    const a1 = logM - h;
    const a2 = h - logK;
    let step = NaN;
    if (a1 > 0 && a2 > 0 && v > 0) step = Math.min(Math.max(((rstar - Math.log(a1 / a2)) * a1 * a2) / (beta * beta * v * (logM - logK)), -LOG30), LOG30);
    let un = u + step;
    const br = Number.isFinite(ulo) && Number.isFinite(uhi);
    if (!Number.isFinite(un) || !(ulo < un && un < uhi) || (br && Math.abs(step) > Math.abs(dx2) / 2)) {
      un = br ? (ulo + uhi) / 2 : Number.isFinite(ulo) ? ulo + LOG30 : uhi - LOG30;
    }
    dx2 = dx1;
    dx1 = un - u;
    if (br && uhi - ulo <= 2e-15 * Math.max(1, Math.abs(ulo), Math.abs(uhi))) break;
    u = un;
  }
  const inv = 1 / Z;
  for (let i = 0; i < n; i++) out[off + i] = w[i] * inv;
  return pass;
}


export async function entropySuite(env: BenchEnv): Promise<SuiteResult> {
  const rows = env.quick ? 4 : 64;
  const cols = env.quick ? 2000 : 50_000;
  const target = 0.5 * Math.log(cols);
  const tol = 1e-6;
  const jsRows = Math.max(1, rows / 4); // the plain-JS solver runs on a quarter of the rows, scaled to the batch
  const z = lmLogits(rows, cols, 12345);
  const opts = { fromLogits: true, tol };
  const out = new Float32Array(rows * cols);
  const jsOut = new Float32Array(rows * cols);
  const w = new Float64Array(cols);
  const gc = await env.gencore.init();
  const pool1 = await env.gencore.createPool({ workers: 1 });
  const pool2 = await env.gencore.createPool({ workers: 2 });
  env.log(`entropyNormalize ${rows} × ${cols}`);
  let t: Record<'js' | 'syncNew' | 'syncOut' | 'pool1New' | 'pool1Out' | 'pool2New' | 'pool2Out', Timing>;
  try {
    t = await measureInterleaved(
      {
        js: () => {
          for (let r = 0; r < jsRows; r++) jsSolveRow(z, r * cols, cols, target, tol, jsOut, w);
        },
        syncNew: () => gc.entropyNormalize(z, rows, cols, target, opts),
        syncOut: () => gc.entropyNormalize(z, rows, cols, target, { ...opts, out }),
        pool1New: () => pool1.entropyNormalize(z, rows, cols, target, opts),
        pool1Out: () => pool1.entropyNormalize(z, rows, cols, target, { ...opts, out }),
        pool2New: () => pool2.entropyNormalize(z, rows, cols, target, opts),
        pool2Out: () => pool2.entropyNormalize(z, rows, cols, target, { ...opts, out }),
      },
      env.quick ? { rounds: 2, warmup: 1, minSampleSeconds: 0 } : { rounds: 9 },
    );
  } finally {
    pool1.terminate();
    pool2.terminate();
  }
  const [load1] = await env.loadavg();
  const msOf = (k: keyof typeof t) => (k === 'js' ? (t.js.median * rows) / jsRows : t[k].median) * 1e3;
  const labels: Record<keyof typeof t, string> = {
    js: 'plain JS, same solver',
    syncNew: 'sync, new result',
    syncOut: 'sync, opts.out',
    pool1New: 'pool(1), new result',
    pool1Out: 'pool(1), opts.out',
    pool2New: 'pool(2), new result',
    pool2Out: 'pool(2), opts.out',
  };
  const keys = Object.keys(labels) as Array<keyof typeof t>;
  const timings: Row[] = keys.map((k) => ({ impl: labels[k], 'ms median': msOf(k), 'speed vs sync out': msOf('syncOut') / msOf(k) }));
  const speed = (k: keyof typeof t, over: keyof typeof t) => msOf(over) / msOf(k);
  const ratios: Row = {
    ...poolRatios((form) => 1 / msOf(form), load1),
    'gencore/JS (sync new)': speed('syncNew', 'js'),
  };
  return {
    tables: [
      { title: `entropyNormalize ${rows} × ${cols} f32 logits, target ½·log n, tol 1e-6 (median of interleaved rounds; ${gc.features.build} build)`, rows: timings },
      { title: 'entropyNormalize ratios (speed; targets: pool1/sync ≥ 0.9, gencore/JS ≥ 5)', rows: [ratios] },
    ],
    record: {
      runtime: env.runtime,
      build: gc.features.build,
      quick: env.quick,
      rows,
      cols,
      target,
      tol,
      msMedian: Object.fromEntries(keys.map((k) => [k, msOf(k)])),
      ratios,
    },
  };
}
