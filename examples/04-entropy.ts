/**
 * Entropy normalisation with gencore — a walk through the module (run: `npx tsx examples/04-entropy.ts`).
 *
 * 1. The entropy of next-token distributions (probabilities or logits, many rows at once).
 * 2. Sharpen or flatten each row to a target entropy: p̃ = p^γ / Σ p^γ, i.e. softmax(γ·z). γ = 1/T is
 *    solved per row by a safeguarded Newton iteration; every row reports a status.
 * 3. The temperature for a target entropy, with a warm start from the previous decoding step.
 * 4. Consistent top-k / nucleus filtering: the end token always survives, so sampling can stop.
 * 5. The entropy-invariant attention scale for sequences longer than the training length.
 * 6. The same solve split across a worker pool (identical results).
 */
import { createPool, entropyInvariantScale, EntropyStatus, init } from '../bindings/index.js';
import { linePlot, writePng } from './lib/plot.js';

const gc = await init();

// 1. Entropy ------------------------------------------------------------------------------------------
// Two rows of 5 probabilities (they need not sum to 1; zeros are outside the support).
const probs = Float64Array.from([0.5, 0.2, 0.15, 0.1, 0.05, /* row 2 */ 0.25, 0.25, 0.25, 0.25, 0]);
console.log('entropy (nats):', Array.from(gc.entropy(probs, 2, 5), (h) => h.toFixed(4)).join(', '), '| log 5 =', Math.log(5).toFixed(4));
// Logits: −Infinity masks a token.
const logits = Float32Array.from([2.0, 1.0, 0.5, -Infinity, -1.0]);
console.log('entropy of softmax(logits):', gc.entropy(logits, 1, 5, { fromLogits: true })[0].toFixed(4));

// 2. Normalise to a target entropy --------------------------------------------------------------------
// One target per row (a number applies to all rows). Row 0 is sharpened from 1.33 to 0.8 nats. Row 1 is
// uniform on its support, so no γ changes it: it is reported as Degenerate and returned as is.
const res = gc.entropyNormalize(probs, 2, 5, Float64Array.from([0.8, 1.0]));
const name = (code: number) => Object.keys(EntropyStatus).find((k) => EntropyStatus[k as keyof typeof EntropyStatus] === code);
for (let r = 0; r < 2; r++) {
  console.log(`row ${r}: status ${name(res.status[r])}, γ = ${res.gamma[r].toFixed(4)}, H = ${res.entropy[r].toFixed(6)}, passes ${res.iterations[r]},`,
    'out =', Array.from(res.out.subarray(r * 5, r * 5 + 5), (p) => p.toFixed(4)).join(' '));
}
// Targets out of reach are clamped, never thrown: above log m → uniform (γ = 0), at or below log k → argmax.
const clamped = gc.entropyNormalize(probs.subarray(0, 5), 1, 5, 3);
console.log('target 3 nats > log 5:', name(clamped.status[0]), 'γ =', clamped.gamma[0], 'out =', Array.from(clamped.out).join(' '));
// 'su' is the plain iteration of Su's post (kexue.fm/archives/8829), kept for comparison; it can fail
// where the default converges (here: a near-one-hot row and a high target).
const n = 1000;
const nearOneHot = new Float64Array(n);
nearOneHot[0] = 1 - 1e-6;
for (let i = 1; i < n; i++) nearOneHot[i] = (1e-6 * i) / ((n * (n - 1)) / 2);
const su = gc.entropyNormalize(nearOneHot, 1, n, 0.5 * Math.log(n), { method: 'su' });
const safe = gc.entropyNormalize(nearOneHot, 1, n, 0.5 * Math.log(n));
console.log(`near-one-hot row: 'su' → ${name(su.status[0])} after ${su.iterations[0]} pass; default → ${name(safe.status[0])}, γ = ${safe.gamma[0].toExponential(3)} in ${safe.iterations[0]} passes`);

// 3. Temperatures, with a warm start -------------------------------------------------------------------
// A decoding loop: each step's logits change a little, so the previous temperatures are a good start.
const rows = 8;
const vocab = 32_000;
let z = new Float32Array(rows * vocab).map(() => 2 * (Math.random() + Math.random() + Math.random() - 1.5));
let previous: Float64Array | undefined;
for (let step = 0; step < 3; step++) {
  const t = gc.temperatureForEntropy(z, rows, vocab, 8.0, { initialTemperature: previous });
  const passes = Array.from(t.iterations).reduce((a, b) => a + b, 0) / rows;
  console.log(`step ${step}: T = ${Array.from(t.temperature.subarray(0, 3), (v) => v.toFixed(4)).join(', ')} …, mean passes ${passes.toFixed(1)}`);
  previous = t.temperature;
  z = z.map((v) => v + 0.02 * (Math.random() - 0.5));
}

// 4. Consistent filters ----------------------------------------------------------------------------------
const endToken = 2; // e.g. </s>
const step = Float32Array.from([3.1, 2.7, -1.0, 2.2, 0.4, 2.7]);
console.log('top-2           :', Array.from(gc.topKFilter(step, 1, 6, 2)).join(' '), '(ties at the 2nd value are kept)');
console.log('top-2 consistent:', Array.from(gc.topKFilter(step, 1, 6, 2, { consistent: true, endToken })).join(' '));
console.log('nucleus p = 0.8 consistent:', Array.from(gc.nucleusFilter(step, 1, 6, 0.8, { consistent: true, endToken })).join(' '));

// 5. Entropy-invariant attention scale ------------------------------------------------------------------
// Trained at 512 keys with head size 64: scale = log_512(n) / √64, equal to 1/8 at n = 512.
console.log('attention scale at n = 512, 2048, 8192:', [512, 2048, 8192].map((k) => entropyInvariantScale(k, 64).toFixed(4)).join(', '));

// 6. A worker pool -----------------------------------------------------------------------------------------
const pool = await createPool({ workers: 2 });
try {
  const a = gc.temperatureForEntropy(z, rows, vocab, 8.0);
  const b = await pool.temperatureForEntropy(z, rows, vocab, 8.0);
  console.log('pool gives the same temperatures:', a.temperature.every((v, i) => v === b.temperature[i]));
} finally {
  pool.terminate();
}

// A picture: H as a function of γ for row 0 of the last step.
const gammas = Array.from({ length: 60 }, (_, i) => Math.exp(Math.log(0.05) + (i / 59) * Math.log(400)));
const scaled = new Float32Array(gammas.length * vocab);
gammas.forEach((g, i) => { for (let j = 0; j < vocab; j++) scaled[i * vocab + j] = g * z[j]; });
const hs = gc.entropy(scaled, gammas.length, vocab, { fromLogits: true });
writePng(new URL('./output/04-entropy-h-of-gamma.png', import.meta.url).pathname, linePlot({
  title: 'H(softmax(gamma * z)) for one 32k-token row', xLabel: 'gamma (log scale)', yLabel: 'nats', logX: true,
  series: [{ name: 'H(gamma)', x: gammas, y: Array.from(hs) }],
}));
console.log('wrote examples/output/04-entropy-h-of-gamma.png');
