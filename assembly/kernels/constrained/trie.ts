// Token trie kernels (docs/constrained.md §1): build a CSR trie in BFS order, validate a loaded one,
// child lookup.
//
// Units: every pointer is a byte address of an i32 array (4-byte elements; the host allocates 16-byte
// aligned blocks); every count and index is in elements. Token values are non-negative i32.
// Input sequences are flat: sequence s is tokens[starts[s] … starts[s+1]) (starts has count+1 elements).
// The kernels never allocate; the host passes every output and scratch array.
//
// Build pipeline (host side: bindings/core/trie.ts):
//   trie_sort      perm ← input ids sorted lexicographically (numeric tokens, a proper prefix first), stable
//   trie_dedupe    entries ← distinct sequences in that order, copied contiguously; inputToEntry
//   trie_count     N = 1 + Σ (|e_m| − lcp(e_{m−1}, e_m))
//   trie_build     label, childStart, lo, hi, entryNode in BFS order; returns maxWidth

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: i32): void { store<i32>(p + (<usize>i << 2), v); }

/** −1, 0, 1: sequence a against sequence b (lexicographic, numeric; a proper prefix sorts first). */
function compareSeq(tokens: usize, starts: usize, a: i32, b: i32): i32 {
  let pa = ld(starts, a);
  const ea = ld(starts, a + 1);
  let pb = ld(starts, b);
  const eb = ld(starts, b + 1);
  while (pa < ea && pb < eb) {
    const x = ld(tokens, pa);
    const y = ld(tokens, pb);
    if (x != y) return x < y ? -1 : 1;
    pa++;
    pb++;
  }
  const la = ea - pa;
  const lb = eb - pb;
  return la == lb ? 0 : la < lb ? -1 : 1;
}

// Sort records (16 bytes): u64 key packing the first tokens (token + 1 in `bits` bits each, 0 when absent,
// so a proper prefix sorts first), i32 input id, i32 pad. Most comparisons end on the key, without
// touching the tokens.
// @ts-ignore: decorator
@inline const SREC: usize = 16;

// @ts-ignore: decorator
@inline function recLess(tokens: usize, starts: usize, a: usize, b: usize): bool {
  const ka = load<u64>(a);
  const kb = load<u64>(b);
  if (ka != kb) return ka < kb;
  return compareSeq(tokens, starts, load<i32>(a, 8), load<i32>(b, 8)) < 0;
}

/**
 * Stable sort of the input ids 0…count−1 by their sequences (lexicographic, numeric, a proper prefix
 * first): keyed records, insertion sort of runs of 16, then bottom-up merges. `bits` (16, 21 or 32) is
 * the key width per token: every token + 1 must fit in it; the key holds 64/bits tokens.
 * `perm` (count i32) receives the sorted ids and `keys` (count u64, may be `scratch`) their keys;
 * `scratch` must hold 32·count bytes.
 */
export function trie_sort(tokens: usize, starts: usize, count: i32, bits: i32, perm: usize, keys: usize, scratch: usize): void {
  let src = scratch;
  let dst = scratch + <usize>count * SREC;
  const per = 64 / bits;
  for (let i = 0; i < count; i++) {
    const a = ld(starts, i);
    const len = ld(starts, i + 1) - a;
    let key: u64 = 0;
    for (let d = 0; d < per; d++) {
      key = key << <u64>bits;
      if (d < len) key |= <u64>(ld(tokens, a + d) + 1);
    }
    const r = src + <usize>i * SREC;
    store<u64>(r, key);
    store<i32>(r, i, 8);
  }
  const RUN = 16;
  for (let lo = 0; lo < count; lo += RUN) {
    const hi = min(lo + RUN, count);
    for (let i = lo + 1; i < hi; i++) {
      const v = v128.load(src + <usize>i * SREC);
      let j = i - 1;
      // Compare against a copy of the record being inserted (kept in dst's slot i as temporary storage).
      const tmp = dst + <usize>i * SREC;
      v128.store(tmp, v);
      while (j >= lo && recLess(tokens, starts, tmp, src + <usize>j * SREC)) {
        v128.store(src + <usize>(j + 1) * SREC, v128.load(src + <usize>j * SREC));
        j--;
      }
      v128.store(src + <usize>(j + 1) * SREC, v);
    }
  }
  for (let width = RUN; width < count; width <<= 1) {
    for (let lo = 0; lo < count; lo += width << 1) {
      const mid = min(lo + width, count);
      const hi = min(lo + (width << 1), count);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const ri = src + <usize>i * SREC;
        const rj = src + <usize>j * SREC;
        // Take from the right run only when strictly smaller: stability.
        if (recLess(tokens, starts, rj, ri)) {
          v128.store(dst + <usize>k * SREC, v128.load(rj));
          j++;
        } else {
          v128.store(dst + <usize>k * SREC, v128.load(ri));
          i++;
        }
        k++;
      }
      if (i < mid) memory.copy(dst + <usize>k * SREC, src + <usize>i * SREC, <usize>(mid - i) * SREC);
      else if (j < hi) memory.copy(dst + <usize>k * SREC, src + <usize>j * SREC, <usize>(hi - j) * SREC);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  // Record i is read before key i is written (keys may alias the start of scratch: 8·i ≤ 16·i).
  for (let i = 0; i < count; i++) {
    const r = src + <usize>i * SREC;
    const id = load<i32>(r, 8);
    const key = load<u64>(r);
    st(perm, i, id);
    store<u64>(keys + (<usize>i << 3), key);
  }
}

/**
 * Merge identical sequences. Reads the sorted `perm` and `keys` (from trie_sort); writes `inputToEntry` (count), the distinct
 * sequences contiguously into `entryTokens` / `entryStarts` (M+1 elements), and returns M.
 */
export function trie_dedupe(
  tokens: usize, starts: usize, count: i32, perm: usize, keys: usize, inputToEntry: usize, entryTokens: usize, entryStarts: usize,
): i32 {
  let m = -1;
  let out = 0;
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const s = ld(perm, i);
    // Different keys prove different sequences; equal keys need the full comparison.
    if (prev < 0 || load<u64>(keys + (<usize>i << 3)) != load<u64>(keys + (<usize>(i - 1) << 3)) || compareSeq(tokens, starts, prev, s) != 0) {
      m++;
      st(entryStarts, m, out);
      const a = ld(starts, s);
      const len = ld(starts, s + 1) - a;
      memory.copy(entryTokens + (<usize>out << 2), tokens + (<usize>a << 2), <usize>len << 2);
      out += len;
      prev = s;
    }
    st(inputToEntry, s, m);
  }
  st(entryStarts, m + 1, out);
  return m + 1;
}

/** Number of trie nodes (root included) for M sorted distinct entries. */
export function trie_count(entryTokens: usize, entryStarts: usize, numEntries: i32): i32 {
  let n = 1;
  for (let m = 0; m < numEntries; m++) {
    const a = ld(entryStarts, m);
    const len = ld(entryStarts, m + 1) - a;
    let lcp = 0;
    if (m > 0) {
      const p = ld(entryStarts, m - 1);
      const plen = a - p;
      const lim = min(len, plen);
      while (lcp < lim && ld(entryTokens, p + lcp) == ld(entryTokens, a + lcp)) lcp++;
    }
    n += len - lcp;
  }
  return n;
}

/**
 * Fill the BFS-ordered CSR arrays: `label` (N), `childStart` (N+1), `lo` (N), `hi` (N), `entryNode` (M),
 * from M sorted distinct entries. Returns maxWidth, the largest number of nodes at one depth ≥ 1.
 */
export function trie_build(
  entryTokens: usize, entryStarts: usize, numEntries: i32,
  label: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize,
): i32 {
  st(label, 0, -1);
  st(lo, 0, 0);
  st(hi, 0, numEntries);
  let next = 1;
  let depth = 0;
  let levelEnd = 1; // nodes [.., levelEnd) have depth ≤ `depth`; BFS keeps each depth contiguous
  let maxWidth = 0;
  for (let n = 0; n < next; n++) {
    if (n == levelEnd) {
      depth++;
      if (next - levelEnd > maxWidth) maxWidth = next - levelEnd;
      levelEnd = next;
    }
    let j = ld(lo, n);
    const end = ld(hi, n);
    // The node's own entry (length = depth) sorts first in its range.
    if (j < end && ld(entryStarts, j + 1) - ld(entryStarts, j) == depth) {
      st(entryNode, j, n);
      j++;
    }
    st(childStart, n, next);
    while (j < end) {
      const t = ld(entryTokens, ld(entryStarts, j) + depth);
      let k = j + 1;
      while (k < end && ld(entryTokens, ld(entryStarts, k) + depth) == t) k++;
      st(label, next, t);
      st(lo, next, j);
      st(hi, next, k);
      next++;
      j = k;
    }
  }
  st(childStart, next, next);
  return maxWidth;
}

/**
 * Check the invariants of a trie loaded from bytes, so that no kernel or method can index outside its
 * arrays. Returns 0 when valid, else a code naming the first violation (see bindings/core/trie.ts):
 * 1 childStart[0] ≠ 1 or childStart[N] ≠ N; 2 childStart not ascending or a child range not after its
 * parent; 3 sibling labels not strictly ascending or negative, or root label ≠ −1; 4 lo/hi out of order
 * or outside [0, M]; 5 entryNode out of range; 6 inputToEntry out of range. `where` (1 i32) receives the
 * offending index.
 */
export function trie_validate(
  label: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize, inputToEntry: usize,
  numNodes: i32, numEntries: i32, numInputs: i32, where: usize,
): i32 {
  if (ld(childStart, 0) != 1 || ld(childStart, numNodes) != numNodes) { st(where, 0, 0); return 1; }
  if (ld(label, 0) != -1) { st(where, 0, 0); return 3; }
  // Pass 1, four nodes per step: n < childStart[n] ≤ childStart[n+1] ≤ N, 0 ≤ lo ≤ hi ≤ M, labels ≥ 0.
  // A failing block is rescanned one node at a time to name the first offender.
  const vN = i32x4.splat(numNodes);
  const vM = i32x4.splat(numEntries);
  const zero = i32x4.splat(0);
  let n = 0;
  let iota = i32x4(0, 1, 2, 3);
  for (; n + 4 <= numNodes; n += 4) {
    const a = v128.load(childStart + (<usize>n << 2));
    const b = v128.load(childStart + (<usize>(n + 1) << 2));
    const l = v128.load(lo + (<usize>n << 2));
    const h = v128.load(hi + (<usize>n << 2));
    const t = v128.load(label + (<usize>n << 2));
    let ok = v128.and(i32x4.gt_s(a, iota), i32x4.ge_s(b, a));
    ok = v128.and(ok, i32x4.le_s(b, vN));
    ok = v128.and(ok, v128.and(i32x4.ge_s(l, zero), i32x4.le_s(l, h)));
    ok = v128.and(ok, i32x4.le_s(h, vM));
    // The root's label is −1 (checked above): lane 0 of the first block is exempt.
    ok = v128.and(ok, v128.or(i32x4.ge_s(t, zero), i32x4.eq(iota, zero)));
    iota = i32x4.add(iota, i32x4.splat(4));
    if (!i32x4.all_true(ok)) break;
  }
  for (; n < numNodes; n++) {
    const a = ld(childStart, n);
    const b = ld(childStart, n + 1);
    if (a <= n || b < a || b > numNodes) { st(where, 0, n); return 2; }
    if (n > 0 && ld(label, n) < 0) { st(where, 0, n); return 3; }
    const l = ld(lo, n);
    const h = ld(hi, n);
    if (l < 0 || l > h || h > numEntries) { st(where, 0, n); return 4; }
  }
  // Pass 2: siblings strictly ascending.
  for (let p = 0; p < numNodes; p++) {
    const a = ld(childStart, p);
    const b = ld(childStart, p + 1);
    let prev = a < b ? ld(label, a) : 0;
    for (let c = a + 1; c < b; c++) {
      const t = ld(label, c);
      if (t <= prev) { st(where, 0, c); return 3; }
      prev = t;
    }
  }
  const badNode = firstOutOfRange(entryNode, numEntries, numNodes);
  if (badNode >= 0) { st(where, 0, badNode); return 5; }
  const badInput = firstOutOfRange(inputToEntry, numInputs, numEntries);
  if (badInput >= 0) { st(where, 0, badInput); return 6; }
  return 0;
}

/** Index of the first of x[0…n) outside [0, bound), or −1; four at a time. */
function firstOutOfRange(x: usize, n: i32, bound: i32): i32 {
  const vb = i32x4.splat(bound);
  const zero = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    if (!i32x4.all_true(v128.and(i32x4.ge_s(v, zero), i32x4.lt_s(v, vb)))) break;
  }
  for (; i < n; i++) {
    const v = ld(x, i);
    if (v < 0 || v >= bound) return i;
  }
  return -1;
}

/** Child of `node` labelled `token`, or −1: binary search over the sorted sibling labels. */
export function trie_child(label: usize, childStart: usize, node: i32, token: i32): i32 {
  let a = ld(childStart, node);
  let b = ld(childStart, node + 1);
  while (a < b) {
    const mid = (a + b) >>> 1;
    const t = ld(label, mid);
    if (t == token) return mid;
    if (t < token) a = mid + 1;
    else b = mid;
  }
  return -1;
}

/** Node reached by `prefix` (len i32 tokens) from the root, or −1. */
export function trie_walk(label: usize, childStart: usize, prefix: usize, len: i32): i32 {
  let node = 0;
  for (let i = 0; i < len && node >= 0; i++) node = trie_child(label, childStart, node, ld(prefix, i));
  return node;
}
