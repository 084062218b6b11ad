import { beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type EditCosts, type Gencore, type Hypothesis, type TokenTrie } from '../../bindings/index.js';
import { mulberry32 } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

type Costs = Required<EditCosts>;
const UNIT: Costs = { insert: 1, delete: 1, substitute: 1, similar: 1, transpose: 1, repeat: 1 };

/**
 * Brute force, float64: the cheapest of all alignments of `q` with `x`, enumerated by plain recursion over
 * the last edit (no DP table). Edits: match, substitute, type one spelling of a similar pair for the other
 * (`similar`: unordered pairs of one- or two-letter strings, at costs.similar), insert a query letter
 * (cheaper next to the same letter), delete a name letter (cheaper next to the same letter), swap two
 * adjacent letters. Prefix mode: the cheapest over all prefixes of `x`. `truncate`: also the prefixes of
 * `x` that stop just before a letter `truncate.at`, plus `truncate.cost`.
 */
type Truncate = { at: string; cost: number };
function bruteCost(q: string, x: string, c: Costs, similar: Array<[string, string]>, prefix = false, truncate?: Truncate): number {
  const spellings = similar.flatMap(([a, b]) => [[a, b], [b, a]]);
  const go = (i: number, j: number): number => {
    if (i === 0 && j === 0) return 0;
    let best = Infinity;
    if (i > 0 && j > 0) best = Math.min(best, go(i - 1, j - 1) + (q[i - 1] === x[j - 1] ? 0 : c.substitute));
    for (const [typed, meant] of spellings) {
      if (q.slice(0, i).endsWith(typed) && x.slice(0, j).endsWith(meant)) best = Math.min(best, go(i - typed.length, j - meant.length) + c.similar);
    }
    if (i > 0) best = Math.min(best, go(i - 1, j) + (i > 1 && q[i - 1] === q[i - 2] ? Math.min(c.insert, c.repeat) : c.insert));
    if (j > 0) best = Math.min(best, go(i, j - 1) + (j > 1 && x[j - 1] === x[j - 2] ? Math.min(c.delete, c.repeat) : c.delete));
    if (i > 1 && j > 1 && q[i - 1] === x[j - 2] && q[i - 2] === x[j - 1]) best = Math.min(best, go(i - 2, j - 2) + c.transpose);
    return best;
  };
  let best = go(q.length, x.length);
  for (let j = 0; j < x.length; j++) {
    if (prefix) best = Math.min(best, go(q.length, j));
    if (truncate && x[j] === truncate.at) best = Math.min(best, go(q.length, j) + truncate.cost);
  }
  return best;
}

const END = 0;

/** A trie of names spelled with tokens 1…; token t's text is `pieces[t]` (token 0 is the end token). */
function nameTrie(names: string[], pieces: string[]): { trie: TokenTrie; tokens: number[][] } {
  // Greedy longest-piece tokenisation.
  const tokens = names.map((n) => {
    const out: number[] = [];
    for (let i = 0; i < n.length; ) {
      let best = -1;
      for (let t = 1; t < pieces.length; t++) if (n.startsWith(pieces[t], i) && (best < 0 || pieces[t].length > pieces[best].length)) best = t;
      out.push(best);
      i += pieces[best].length;
    }
    return out;
  });
  return { trie: gc.buildTrie(tokens, { endToken: END }), tokens };
}

function randomWord(rand: () => number, alphabet: string, min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
  return s;
}

/** Every entry of the trie, scored: the search is exhaustive (K ≥ maxWidth); give the lookahead priorWeight 0 for the bare cost. */
async function searchAll(trie: TokenTrie, transform: ReturnType<Gencore['editLookahead']>, K = Math.max(trie.maxWidth, trie.numEntries)): Promise<Hypothesis[]> {
  return gc.beamSearch((b) => new Float64Array(b.rows * 16), {
    constraint: trie, beams: K, numReturn: K, maxLength: trie.maxDepth, endToken: END, renormalize: false, lengthPenalty: 0, transform,
  });
}

describe('editLookahead: the OSA DP against brute force', () => {
  it('scores every complete name with −cost(query, name), for random strings, costs, similar spellings and multi-letter tokens', async () => {
    const rand = mulberry32(15);
    const alphabet = 'abcd';
    const pieces = ['', 'a', 'b', 'c', 'd', 'ab', 'ba', 'cc', 'dab'];
    for (let trial = 0; trial < 40; trial++) {
      const names = [...new Set(Array.from({ length: 12 }, () => randomWord(rand, alphabet, 1, 6)))];
      const { trie } = nameTrie(names, pieces);
      const costs: Costs = {
        insert: 0.5 + 3 * rand(), delete: 0.5 + 3 * rand(), substitute: 0.5 + 3 * rand(),
        similar: 3 * rand(), transpose: 3 * rand(), repeat: 3 * rand(),
      };
      // One-letter pairs and two-letters-for-one ("ph" for "f") both ways, and two for two.
      const similar: Array<[string, string]> = [['a', 'b'], ['ab', 'c'], ['d', 'cc'], ['ba', 'dd']];
      const prefix = trial % 3 === 2;
      const depth = trial % 4;
      // Truncation before a 'd', also inside the token "dab".
      const truncate = trial % 5 < 2 ? { at: 'd', cost: 3 * rand() } : undefined;
      const query = randomWord(rand, alphabet, 1, 5);
      const hyps = await searchAll(trie, gc.editLookahead(trie, query, { units: pieces, costs, similar, prefix, truncate, depth, priorWeight: 0 }));
      expect(hyps.length).toBe(names.length);
      for (const h of hyps) {
        const name = Array.from(h.tokens.subarray(0, -1), (t) => pieces[t]).join('');
        expect(h.logProb, `${query} → ${name} (trial ${trial})`).toBeCloseTo(-bruteCost(query, name, costs, similar, prefix, truncate), 9);
      }
      trie.dispose();
    }
  });

  it('several queries in one search each get their own DP', async () => {
    const pieces = ['', 'a', 'b', 'c', 'd'];
    const names = ['abc', 'bad', 'cab', 'dd'];
    const { trie } = nameTrie(names, pieces);
    const queries = ['abd', 'dc'];
    const K = trie.numEntries;
    const res = (await gc.beamSearch((b) => new Float64Array(b.rows * 8), {
      constraint: trie, beams: K, numReturn: K, maxLength: trie.maxDepth, endToken: END, renormalize: false, lengthPenalty: 0,
      queries: 2, transform: gc.editLookahead(trie, queries, { units: pieces, costs: UNIT, priorWeight: 0 }),
    })) as Hypothesis[][];
    queries.forEach((q, k) => {
      for (const h of res[k]) {
        const name = Array.from(h.tokens.subarray(0, -1), (t) => pieces[t]).join('');
        expect(h.logProb).toBeCloseTo(-bruteCost(q, name, UNIT, []), 12);
      }
    });
    trie.dispose();
  });
});

describe('editLookahead: the pruning bound', () => {
  it('a transposition may jump over the current column: the bound looks one column back', async () => {
    // Column "b" alone costs ≥ 10 for every cell, yet "ba" is 1 from "ab" by one swap.
    const pieces = ['', 'a', 'b'];
    const { trie } = nameTrie(['ba', 'bb'], pieces);
    const costs = { insert: 10, delete: 10, substitute: 10, transpose: 1 };
    for (const depth of [0, 1, 2]) {
      const hyps = await searchAll(trie, gc.editLookahead(trie, 'ab', { units: pieces, costs, budget: 1, depth, priorWeight: 0 }));
      expect(hyps.map((h) => h.logProb)).toEqual([-1]);
    }
    trie.dispose();
  });

  it('so may a similar pair of two name units: "c" typed for "ab" jumps from column 0 to column 2', async () => {
    // Column "a" costs ≥ 10 in every cell, yet "ab" is 1 from "c" as one similar spelling.
    const pieces = ['', 'a', 'b', 'c'];
    const { trie } = nameTrie(['ab', 'aa', 'ccc'], pieces);
    const costs = { insert: 10, delete: 10, substitute: 10, transpose: 10, repeat: 10, similar: 1 };
    for (const depth of [0, 1, 2]) {
      const hyps = await searchAll(trie, gc.editLookahead(trie, 'c', { units: pieces, costs, similar: [['c', 'ab']], budget: 1, depth, priorWeight: 0 }));
      expect(hyps.map((h) => h.logProb)).toEqual([-1]);
    }
    trie.dispose();
  });

  it('never changes the top-k of an exhaustive search: pruned = unpruned restricted to cost ≤ budget', async () => {
    const rand = mulberry32(7);
    const pieces = ['', 'a', 'b', 'c', 'ab', 'ca'];
    for (let trial = 0; trial < 45; trial++) {
      const names = [...new Set(Array.from({ length: 10 }, () => randomWord(rand, 'abc', 1, 6)))];
      const { trie } = nameTrie(names, pieces);
      const query = randomWord(rand, 'abc', 1, 5);
      const costs: Costs = { insert: 1 + rand(), delete: 1 + rand(), substitute: 1 + rand(), similar: rand(), transpose: 2 * rand(), repeat: rand() };
      const similar: Array<[string, string]> = trial % 3 === 0 ? [] : [['a', 'bc'], ['ab', 'c'], ['cc', 'ba']];
      const prefix = trial % 2 === 1;
      const depth = trial % 4;
      const truncate = trial % 5 < 2 ? { at: 'c', cost: 2 * rand() } : undefined;
      const full = await searchAll(trie, gc.editLookahead(trie, query, { units: pieces, costs, similar, prefix, truncate, depth, priorWeight: 0 }));
      // Budgets between and exactly at the costs that occur.
      const levels = [...new Set(full.map((h) => -h.logProb))].sort((a, b) => a - b);
      for (const budget of [0, levels[0], levels[Math.floor(levels.length / 2)], levels[levels.length - 1] - 1e-9]) {
        const pruned = await searchAll(trie, gc.editLookahead(trie, query, { units: pieces, costs, similar, prefix, truncate, depth, budget, priorWeight: 0 }));
        const want = full.filter((h) => -h.logProb <= budget);
        expect(pruned.map((h) => [h.entry, h.logProb]), `trial ${trial} depth ${depth} budget ${budget}`).toEqual(want.map((h) => [h.entry, h.logProb]));
      }
      trie.dispose();
    }
  });

  it('with a model prior, finished scores are priorWeight · log P(name) − cost', async () => {
    const pieces = ['', 'a', 'b', 'c'];
    const { trie } = nameTrie(['ab', 'abc', 'cb'], pieces);
    // log-softmax of logits [0, 1, 2, 3] over 4 tokens, the same at every step.
    const logits = Float64Array.of(0, 1, 2, 3);
    const lse = Math.log(1 + Math.E + Math.E ** 2 + Math.E ** 3);
    const hyps = await gc.beamSearch((b) => Float64Array.from({ length: b.rows * 4 }, (_, i) => logits[i % 4]), {
      constraint: trie, beams: 4, numReturn: 3, maxLength: 4, endToken: END, renormalize: false, lengthPenalty: 0,
      transform: gc.editLookahead(trie, 'ab', { units: pieces, costs: UNIT, priorWeight: 0.5 }),
    });
    for (const h of hyps) {
      const name = Array.from(h.tokens.subarray(0, -1), (t) => pieces[t]).join('');
      const logPrior = Array.from(h.tokens, (t) => logits[t] - lse).reduce((a, b) => a + b, 0);
      expect(h.logProb).toBeCloseTo(0.5 * logPrior - bruteCost('ab', name, UNIT, []), 12);
    }
    trie.dispose();
  });
});

describe('editLookahead: bad input', () => {
  it('refuses an empty query, a unit no token produces, a trie of other units, a trie without end token', () => {
    const pieces = ['', 'a', 'b'];
    const { trie } = nameTrie(['ab'], pieces);
    expect(() => gc.editLookahead(trie, '', { units: pieces })).toThrow(/editLookahead: query is empty/);
    expect(() => gc.editLookahead(trie, 'aç', { units: pieces })).toThrow(/editLookahead: query\[1\] = 'ç' \(231\) is not a unit of any token of the trie/);
    expect(() => gc.editLookahead(trie, ['a', ''], { units: pieces })).toThrow(/editLookahead: query\[1\] is empty/);
    expect(() => gc.editLookahead(trie, 'a', { units: ['', 'a'] })).toThrow(/editLookahead: the trie holds token 2 but opts.units covers tokens 0…1/);
    expect(() => gc.editLookahead(trie, 'a', { units: (t) => (t[0] === 2 ? (undefined as never) : 'a') })).toThrow(/editLookahead: opts.units\(\[2\]\) must be a string or an array/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, costs: { insert: -1 } })).toThrow(RangeError);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, budget: -1 })).toThrow(/opts.budget/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, budget: NaN })).toThrow(/opts.budget/);
    expect(typeof gc.editLookahead(trie, 'a', { units: pieces, budget: Infinity, depth: Infinity, window: Infinity })).toBe('function');
    // Similar spellings: pairs of one or two units a side.
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [['a', 'abb']] })).toThrow(/editLookahead: opts.similar\[0\]\[1\] must be one or two units, got "abb"/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [['a', 'b'], ['', 'b']] })).toThrow(/editLookahead: opts.similar\[1\]\[0\] must be one or two units/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [['a', [97, 1.5]]] })).toThrow(/editLookahead: opts.similar\[0\]\[1\]\[1\] must be an integer unit/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [['a', 'b', 'c']] as never })).toThrow(/editLookahead: opts.similar\[0\] must be a pair \[a, b\]/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [null] as never })).toThrow(/editLookahead: opts.similar\[0\] must be a pair/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: 5 as never })).toThrow(/editLookahead: opts.similar must be an iterable of pairs/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, similar: [['a', {}]] as never })).toThrow(/editLookahead: opts.similar\[0\]\[1\] must be a string or an array/);
    // Truncation: one separator unit, a finite cost ≥ 0.
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, truncate: { at: '  ', cost: 1 } })).toThrow(/editLookahead: opts.truncate.at must be one unit, got "  "/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, truncate: { at: ' ', cost: -1 } })).toThrow(/editLookahead: opts.truncate.cost must be in \[0, /);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, truncate: { at: ' ', cost: Infinity } })).toThrow(/editLookahead: opts.truncate.cost must be finite/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, truncate: { cost: 1 } as never })).toThrow(/editLookahead: opts.truncate.at must be a string or an array/);
    expect(() => gc.editLookahead(trie, 'a', { units: pieces, truncate: ' ' as never })).toThrow(/editLookahead: opts.truncate must be an object/);
    const bare = gc.buildTrie([[1, 2]]);
    expect(() => gc.editLookahead(bare, 'ab', { units: pieces })).toThrow(/editLookahead: the trie has no end token/);
    bare.dispose();
    trie.dispose();
  });

  it('leaves the wasm heap at its baseline', async () => {
    const pieces = ['', 'a', 'b'];
    const { trie } = nameTrie(['ab', 'ba', 'abba'], pieces);
    const before = gc.memory.bytesInUse;
    await searchAll(trie, gc.editLookahead(trie, 'ab', { units: pieces }));
    expect(gc.memory.bytesInUse).toBe(before);
    trie.dispose();
  });
});

describe('editLookahead in a pool', () => {
  it('pool.editLookahead with a pool trie gives the same hypotheses as gc.editLookahead', async () => {
    const pool = await createPool({ workers: 1 });
    try {
      const pieces = ['', 'a', 'b', 'c', 'ab'];
      const names = ['abc', 'cab', 'bca', 'aabb', 'cc'];
      const { trie, tokens } = nameTrie(names, pieces);
      const poolTrie = await pool.buildTrie(tokens, { endToken: END });
      const opts = { beams: 2, numReturn: 2, maxLength: trie.maxDepth, endToken: END, renormalize: false, lengthPenalty: 0 };
      const scorer = (b: { rows: number; step: number }) => Float64Array.from({ length: b.rows * 8 }, (_, i) => ((i * 7 + b.step) % 5) / 3);
      const here = await gc.beamSearch(scorer, { ...opts, constraint: trie, transform: gc.editLookahead(trie, 'acb', { units: pieces }) });
      const there = await pool.beamSearch(scorer, { ...opts, constraint: poolTrie, transform: await pool.editLookahead(poolTrie, 'acb', { units: pieces }) }) as Hypothesis[];
      expect(there.map((h) => [h.entry, h.logProb])).toEqual(here.map((h) => [h.entry, h.logProb]));
      expect(here.length).toBe(2);
      trie.dispose();
    } finally {
      pool.terminate();
    }
  });
});
