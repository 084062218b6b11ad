// Spec for kernels/trie.ts: the sort order (numeric, a proper prefix first, stable), dedupe, node count,
// the BFS arrays of a small trie written out by hand, validation codes, child lookup and walk.
import { trie_sort, trie_dedupe, trie_count, trie_build, trie_validate, trie_child, trie_walk } from '../../kernels/constrained/trie';

const arena = memory.data(1 << 16, 16);
const TOK = arena;
const STARTS = arena + 1024;
const PERM = arena + 2048;
const SCR = arena + 3072; // 32·count bytes
const I2E = arena + 8192;
const ETOK = arena + 9216;
const ESTART = arena + 10240;
const BODY = arena + 12288;
const WHERE = arena + 16384;
const PFX = arena + 16400;

function put(p: usize, vals: i32[]): void {
  for (let i = 0; i < vals.length; i++) store<i32>(p + (<usize>i << 2), vals[i]);
}
function get(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// Sequences: [10,2] [9] [10] [2,3,1] [10,2] [2,1]  (duplicates, a prefix, 10 > 9 numerically)
function stage(): i32 {
  put(TOK, [10, 2, 9, 10, 2, 3, 1, 10, 2, 2, 1]);
  put(STARTS, [0, 2, 3, 4, 7, 9, 11]);
  return 6;
}

describe('trie build', () => {
  it('sorts numerically with a proper prefix first, stably, for every key width', () => {
    const count = stage();
    for (let b = 0; b < 3; b++) {
      const bits = b == 0 ? 16 : b == 1 ? 21 : 32;
      trie_sort(TOK, STARTS, count, bits, PERM, SCR, SCR);
      // [2,1] [2,3,1] [9] [10] [10,2](0) [10,2](4)
      const want: i32[] = [5, 3, 1, 2, 0, 4];
      for (let i = 0; i < count; i++) expect(get(PERM, i)).toBe(want[i]);
    }
  });

  it('merges duplicates, counts nodes and fills the BFS arrays', () => {
    const count = stage();
    trie_sort(TOK, STARTS, count, 16, PERM, SCR, SCR);
    const m = trie_dedupe(TOK, STARTS, count, PERM, SCR, I2E, ETOK, ESTART);
    expect(m).toBe(5);
    const i2e: i32[] = [4, 2, 3, 1, 4, 0];
    for (let i = 0; i < count; i++) expect(get(I2E, i)).toBe(i2e[i]);
    const n = trie_count(ETOK, ESTART, m);
    // root; 2, 9, 10; 2·1, 2·3, 10·2; 2·3·1
    expect(n).toBe(8);
    const label = BODY;
    const childStart = BODY + 4 * 8;
    const lo = childStart + 4 * 9;
    const hi = lo + 4 * 8;
    const entryNode = hi + 4 * 8;
    const maxWidth = trie_build(ETOK, ESTART, m, label, childStart, lo, hi, entryNode);
    expect(maxWidth).toBe(3);
    const wantLabel: i32[] = [-1, 2, 9, 10, 1, 3, 2, 1];
    const wantCs: i32[] = [1, 4, 6, 6, 7, 7, 8, 8, 8];
    const wantLo: i32[] = [0, 0, 2, 3, 0, 1, 4, 1];
    const wantHi: i32[] = [5, 2, 3, 5, 1, 2, 5, 2];
    const wantEntryNode: i32[] = [4, 7, 2, 3, 6];
    for (let i = 0; i < 8; i++) {
      expect(get(label, i)).toBe(wantLabel[i]);
      expect(get(lo, i)).toBe(wantLo[i]);
      expect(get(hi, i)).toBe(wantHi[i]);
    }
    for (let i = 0; i < 9; i++) expect(get(childStart, i)).toBe(wantCs[i]);
    for (let i = 0; i < 5; i++) expect(get(entryNode, i)).toBe(wantEntryNode[i]);
    const inputToEntry = entryNode + 4 * 5;
    memory.copy(inputToEntry, I2E, 4 * 6);
    expect(trie_validate(label, childStart, lo, hi, entryNode, inputToEntry, 8, 5, 6, WHERE)).toBe(0);

    expect(trie_child(label, childStart, 0, 10)).toBe(3);
    expect(trie_child(label, childStart, 0, 4)).toBe(-1);
    expect(trie_child(label, childStart, 1, 3)).toBe(5);
    put(PFX, [2, 3, 1]);
    expect(trie_walk(label, childStart, PFX, 3)).toBe(7);
    expect(trie_walk(label, childStart, PFX, 0)).toBe(0);
    put(PFX, [9, 9]);
    expect(trie_walk(label, childStart, PFX, 2)).toBe(-1);

    // Corruptions are reported with their code and index.
    store<i32>(label + 4 * 2, 1); // siblings 2, 1, 10: not ascending
    expect(trie_validate(label, childStart, lo, hi, entryNode, inputToEntry, 8, 5, 6, WHERE)).toBe(3);
    expect(get(WHERE, 0)).toBe(2);
    store<i32>(label + 4 * 2, 9);
    store<i32>(hi + 4 * 3, 6);
    expect(trie_validate(label, childStart, lo, hi, entryNode, inputToEntry, 8, 5, 6, WHERE)).toBe(4);
    store<i32>(hi + 4 * 3, 5);
    store<i32>(childStart + 4 * 2, 9);
    expect(trie_validate(label, childStart, lo, hi, entryNode, inputToEntry, 8, 5, 6, WHERE)).toBe(2);
  });
});
