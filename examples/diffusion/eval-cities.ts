/**
 * `npm run eval:cities`: the full evaluation table of the committed cities ε-model (4 samplers × K = 10,
 * 20, 50, 100, 1000, 5 seeds × 2000 points, plus the real-vs-real floor), printed as markdown and written
 * to examples/diffusion/cities-eval.json (the numbers docs/diffusion.md quotes and the tests check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createPool, init, mlpDenoiserFromJson } from '../../bindings/index.js';
import { loadCities } from './cities.js';
import { evaluateCities, SAMPLERS, STEP_COUNTS, type EvalCell } from './cities-eval.js';

export const MODEL_URL = new URL('../web/data/cities-denoiser.json', import.meta.url);
export const EVAL_URL = new URL('./cities-eval.json', import.meta.url);

const gc = await init();
const pool = await createPool({ workers: 2 });
try {
  const model = mlpDenoiserFromJson(JSON.parse(readFileSync(MODEL_URL, 'utf8')));
  const data = loadCities();
  const t0 = performance.now();
  const cells = await evaluateCities(gc, pool, model, data, {
    onCell: (c) => console.log(`${c.sampler} K=${c.steps}: ${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
  });
  const seconds = (performance.now() - t0) / 1000;
  const fmt = (c: EvalCell) => `${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)}`;
  const floor = cells[0];
  console.log(`\n| sampler | ${STEP_COUNTS.map((k) => `K = ${k}`).join(' | ')} |\n|---|${STEP_COUNTS.map(() => '---').join('|')}|`);
  for (const s of SAMPLERS) console.log(`| ${s} | ${STEP_COUNTS.map((k) => fmt(cells.find((c) => c.sampler === s && c.steps === k)!)).join(' | ')} |`);
  console.log(`| real vs real (floor) | ${fmt(floor)} |\n`);
  const at = (s: string, k: number) => cells.find((c) => c.sampler === s && c.steps === k)!.mean;
  console.log(`DDPM K=1000 / floor = ${(at('ddpm', 1000) / floor.mean).toFixed(2)}; analytic-ddpm / ddpm at K=10 = ${(at('analytic-ddpm', 10) / at('ddpm', 10)).toFixed(2)}; ${seconds.toFixed(0)} s`);
  writeFileSync(EVAL_URL, JSON.stringify({ build: gc.features.build, seconds: Math.round(seconds), cells }, null, 1) + '\n');
} finally {
  pool.terminate();
}
