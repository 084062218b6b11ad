import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Gencore, type TokenTrie } from '../../bindings/index.js';
import { mulberry32 as rng } from '../helpers/reference.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/beam-search.json', import.meta.url), 'utf8'));

/** Independent reference of docs/constrained.md §1: JS sort + the BFS pseudo-code, on plain arrays. */
function referenceTrie(sequences: number[][], endToken?: number) {
  const seqs = sequences.map((s) => (endToken !== undefined && (s.length === 0 || s[s.length - 1] !== endToken) ? [...s, endToken] : [...s]));
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  const order = seqs.map((_, i) => i).sort((i, j) => cmp(seqs[i], seqs[j]) || i - j);
  const entries: number[][] = [];
  const inputToEntry = new Array<number>(seqs.length);
  for (const i of order) {
    if (entries.length === 0 || cmp(entries[entries.length - 1], seqs[i]) !== 0) entries.push(seqs[i]);
    inputToEntry[i] = entries.length - 1;
  }
  const label = [-1];
  const lo = [0];
  const hi = [entries.length];
  const depth = [0];
  const childStart: number[] = [];
  const entryNode = new Array<number>(entries.length);
  for (let n = 0; n < label.length; n++) {
    let j = lo[n];
    const d = depth[n];
    if (j < hi[n] && entries[j].length === d) entryNode[j++] = n;
    childStart[n] = label.length;
    while (j < hi[n]) {
      const t = entries[j][d];
      let k = j;
      while (k < hi[n] && entries[k][d] === t) k++;
      label.push(t);
      lo.push(j);
      hi.push(k);
      depth.push(d + 1);
      j = k;
    }
  }
  childStart.push(label.length);
  return { entries, label, childStart, lo, hi, entryNode, inputToEntry };
}

function randomSequences(r: () => number, count: number, vocab: number, maxLen: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(r() * maxLen);
    out.push(Array.from({ length: len }, () => Math.floor(r() * vocab)));
  }
  return out;
}

describe.each(['plain', 'relaxed'] as const)('token trie (%s build)', (simd) => {
  let gc: Gencore;
  beforeAll(async () => {
    gc = await init({ simd });
  });

  it('matches every fixture trie: arrays, entries, terminals, walks, bytes and sha256', () => {
    for (const c of fx.cases) {
      const before = gc.memory.bytesInUse;
      const trie = gc.buildTrie(c.constraint.sequences, c.constraint.endToken === undefined ? {} : { endToken: c.constraint.endToken });
      const t = c.trie;
      expect(trie.numNodes).toBe(t.numNodes);
      expect(trie.numEntries).toBe(t.numEntries);
      expect(trie.numInputs).toBe(t.numInputs);
      expect(trie.maxDepth).toBe(t.maxDepth);
      expect(trie.maxWidth).toBe(t.maxWidth);
      for (let e = 0; e < t.numEntries; e++) expect(Array.from(trie.entry(e))).toEqual(t.entries[e]);
      const terminals = [];
      for (let n = 0; n < trie.numNodes; n++) if (trie.isTerminal(n)) terminals.push(n);
      expect(terminals).toEqual(t.terminalNodes);
      if (t.arrays) {
        const a = trie.arrays();
        for (const key of ['label', 'childStart', 'lo', 'hi', 'entryNode', 'inputToEntry'] as const) expect(Array.from(a[key]), key).toEqual(t.arrays[key]);
      }
      if (t.inputToEntry) for (let i = 0; i < t.numInputs; i++) expect(trie.inputToEntry(i)).toBe(t.inputToEntry[i]);
      for (const w of c.walkChecks ?? []) expect(trie.walk(w.prefix)).toBe(w.node);
      const bytes = trie.serialize();
      expect(bytes.byteLength).toBe(t.byteLength);
      expect(createHash('sha256').update(new Uint8Array(bytes)).digest('hex')).toBe(t.sha256);
      trie.dispose();
      expect(gc.memory.bytesInUse).toBe(before);
    }
  });

  it('equals an independent JS reference on random tries (with and without end token, duplicates, prefixes)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const vocab = 2 + Math.floor(r() * 6);
      const seqs = randomSequences(r, 1 + Math.floor(r() * 60), vocab, 5);
      const end = trial % 2 ? vocab : undefined;
      const ref = referenceTrie(seqs, end);
      const trie = gc.buildTrie(seqs, end === undefined ? {} : { endToken: end });
      const a = trie.arrays();
      expect(Array.from(a.label)).toEqual(ref.label);
      expect(Array.from(a.childStart)).toEqual(ref.childStart);
      expect(Array.from(a.lo)).toEqual(ref.lo);
      expect(Array.from(a.hi)).toEqual(ref.hi);
      expect(Array.from(a.entryNode)).toEqual(ref.entryNode);
      expect(Array.from(a.inputToEntry)).toEqual(ref.inputToEntry);
      expect(trie.numEntries).toBe(ref.entries.length);
      for (let e = 0; e < ref.entries.length; e++) {
        expect(Array.from(trie.entry(e))).toEqual(ref.entries[e]);
        const node = trie.walk(ref.entries[e]);
        expect(node).toBe(ref.entryNode[e]);
        expect(trie.isTerminal(node)).toBe(true);
      }
      // child() (wasm kernel) agrees with walk() and children()
      for (let n = 0; n < trie.numNodes; n++) {
        const kids = trie.children(n);
        kids.forEach((tok, i) => expect(trie.child(n, tok)).toBe(a.childStart[n] + i));
        expect(trie.child(n, vocab + 1)).toBe(-1);
      }
      trie.dispose();
    }
  });

  it('accepts typed arrays and iterables; sorts numerically, never as strings', () => {
    function* gen() {
      yield new Int32Array([10, 2]);
      yield [9];
      yield Uint16Array.from([10]);
    }
    const trie = gc.buildTrie(gen());
    expect(Array.from(trie.entry(0))).toEqual([9]);
    expect(Array.from(trie.entry(1))).toEqual([10]);
    expect(Array.from(trie.entry(2))).toEqual([10, 2]);
    expect(Array.from(trie.children(0))).toEqual([9, 10]);
    expect(trie.isTerminal(trie.walk([10]))).toBe(true);
    expect(trie.children(trie.walk([10]))).toEqual(new Int32Array([2]));
    trie.dispose();
  });

  it('builds an empty trie (root only) and does not append the end token twice', () => {
    const empty = gc.buildTrie([]);
    expect([empty.numNodes, empty.numEntries, empty.maxDepth, empty.maxWidth]).toEqual([1, 0, 0, 0]);
    expect(gc.loadTrie(empty.serialize()).numNodes).toBe(1);
    empty.dispose();
    const t = gc.buildTrie([[3, 1], [3], [1]], { endToken: 1 });
    expect(t.numEntries).toBe(2);
    expect(Array.from(t.entry(0))).toEqual([1]);
    expect(Array.from(t.entry(1))).toEqual([3, 1]);
    expect([t.inputToEntry(0), t.inputToEntry(1), t.inputToEntry(2)]).toEqual([1, 1, 0]);
    t.dispose();
  });

  it('serialize → loadTrie round-trips byte for byte without rebuilding', () => {
    const r = rng(11);
    const seqs = randomSequences(r, 500, 300, 8);
    const trie = gc.buildTrie(seqs, { endToken: 300 });
    const bytes = trie.serialize();
    const loaded = gc.loadTrie(bytes);
    expect(new Uint8Array(loaded.serialize())).toEqual(new Uint8Array(bytes));
    expect([loaded.numNodes, loaded.numEntries, loaded.numInputs, loaded.maxDepth, loaded.maxWidth, loaded.endToken]).toEqual([
      trie.numNodes, trie.numEntries, trie.numInputs, trie.maxDepth, trie.maxWidth, trie.endToken,
    ]);
    for (const s of seqs.slice(0, 50)) expect(loaded.walk([...s, 300])).toBe(trie.walk([...s, 300]));
    // Typed-array views are accepted too, and the same input gives identical bytes.
    const again = gc.buildTrie(seqs, { endToken: 300 });
    expect(new Uint8Array(again.serialize())).toEqual(new Uint8Array(bytes));
    const fromView = gc.loadTrie(new Uint8Array(bytes));
    expect(fromView.numNodes).toBe(trie.numNodes);
    for (const t of [trie, loaded, again, fromView]) t.dispose();
  });

  it('refuses corrupt buffers with RangeError, never a trap', () => {
    const trie = gc.buildTrie([[2, 3], [2, 4], [5]], { endToken: 1 });
    const good = trie.serialize();
    const n = trie.numNodes;
    const m = trie.numEntries;
    trie.dispose();
    const before = gc.memory.bytesInUse;
    const tamper = (byteOffset: number, value: number) => {
      const b = good.slice(0);
      new DataView(b).setInt32(byteOffset, value, true);
      return b;
    };
    const body = 32;
    const childStart = body + 4 * n;
    const lo = body + 4 * (2 * n + 1);
    const entryNode = body + 4 * (4 * n + 1);
    const inputToEntry = entryNode + 4 * m;
    const cases: Array<[string, ArrayBuffer]> = [
      ['magic', tamper(0, 0x41414141)],
      ['version', tamper(4, 2)],
      ['N', tamper(8, n + 1)],
      ['truncated', good.slice(0, good.byteLength - 8)],
      ['short', good.slice(0, 16)],
      ['childStart[0]', tamper(childStart, 2)],
      ['childStart order', tamper(childStart + 4 * 2, n)],
      ['root label', tamper(body, 5)],
      ['sibling order', tamper(body + 4 * 1, 9)],
      ['negative label', tamper(body + 4 * 2, -3)],
      ['lo > hi', tamper(lo, 9)],
      ['entryNode', tamper(entryNode, n)],
      ['inputToEntry', tamper(inputToEntry, m)],
      ['maxDepth', tamper(20, 7)],
    ];
    for (const [what, buf] of cases) {
      expect(() => gc.loadTrie(buf), what).toThrow(RangeError);
    }
    expect(() => gc.loadTrie('GCTR' as never)).toThrow(TypeError);
    expect(gc.memory.bytesInUse).toBe(before);
  });

  it('rejects bad input with clear errors', () => {
    expect(() => gc.buildTrie([[1, 2.5]])).toThrow(/sequences\[0\]\[1\] is 2.5/);
    expect(() => gc.buildTrie([[1, -1]])).toThrow(RangeError);
    expect(() => gc.buildTrie([[2 ** 31 - 1]])).toThrow(RangeError);
    expect(() => gc.buildTrie([[1, '2' as never]])).toThrow(TypeError);
    expect(() => gc.buildTrie([[1], []])).toThrow(/sequences\[1\] is empty/);
    expect(() => gc.buildTrie(5 as never)).toThrow(TypeError);
    expect(() => gc.buildTrie([[1]], { endToken: -1 })).toThrow(RangeError);
    expect(() => gc.buildTrie([[1]], { endToken: 1.5 })).toThrow(RangeError);
    // buildTrieBuffer's errors name buildTrieBuffer.
    expect(() => gc.buildTrieBuffer([[1, 2.5]])).toThrow(/^buildTrieBuffer: sequences\[0\]\[1\] is 2.5/);
    expect(() => gc.buildTrieBuffer(5 as never)).toThrow(/^buildTrieBuffer: /);
    expect(() => gc.buildTrieBuffer([[1]], { endToken: -1 })).toThrow(/^buildTrieBuffer: opts\.endToken/);
    const t = gc.buildTrie([[1, 2]]);
    expect(() => t.children(t.numNodes)).toThrow(RangeError);
    expect(() => t.isTerminal(-1)).toThrow(RangeError);
    expect(() => t.entry(1)).toThrow(RangeError);
    expect(() => t.walk([1, 0.5])).toThrow(RangeError);
    expect(t.walk([1, 2, 3])).toBe(-1);
    t.dispose();
    t.dispose();
    expect(() => t.walk([1])).toThrow(TypeError);
    expect(() => t.serialize()).toThrow(TypeError);
  });

  it('returns memory to its baseline after many builds and loads', () => {
    const before = gc.memory.bytesInUse;
    const r = rng(3);
    for (let i = 0; i < 30; i++) {
      const t = gc.buildTrie(randomSequences(r, 100, 50, 6), { endToken: 50 });
      gc.loadTrie(t.serialize()).dispose();
      t.dispose();
    }
    expect(gc.memory.bytesInUse).toBe(before);
  });
});

describe('substring constraint', () => {
  let gc: Gencore;
  beforeAll(async () => {
    gc = await init();
  });

  it('matches the fixture example', () => {
    const ex = fx.substringExample;
    const sc = gc.substringConstraint(ex.passages, { endToken: ex.endToken });
    for (const c of ex.checks) {
      const state = sc.walk(c.prefix);
      expect(state).toBeGreaterThanOrEqual(0);
      expect(Array.from(sc.allowed(state))).toEqual(c.allowed);
    }
    expect(sc.walk([2, 2])).toBe(-1);
  });

  it('allows exactly the continuations of passage substrings (brute force on random passages)', () => {
    const r = rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const vocab = 2 + Math.floor(r() * 4);
      const E = vocab;
      const passages = Array.from({ length: 1 + Math.floor(r() * 3) }, () => Array.from({ length: Math.floor(r() * 9) }, () => Math.floor(r() * vocab)));
      const sc = gc.substringConstraint(passages, { endToken: E });
      expect(sc.numStates).toBeLessThanOrEqual(Math.max(1, 2 * passages.reduce((s, p) => s + p.length, 0)));
      // Every substring x (and some non-substrings) of every passage: allowed(x) by brute force.
      const probes: number[][] = [[]];
      for (const p of passages) for (let i = 0; i < p.length; i++) for (let j = i + 1; j <= p.length; j++) probes.push(p.slice(i, j));
      for (let k = 0; k < 10; k++) probes.push(Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * vocab)));
      for (const x of probes) {
        const next = new Set<number>();
        let occurs = x.length === 0;
        for (const p of passages) {
          for (let i = 0; i + x.length <= p.length; i++) {
            if (x.every((t, k) => p[i + k] === t)) {
              occurs = true;
              if (i + x.length < p.length) next.add(p[i + x.length]);
            }
          }
        }
        const state = sc.walk(x);
        if (!occurs) {
          expect(state, `x=${x}`).toBe(-1);
          continue;
        }
        expect(Array.from(sc.allowed(state))).toEqual([...next, E].sort((a, b) => a - b));
      }
    }
  });

  it('refuses a passage containing the end token and bad tokens', () => {
    expect(() => gc.substringConstraint([[3, 1, 4]], { endToken: 1 })).toThrow(/passages\[0\]\[1\] is the end token/);
    expect(() => gc.substringConstraint([[3, 0.5]], { endToken: 1 })).toThrow(RangeError);
    expect(() => gc.substringConstraint([[3]], {} as never)).toThrow(TypeError);
    expect(() => gc.substringConstraint('abc' as never, { endToken: 1 })).toThrow(TypeError);
  });
});

export type { TokenTrie };
