/**
 * Tour section: diffusion samplers on the 8-Gaussian ring (docs/diffusion.md §11). The four samplers at
 * 10, 20 and 50 steps with the ring's exact denoiser, a PNG grid of their samples, the energy distances
 * (×1e3, to 20 000 true samples) next to the spec's reference values, a pool run that reproduces the
 * calling thread's bytes, and masking UDM on short token sequences (improved vs baseline rule).
 */
import { gaussianMixture, noiseSchedule, timesteps, type Sampler } from '../../bindings/index.js';
import { printTable } from '../../bench/lib.js';
import { scatterPanels, writePng } from '../lib/plot.js';
import type { TourContext } from '../tour.js';

const COLORS: Record<string, string> = { ddpm: 'blue', ddim: 'orange', 'analytic-ddpm': 'green', 'analytic-ddim': 'purple' };

/** docs/diffusion.md §11 reference means (linear, leading), K = 10, 20, 50. */
const SPEC: Record<string, number[]> = {
  ddpm: [25.21, 3.57, 0.57],
  ddim: [17.66, 2.27, 0.37],
  'analytic-ddpm': [10.11, 2.19, 0.24],
  'analytic-ddim': [9.29, 1.89, 0.3],
};

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const means: number[] = [];
  for (let k = 0; k < 8; k++) means.push(0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8));
  const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });
  const schedule = noiseSchedule({ kind: 'linear' });
  const stepsList = [10, 20, 50];
  const samplers: Sampler[] = ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'];
  const seeds = quick ? 1 : 3;

  // σ̄_t² = E tr Cov[x0 | x_t]/d of the ring, by Monte Carlo, on every timestep the plans visit.
  const planTimesteps = [...new Set(stepsList.flatMap((n) => Array.from(timesteps(1000, n))))];
  const sigmaBar2 = ring.sigmaBar2({ timesteps: planTimesteps, samples: quick ? 4000 : 20000, seed: 5 });

  const ref = ring.sample(20000, 123456);
  const withinRef = gc.meanDistance(ref, null, 2);
  const panels: Array<{ title: string; x: Float32Array; y: Float32Array; color?: string }> = [];
  const rows = [];
  for (const sampler of samplers) {
    const row: Record<string, string> = { sampler };
    for (const [j, steps] of stepsList.entries()) {
      let sum = 0;
      let first: Float32Array | undefined;
      for (let seed = 0; seed < seeds; seed++) {
        const x = await gc.sample({ sampler, schedule, steps, shape: [2000, 2], denoiser: ring, seed, sigmaBar2: sampler.startsWith('analytic') ? sigmaBar2 : undefined, sigmaBar2Max: 0.255 });
        sum += 1e3 * gc.energyDistance(x, ref, 2, { withinB: withinRef });
        first ??= x;
      }
      row[`K=${steps}`] = (sum / seeds).toFixed(2);
      row[`spec K=${steps}`] = SPEC[sampler][j].toFixed(2);
      panels.push({ title: `${sampler}, ${steps} steps`, color: COLORS[sampler], x: first!.filter((_, i) => i % 2 === 0), y: first!.filter((_, i) => i % 2 === 1) });
    }
    rows.push(row);
  }
  printTable(`Energy distance ×1e3 to 20 000 true samples (mean of ${seeds} seed${seeds > 1 ? 's' : ''} × 2000 samples; spec: mean of 40 seeds)`, rows);
  const truth = ring.sample(2000, 7);
  panels.push({ title: 'true samples', color: 'gray', x: truth.filter((_, i) => i % 2 === 0), y: truth.filter((_, i) => i % 2 === 1) });
  writePng(`${outDir}/diffusion-ring.png`, scatterPanels({ title: 'Ring: samplers x 10/20/50 steps', cols: 3, panels, range: [-1.1, 1.1, -1.1, 1.1], panelSize: 240 }));
  console.log('wrote diffusion-ring.png');

  // The pool splits the batch by rows; the counter-based generator makes the bytes identical.
  const opts = { sampler: 'analytic-ddpm' as const, schedule, steps: 20, shape: [20000, 2] as [number, number], denoiser: ring, seed: 9, sigmaBar2, sigmaBar2Max: 0.255 };
  const a = await gc.sample(opts);
  const b = await pool.sample(opts);
  console.log(`pool of ${pool.size} vs calling thread, 20 000 samples: identical bytes = ${a.every((v, i) => Object.is(v, b[i]))}`);

  // Masking UDM on 4-letter words over a 6-letter alphabet: the exact per-position conditionals of a
  // small word list. The improved rule samples the list exactly; the baseline rule mixes letters of
  // different words.
  const words = ['SEED', 'DEEP', 'PEER', 'REED', 'DEER', 'PESO', 'ROPE', 'DOPE', 'POSE', 'SPED'];
  const alphabet = [...new Set(words.join(''))].sort();
  const vocab = alphabet.length + 1;
  const maskId = alphabet.length;
  const enc = words.map((w) => [...w].map((ch) => alphabet.indexOf(ch)));
  // When no word fits the visible letters (the baseline rule can produce such states), fall back to
  // each position's letter frequencies, weighted 1e-3.
  const probs = (tokens: Int32Array, shape: [number, number]) => {
    const [n, len] = shape;
    const out = new Float64Array(n * len * vocab);
    for (let r = 0; r < n; r++) {
      for (const w of enc) {
        const fits = w.every((t, j) => tokens[r * len + j] === maskId || tokens[r * len + j] === t);
        w.forEach((t, j) => (out[(r * len + j) * vocab + t] += fits ? 1 : 1e-3));
      }
    }
    return out;
  };
  const n = 2000;
  const udmRows = [];
  for (const rule of ['improved', 'baseline'] as const) {
    const tokens = (await gc.sampleUDM({ kind: 'masking', n, len: 4, vocab, maskId, probs, seed: 3, rule })) as Int32Array;
    const text = Array.from({ length: n }, (_, r) => Array.from(tokens.subarray(r * 4, r * 4 + 4), (t) => alphabet[t]).join(''));
    const valid = text.filter((w) => words.includes(w)).length / n;
    udmRows.push({ rule, 'in the word list': `${(100 * valid).toFixed(1)} %`, examples: text.slice(0, 8).join(' ') });
  }
  printTable('Masking UDM, 2000 sequences of 4 tokens, one position per step', udmRows);
}
