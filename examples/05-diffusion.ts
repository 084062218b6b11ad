/**
 * Diffusion sampling with gencore — a walk through the module (run: `npx tsx examples/05-diffusion.ts`).
 *
 * 1. A noise schedule and a timestep plan, and the per-step coefficients the samplers use.
 * 2. One DDIM step on your own model output (the reference schedulers' coefficients).
 * 3. Full sampling loops over a [batch, dim] Float32Array with a denoiser: here the exact ε-predictor of
 *    an 8-Gaussian ring, so the quality of each sampler can be measured by the energy distance.
 * 4. Analytic-DPM: the optimal reverse variance from σ̄² = E tr Cov[x0 | x_t]/d, estimated by Monte Carlo.
 * 5. The same run split across a worker pool: identical bytes (counter-based random numbers).
 * 6. Masking UDM on short token sequences, with an async "model".
 */
import { createPool, gaussianMixture, init, noiseSchedule, samplerPlan, timesteps } from '../bindings/index.js';

const gc = await init();

// 1. Schedule and plan ----------------------------------------------------------------------------
const schedule = noiseSchedule({ kind: 'linear' }); // β from 1e-4 to 0.02 over T = 1000 steps, float64
console.log('ᾱ at t = 0, 499, 999:', [0, 499, 999].map((t) => schedule.alphasCumprod[t].toExponential(4)).join(', '));
console.log('10-step plans: leading', timesteps(1000, 10).join(' '), '| trailing', timesteps(1000, 10, 'trailing').join(' '));
const plan = samplerPlan({ schedule, steps: 10, sampler: 'ddpm' });
console.log('DDPM step 900 → 800: P, Q, C =', plan.P[0].toFixed(4), plan.Q[0].toFixed(4), plan.C[0].toFixed(4));

// 2. One step on a model output ---------------------------------------------------------------------
const x = Float32Array.from([0.3, -0.5]);
const modelOutput = Float32Array.from([0.31, -0.49]); // what your network predicted (ε)
const step = gc.ddimStep(x, modelOutput, { schedule, t: 500, prev: 400, eta: 0 });
console.log('DDIM 500 → 400: x_400 =', step.prevSample.join(', '), '| x̂0 =', step.predOriginalSample.join(', '));

// 3. Sampling loops with a denoiser -------------------------------------------------------------------
const means: number[] = [];
for (let k = 0; k < 8; k++) means.push(0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8));
const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });
// Any (x, t, [batch, dim]) → ε function works, sync or async; the mixture's own denoiser is recognised
// and evaluated in wasm.
const truth = ring.sample(20000, 1);
const withinTruth = gc.meanDistance(truth, null, 2);
const quality = (s: Float32Array) => (1e3 * gc.energyDistance(s, truth, 2, { withinB: withinTruth })).toFixed(2);

const controller = new AbortController(); // abort() stops the loop between two steps
const ddpm = await gc.sample({
  sampler: 'ddpm', schedule, steps: 10, shape: [2000, 2], denoiser: ring.denoiser, seed: 42,
  signal: controller.signal,
  onProgress: ({ step, steps }) => void (step === steps && console.log(`  DDPM done: ${steps} steps`)),
});
const ddim = await gc.sample({ sampler: 'ddim', schedule, steps: 10, shape: [2000, 2], denoiser: ring.denoiser, seed: 42 });

// 4. Analytic-DPM: σ̄² from data and the denoiser (Monte Carlo; 'auto' picks the better estimator per t)
const planSteps = Array.from(timesteps(1000, 10));
const est = await gc.estimateAnalyticGamma(ring.denoiser, ring.sample(20000, 2), schedule, { dim: 2, timesteps: planSteps, seed: 3, sigmaBar2Max: 0.255 });
console.log('σ̄² at t = 900, 500, 0:', [900, 500, 0].map((t) => est.sigmaBar2[t].toExponential(3)).join(', '));
const analytic = await gc.sample({ sampler: 'analytic-ddpm', schedule, steps: 10, shape: [2000, 2], denoiser: ring.denoiser, seed: 42, sigmaBar2: est.sigmaBar2, sigmaBar2Max: 0.255 });
console.log(`energy distance ×1e3 at 10 steps: DDPM ${quality(ddpm)}, DDIM ${quality(ddim)}, Analytic-DDPM ${quality(analytic)} (lower is better)`);

// 5. A pool: the batch is split by rows, each worker runs the loop on its rows ---------------------------
const pool = await createPool({ workers: 2 });
try {
  const fromPool = await pool.sample({ sampler: 'ddpm', schedule, steps: 10, shape: [2000, 2], denoiser: ring.denoiser, seed: 42 });
  console.log('pool result identical to the calling thread:', fromPool.every((v, i) => Object.is(v, ddpm[i])));
} finally {
  pool.terminate();
}

// 6. Masking UDM: fill masked tokens one position per step ----------------------------------------------
// Tokens 0..2 over sequences of length 5, mask = 3; the "model" prefers runs of equal tokens.
const len = 5;
const vocab = 4;
const maskId = 3;
const model = async (tokens: Int32Array, [n]: [number, number]) => {
  const probs = new Float32Array(n * len * vocab);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < len; j++) {
      const left = j > 0 ? tokens[r * len + j - 1] : maskId;
      for (let v = 0; v < 3; v++) probs[(r * len + j) * vocab + v] = v === left ? 4 : 1;
    }
  }
  return probs;
};
const tokens = await gc.sampleUDM({ kind: 'masking', n: 4, len, vocab, maskId, probs: model, seed: 7 });
for (let r = 0; r < 4; r++) console.log('  sequence', r, Array.from(tokens.subarray(r * len, (r + 1) * len)).join(' '));
