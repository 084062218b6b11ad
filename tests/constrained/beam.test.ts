import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, lcsLength, type BeamBatch, type Gencore, type Hypothesis, type TransformContext } from '../../bindings/index.js';
import { mulberry32 as rng } from '../helpers/reference.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/beam-search.json', import.meta.url), 'utf8'));
const TOL = fx.tolerance.abs as number;

// ------------------------------------------------------------------ models

/** The fixtures' LCG bigram table W[t][prev][next] (docs/constrained.md §5). */
function lcgTable(seed: number, T: number, V: number, scale: number): Float64Array {
  let x = seed >>> 0;
  const W = new Float64Array(T * V * V);
  for (let i = 0; i < W.length; i++) {
    x = (Math.imul(1664525, x) + 1013904223) >>> 0;
    W[i] = scale * (x / 2 ** 32) - scale / 2;
  }
  return W;
}

type Model = (prefix: ArrayLike<number>, query: number) => Float64Array;

function fixtureModel(m: { kind: string; V: number; seed?: number; T?: number; bos?: number; scale?: number }): Model {
  if (m.kind === 'zeros') return () => new Float64Array(m.V);
  const W = lcgTable(m.seed!, m.T!, m.V, m.scale!);
  const V = m.V;
  return (p) => {
    const prev = p.length === 0 ? m.bos! : p[p.length - 1];
    const o = (p.length * V + prev) * V;
    return W.slice(o, o + V);
  };
}

/** A prefix-hash model: logits depend on the whole prefix and the query. */
function hashModel(V: number, seed: number, scale = 4): Model {
  return (p, q) => {
    let h = (seed ^ Math.imul(q + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < p.length; i++) h = (Math.imul(h ^ p[i], 0x85ebca6b) + 0xc2b2ae35) >>> 0;
    const out = new Float64Array(V);
    let x = h || 1;
    for (let t = 0; t < V; t++) {
      x = (Math.imul(1664525, x) + 1013904223) >>> 0;
      out[t] = scale * (x / 2 ** 32) - scale / 2;
    }
    return out;
  };
}

/** Batch scorer from a per-prefix model (optionally rounding to f32). */
function scorerOf(model: Model, f32 = false, log?: BeamBatch[]) {
  return (b: BeamBatch) => {
    log?.push(b);
    const first = model(new Int32Array(0), 0);
    const V = first.length;
    const out = f32 ? new Float32Array(b.rows * V) : new Float64Array(b.rows * V);
    for (let r = 0; r < b.rows; r++) out.set(model(b.prefixes.subarray(r * b.step, (r + 1) * b.step), b.query[r]), r * V);
    return out;
  };
}

// ------------------------------------------------------------------ an independent reference of docs/constrained.md §3

interface RefConstraint {
  allowed(prefix: number[]): number[] | null; // null: unconstrained
  finishes(prefix: number[], tok: number): boolean;
  continues(prefix: number[], tok: number): boolean;
}

function trieConstraint(entries: number[][]): RefConstraint {
  const key = (p: number[]) => p.join(',');
  const isEntry = new Set(entries.map(key));
  const next = new Map<string, Set<number>>();
  for (const e of entries) for (let i = 0; i < e.length; i++) {
    const k = key(e.slice(0, i));
    if (!next.has(k)) next.set(k, new Set());
    next.get(k)!.add(e[i]);
  }
  return {
    allowed: (p) => [...(next.get(key(p)) ?? [])].sort((a, b) => a - b),
    finishes: (p, t) => isEntry.has(key([...p, t])),
    continues: (p, t) => next.has(key([...p, t])),
  };
}

function unconstrained(E: number): RefConstraint {
  return { allowed: () => null, finishes: (_p, t) => t === E, continues: (_p, t) => t !== E };
}

function substringRef(passages: number[][], E: number): RefConstraint {
  return {
    allowed: (x) => {
      const s = new Set<number>([E]);
      for (const p of passages) for (let i = 0; i + x.length < p.length; i++) if (x.every((t, k) => p[i + k] === t)) s.add(p[i + x.length]);
      return [...s].sort((a, b) => a - b);
    },
    finishes: (_p, t) => t === E,
    continues: (_p, t) => t !== E,
  };
}

function logSoftmax(x: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]) && x[i] > m) m = x[i];
  let s = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) s += Math.exp(x[i] - m);
  const ls = Math.log(s);
  return Float64Array.from(x, (v) => (Number.isFinite(v) ? v - m - ls : -Infinity));
}

function cmpTokens(a: ArrayLike<number>, b: ArrayLike<number>) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

interface RefOpts {
  K: number;
  maxLength: number;
  numReturn?: number;
  alpha: number;
  renormalize: boolean;
  E: number;
  transform?: (prefix: number[], allowed: number[], s: Float64Array) => void;
}

/** The canonical algorithm, written plainly: all candidates, full sort. */
function refBeam(model: Model, con: RefConstraint, o: RefOpts, query = 0) {
  const V = model([], query).length;
  let beams: Array<{ p: number[]; lp: number }> = [{ p: [], lp: 0 }];
  const pool: Array<{ tokens: number[]; logProb: number; score: number }> = [];
  for (let step = 0; step < o.maxLength && beams.length; step++) {
    const cands: Array<{ lp: number; r: number; t: number; p: number[] }> = [];
    beams.forEach((b, r) => {
      const lps = logSoftmax(model(b.p, query));
      const allowed = con.allowed(b.p) ?? Array.from({ length: V }, (_, i) => i);
      const s = Float64Array.from(allowed, (t) => lps[t]);
      o.transform?.(b.p, allowed, s);
      if (o.renormalize) {
        const n = logSoftmax(s);
        s.set(n);
      }
      allowed.forEach((t, j) => {
        const v = b.lp + s[j];
        if (Number.isFinite(v)) cands.push({ lp: v, r, t, p: b.p });
      });
    });
    cands.sort((a, b) => b.lp - a.lp || a.r - b.r || a.t - b.t);
    const next: typeof beams = [];
    for (let rank = 0; rank < cands.length; rank++) {
      const c = cands[rank];
      const tokens = [...c.p, c.t];
      if (con.finishes(c.p, c.t) && rank < o.K) pool.push({ tokens, logProb: c.lp, score: c.lp / Math.pow(tokens.length, o.alpha) });
      if (con.continues(c.p, c.t) && next.length < o.K) next.push({ p: tokens, lp: c.lp });
      if (next.length === o.K) break;
    }
    beams = next;
  }
  pool.sort((a, b) => b.score - a.score || cmpTokens(a.tokens, b.tokens));
  return pool.slice(0, o.numReturn ?? o.K);
}

function expectHyps(got: Hypothesis[], want: Array<{ tokens: number[]; logProb: number; score: number; entry?: number }>, what = '') {
  expect(got.map((h) => Array.from(h.tokens)), what).toEqual(want.map((h) => h.tokens));
  got.forEach((h, i) => {
    expect(Math.abs(h.logProb - want[i].logProb), `${what} logProb ${i}`).toBeLessThanOrEqual(TOL);
    expect(Math.abs(h.score - want[i].score), `${what} score ${i}`).toBeLessThanOrEqual(TOL);
    if (want[i].entry !== undefined) expect(h.entry, `${what} entry ${i}`).toBe(want[i].entry);
  });
}

function randomEntries(r: () => number, count: number, vocab: number, maxLen: number): number[][] {
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(r() * maxLen) }, () => 2 + Math.floor(r() * (vocab - 2))));
}

// ------------------------------------------------------------------ tests

describe.each(['plain', 'relaxed'] as const)('beam search (%s build)', (simd) => {
  let gc: Gencore;
  beforeAll(async () => {
    gc = await init({ simd });
  });

  it('model checks of the fixtures hold', () => {
    const W = lcgTable(1, 8, 10, 6);
    expect((W[0] + 3) / 6).toBeCloseTo(fx.model.checks[0].firstDraws[0], 15);
    expect(W[(7 * 10 + 9) * 10 + 9]).toBeCloseTo(-0.4816989437676966, 15);
    const c1 = fx.cases.find((c: { id: string }) => c.id === 'case1-entity-trie');
    const lps = logSoftmax(fixtureModel(c1.model)([], 0));
    lps.forEach((v, i) => expect(v).toBeCloseTo(c1.stepZeroLogSoftmax[i], 12));
  });

  it('reproduces every fixture run: results, batches and traces', async () => {
    let runs = 0;
    for (const c of fx.cases) {
      const trie = gc.buildTrie(c.constraint.sequences, c.constraint.endToken === undefined ? {} : { endToken: c.constraint.endToken });
      for (const run of c.runs) {
        const log: BeamBatch[] = [];
        const progress: number[] = [];
        const constraint = 'constraint' in run && run.constraint === null ? null : trie;
        const res = (await gc.beamSearch(scorerOf(fixtureModel(c.model), false, log), {
          ...run.options,
          endToken: c.endToken,
          constraint,
          onProgress: (p) => progress.push(p.step),
        })) as Hypothesis[];
        expectHyps(res, run.expected, `${c.id}/${run.id}`);
        if (constraint === null) for (const h of res) expect(h.entry).toBeUndefined();
        if (run.batches) {
          expect(log.length, `${run.id} steps`).toBe(run.batches.length);
          run.batches.forEach((want: Record<string, unknown>, s: number) => {
            const got = log[s];
            for (const key of ['step', 'rows']) expect(got[key as 'step'], `${run.id} ${key}@${s}`).toBe(want[key]);
            for (const key of ['parentRow', 'lastToken', 'prefixes', 'nodes', 'allowedOffsets', 'allowedTokens']) {
              expect(Array.from(got[key as 'nodes']), `${run.id} ${key}@${s}`).toEqual(want[key]);
            }
          });
        }
        if (run.trace) {
          // The live beams after step s are the rows of batch s+1.
          run.trace.forEach((t: { running: Array<{ tokens: number[] }> }, s: number) => {
            // (After the last step they are either none or stopped early, which the fixtures also do.)
            const nextBatch = log[s + 1];
            if (!nextBatch) return;
            const rows = Array.from({ length: nextBatch.rows }, (_, r) => Array.from(nextBatch.prefixes.subarray(r * (s + 1), (r + 1) * (s + 1))));
            expect(rows, `${run.id} trace@${s}`).toEqual(t.running.map((b) => b.tokens));
          });
        }
        expect(progress).toEqual(log.map((b) => b.step));
        runs++;
      }
      trie.dispose();
    }
    expect(runs).toBe(fx.cases.reduce((s: number, c: { runs: unknown[] }) => s + c.runs.length, 0));
  });

  it('returns the exhaustive rankings of the fixtures when beams ≥ maxWidth', async () => {
    let checked = 0;
    for (const c of fx.cases) {
      if (!c.exhaustive) continue;
      const trie = gc.buildTrie(c.constraint.sequences, c.constraint.endToken === undefined ? {} : { endToken: c.constraint.endToken });
      for (const ex of c.exhaustive) {
        const K = Math.max(trie.maxWidth, ex.count);
        const res = (await gc.beamSearch(scorerOf(fixtureModel(c.model)), {
          beams: K, numReturn: ex.count, maxLength: ex.maxLength, lengthPenalty: ex.lengthPenalty, renormalize: ex.renormalize, endToken: c.endToken, constraint: trie,
        })) as Hypothesis[];
        expectHyps(res, ex.ranking, `${c.id} exhaustive`);
        checked++;
      }
      trie.dispose();
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('equals exhaustive enumeration on random small tries (beams ≥ maxWidth ⇒ the exact n-best)', async () => {
    const r = rng(21);
    for (let trial = 0; trial < 24; trial++) {
      const V = 6 + Math.floor(r() * 6);
      const E = 1;
      const entries = randomEntries(r, 2 + Math.floor(r() * 12), V, 4);
      const trie = gc.buildTrie(entries, trial % 3 === 2 ? {} : { endToken: E });
      const full: number[][] = [];
      for (let e = 0; e < trie.numEntries; e++) full.push(Array.from(trie.entry(e)));
      const model = hashModel(V, trial);
      const con = trieConstraint(full);
      const renormalize = trial % 2 === 1;
      const alpha = [0, 1, 0.5][trial % 3];
      // Score every entry directly.
      const ranking = full.map((tokens, entry) => {
        let lp = 0;
        for (let i = 0; i < tokens.length; i++) {
          const lps = logSoftmax(model(tokens.slice(0, i), 0));
          const allowed = con.allowed(tokens.slice(0, i))!;
          const s = Float64Array.from(allowed, (t) => lps[t]);
          const ss = renormalize ? logSoftmax(s) : s;
          lp += ss[allowed.indexOf(tokens[i])];
        }
        return { tokens, logProb: lp, score: lp / Math.pow(tokens.length, alpha), entry };
      });
      ranking.sort((a, b) => b.score - a.score || cmpTokens(a.tokens, b.tokens));
      const K = Math.max(trie.maxWidth, trie.numEntries);
      const res = (await gc.beamSearch(scorerOf(model), { beams: K, maxLength: 8, lengthPenalty: alpha, renormalize, endToken: E, constraint: trie })) as Hypothesis[];
      expectHyps(res, ranking, `trial ${trial}`);
      trie.dispose();
    }
  });

  it('equals the plain reference algorithm with beams < maxWidth (raw/renormalized, α, f32 scorer, Q > 1)', async () => {
    const r = rng(99);
    for (let trial = 0; trial < 30; trial++) {
      const V = 8 + Math.floor(r() * 20);
      const E = 1;
      const entries = randomEntries(r, 5 + Math.floor(r() * 40), V, 5);
      const trie = gc.buildTrie(entries, { endToken: E });
      const full: number[][] = [];
      for (let e = 0; e < trie.numEntries; e++) full.push(Array.from(trie.entry(e)));
      const model = hashModel(V, 1000 + trial);
      const K = 1 + Math.floor(r() * 4);
      const opts = { K, maxLength: 2 + Math.floor(r() * 6), alpha: [0, 1, 0.7][trial % 3], renormalize: trial % 2 === 0, E, numReturn: 1 + Math.floor(r() * K) };
      const f32 = trial % 4 === 3;
      const refModel: Model = f32 ? (p, q) => Float64Array.from(Float32Array.from(model(p, q))) : model;
      const Q = trial % 5 === 0 ? 3 : 1;
      const res = await gc.beamSearch(scorerOf(model, f32), {
        beams: K, maxLength: opts.maxLength, numReturn: opts.numReturn, lengthPenalty: opts.alpha, renormalize: opts.renormalize, endToken: E, constraint: trie, queries: Q,
      });
      const perQuery = Q === 1 ? [res as Hypothesis[]] : (res as Hypothesis[][]);
      perQuery.forEach((hyps, q) => {
        expectHyps(hyps, refBeam(refModel, trieConstraint(full), opts, q), `trial ${trial} q${q}`);
        const seen = new Set<string>();
        for (const h of hyps) {
          expect(Array.from(trie.entry(h.entry!))).toEqual(Array.from(h.tokens));
          expect(h.tokens.length).toBeLessThanOrEqual(opts.maxLength);
          const key = h.tokens.join();
          expect(seen.has(key)).toBe(false);
          seen.add(key);
        }
      });
      trie.dispose();
    }
  });

  it('unconstrained search over a larger vocabulary equals the reference (f32 and f64 logits)', async () => {
    for (const [V, f32] of [[300, true], [257, false]] as const) {
      const model = hashModel(V, V, 8);
      const refModel: Model = f32 ? (p, q) => Float64Array.from(Float32Array.from(model(p, q))) : model;
      for (const renormalize of [false, true]) {
        const opts = { K: 4, maxLength: 4, alpha: 1, renormalize, E: 7 };
        const res = (await gc.beamSearch(scorerOf(model, f32), { beams: 4, maxLength: 4, lengthPenalty: 1, renormalize, endToken: 7 })) as Hypothesis[];
        expectHyps(res, refBeam(refModel, unconstrained(7), opts), `V ${V} renorm ${renormalize}`);
      }
    }
  });

  it('substring constraint: results are passage substrings + E and equal the reference', async () => {
    const r = rng(4);
    for (let trial = 0; trial < 8; trial++) {
      const V = 12;
      const E = 1;
      const passages = Array.from({ length: 1 + (trial % 3) }, () => Array.from({ length: 3 + Math.floor(r() * 8) }, () => 2 + Math.floor(r() * (V - 2))));
      const sc = gc.substringConstraint(passages, { endToken: E });
      const model = hashModel(V, 50 + trial);
      const opts = { K: 3, maxLength: 6, alpha: 1, renormalize: trial % 2 === 0, E };
      const res = (await gc.beamSearch(scorerOf(model), { beams: 3, maxLength: 6, lengthPenalty: 1, renormalize: opts.renormalize, endToken: E, constraint: sc })) as Hypothesis[];
      expectHyps(res, refBeam(model, substringRef(passages, E), opts), `substring ${trial}`);
      for (const h of res) {
        const x = Array.from(h.tokens.subarray(0, h.tokens.length - 1));
        expect(h.tokens[h.tokens.length - 1]).toBe(E);
        expect(passages.some((p) => p.some((_, i) => x.every((t, k) => p[i + k] === t)) || x.length === 0)).toBe(true);
      }
    }
  });

  it('the KgCLUE lookahead: fixture weights, and equals the reference transform in a search', async () => {
    const ex = fx.lookaheadExample;
    const trie = gc.buildTrie(ex.sequences, { endToken: ex.endToken });
    const node = trie.walk(ex.prefix);
    const allowed = trie.children(node);
    expect(Array.from(allowed)).toEqual(ex.allowed);
    const transform = gc.lcsLookahead(trie, ex.question);
    const scores = Float64Array.from(allowed, (_, i) => -1 - i);
    const ctx: TransformContext = {
      step: ex.prefix.length, rows: 1, query: new Int32Array(1), parentRow: new Int32Array(1), lastToken: Int32Array.of(ex.prefix.at(-1)),
      prefixes: Int32Array.from(ex.prefix), nodes: Int32Array.of(node), allowedOffsets: Int32Array.of(0, allowed.length), allowedTokens: allowed,
      scores: scores.slice(), vocabSize: 10,
    };
    await transform(ctx);
    allowed.forEach((t, i) => expect(ctx.scores[i]).toBe(scores[i] / ex.weights[String(t)]));
    trie.dispose();

    // In a KgCLUE-style search (renormalize, α = 0) against an independent lookahead.
    const E = 1;
    const V = 12;
    const r = rng(8);
    const facts = Array.from({ length: 30 }, () => [...randomEntries(r, 1, V, 2)[0], E, ...randomEntries(r, 1, V, 2)[0]]);
    const t2 = gc.buildTrie(facts, { endToken: E });
    const full: number[][] = [];
    for (let e = 0; e < t2.numEntries; e++) full.push(Array.from(t2.entry(e)));
    const question = [0, ...facts[3].filter((t) => t !== E), E];
    const lcs = (a: number[], b: number[]) => {
      const d = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
      for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = a[i - 1] === b[j - 1] ? d[i - 1][j - 1] + 1 : Math.max(d[i - 1][j], d[i][j - 1]);
      return d[a.length][b.length];
    };
    const refTransform = (x: number[], allowedT: number[], s: Float64Array) => {
      if (allowedT.length < 2 || !x.includes(E)) return;
      const lcs0 = lcs(x, question);
      const w = new Map<number, number>(allowedT.map((a) => [a, 1]));
      for (const e of full) {
        if (!x.every((t, i) => e[i] === t)) continue;
        const c = e[e.length - 1] === E ? e.slice(0, -1) : e;
        if (c.length > x.length) w.set(c[x.length], Math.max(w.get(c[x.length])!, lcs(c, question) - lcs0 + 1));
      }
      allowedT.forEach((a, j) => (s[j] /= w.get(a)!));
    };
    const model = hashModel(V, 77);
    const res = (await gc.beamSearch(scorerOf(model), {
      beams: 3, maxLength: 8, lengthPenalty: 0, renormalize: true, endToken: E, constraint: t2, transform: gc.lcsLookahead(t2, question),
    })) as Hypothesis[];
    expectHyps(res, refBeam(model, trieConstraint(full), { K: 3, maxLength: 8, alpha: 0, renormalize: true, E, transform: refTransform }), 'lookahead search');
    t2.dispose();
  });

  it('never yields a token outside an unsatisfiable constraint (all allowed −∞ / NaN)', async () => {
    const trie = gc.buildTrie([[2, 3], [4], [5, 6]], { endToken: 1 });
    const V = 8;
    // Disallowed tokens get high logits, allowed ones −∞ or NaN.
    for (const bad of [-Infinity, NaN]) {
      const scorer = (b: BeamBatch) => {
        const out = new Float64Array(b.rows * V).fill(5);
        for (let r = 0; r < b.rows; r++) for (let j = b.allowedOffsets![r]; j < b.allowedOffsets![r + 1]; j++) out[r * V + b.allowedTokens![j]] = bad;
        return out;
      };
      for (const renormalize of [false, true]) {
        expect(await gc.beamSearch(scorer, { beams: 8, maxLength: 5, endToken: 1, constraint: trie, renormalize })).toEqual([]);
      }
    }
    // Only [4, E] is reachable: every other allowed token is −∞.
    const partial = (b: BeamBatch) => {
      const out = new Float64Array(b.rows * V).fill(-Infinity);
      for (let r = 0; r < b.rows; r++) {
        out[r * V + 1] = 0;
        out[r * V + 4] = 0;
        out[r * V + 7] = 9;
      }
      return out;
    };
    const res = (await gc.beamSearch(partial, { beams: 4, maxLength: 5, endToken: 1, constraint: trie })) as Hypothesis[];
    expect(res.map((h) => Array.from(h.tokens))).toEqual([[4, 1]]);
    // The empty trie resolves to [] without calling the scorer.
    const empty = gc.buildTrie([]);
    let calls = 0;
    expect(await gc.beamSearch(() => (calls++, new Float64Array(8)), { beams: 2, maxLength: 3, endToken: 1, constraint: empty })).toEqual([]);
    expect(calls).toBe(0);
    empty.dispose();
    trie.dispose();
  });

  it('accepts serialized constraints and tries of another instance', async () => {
    const trie = gc.buildTrie([[2, 3], [2, 4], [5]], { endToken: 1 });
    const model = hashModel(6, 3);
    const want = await gc.beamSearch(scorerOf(model), { beams: 2, maxLength: 4, endToken: 1, constraint: trie });
    const other = await init({ simd });
    const foreign = other.buildTrie([[2, 3], [2, 4], [5]], { endToken: 1 });
    expect(await gc.beamSearch(scorerOf(model), { beams: 2, maxLength: 4, endToken: 1, constraint: foreign })).toEqual(want);
    expect(await gc.beamSearch(scorerOf(model), { beams: 2, maxLength: 4, endToken: 1, constraint: trie.serialize() })).toEqual(want);
    const sc = gc.substringConstraint([[2, 3, 4]], { endToken: 1 });
    const wantSc = await gc.beamSearch(scorerOf(model), { beams: 2, maxLength: 4, endToken: 1, constraint: sc });
    expect(await gc.beamSearch(scorerOf(model), { beams: 2, maxLength: 4, endToken: 1, constraint: sc.serialize() })).toEqual(wantSc);
    foreign.dispose();
    trie.dispose();
  });

  it('rejects bad options and bad scorer output with clear errors, freeing memory', async () => {
    const trie = gc.buildTrie([[2, 3], [4]], { endToken: 1 });
    const ok = (b: BeamBatch) => new Float64Array(b.rows * 6);
    const base = { beams: 2, maxLength: 4, endToken: 1, constraint: trie };
    const before = gc.memory.bytesInUse;
    await expect(gc.beamSearch(ok, { ...base, beams: 0 })).rejects.toThrow(RangeError);
    await expect(gc.beamSearch(ok, { ...base, beams: 1.5 })).rejects.toThrow(/opts.beams/);
    await expect(gc.beamSearch(ok, { ...base, maxLength: 0 })).rejects.toThrow(RangeError);
    await expect(gc.beamSearch(ok, { ...base, numReturn: 3 })).rejects.toThrow(/numReturn/);
    await expect(gc.beamSearch(ok, { ...base, lengthPenalty: NaN })).rejects.toThrow(RangeError);
    await expect(gc.beamSearch(ok, { ...base, endToken: 2 })).rejects.toThrow(/end token 1/);
    await expect(gc.beamSearch(ok, { beams: 2, maxLength: 4 } as never)).rejects.toThrow(TypeError);
    await expect(gc.beamSearch('x' as never, base)).rejects.toThrow(TypeError);
    await expect(gc.beamSearch(ok, { ...base, constraint: {} as never })).rejects.toThrow(TypeError);
    await expect(gc.beamSearch(ok, { ...base, vocabSize: 4 })).rejects.toThrow(/vocabSize/);
    await expect(gc.beamSearch((b) => new Float64Array(b.rows * 6 + 1), { ...base, vocabSize: 6 })).rejects.toThrow(/returned 7 logits at step 0; expected 1 rows × V 6/);
    await expect(gc.beamSearch(() => new Float64Array(0), base)).rejects.toThrow(/expected rows × V/);
    let step = 0;
    await expect(gc.beamSearch((b) => new Float64Array(b.rows * (step++ ? 7 : 6)), base)).rejects.toThrow(/expected .* V 6/);
    await expect(gc.beamSearch((b) => new Float64Array(b.rows * 3), base)).rejects.toThrow(/token 4 is allowed .* V = 3/);
    await expect(gc.beamSearch(() => [0, 0, 0, 0, 0, 0] as never, base)).rejects.toThrow(TypeError);
    await expect(gc.beamSearch(ok, { ...base, transform: () => new Float64Array(1) })).rejects.toThrow(/transform returned/);
    const boom = new Error('model exploded');
    await expect(gc.beamSearch(async () => { throw boom; }, base)).rejects.toBe(boom);
    let calls = 0;
    await expect(gc.beamSearch((b) => { if (calls++) throw boom; return ok(b); }, base)).rejects.toBe(boom);
    await expect(gc.beamSearch(ok, { ...base, transform: () => { throw boom; } })).rejects.toBe(boom);
    expect(gc.memory.bytesInUse).toBe(before);
    trie.dispose();
    await expect(gc.beamSearch(ok, base)).rejects.toThrow(TypeError);
  });

  it('aborts between steps with an AbortError, and reports progress', async () => {
    const model = hashModel(20, 1);
    const ac = new AbortController();
    const steps: number[] = [];
    const before = gc.memory.bytesInUse;
    const p = gc.beamSearch(async (b) => {
      if (b.step === 2) ac.abort();
      return scorerOf(model)(b);
    }, { beams: 3, maxLength: 10, endToken: 1, signal: ac.signal, onProgress: (x) => steps.push(x.step) });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(steps).toEqual([0, 1]);
    expect(gc.memory.bytesInUse).toBe(before);
    const pre = new AbortController();
    pre.abort();
    await expect(gc.beamSearch(scorerOf(model), { beams: 1, maxLength: 2, endToken: 1, signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('returns memory to its baseline after many searches', async () => {
    const trie = gc.buildTrie(randomEntries(rng(2), 50, 30, 5), { endToken: 1 });
    const before = gc.memory.bytesInUse;
    const model = hashModel(30, 9);
    for (let i = 0; i < 20; i++) {
      await gc.beamSearch(scorerOf(model, i % 2 === 0), { beams: 4, maxLength: 6, endToken: 1, constraint: trie, renormalize: i % 3 === 0, transform: i % 4 === 0 ? () => {} : undefined });
    }
    expect(gc.memory.bytesInUse).toBe(before);
    trie.dispose();
  });
});

// ------------------------------------------------------------------ callbacks: progress, pending abort, timeout

describe('beam search callbacks (onProgress errors, abort while pending, timeoutMs)', () => {
  let gc: Gencore;
  beforeAll(async () => {
    gc = await init();
  });
  const never = () => new Promise<never>(() => {});
  const model = hashModel(12, 3);
  const base = { beams: 2, maxLength: 5, endToken: 1 };

  /** Collect unhandled rejections while `body` runs (plus a few turns after it). */
  async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    const onUnhandled = (reason: unknown) => void seen.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await body();
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    return seen;
  }

  it('an onProgress that throws or rejects rejects the search with its error, nothing unhandled, memory freed', async () => {
    const trie = gc.buildTrie([[2, 3], [2, 4], [5, 6, 7]], { endToken: 1 });
    const before = gc.memory.bytesInUse;
    const boom = new Error('progress broke');
    const unhandled = await unhandledDuring(async () => {
      await expect(gc.beamSearch(scorerOf(model), { ...base, constraint: trie, onProgress: () => { throw boom; } })).rejects.toBe(boom);
      await expect(gc.beamSearch(scorerOf(model), { ...base, constraint: trie, onProgress: async () => { throw boom; } })).rejects.toBe(boom);
      // Rejecting at the second report: the first step's report was awaited, the search stops there.
      const seen: number[] = [];
      const late = (p: { step: number }) => (seen.push(p.step), p.step === 1 ? Promise.reject(boom) : Promise.resolve());
      await expect(gc.beamSearch(scorerOf(model), { ...base, onProgress: late as never })).rejects.toBe(boom);
      expect(seen).toEqual([0, 1]);
    });
    expect(unhandled).toEqual([]);
    expect(gc.memory.bytesInUse).toBe(before);
    // An async reporter that resolves is awaited and changes nothing.
    const steps: number[] = [];
    const slowReport = async (p: { step: number }) => { await new Promise((r) => setTimeout(r, 1)); steps.push(p.step); };
    const want = await gc.beamSearch(scorerOf(model), { ...base, constraint: trie });
    expect(await gc.beamSearch(scorerOf(model), { ...base, constraint: trie, onProgress: slowReport as never })).toEqual(want);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual(steps.map((_, i) => i));
    trie.dispose();
  });

  it('aborting while the scorer or the transform never settles rejects with AbortError and frees memory', async () => {
    const trie = gc.buildTrie([[2, 3], [2, 4], [5, 6, 7]], { endToken: 1 });
    const before = gc.memory.bytesInUse;
    const unhandled = await unhandledDuring(async () => {
      // The scorer hangs at step 2 (after two good steps).
      const c1 = new AbortController();
      const s1 = gc.beamSearch((b) => (b.step === 2 ? never() : scorerOf(model)(b)), { ...base, constraint: trie, signal: c1.signal });
      setTimeout(() => c1.abort(), 5);
      await expect(s1).rejects.toMatchObject({ name: 'AbortError' });
      // The transform hangs (the step's wasm scratch is allocated while it is pending).
      const c2 = new AbortController();
      const s2 = gc.beamSearch(scorerOf(model), { ...base, constraint: trie, renormalize: true, transform: never, signal: c2.signal });
      setTimeout(() => c2.abort(new Error('user left')), 5);
      const err = await s2.catch((e) => e);
      expect(err?.name).toBe('AbortError');
      expect(err?.cause).toMatchObject({ message: 'user left' });
      // A scorer that rejects after the abort: the search already rejected with AbortError, the late
      // rejection is swallowed.
      const c3 = new AbortController();
      const s3 = gc.beamSearch(() => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 15)), { ...base, signal: c3.signal });
      setTimeout(() => c3.abort(), 1);
      await expect(s3).rejects.toMatchObject({ name: 'AbortError' });
    });
    expect(unhandled).toEqual([]);
    expect(gc.memory.bytesInUse).toBe(before);
    trie.dispose();
  });

  it('timeoutMs: a scorer or transform call still pending rejects with TimeoutError and frees memory', async () => {
    const trie = gc.buildTrie([[2, 3], [2, 4], [5, 6, 7]], { endToken: 1 });
    const before = gc.memory.bytesInUse;
    const e1 = await gc.beamSearch((b) => (b.step === 1 ? never() : scorerOf(model)(b)), { ...base, constraint: trie, timeoutMs: 20 }).catch((e) => e);
    expect(e1?.name).toBe('TimeoutError');
    expect(String(e1?.message)).toMatch(/^beamSearch: the scorer did not settle within 20 ms/);
    const e2 = await gc.beamSearch(scorerOf(model), { ...base, constraint: trie, transform: never, timeoutMs: 20 }).catch((e) => e);
    expect(e2?.name).toBe('TimeoutError');
    expect(String(e2?.message)).toMatch(/opts\.transform/);
    expect(gc.memory.bytesInUse).toBe(before);
    // Callbacks that settle in time: same result as without a limit (also sync callbacks: no timer).
    const slow = (b: BeamBatch) => new Promise<Float32Array | Float64Array>((r) => setTimeout(() => r(scorerOf(model)(b)), 1));
    const want = await gc.beamSearch(scorerOf(model), { ...base, constraint: trie, transform: () => {} });
    expect(await gc.beamSearch(slow, { ...base, constraint: trie, transform: async () => {}, timeoutMs: 60_000 })).toEqual(want);
    expect(await gc.beamSearch(scorerOf(model), { ...base, constraint: trie, transform: () => {}, timeoutMs: 1 })).toEqual(want);
    // A callback error inside the limit is the callback's error, not a TimeoutError.
    const boom = new Error('model exploded');
    await expect(gc.beamSearch(async () => { throw boom; }, { ...base, timeoutMs: 60_000 })).rejects.toBe(boom);
    trie.dispose();
  });

  it('validates timeoutMs before any scorer call', async () => {
    let calls = 0;
    const counted = (b: BeamBatch) => (calls++, scorerOf(model)(b));
    for (const bad of [0, -5, NaN, Infinity, -Infinity]) {
      await expect(gc.beamSearch(counted, { ...base, timeoutMs: bad })).rejects.toThrow(RangeError);
      await expect(gc.beamSearch(counted, { ...base, timeoutMs: bad })).rejects.toThrow(/beamSearch: opts\.timeoutMs/);
    }
    for (const bad of ['5', null, {}, 5n]) {
      await expect(gc.beamSearch(counted, { ...base, timeoutMs: bad as never })).rejects.toThrow(TypeError);
      await expect(gc.beamSearch(counted, { ...base, timeoutMs: bad as never })).rejects.toThrow(/beamSearch: opts\.timeoutMs/);
    }
    expect(calls).toBe(0);
  });
});

describe('lcsLength', () => {
  /** Independent reference: the full (|a|+1)×(|b|+1) DP table. */
  function lcsRef(a: ArrayLike<number>, b: ArrayLike<number>): number {
    const d = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = a[i - 1] === b[j - 1] ? d[i - 1][j - 1] + 1 : Math.max(d[i - 1][j], d[i][j - 1]);
    return d[a.length][b.length];
  }

  it('equals the full-table reference on random sequences (arrays, typed arrays, array-likes)', () => {
    const r = rng(31);
    for (let k = 0; k < 300; k++) {
      const a = Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 4));
      const b = Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 4));
      const want = lcsRef(a, b);
      expect(lcsLength(a, b)).toBe(want);
      expect(lcsLength(Int32Array.from(a), Float64Array.from(b))).toBe(want);
      expect(lcsLength({ ...a, length: a.length }, b)).toBe(want);
    }
    expect(lcsLength([1, 2, 3, 4], [2, 4])).toBe(2);
    expect(lcsLength([], [1])).toBe(0);
  });

  it('refuses bad arguments with a TypeError / RangeError naming the parameter', () => {
    for (const bad of [undefined, null, 5, 'abc', 3n, true, () => 1, {}, new ArrayBuffer(8), new DataView(new ArrayBuffer(8)), new BigInt64Array(2), new Map()]) {
      expect(() => lcsLength(bad as never, [1])).toThrow(TypeError);
      expect(() => lcsLength(bad as never, [1])).toThrow(/^lcsLength: a /);
      expect(() => lcsLength([1], bad as never)).toThrow(/^lcsLength: b /);
    }
    expect(() => lcsLength([1, 'x'] as never, [1])).toThrow(/lcsLength: a\[1\] must be a number/);
    expect(() => lcsLength([1, , 2] as never, [1])).toThrow(TypeError);
    expect(() => lcsLength([1], [NaN])).toThrow(RangeError);
    expect(() => lcsLength([1], [Infinity])).toThrow(/lcsLength: b\[0\] must be finite/);
    expect(() => lcsLength({ length: -1 } as never, [1])).toThrow(RangeError);
    expect(() => lcsLength({ length: 1.5 } as never, [1])).toThrow(/lcsLength: a\.length/);
    expect(() => lcsLength({ length: 2 ** 40 } as never, [1])).toThrow(RangeError);
    // A huge array-like within the length limit fails at its first missing element, not after hours.
    expect(() => lcsLength([1, 2], { length: 2 ** 31 - 2 } as never)).toThrow(/lcsLength: b\[0\] must be a number/);
  });
});
