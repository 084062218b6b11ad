/**
 * Attention with gencore — a walk through the module (run: `npx tsx examples/02-attention.ts`).
 *
 * 1. Exact softmax attention: heads, keys ≠ queries, a key mask. Blockwise with an online softmax, so the
 *    n×nk score matrix is never stored and logits of any size are safe.
 * 2. The iterative Moore–Penrose inverse `pinv`: 6 steps is a regularised inverse (what Nyström uses);
 *    more steps converge to A⁺ for a well-conditioned A.
 * 3. Nyström attention: error vs number of landmarks on smooth and on i.i.d. tokens (table + PNG), the
 *    exact fallback for m ≥ n, and the depthwise-conv skip.
 * 4. Speed: exact vs Nyström as n grows, and the same call split across a worker pool.
 */
import { fileURLToPath } from 'node:url';
import { createPool, init } from '../bindings/index.js';
import { linePlot, writePng } from './lib/plot.js';

const gc = await init();

/** Seeded standard normals, so the example prints the same numbers every run. */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(1664525, s) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
const g = normals(1);
const randn = (len: number) => Float32Array.from({ length: len }, g);
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(e / n);
};

// 1. Exact attention ------------------------------------------------------------------------------------
// Arrays are flat and row-major with heads first: q is heads×n×d, k heads×nk×d, v heads×nk×dv.
{
  const [heads, n, nk, d, dv] = [2, 5, 7, 4, 3];
  const q = randn(heads * n * d);
  const k = randn(heads * nk * d);
  const v = randn(heads * nk * dv);
  const out = gc.attention(q, k, v, { n, nk, d, dv, heads }); // scale defaults to 1/√d
  console.log(`attention: heads×n×dv = ${heads}×${n}×${dv}, first row of head 0:`, Array.from(out.subarray(0, dv), (x) => x.toFixed(4)).join(' '));
  // A key mask (nonzero = attend), shared by all heads (length nk) or one row per head (heads·nk).
  // Masked keys get weight exactly 0; a row with no unmasked key is all zeros.
  const keyMask = Uint8Array.from([1, 1, 0, 1, 0, 0, 1]);
  const masked = gc.attention(q, k, v, { n, nk, d, dv, heads, keyMask });
  console.log('with keys 2, 4, 5 masked, same row:', Array.from(masked.subarray(0, dv), (x) => x.toFixed(4)).join(' '));
  // Huge logits are fine: only s − max is exponentiated.
  const hard = gc.attention(Float32Array.from([500]), Float32Array.from([1, 2, 3]), Float32Array.from([10, 20, 30]), { n: 1, nk: 3, d: 1, dv: 1, scale: 1 });
  console.log('logits 500, 1000, 1500 → attends to the last key:', hard[0]);
}

// 2. pinv -----------------------------------------------------------------------------------------------
{
  // A 3×3 row-softmax kernel (rows sum to 1), as Nyström's A.
  const a = Float64Array.from([0.5, 0.3, 0.2, 0.25, 0.5, 0.25, 0.1, 0.3, 0.6]);
  const residual = (z: Float64Array) => {
    const az = gc.matmul(a, z, 3, 3, 3);
    for (let i = 0; i < 3; i++) az[i * 4] -= 1;
    return Math.hypot(...az);
  };
  for (const iterations of [0, 3, 6, 12, 20]) {
    console.log(`pinv with ${String(iterations).padStart(2)} steps: ‖A·Z − I‖_F = ${residual(gc.pinv(a, 3, 3, { iterations })).toExponential(2)}`);
  }
  // Rectangular matrices work too (Z is cols×rows), in f32 or f64.
  const wide = Float32Array.from([1, 2, 3, 4, 5, 6]);
  console.log('pinv of a 2×3 matrix after 30 steps (3×2):', Array.from(gc.pinv(wide, 2, 3, { iterations: 30 }), (x) => x.toFixed(4)).join(' '));
}

// 3. Nyström attention ----------------------------------------------------------------------------------
{
  const [n, d] = [1024, 64];
  // Smooth tokens: an AR(1) sequence through random projections. I.i.d. tokens: plain Gaussians.
  const smooth = (() => {
    const x = new Float32Array(n * d);
    for (let c = 0; c < d; c++) x[c] = g();
    for (let t = 1; t < n; t++) for (let c = 0; c < d; c++) x[t * d + c] = 0.99 * x[(t - 1) * d + c] + Math.sqrt(1 - 0.99 ** 2) * g();
    const project = (gain: number) => {
      const w = Float32Array.from({ length: d * d }, () => g() / Math.sqrt(d));
      const p = gc.matmul(x, w, n, d, d);
      return p.map((y) => gain * y);
    };
    return { q: project(2), k: project(2), v: project(1) };
  })();
  const iid = { q: randn(n * d), k: randn(n * d), v: randn(n * d) };
  const landmarks = [16, 32, 64, 128, 256, 512];
  const errors = { smooth: [] as number[], iid: [] as number[] };
  for (const [name, t] of [['smooth', smooth], ['iid', iid]] as const) {
    const exact = gc.attention(t.q, t.k, t.v, { n, d });
    for (const m of landmarks) errors[name].push(relErr(gc.nystromAttention(t.q, t.k, t.v, { n, d, landmarks: m }), exact));
  }
  console.log(`\nNyström vs exact, n = ${n}, d = ${d} (relative Frobenius error):`);
  console.log('landmarks  smooth  i.i.d.');
  landmarks.forEach((m, i) => console.log(`${String(m).padStart(9)}  ${errors.smooth[i].toFixed(3)}   ${errors.iid[i].toFixed(3)}`));
  const file = fileURLToPath(new URL('./output/02-attention-landmarks.png', import.meta.url));
  writePng(file, linePlot({
    title: 'Nystrom attention error vs landmarks',
    xLabel: 'landmarks m', yLabel: 'relative error vs exact', logX: true,
    series: [{ name: 'smooth tokens', x: landmarks, y: errors.smooth }, { name: 'i.i.d. tokens', x: landmarks, y: errors.iid }],
  }));
  console.log(`plot: ${file}`);

  // m ≥ n is exact attention by definition; a depthwise conv over v (one odd-width filter per head) is
  // added in both branches, as in the reference Nyströmformer layer.
  const q = randn(10 * 4);
  const v = randn(10 * 4);
  const exactSmall = gc.attention(q, q, v, { n: 10, d: 4 });
  console.log('\nm ≥ n equals exact attention:', relErr(gc.nystromAttention(q, q, v, { n: 10, d: 4, landmarks: 10 }), exactSmall) === 0);
  const withConv = gc.nystromAttention(q, q, v, { n: 10, d: 4, landmarks: 3, convKernel: Float32Array.from([0.25, 0.5, 0.25]) });
  console.log('n = 10, m = 3 (segments of 3, 3, 4 tokens) with a conv skip, row 0:', Array.from(withConv.subarray(0, 4), (x) => x.toFixed(4)).join(' '));
}

// 4. Speed and the worker pool --------------------------------------------------------------------------
{
  const d = 64;
  console.log('\n    n  exact ms  Nyström ms  speed-up');
  for (const n of [512, 1024, 2048, 4096]) {
    const q = randn(n * d);
    const time = (f: () => unknown) => {
      const t0 = performance.now();
      f();
      return performance.now() - t0;
    };
    gc.nystromAttention(q, q, q, { n, d }); // warm up
    const te = Math.min(...[0, 1].map(() => time(() => gc.attention(q, q, q, { n, d }))));
    const tn = Math.min(...[0, 1, 2].map(() => time(() => gc.nystromAttention(q, q, q, { n, d }))));
    console.log(`${String(n).padStart(5)}  ${te.toFixed(1).padStart(8)}  ${tn.toFixed(2).padStart(10)}  ${(te / tn).toFixed(1).padStart(7)}×`);
  }
  // The pool offers the same methods, returning Promises; attention splits heads × row blocks across
  // workers and returns exactly what the calling thread computes.
  const pool = await createPool({ workers: 2 });
  try {
    const [heads, n] = [4, 1024];
    const q = randn(heads * n * d);
    const sync = gc.attention(q, q, q, { n, d, heads });
    const split = await pool.attention(q, q, q, { n, d, heads });
    console.log(`pool of ${pool.size}: attention over ${heads} heads × ${n} rows, identical to the sync call: ${split.every((x, i) => x === sync[i])}`);
  } finally {
    pool.terminate();
  }
}
