/**
 * Evaluation of the cities ε-model: energy distance ×10³ (plug-in form, below) between generated points and held-out cities,
 * for the four samplers at several step counts, mean ± sd over seeds, next to the real-vs-real floor.
 *
 * The distance is the plug-in (V-statistic) energy distance 2·mean‖a_i − b_j‖ − mean_{i,i′}‖a_i − a_i′‖ −
 * mean_{j,j′}‖b_j − b_j′‖ with the i = i′ and j = j′ terms (zeros) inside the within-set means: it is
 * `gc.energyDistance` (the U-statistic, unbiased, ≈ 0 for two real samples) plus mean_{i≠i′}‖a_i − a_i′‖/n_a
 * + mean_{j≠j′}‖b_j − b_j′‖/n_b. Always ≥ 0, its value for two real samples — the floor — is that
 * finite-sample term, so "within 2× the floor" is a statement about the model.
 *
 * Protocol (the same for every row, so the numbers compare):
 * - reference R: the first `REFERENCE` held-out cities;
 * - generated: `n` points per seed from `pool.sample` (the denoiser runs on the calling thread);
 * - floor: per seed, `n` further held-out cities (disjoint from R and from each other) against R — the
 *   energy distance a perfect model would show at this sample size;
 * - σ̄² for the analytic samplers: `estimateAnalyticGamma` with the learned model on `GAMMA_ROWS` training
 *   points, on every timestep the plans visit.
 */
import type { Gencore, MlpDenoiserModel, Pool, Sampler } from '../../bindings/index.js';
import { mlpDenoiser, timesteps } from '../../bindings/index.js';
import { citiesSchedule, type CitiesData } from './cities.js';

export const SAMPLERS: Sampler[] = ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'];
export const STEP_COUNTS = [10, 20, 50, 100, 1000];
export const REFERENCE = 10000;
export const GAMMA_ROWS = 4000;

export interface EvalCell {
  sampler: Sampler | 'real (floor)';
  steps: number;
  /** Energy distance ×10³ per seed. */
  values: number[];
  mean: number;
  sd: number;
}

const meanSd = (v: number[]) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd };
};

export interface EvalOptions {
  samplers?: Sampler[];
  stepCounts?: number[];
  /** Seeds 0..seeds−1. Default 5. */
  seeds?: number;
  /** Points per sample. Default 2000. */
  n?: number;
  /** Called with each finished cell (and the first seed's sample, for pictures). */
  onCell?: (cell: EvalCell, firstSample: Float32Array) => void;
}

/** σ̄²_t of the learned model on the training data, for every timestep of the plans. */
export async function citiesSigmaBar2(gc: Gencore, model: MlpDenoiserModel, data: CitiesData, stepCounts: number[]): Promise<Float64Array> {
  const planTimesteps = [...new Set(stepCounts.flatMap((k) => Array.from(timesteps(1000, k))))];
  const est = await gc.estimateAnalyticGamma(mlpDenoiser(gc, model), data.train.subarray(0, 2 * GAMMA_ROWS), citiesSchedule(), { dim: 2, timesteps: planTimesteps, seed: 11 });
  return est.sigmaBar2;
}

/** The floor and the sampler table (see the file header). */
export async function evaluateCities(gc: Gencore, pool: Pool, model: MlpDenoiserModel, data: CitiesData, opts: EvalOptions = {}): Promise<EvalCell[]> {
  const { samplers = SAMPLERS, stepCounts = STEP_COUNTS, seeds = 5, n = 2000, onCell } = opts;
  const schedule = citiesSchedule();
  const reference = data.heldOut.subarray(0, 2 * REFERENCE);
  const withinB = gc.meanDistance(reference, null, 2);
  const distance = (x: Float32Array) => {
    const rows = x.length / 2;
    return 1e3 * (gc.energyDistance(x, reference, 2, { withinB }) + gc.meanDistance(x, null, 2) / rows + withinB / REFERENCE);
  };
  const cells: EvalCell[] = [];
  const push = (sampler: EvalCell['sampler'], steps: number, values: number[], first: Float32Array) => {
    const cell = { sampler, steps, values, ...meanSd(values) };
    cells.push(cell);
    onCell?.(cell, first);
  };

  const realSamples = Array.from({ length: seeds }, (_, s) => data.heldOut.subarray(2 * (REFERENCE + s * n), 2 * (REFERENCE + (s + 1) * n)));
  if (realSamples[seeds - 1].length !== 2 * n) throw new RangeError(`evaluateCities: ${seeds} seeds × ${n} points do not fit in the held-out cities beside the reference`);
  push('real (floor)', 0, realSamples.map(distance), realSamples[0]);

  const denoiser = mlpDenoiser(gc, model);
  const sigmaBar2 = samplers.some((s) => s.startsWith('analytic')) ? await citiesSigmaBar2(gc, model, data, stepCounts) : undefined;
  for (const sampler of samplers) {
    for (const steps of stepCounts) {
      const values: number[] = [];
      let first: Float32Array | undefined;
      for (let seed = 0; seed < seeds; seed++) {
        const x = await pool.sample({ sampler, schedule, steps, shape: [n, 2], denoiser, seed, sigmaBar2: sampler.startsWith('analytic') ? sigmaBar2 : undefined });
        values.push(distance(x));
        first ??= x;
      }
      push(sampler, steps, values, first!);
    }
  }
  return cells;
}
