/**
 * `npm run demo`: a tour of every gencore capability. Each section prints its results and writes its
 * pictures into examples/output/. `--quick` (or GENCORE_QUICK=1) runs smaller sizes.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, createPool, type Gencore, type Pool } from '../bindings/index.js';

export interface TourContext {
  gc: Gencore;
  pool: Pool;
  /** Directory for PNG output (created). */
  outDir: string;
  /** Smaller sizes for a fast run. */
  quick: boolean;
}

const SECTIONS: Array<[title: string, load: () => Promise<{ tour(ctx: TourContext): Promise<void> }>]> = [
  ['Blocked SIMD GEMM', () => import('./tour/gemm.js')],
  ['Exact and Nyström attention', () => import('./tour/attention.js')],
  ['Trie-constrained beam search', () => import('./tour/beam.js')],
  ['Repetition analysis of decoders', () => import('./tour/repetition.js')],
  ['Diffusion samplers', () => import('./tour/diffusion.js')],
  ['A learned denoiser on real data: world cities', () => import('./tour/cities.js')],
  ['Entropy normalisation and consistent filters', () => import('./tour/entropy.js')],
];

const quick = process.argv.includes('--quick') || process.env.GENCORE_QUICK === '1';
const outDir = fileURLToPath(new URL('./output/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const gc = await init();
const pool = await createPool({ workers: 2 });
console.log(`gencore tour — wasm build: ${gc.features.build} SIMD; pool of ${pool.size} workers (shared memory: ${pool.features.sharedMemory})`);
try {
  for (const [title, load] of SECTIONS) {
    console.log(`\n## ${title}\n`);
    const t0 = performance.now();
    await (await load()).tour({ gc, pool, outDir, quick });
    console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(`\nPictures written to examples/output/`);
} finally {
  pool.terminate();
}
