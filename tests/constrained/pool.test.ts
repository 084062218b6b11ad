import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, init, type BeamBatch, type Gencore, type Hypothesis, type Pool } from '../../bindings/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/beam-search.json', import.meta.url), 'utf8'));

function hashScorer(V: number, seed: number, f32 = false, log?: BeamBatch[]) {
  return (b: BeamBatch) => {
    log?.push(b);
    const out = f32 ? new Float32Array(b.rows * V) : new Float64Array(b.rows * V);
    for (let r = 0; r < b.rows; r++) {
      let h = (seed ^ Math.imul(b.query[r] + 1, 0x9e3779b1)) >>> 0;
      for (let i = 0; i < b.step; i++) h = (Math.imul(h ^ b.prefixes[r * b.step + i], 0x85ebca6b) + 0xc2b2ae35) >>> 0;
      let x = h || 1;
      for (let t = 0; t < V; t++) {
        x = (Math.imul(1664525, x) + 1013904223) >>> 0;
        out[r * V + t] = 8 * (x / 2 ** 32) - 4;
      }
    }
    return out;
  };
}

function entries(seed: number, count: number, vocab: number, maxLen: number): number[][] {
  let x = seed >>> 0;
  const next = () => ((x = (Math.imul(1664525, x) + 1013904223) >>> 0), x / 2 ** 32);
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * maxLen) }, () => 2 + Math.floor(next() * (vocab - 2))));
}

function plain(h: Hypothesis[] | Hypothesis[][]): unknown {
  return JSON.parse(JSON.stringify(h, (_k, v) => (v instanceof Int32Array ? Array.from(v) : v)));
}

describe('beam search in a worker pool', () => {
  let gc: Gencore;
  let pool: Pool;
  beforeAll(async () => {
    gc = await init();
    pool = await createPool({ workers: 2 });
  });
  afterAll(() => pool.terminate());

  it('equals the sync results on every fixture run (the trie travels serialized)', async () => {
    for (const c of fx.cases) {
      const trie = gc.buildTrie(c.constraint.sequences, c.constraint.endToken === undefined ? {} : { endToken: c.constraint.endToken });
      for (const run of c.runs) {
        const V = c.model.V;
        const scorer = c.model.kind === 'zeros' ? (b: BeamBatch) => new Float64Array(b.rows * V) : hashScorer(V, 5);
        const opts = { ...run.options, endToken: c.endToken, constraint: 'constraint' in run && run.constraint === null ? null : trie };
        const syncLog: BeamBatch[] = [];
        const poolLog: BeamBatch[] = [];
        const want = await gc.beamSearch((b) => (syncLog.push(b), scorer(b)), opts);
        const got = await pool.beamSearch(async (b) => (poolLog.push(b), scorer(b)), opts);
        expect(plain(got), `${c.id}/${run.id}`).toEqual(plain(want));
        expect(poolLog).toEqual(syncLog);
      }
      trie.dispose();
    }
  });

  it('equals sync with transforms (LCS lookahead), renormalization, f32 logits, several queries, substrings', async () => {
    const E = 1;
    const V = 40;
    const facts = entries(3, 300, V, 3).map((s, i) => [...s, E, ...entries(100 + i, 1, V, 2)[0]]);
    const trie = gc.buildTrie(facts, { endToken: E });
    const question = [0, ...facts[10], E];
    const look = gc.lcsLookahead(trie, question);
    for (const [renormalize, f32, queries] of [[true, false, 1], [false, true, 2], [true, true, 3]] as const) {
      const opts = { beams: 4, maxLength: 8, lengthPenalty: 0, renormalize, endToken: E, constraint: trie, transform: look, queries };
      const want = await gc.beamSearch(hashScorer(V, 9, f32), opts);
      const got = await pool.beamSearch(hashScorer(V, 9, f32), opts);
      expect(plain(got)).toEqual(plain(want));
      expect((queries === 1 ? (want as Hypothesis[]) : (want as Hypothesis[][])[0]).length).toBeGreaterThan(0);
    }
    // The pool's own lookahead (built in the caller's thread on a pool trie) gives the same results.
    const poolTrie = await pool.buildTrie(facts, { endToken: E });
    const poolLook = await pool.lcsLookahead(poolTrie, question);
    const opts = { beams: 3, maxLength: 8, lengthPenalty: 0, renormalize: true, endToken: E, constraint: trie, transform: look };
    expect(plain(await pool.beamSearch(hashScorer(V, 2), { ...opts, constraint: poolTrie, transform: poolLook }))).toEqual(plain(await gc.beamSearch(hashScorer(V, 2), opts)));
    const sc = gc.substringConstraint([facts[0], facts[1], facts[2]], { endToken: 0 });
    const sOpts = { beams: 3, maxLength: 5, endToken: 0, constraint: sc };
    expect(plain(await pool.beamSearch(hashScorer(V, 4), sOpts))).toEqual(plain(await gc.beamSearch(hashScorer(V, 4), sOpts)));
    const psc = await pool.substringConstraint([facts[0], facts[1], facts[2]], { endToken: 0 });
    expect(plain(await pool.beamSearch(hashScorer(V, 4), { ...sOpts, constraint: psc }))).toEqual(plain(await gc.beamSearch(hashScorer(V, 4), sOpts)));
    trie.dispose();
  });

  it('pool.buildTrie returns a buffer-backed trie equal to the sync one, usable anywhere', async () => {
    const seqs = entries(8, 400, 60, 6);
    const local = gc.buildTrie(seqs, { endToken: 1 });
    function* gen() {
      yield* seqs;
    }
    const remote = await pool.buildTrie(gen(), { endToken: 1 });
    expect(remote.residence).toBe('buffer');
    expect(new Uint8Array(remote.serialize())).toEqual(new Uint8Array(local.serialize()));
    expect([remote.numNodes, remote.maxWidth, remote.maxDepth]).toEqual([local.numNodes, local.maxWidth, local.maxDepth]);
    for (let n = 0; n < remote.numNodes; n += 7) {
      expect(remote.children(n)).toEqual(local.children(n));
      expect(remote.isTerminal(n)).toBe(local.isTerminal(n));
      const kids = local.children(n);
      if (kids.length) expect(remote.child(n, kids[0])).toBe(local.child(n, kids[0]));
    }
    for (let e = 0; e < remote.numEntries; e += 13) expect(remote.entry(e)).toEqual(local.entry(e));
    const opts = { beams: 3, maxLength: 7, endToken: 1 };
    const want = plain(await gc.beamSearch(hashScorer(60, 1), { ...opts, constraint: local }));
    expect(plain(await gc.beamSearch(hashScorer(60, 1), { ...opts, constraint: remote }))).toEqual(want);
    expect(plain(await pool.beamSearch(hashScorer(60, 1), { ...opts, constraint: remote.serialize() }))).toEqual(want);
    const loaded = await pool.loadTrie(local.serialize());
    expect(loaded.numEntries).toBe(local.numEntries);
    const corrupt = local.serialize();
    new DataView(corrupt).setInt32(32, 4, true);
    await expect(pool.loadTrie(corrupt)).rejects.toThrow(RangeError);
    local.dispose();
  });

  it('carries errors and aborts across the boundary', async () => {
    const trie = gc.buildTrie([[2, 3], [4]], { endToken: 1 });
    const base = { beams: 2, maxLength: 4, endToken: 1, constraint: trie };
    await expect(pool.beamSearch(hashScorer(6, 1), { ...base, beams: 0 })).rejects.toThrow(RangeError);
    await expect(pool.beamSearch(async (b) => new Float64Array(b.rows * 6 + 1), { ...base, vocabSize: 6 })).rejects.toThrow(RangeError);
    await expect(pool.beamSearch(async () => { throw new Error('remote model failed'); }, base)).rejects.toThrow(/remote model failed/);
    await expect(pool.buildTrie([[1, 0.5]])).rejects.toThrow(RangeError);
    // pool.buildTrie builds through the worker's buildTrieBuffer but its errors name buildTrie.
    await expect(pool.buildTrie([[1, 0.5]])).rejects.toThrow(/^buildTrie: sequences\[0\]\[1\]/);
    await expect(pool.buildTrieBuffer([[1, 0.5]])).rejects.toThrow(/^buildTrieBuffer: sequences\[0\]\[1\]/);
    const ac = new AbortController();
    const p = pool.beamSearch(async (b) => {
      if (b.step === 1) ac.abort();
      await new Promise((r) => setTimeout(r, 20));
      return hashScorer(30, 2)(b);
    }, { beams: 2, maxLength: 10, endToken: 1, signal: ac.signal });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    // The pool still works afterwards.
    expect((await pool.beamSearch(hashScorer(6, 1), base)).length).toBeGreaterThan(0);
    trie.dispose();
  });

  it('onProgress errors, abort while a callback is pending and timeoutMs work through the pool', async () => {
    const base = { beams: 2, maxLength: 5, endToken: 1 };
    const never = () => new Promise<never>(() => {});
    // onProgress stays in the caller's thread: a throw or a rejection reaches the caller as itself.
    const e1 = await pool.beamSearch(hashScorer(8, 1), { ...base, onProgress: () => { throw new Error('progress broke'); } }).catch((e) => e);
    expect(e1?.name).toBe('Error');
    expect(String(e1?.message)).toMatch(/progress broke/);
    const e2 = await pool.beamSearch(hashScorer(8, 1), { ...base, onProgress: (async () => { throw new RangeError('async progress broke'); }) as never }).catch((e) => e);
    expect(e2?.name).toBe('RangeError');
    // A scorer / transform that never settles: the abort, or the worker's timer, ends the search.
    const c = new AbortController();
    const s1 = pool.beamSearch((b) => (b.step === 1 ? never() : hashScorer(8, 1)(b)), { ...base, signal: c.signal });
    setTimeout(() => c.abort(), 20);
    await expect(s1).rejects.toMatchObject({ name: 'AbortError' });
    const e3 = await pool.beamSearch(never, { ...base, timeoutMs: 30 }).catch((e) => e);
    expect(e3?.name).toBe('TimeoutError');
    expect(String(e3?.message)).toMatch(/beamSearch: the scorer did not settle within 30 ms/);
    const trie = gc.buildTrie([[2, 3], [4, 5]], { endToken: 1 });
    const e4 = await pool.beamSearch(hashScorer(8, 1), { ...base, constraint: trie, transform: never, timeoutMs: 30 }).catch((e) => e);
    expect(e4?.name).toBe('TimeoutError');
    await expect(pool.beamSearch(hashScorer(8, 1), { ...base, timeoutMs: -1 })).rejects.toThrow(/opts\.timeoutMs/);
    // Callbacks that settle in time give the sync result; no worker died on the way.
    const opts = { ...base, constraint: trie, timeoutMs: 60_000 };
    expect(plain(await pool.beamSearch(async (b) => hashScorer(8, 1)(b), opts))).toEqual(plain(await gc.beamSearch(hashScorer(8, 1), opts)));
    trie.dispose();
  });
});
