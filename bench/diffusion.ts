/**
 * `npm run bench diffusion`:
 * 1. the fused sampler step out = P·clip(x̂0) + Q·x + R·ε̂ + C·z on wasm-resident buffers (kernel call
 *    only) against the same arithmetic as a plain-JS loop over Float32Arrays — with injected noise (pure
 *    arithmetic) and with the noise made in the pass (kernel: counter-based SIMD generator; JS: the same
 *    Threefry-2x32-20 + Box–Muller in JS); plus gc.ddpmStep end to end (validation and copies included),
 *    with new results and with opts.out, against JS loops that return the same arrays;
 * 2. the exact Gaussian-mixture ε-predictor (8-Gaussian ring): wasm kernel vs the float64 JS denoiser;
 * 3. a full 1000-step DDPM run of 65 536 two-dimensional samples with the ring's exact denoiser: sync vs
 *    a pool of 2 workers (same bytes).
 * All ratios are measured in this run, on whatever share of the machine this process gets.
 */
import { cpus, loadavg } from 'node:os';
import { createPool, gaussianMixture, init, noiseSchedule } from '../bindings/index.js';
import { loadInstance } from '../bindings/wasm/load.js';
import { fmt, measure, printTable, writeResults, type Row } from './lib.js';

const N = 65536 * 2; // elements per step (65 536 samples × 2 dims): 512 KiB per array

/**
 * Seconds per call of `fn`, timed over batches of ≈ 40 ms: on a shared machine a short call that fits in
 * one scheduler slice would otherwise look faster than a long one that spans several.
 */
async function perCall(fn: () => unknown, minRepeats = 7): Promise<number> {
  for (let i = 0; i < 3; i++) fn();
  const t0 = performance.now();
  fn();
  const one = Math.max(performance.now() - t0, 1e-3);
  const reps = Math.max(1, Math.ceil(40 / one));
  const t = await measure(() => {
    for (let i = 0; i < reps; i++) fn();
  }, { minRepeats, minSeconds: 0.8, warmup: 1 });
  return t.median / reps;
}

/** Plain-JS fused step with injected noise: the kernel's arithmetic, one f32 array per operand. */
function jsStep(x: Float32Array, m: Float32Array, z: Float32Array, out: Float32Array, kx: number, km: number, lo: number, hi: number, P: number, Q: number, R: number, C: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const mi = m[i];
    let y = kx * xi + km * mi;
    y = y < lo ? lo : y > hi ? hi : y;
    out[i] = P * y + Q * xi + R * mi + C * z[i];
  }
}

/**
 * What `gc.ddpmStep` returns, in plain JS: the step into `out` and the clipped x̂0 into `pred`, each a new
 * array when not given (as a reference scheduler's step returns new tensors).
 */
function jsStepWithPred(x: Float32Array, m: Float32Array, z: Float32Array, kx: number, km: number, lo: number, hi: number, P: number, Q: number, R: number, C: number, out = new Float32Array(x.length)): { out: Float32Array; pred: Float32Array } {
  const pred = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const mi = m[i];
    let y = kx * xi + km * mi;
    y = y < lo ? lo : y > hi ? hi : y;
    pred[i] = y;
    out[i] = P * y + Q * xi + R * mi + C * z[i];
  }
  return { out, pred };
}

/** Plain-JS Threefry-2x32-20 → two uniforms → Box–Muller, the spec's generator (for the in-pass case). */
function jsStepWithNoise(x: Float32Array, m: Float32Array, out: Float32Array, k0: number, k1: number, stream: number, kx: number, km: number, lo: number, hi: number, P: number, Q: number, R: number, C: number): void {
  const k2 = (k0 ^ k1 ^ 0x1bd11bda) >>> 0;
  const ks = [k0, k1, k2];
  for (let i = 0; i < x.length; i += 2) {
    let x0 = ((i >>> 1) + k0) >>> 0;
    let x1 = (stream + k1) >>> 0;
    for (let r = 0; r < 20; r++) {
      const rot = ROT[r & 7];
      x0 = (x0 + x1) >>> 0;
      x1 = ((x1 << rot) | (x1 >>> (32 - rot))) ^ x0;
      if ((r & 3) === 3) {
        const j = (r >> 2) + 1;
        x0 = (x0 + ks[j % 3]) >>> 0;
        x1 = (x1 + ks[(j + 1) % 3] + j) >>> 0;
      }
    }
    const rho = Math.sqrt(-2 * Math.log(((x0 >>> 9) + 0.5) * 1.1920928955078125e-7));
    const th = 6.283185307179586 * (((x1 >>> 9) + 0.5) * 1.1920928955078125e-7);
    for (let e = 0; e < 2 && i + e < x.length; e++) {
      const xi = x[i + e];
      const mi = m[i + e];
      let y = kx * xi + km * mi;
      y = y < lo ? lo : y > hi ? hi : y;
      out[i + e] = P * y + Q * xi + R * mi + C * rho * (e === 0 ? Math.cos(th) : Math.sin(th));
    }
  }
}
const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

export async function run(): Promise<void> {
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')} (shared; ratios are from this run)`);
  const gc = await init();
  const inst = await loadInstance();
  const k = inst.kernels;
  const mem = inst.mem;
  const results: Record<string, unknown> = { build: inst.features.build };

  // ---- 1. fused step
  const px = mem.alloc(N * 4);
  const pm = mem.alloc(N * 4);
  const pz = mem.alloc(N * 4);
  const po = mem.alloc(N * 4);
  const scratch = mem.alloc(k.diffusion_scratch_bytes());
  const rngScratch = mem.alloc(k.rng_scratch_bytes());
  k.rng_normal_f32(1, 0, 0, 0, N, px, rngScratch);
  k.rng_normal_f32(1, 0, 1, 0, N, pm, rngScratch);
  k.rng_normal_f32(1, 0, 2, 0, N, pz, rngScratch);
  const xs = mem.f32(px, N).slice();
  const ms = mem.f32(pm, N).slice();
  const zs = mem.f32(pz, N).slice();
  const outJs = new Float32Array(N);
  // DDPM fixed_small, t = 500 → 400 of a 10-step plan (the fixture's coefficients), clip at 1.
  const a = 0.2789205233843933;
  const b = 0.9603141890209558;
  const [P, Q, R, C] = [0.2853436001782321, 0.5543679238760799, 0, 0.7231963492714132];
  const kx = 1 / a;
  const km = -b / a;
  const tKernelInjected = await perCall(() => k.diffusion_step_f32(px, pm, pz, po, 0, N, kx, km, -1, 1, P, Q, R, C, 0, 0, 0, 0, scratch));
  const tJsInjected = await perCall(() => jsStep(xs, ms, zs, outJs, kx, km, -1, 1, P, Q, R, C));
  const tKernelRng = await perCall(() => k.diffusion_step_f32(px, pm, 0, po, 0, N, kx, km, -1, 1, P, Q, R, C, 7, 0, 3, 0, scratch));
  const tJsRng = await perCall(() => jsStepWithNoise(xs, ms, outJs, 7, 0, 3, kx, km, -1, 1, P, Q, R, C), 5);
  // the same numbers? (JS computes the normals in float64: agreement to ~1e-6)
  k.diffusion_step_f32(px, pm, 0, po, 0, N, kx, km, -1, 1, P, Q, R, C, 7, 0, 3, 0, scratch);
  jsStepWithNoise(xs, ms, outJs, 7, 0, 3, kx, km, -1, 1, P, Q, R, C);
  let maxDiff = 0;
  const ko = mem.f32(po, N);
  for (let i = 0; i < N; i++) maxDiff = Math.max(maxDiff, Math.abs(ko[i] - outJs[i]));
  const schedule = noiseSchedule({ kind: 'linear' });
  const x32 = xs.slice();
  const m32 = ms.slice();
  // End to end, like with like: gc.ddpmStep returns prevSample and predOriginalSample; without opts.out
  // both are new arrays, with it predOriginalSample still is. The JS loops do the same work and allocate
  // the same arrays; a fresh array's first writes may fault its pages in (timed alone below).
  const stepOpts = { schedule, t: 500, prev: 400, noise: zs, clipSample: 1 };
  const apiOut = new Float32Array(N);
  const tApiNew = await perCall(() => gc.ddpmStep(x32, m32, stepOpts));
  const tApiOut = await perCall(() => gc.ddpmStep(x32, m32, { ...stepOpts, out: apiOut }));
  const tJsNew = await perCall(() => jsStepWithPred(xs, ms, zs, kx, km, -1, 1, P, Q, R, C));
  const tJsOut = await perCall(() => jsStepWithPred(xs, ms, zs, kx, km, -1, 1, P, Q, R, C, outJs));
  const tFresh = await perCall(() => new Float32Array(N).fill(1));
  const eps = (t: number) => N / t;
  const stepRows: Row[] = [
    { case: 'kernel, injected noise', 'gencore (elem/s)': eps(tKernelInjected), 'plain JS (elem/s)': eps(tJsInjected), ratio: tJsInjected / tKernelInjected },
    { case: 'kernel, noise made in the pass', 'gencore (elem/s)': eps(tKernelRng), 'plain JS (elem/s)': eps(tJsRng), ratio: tJsRng / tKernelRng },
    { case: 'gc.ddpmStep, new results (2 new arrays each side)', 'gencore (elem/s)': eps(tApiNew), 'plain JS (elem/s)': eps(tJsNew), ratio: tJsNew / tApiNew },
    { case: 'gc.ddpmStep, opts.out (x̂0 still a new array each side)', 'gencore (elem/s)': eps(tApiOut), 'plain JS (elem/s)': eps(tJsOut), ratio: tJsOut / tApiOut },
    { case: 'gc.ddpmStep, opts.out vs the JS step into out without x̂0', 'gencore (elem/s)': eps(tApiOut), 'plain JS (elem/s)': eps(tJsInjected), ratio: tJsInjected / tApiOut },
  ];
  printTable(`Fused step, ${N} f32 elements (${inst.features.build} build); max |kernel − JS| with in-pass noise ${fmt(maxDiff)}; a new ${N}-element Float32Array, filled: ${fmt(tFresh * 1e6)} µs`, stepRows);
  results.fusedStep = { elements: N, rows: stepRows, maxDiffInPassNoise: maxDiff, freshArrayMicroseconds: tFresh * 1e6 };
  for (const p of [px, pm, pz, po, scratch, rngScratch]) mem.free(p);

  // ---- 2. mixture denoiser
  const means: number[] = [];
  for (let c = 0; c < 8; c++) means.push(0.7 * Math.cos((2 * Math.PI * c) / 8), 0.7 * Math.sin((2 * Math.PI * c) / 8));
  const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });
  const rows = 65536;
  const xr = gc.randomNormal(5, 0, rows * 2);
  const pxr = mem.alloc(rows * 8);
  const per = mem.alloc(rows * 8);
  mem.f32(pxr, rows * 2).set(xr);
  const pMeans = mem.alloc(16 * 8);
  const pStds = mem.alloc(8 * 8);
  const pLogw = mem.alloc(8 * 8);
  mem.f64(pMeans, 16).set(ring.params.means);
  mem.f64(pStds, 8).set(ring.params.stds);
  mem.f64(pLogw, 8).set(ring.params.weights.map(Math.log));
  const mscratch = mem.alloc(k.mixture_scratch_bytes(8, 2));
  const ab = schedule.alphasCumprod[500];
  const tMixKernel = await perCall(() => k.mixture_eval_f32(pxr, rows, 2, pMeans, pStds, pLogw, 8, Math.sqrt(ab), Math.sqrt(1 - ab), per, 0, 0, mscratch));
  const tMixApi = await perCall(() => gc.mixtureDenoise(ring, xr, 500, [rows, 2]));
  const tMixJs = await perCall(() => ring.denoiser(xr, 500, [rows, 2]), 5);
  const mixRows: Row[] = [
    { path: 'wasm kernel (f64x2)', 'rows/s': rows / tMixKernel, 'component evals/s': (8 * rows) / tMixKernel, 'vs JS': tMixJs / tMixKernel },
    { path: 'gc.mixtureDenoise', 'rows/s': rows / tMixApi, 'component evals/s': (8 * rows) / tMixApi, 'vs JS': tMixJs / tMixApi },
    { path: 'JS float64 denoiser', 'rows/s': rows / tMixJs, 'component evals/s': (8 * rows) / tMixJs, 'vs JS': 1 },
  ];
  printTable(`Exact mixture ε* (K = 8, d = 2), ${rows} rows`, mixRows);
  results.mixture = { rows: mixRows };
  for (const p of [pxr, per, pMeans, pStds, pLogw, mscratch]) mem.free(p);

  // ---- 3. full 1000-step DDPM run, sync vs pool of 2
  const pool = await createPool({ workers: 2 });
  try {
    const sampleOpts = { sampler: 'ddpm' as const, schedule, steps: 1000, shape: [65536, 2] as [number, number], denoiser: ring, seed: 2026 };
    await pool.sample({ ...sampleOpts, steps: 5 }); // start the workers
    const syncTimes: number[] = [];
    const poolTimes: number[] = [];
    const syncCpu: number[] = [];
    const poolCpu: number[] = [];
    let same = true;
    for (let rep = 0; rep < 2; rep++) {
      let t0 = performance.now();
      let c0 = process.cpuUsage();
      const s = await gc.sample(sampleOpts);
      syncTimes.push((performance.now() - t0) / 1000);
      let c1 = process.cpuUsage(c0);
      syncCpu.push((c1.user + c1.system) / 1e6);
      t0 = performance.now();
      c0 = process.cpuUsage();
      const p = await pool.sample(sampleOpts);
      poolTimes.push((performance.now() - t0) / 1000);
      c1 = process.cpuUsage(c0);
      poolCpu.push((c1.user + c1.system) / 1e6);
      for (let i = 0; i < s.length && same; i++) if (!Object.is(s[i], p[i])) same = false;
    }
    const ts = Math.min(...syncTimes);
    const tp = Math.min(...poolTimes);
    // CPU seconds (all threads of this process). On a machine whose cores are taken by other processes the
    // wall time says little (a pool cannot get more CPU than the calling thread's share); with two idle
    // cores and balanced slices the pool's wall time would be about its CPU time / 2.
    const cs = Math.min(...syncCpu);
    const cp = Math.min(...poolCpu);
    const runRows: Row[] = [
      { run: 'sync (calling thread)', 'wall s': ts, 'CPU s': cs, 'sample-steps/s': (65536 * 1000) / ts, 'wall speedup': 1, 'est. speedup, 2 idle cores': 1 },
      { run: 'pool of 2', 'wall s': tp, 'CPU s': cp, 'sample-steps/s': (65536 * 1000) / tp, 'wall speedup': ts / tp, 'est. speedup, 2 idle cores': (2 * cs) / cp },
    ];
    printTable(`DDPM, 1000 steps, 65 536 × 2 samples, exact ring denoiser (best of 2; pool result bit-identical: ${same})`, runRows);
    results.fullRun = { syncTimes, poolTimes, syncCpu, poolCpu, bitIdentical: same, wallSpeedup: ts / tp, cpuBoundSpeedup: (2 * cs) / cp };
  } finally {
    pool.terminate();
  }
  results.loadAverage = loadavg();
  console.log(`\nwrote ${writeResults('diffusion', results)}`);
}
