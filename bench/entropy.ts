/**
 * `npm run bench entropy`: 64 rows × 50 000 float32 logits (LM-like: Gaussian with 20 boosted tokens per
 * row), target = half the maximum entropy (½·log 50 000), tol 1e-6 (the kernel sums moments in float64).
 * First the shared suite (bench/shared/entropy.ts: sync new/out, pools of 1 and 2, plain JS); then, in Node
 * only, gencore's two builds and temperatureForEntropy against a plain-JS implementation
 * of the same safeguarded solver (float64, Math.exp), in interleaved rounds so load drift on a shared
 * machine hits every implementation alike; passes per row; exps per second of the kernel against SIMD exp
 * microbenchmarks over one row (bench/assembly/exp-probe.ts). Then, in the same run, the correctness
 * targets: every fixture in both forms and both dtypes, and 10 000 random float64 rows.
 */
import { performance } from 'node:perf_hooks';
import { init } from '../bindings/index.js';
import { fmt, printTable, writeResults } from './lib.js';
import { compileProbe, nodeEnv } from './node-env.js';
import { entropySuite, jsSolveRow, lmLogits } from './shared/entropy.js';
import { mulberry32 } from './shared/random.js';

const ROWS = 64;
const COLS = 50_000;
const TOL = 1e-6;
const TARGET = 0.5 * Math.log(COLS);

/**
 * Compile bench/assembly/exp-probe.ts (plain or relaxed) and return one call of each exp loop over one row
 * (`expsPerCall` exps each), to be timed next to the kernel.
 */
async function expProbeFns(row: Float32Array, beta: number, relaxed: boolean) {
  const memory = new WebAssembly.Memory({ initial: 8, maximum: 65536 });
  const { instance } = await WebAssembly.instantiate(await compileProbe('exp-probe', relaxed), { env: { memory, abort: () => {} } });
  type Probe = (x: number, n: number, vmax: number, beta: number, reps: number) => number;
  const ptr = 65536;
  new Float32Array(memory.buffer, ptr, row.length).set(row);
  let mx = -Infinity;
  for (const v of row) mx = Math.max(mx, v);
  const reps = 64; // 64 passes over one row ≈ the exps of the 64-row batch's first pass
  const entropy = instance.exports.expSumEntropy as Probe;
  const shared = instance.exports.expSumShared as Probe;
  return {
    entropyExp: () => entropy(ptr, row.length, mx, beta, reps),
    sharedExp: () => shared(ptr, row.length, mx, beta, reps),
    expsPerCall: (row.length & ~7) * reps,
  };
}

// --- correctness in the same run: fixtures and 10 000 random rows --------------------------------------

/** Entropy (nats) of a row of non-negative weights, normalised here, in float64. */
function entropyOf(p: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i];
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= (p[i] / sum) * Math.log(p[i] / sum);
  return h;
}

function gammaVariate(alpha: number, rnd: () => number): number {
  if (alpha < 1) return gammaVariate(alpha + 1, rnd) * Math.pow(rnd(), 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    if (Math.log(rnd()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Fixtures (both forms, both dtypes) and `count` random float64 rows (Dirichlet α ∈ [0.01, 10] or Zipf,
 * n log-uniform in [2, 50 000], targets at 0.1 %–99.9 % of (log k, log m)) at the default tol; a failure is
 * a wrong status or |H(out) − H*| above the fixture tolerance, with H(out) evaluated here in float64.
 */
async function correctness(count: number) {
  const gc = await init();
  const { readFileSync: read } = await import('node:fs');
  const fx = JSON.parse(read(new URL('../tests/fixtures/entropy.json', import.meta.url), 'utf8'), (_k, v) =>
    v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
  );
  let fixtureChecks = 0;
  let fixtureFailures = 0;
  for (const c of fx.normalize) {
    for (const form of ['probs', 'logits'] as const) {
      for (const Ctor of [Float64Array, Float32Array]) {
        const r = gc.entropyNormalize(new Ctor(c[form]), 1, c.n, c.targetH, { fromLogits: form === 'logits' });
        const bound = Ctor === Float64Array ? 1e-6 + 1e-12 : 5e-4;
        fixtureChecks++;
        if (r.status[0] !== c.statusCode || (c.status === 'Ok' && !(Math.abs(entropyOf(r.out) - c.targetH) <= bound))) fixtureFailures++;
      }
    }
  }
  const rnd = mulberry32(99);
  let failures = 0;
  let passes = 0;
  let maxPasses = 0;
  let solved = 0;
  const t0 = performance.now();
  for (let t = 0; t < count; t++) {
    const n = Math.max(2, Math.round(Math.exp(Math.log(2) + rnd() * Math.log(25000))));
    const p = new Float64Array(n);
    if (t % 2 === 0) {
      const alpha = Math.exp(Math.log(0.01) + rnd() * Math.log(1000));
      for (let i = 0; i < n; i++) p[i] = gammaVariate(alpha, rnd);
    } else {
      const a = 0.5 + 1.5 * rnd();
      for (let i = 0; i < n; i++) p[i] = Math.pow(i + 1, -a);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [p[i], p[j]] = [p[j], p[i]];
      }
    }
    if (!p.some((v) => v > 0)) p[0] = 1;
    let mx = 0;
    let m = 0;
    for (const v of p) if (v > 0) { m++; mx = Math.max(mx, v); }
    let k = 0;
    for (const v of p) if (v === mx) k++;
    const frac = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999][t % 9];
    const target = Math.log(k) + frac * (Math.log(m) - Math.log(k));
    const r = gc.entropyNormalize(p, 1, n, target);
    const expected = m === k ? 3 : 0;
    if (r.status[0] !== expected || (expected === 0 && !(Math.abs(entropyOf(r.out) - target) <= 1e-6 + 1e-12))) failures++;
    if (expected === 0) {
      solved++;
      passes += r.iterations[0];
      maxPasses = Math.max(maxPasses, r.iterations[0]);
    }
  }
  return { fixtureChecks, fixtureFailures, randomRows: count, randomFailures: failures, passesMean: passes / solved, passesMax: maxPasses, seconds: (performance.now() - t0) / 1000 };
}

/** Median and minimum of samples (seconds). */
function stats(samples: number[]): { median: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], min: sorted[0] };
}

async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export async function run(): Promise<void> {
  const env = await nodeEnv();
  const shared = await entropySuite(env);
  for (const t of shared.tables) printTable(t.title, t.rows);
  if (env.quick) {
    console.log(`results: ${writeResults('entropy', shared.record)} (quick mode: builds, exp probes and correctness skipped)`);
    return;
  }
  const z = lmLogits(ROWS, COLS, 12345);
  const opts = { fromLogits: true, tol: TOL };
  const ROUNDS = 9;
  const JS_ROWS = 16; // the plain-JS solver is timed on a quarter of the rows and scaled to the batch

  const gcPlain = await init({ simd: 'plain' });
  const gcRelaxed = await init({ simd: 'relaxed' });
  const jsOut = new Float32Array(ROWS * COLS);
  const w = new Float64Array(COLS);
  let jsPasses = 0;
  const jsBatch = () => {
    jsPasses = 0;
    for (let r = 0; r < JS_ROWS; r++) jsPasses += jsSolveRow(z, r * COLS, COLS, TARGET, TOL, jsOut, w);
  };

  // Passes per row (and the exps they imply) from one call per build.
  const resPlain = gcPlain.entropyNormalize(z, ROWS, COLS, TARGET, opts);
  const resRelaxed = gcRelaxed.entropyNormalize(z, ROWS, COLS, TARGET, opts);
  const its = Array.from(resRelaxed.iterations);
  const notOk = Array.from(resPlain.status).concat(Array.from(resRelaxed.status)).filter((st) => st !== 0).length;
  const exps = its.reduce((a, b) => a + b, 0) * COLS;
  const passesMean = its.reduce((a, b) => a + b, 0) / ROWS;
  const passesMax = Math.max(...its);
  const its4 = Array.from(gcRelaxed.entropyNormalize(z, ROWS, COLS, TARGET, { fromLogits: true }).iterations);
  const beta = resRelaxed.gamma[0];
  const probePlain = await expProbeFns(z.subarray(0, COLS), beta, false);
  const probeRelaxed = await expProbeFns(z.subarray(0, COLS), beta, true);

  // Interleaved rounds: every implementation once per round, so load drift on a shared machine hits all alike.
  const impls: Array<[string, () => unknown]> = [
    ['plain JS, same solver', jsBatch],
    ['gencore sync (plain)', () => gcPlain.entropyNormalize(z, ROWS, COLS, TARGET, opts)],
    ['gencore sync (relaxed)', () => gcRelaxed.entropyNormalize(z, ROWS, COLS, TARGET, opts)],
    ['temperatureForEntropy (relaxed)', () => gcRelaxed.temperatureForEntropy(z, ROWS, COLS, TARGET, { tol: TOL })],
    ['exp alone: expNonPositiveF32x4 (plain)', probePlain.entropyExp],
    ['exp alone: expNonPositiveF32x4 (relaxed)', probeRelaxed.entropyExp],
    ['exp alone: expF32x4 (relaxed)', probeRelaxed.sharedExp],
  ];
  const samples = new Map<string, number[]>(impls.map(([name]) => [name, []]));
  for (const [, fn] of impls) await fn(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of impls) samples.get(name)!.push(await time(fn));
  }
  const st = (name: string) => {
    const x = stats(samples.get(name)!);
    return name === 'plain JS, same solver' ? { median: (x.median * ROWS) / JS_ROWS, min: (x.min * ROWS) / JS_ROWS } : x;
  };
  const js = st('plain JS, same solver');
  const rows: Array<Record<string, string | number>> = [];
  const record: Record<string, unknown> = { rows: ROWS, cols: COLS, target: TARGET, tol: TOL, rounds: ROUNDS, passesMean, passesMax, notOk };
  for (const [name] of impls) {
    const x = st(name);
    const isProbe = name.startsWith('exp alone');
    const count = isProbe ? probePlain.expsPerCall : name.startsWith('plain JS') ? (jsPasses * COLS * ROWS) / JS_ROWS : exps;
    rows.push({
      impl: name,
      'ms median': x.median * 1e3,
      'ms min': x.min * 1e3,
      'G exp/s (median)': count / x.median / 1e9,
      'vs JS (median)': isProbe ? '' : js.median / x.median,
      'vs JS (min)': isProbe ? '' : js.min / x.min,
    });
    record[name] = { ...x, expsPerSecond: count / x.median };
  }
  const ratio = (a: string, b: string) => ({ median: st(a).median / st(b).median, min: st(a).min / st(b).min });
  const bestSync = st('gencore sync (relaxed)').median <= st('gencore sync (plain)').median ? 'gencore sync (relaxed)' : 'gencore sync (plain)';
  const vsJs = ratio('plain JS, same solver', bestSync);
  const kernelVsExp = (build: 'plain' | 'relaxed') => {
    const k = st(`gencore sync (${build})`).median;
    const e = st(`exp alone: expNonPositiveF32x4 (${build})`).median;
    return exps / k / (probePlain.expsPerCall / e);
  };
  record.ratios = { vsJs, kernelVsExpPlain: kernelVsExp('plain'), kernelVsExpRelaxed: kernelVsExp('relaxed') };
  record.passesTol1e4 = { mean: its4.reduce((a, b) => a + b, 0) / ROWS, max: Math.max(...its4) };

  printTable(`entropyNormalize: ${ROWS} × ${COLS} f32 logits, target ½·log n = ${fmt(TARGET)}, tol ${TOL}; ${ROUNDS} interleaved rounds`, rows);
  printTable('ratios (same run; median and best-of-rounds)', [
    { what: `${bestSync} vs plain-JS solver`, median: vsJs.median, min: vsJs.min, target: '≥ 5' },
    { what: 'kernel exp/s ÷ its exp alone (plain)', median: kernelVsExp('plain'), min: '', target: '' },
    { what: 'kernel exp/s ÷ its exp alone (relaxed)', median: kernelVsExp('relaxed'), min: '', target: '' },
  ]);
  console.log(`passes per row at tol ${TOL}: mean ${fmt(passesMean)}, max ${passesMax} (target: mean ≤ 6); at the f32 default tol 1e-4: mean ${fmt(its4.reduce((a, b) => a + b, 0) / ROWS)}, max ${Math.max(...its4)}`);
  if (notOk) console.log(`warning: ${notOk} rows did not end Ok`);
  const check = await correctness(10_000);
  record.correctness = check;
  console.log(
    `correctness: fixtures ${check.fixtureChecks - check.fixtureFailures}/${check.fixtureChecks} ok; ${check.randomRows} random float64 rows ` +
      `(Dirichlet, Zipf; n 2–50 000; tol 1e-6): ${check.randomFailures} failures, passes mean ${fmt(check.passesMean)} max ${check.passesMax} (${fmt(check.seconds)} s)`,
  );
  console.log(`results: ${writeResults('entropy', { ...shared.record, builds: record })}`);
}
