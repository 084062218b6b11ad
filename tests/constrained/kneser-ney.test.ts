import { beforeAll, describe, expect, it } from 'vitest';
import { init, trainKneserNey, KneserNeyModel, type Gencore } from '../../bindings/index.js';
import { mulberry32 } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

const V = 5;
const END = 0;

function randomCorpus(seed: number, count: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const n = 1 + Math.floor(rand() * 5);
    // Skewed towards small tokens so that counts of 1, 2, 3, 4+ all occur.
    return Array.from({ length: n }, () => 1 + Math.floor((V - 1) * rand() ** 2));
  });
}

/** Every context a model of this order can see: sequences of 0…order−1 tokens in 1…V−1. */
function contexts(order: number): number[][] {
  const out: number[][] = [[]];
  for (let len = 1; len < order + 1; len++) {
    const prev = out.filter((c) => c.length === len - 1);
    for (const c of prev) for (let t = 1; t < V; t++) out.push([...c, t]);
  }
  return out;
}

/**
 * Float64 reference written from the definition with string-keyed tables: interpolated modified KN,
 * the top order on counts, lower orders on the number of distinct left neighbours (n-grams that start with
 * the start symbol "S" keep their counts), discounts from counts of counts, uniform below the unigrams.
 */
function referenceKN(corpus: number[][], order: number, weights?: number[]) {
  const S = 'S';
  const counts: Array<Map<string, number>> = Array.from({ length: order }, () => new Map());
  corpus.forEach((seq, s) => {
    const w = weights ? weights[s] : 1;
    const toks: string[] = [...new Array(order - 1).fill(S), ...seq.map(String), String(END)];
    for (let i = order - 1; i < toks.length; i++) {
      for (let n = 1; n <= order; n++) {
        const g = toks.slice(i - n + 1, i + 1).join(' ');
        counts[n - 1].set(g, (counts[n - 1].get(g) ?? 0) + w);
      }
    }
  });
  const adj: Array<Map<string, number>> = counts.map(() => new Map());
  adj[order - 1] = counts[order - 1];
  for (let n = order - 1; n >= 1; n--) {
    const left = new Map<string, Set<string>>();
    for (const g of counts[n].keys()) {
      const parts = g.split(' ');
      const lower = parts.slice(1).join(' ');
      if (!left.has(lower)) left.set(lower, new Set());
      left.get(lower)!.add(parts[0]);
    }
    for (const g of counts[n - 1].keys()) adj[n - 1].set(g, g.startsWith(S) ? counts[n - 1].get(g)! : left.get(g)?.size ?? 0);
  }
  const disc = adj.map((m) => {
    const nk = [0, 1, 2, 3, 4].map((k) => [...m.values()].filter((c) => c === k).length);
    const Y = nk[1] + 2 * nk[2] > 0 ? nk[1] / (nk[1] + 2 * nk[2]) : 0;
    // No n-gram seen k times: D_k is never used; 0 by convention. D_k is clamped to [0, k].
    return [1, 2, 3].map((k) => (nk[k] > 0 ? Math.min(Math.max(k - (k + 1) * Y * (nk[k + 1] / nk[k]), 0), k) : 0));
  });
  const D = (n: number, c: number) => disc[n][Math.min(c, 3) - 1];
  const prob = (ctx: string[], w: string): number => {
    const n = ctx.length;
    const lower = n === 0 ? 1 / V : prob(ctx.slice(1), w);
    let total = 0;
    let held = 0;
    let mine = 0;
    for (const [g, c] of adj[n]) {
      const parts = g.split(' ');
      if (parts.slice(0, n).join(' ') !== ctx.join(' ') || c === 0) continue;
      total += c;
      held += D(n, c);
      if (parts[n] === w) mine = Math.max(c - D(n, c), 0);
    }
    return total === 0 ? lower : mine / total + (held / total) * lower;
  };
  return (prefix: number[], w: number) => {
    const ctx = [...new Array(order - 1).fill(S), ...prefix.map(String)].slice(-(order - 1) || 0);
    return prob(order === 1 ? [] : ctx, String(w));
  };
}

describe('trainKneserNey', () => {
  it('matches a float64 reference written from the definition, for orders 1…4', () => {
    const corpus = randomCorpus(3, 60);
    for (const order of [1, 2, 3, 4]) {
      const model = trainKneserNey(corpus, { order, vocabSize: V, endToken: END });
      const ref = referenceKN(corpus, order);
      for (const ctx of contexts(order)) {
        const lp = model.logProbs(ctx);
        for (let w = 0; w < V; w++) expect(lp[w], `order ${order} P(${w} | ${ctx})`).toBeCloseTo(Math.log(ref(ctx, w)), 12);
      }
    }
  });

  it('probabilities sum to 1 in every context (seen or not)', () => {
    const corpus = randomCorpus(11, 200);
    const model = trainKneserNey(corpus, { order: 3, vocabSize: V, endToken: END });
    for (const ctx of contexts(4)) {
      const sum = model.logProbs(ctx).reduce((s, l) => s + Math.exp(l), 0);
      expect(sum, `context ${ctx}`).toBeCloseTo(1, 12);
    }
  });

  it('integer weights count a sequence that many times', () => {
    const corpus = randomCorpus(5, 30);
    const weights = corpus.map((_, i) => 1 + (i % 3));
    const weighted = trainKneserNey(corpus, { order: 3, vocabSize: V, endToken: END, weights });
    const repeated = trainKneserNey(corpus.flatMap((s, i) => new Array(weights[i]).fill(s)), { order: 3, vocabSize: V, endToken: END });
    const ref = referenceKN(corpus, 3, weights);
    for (const ctx of contexts(3)) {
      for (let w = 0; w < V; w++) {
        expect(weighted.logProbs(ctx)[w]).toBeCloseTo(repeated.logProbs(ctx)[w], 12);
        expect(weighted.logProbs(ctx)[w]).toBeCloseTo(Math.log(ref(ctx, w)), 12);
      }
    }
  });

  it('serializes and restores the same model', () => {
    const model = trainKneserNey(randomCorpus(8, 80), { order: 4, vocabSize: V, endToken: END });
    const back = KneserNeyModel.deserialize(model.serialize());
    for (const ctx of contexts(4)) expect(Array.from(back.logProbs(ctx))).toEqual(Array.from(model.logProbs(ctx)));
    expect(() => KneserNeyModel.deserialize(new ArrayBuffer(24))).toThrow(/KneserNeyModel.deserialize: not a serialized Kneser-Ney model/);
    expect(() => KneserNeyModel.deserialize(model.serialize().slice(0, 100))).toThrow(/the buffer ends early/);
  });

  it('as a beamSearch scorer over a trie of the sequences, hypotheses score log P(sequence)', async () => {
    const corpus = [[1, 2], [1, 2, 3], [2, 4, 4], [3], [1, 2]];
    const model = trainKneserNey(corpus, { order: 3, vocabSize: V, endToken: END });
    const trie = gc.buildTrie(corpus, { endToken: END });
    const hyps = await gc.beamSearch(model.scorer(), {
      constraint: trie, beams: 8, numReturn: trie.numEntries, maxLength: trie.maxDepth, endToken: END, renormalize: false, lengthPenalty: 0,
    });
    expect(hyps.length).toBe(trie.numEntries);
    const ref = referenceKN(corpus, 3);
    for (const h of hyps) {
      const seq = Array.from(h.tokens);
      const want = seq.reduce((s, w, i) => s + Math.log(ref(seq.slice(0, i), w)), 0);
      expect(h.logProb).toBeCloseTo(want, 9);
      expect(model.logProbOf(seq)).toBeCloseTo(want, 12);
    }
    trie.dispose();
  });

  it('names bad input', () => {
    expect(() => trainKneserNey([[1, 7]], { vocabSize: V, endToken: END })).toThrow(/trainKneserNey: sequences\[0\]\[1\] must be a token in 0…4, got 7/);
    expect(() => trainKneserNey([[1]], { vocabSize: V, endToken: 9 })).toThrow(/opts.endToken/);
    expect(() => trainKneserNey([[1]], { vocabSize: V, endToken: END, weights: [0] })).toThrow(/opts.weights\[0\]/);
    expect(() => trainKneserNey([[1]], { vocabSize: V, endToken: END, weights: [1, 2] })).toThrow(/one weight per sequence/);
    expect(() => trainKneserNey([[1]], { vocabSize: 2 ** 20, endToken: END, order: 5 })).toThrow(/exceeds 2\^53/);
  });
});
