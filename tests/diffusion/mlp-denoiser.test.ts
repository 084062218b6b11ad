/**
 * The learned ε-model: input layout and time embedding against float64 formulas written here, the JSON
 * form, bad input, and the committed cities model — it loads, has the documented size, and reproduces the
 * committed energy distances (a subset of the table, same protocol) within tolerance.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  denoiserInputs,
  init,
  mlpDenoiser,
  mlpDenoiserFromJson,
  mlpDenoiserToJson,
  noiseSchedule,
  type Gencore,
  type MlpDenoiserModel,
  type Pool,
} from '../../bindings/index.js';
import { loadCities } from '../../examples/diffusion/cities.js';
import { evaluateCities, type EvalCell } from '../../examples/diffusion/cities-eval.js';
import { mulberry32, randomArray } from '../helpers/reference.js';

let gc: Gencore;
let pool: Pool;
beforeAll(async () => {
  gc = await init();
  pool = await createPool({ workers: 2 });
});
afterAll(() => pool?.terminate());

/** A one-layer (linear) model: ε̂ = [x | e(t)]·W + b, evaluated here in float64. */
function linearModel(dim: number, embedDim: number, seed: number): MlpDenoiserModel {
  const count = (dim + embedDim) * dim + dim;
  return { dim, embedDim, net: { sizes: [dim + embedDim, dim], params: randomArray(Float32Array, count, mulberry32(seed)) } };
}

function refLinear(model: MlpDenoiserModel, x: ArrayLike<number>, t: number, rows: number): Float64Array {
  const { dim, embedDim } = model;
  const p = model.net.params;
  const h = embedDim / 2;
  const row = new Float64Array(dim + embedDim);
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) row[c] = x[r * dim + c];
    for (let j = 0; j < h; j++) {
      const w = Math.exp((-j / h) * Math.log(1000));
      row[dim + j] = Math.sin(t * w);
      row[dim + h + j] = Math.cos(t * w);
    }
    for (let o = 0; o < dim; o++) {
      let s = p[(dim + embedDim) * dim + o];
      for (let i = 0; i < dim + embedDim; i++) s += row[i] * p[i * dim + o];
      out[r * dim + o] = s;
    }
  }
  return out;
}

describe('mlpDenoiser', () => {
  it('feeds [x | sin, cos time embedding] to the network', async () => {
    const model = linearModel(3, 8, 1);
    const x = randomArray(Float32Array, 5 * 3, mulberry32(2));
    const denoiser = mlpDenoiser(gc, model);
    for (const t of [0, 1, 37, 999]) {
      const got = (await denoiser(x, t, [5, 3])) as Float32Array;
      const want = refLinear(model, x, t, 5);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i])));
    }
    // Per-row timesteps (training batches) give each row its own embedding.
    const inputs = denoiserInputs(model, x, [0, 1, 37, 999, 5], 5);
    for (const [r, t] of [0, 1, 37, 999, 5].entries()) {
      const one = denoiserInputs(model, x.subarray(3 * r, 3 * r + 3), t, 1);
      expect(Array.from(inputs.subarray(11 * r, 11 * r + 11))).toEqual(Array.from(one));
    }
  });

  it('round-trips through its JSON form and refuses malformed models', () => {
    const model = linearModel(2, 4, 3);
    const back = mlpDenoiserFromJson(JSON.parse(JSON.stringify(mlpDenoiserToJson(model))));
    expect(back.dim).toBe(2);
    expect(back.embedDim).toBe(4);
    expect(Array.from(back.net.params)).toEqual(Array.from(model.net.params));
    expect(() => mlpDenoiserFromJson({ ...mlpDenoiserToJson(model), format: 'x' as never })).toThrow(TypeError);
    expect(() => mlpDenoiser(gc, { ...model, embedDim: 3 })).toThrow(/mlpDenoiser: model.embedDim must be even, got 3/);
    expect(() => mlpDenoiser(gc, { ...model, dim: 3 })).toThrow(/mlpDenoiser: model.net.sizes must start with dim \+ embedDim = 7/);
    const denoiser = mlpDenoiser(gc, model);
    expect(() => denoiser(new Float32Array(6), 3, [2, 3])).toThrow(/mlpDenoiser: shape\[1\] = 3 does not match model.dim = 2/);
    expect(() => denoiser(new Float32Array(5), 3, [3, 2])).toThrow(/mlpDenoiser: x.length 5/);
  });

  it('drives gc.sample and pool.sample to the same bytes', async () => {
    const model = linearModel(2, 4, 4);
    const opts = { sampler: 'ddim' as const, schedule: noiseSchedule({ kind: 'linear' }), steps: 5, shape: [64, 2] as [number, number], denoiser: mlpDenoiser(gc, model), seed: 9 };
    const a = await gc.sample(opts);
    const b = await pool.sample(opts);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('the committed cities model', () => {
  const json = JSON.parse(readFileSync(new URL('../../examples/web/data/cities-denoiser.json', import.meta.url), 'utf8'));
  const committed = JSON.parse(readFileSync(new URL('../../examples/diffusion/cities-eval.json', import.meta.url), 'utf8')) as { cells: EvalCell[] };
  const cell = (cells: EvalCell[], sampler: string, steps: number) => cells.find((c) => c.sampler === sampler && c.steps === steps)!;

  it('loads, with 50–200 k parameters and an MLP of the documented shape', () => {
    const model = mlpDenoiserFromJson(json);
    expect(model.net.sizes).toEqual([34, 128, 128, 128, 128, 2]);
    expect(model.net.params.length).toBeGreaterThanOrEqual(50_000);
    expect(model.net.params.length).toBeLessThanOrEqual(200_000);
    expect(model.net.params.every(Number.isFinite)).toBe(true);
  });

  it('the committed table meets the targets: DDPM at K = 1000 within 2× the floor; analytic-ddpm ≤ 0.7× ddpm at K = 10', () => {
    const floor = cell(committed.cells, 'real (floor)', 0).mean;
    expect(cell(committed.cells, 'ddpm', 1000).mean).toBeLessThanOrEqual(2 * floor);
    expect(cell(committed.cells, 'analytic-ddpm', 10).mean).toBeLessThanOrEqual(0.7 * cell(committed.cells, 'ddpm', 10).mean);
  });

  it('reproduces the committed energy distances at K = 10 and 20 (5 seeds) and the floor', async () => {
    const model = mlpDenoiserFromJson(json);
    const cells = await evaluateCities(gc, pool, model, loadCities(), { samplers: ['ddpm', 'analytic-ddpm'], stepCounts: [10, 20] });
    for (const c of cells) {
      const want = cell(committed.cells, c.sampler, c.steps);
      // Same data, seeds and counter-based noise: only the build's last bits (relaxed vs plain SIMD) differ.
      expect(Math.abs(c.mean - want.mean), `${c.sampler} K=${c.steps}`).toBeLessThanOrEqual(0.02 * want.mean + 0.02);
    }
    expect(cell(cells, 'analytic-ddpm', 10).mean).toBeLessThanOrEqual(0.7 * cell(cells, 'ddpm', 10).mean);
  }, 600_000);
});
