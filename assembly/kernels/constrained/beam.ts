// Beam search kernels (docs/constrained.md §3.3): per-row log-softmax statistics over the vocabulary,
// gather of allowed log-probabilities, renormalization over the allowed set, and the bounded top-K
// candidate selection with the canonical tie-break.
//
// Units: pointers are byte addresses; counts and indices are elements. Logit rows are f32 or f64
// (suffix), row-major, `vocab` elements per row. Per-row statistics and scores are f64. CSR offsets and
// tokens are i32. Blocks come from the host allocator (16-byte aligned); the kernels never allocate.
//
// Non-finite values: a logit that is NaN or ±∞ counts as −∞ (it never becomes a candidate), a row with no
// finite logit yields no candidates. All arithmetic is f64; only the exp polynomial (inline/expf64x2)
// is fused in the relaxed build, so the builds may differ in the last bits of a log-sum-exp.

import { expF64x2 } from '../../inline/expf64x2';

// @ts-ignore: decorator
@inline function ldi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function ldf(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function stf(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline function isFinite64(x: f64): bool { return x - x == 0; }

// @ts-ignore: decorator
@inline function loadAs<T>(p: usize, i: i32): f64 { return <f64>load<T>(p + (<usize>i << alignof<T>())); }

/** Max over the finite elements of x[0…n), −∞ if none. */
function rowMax<T>(x: usize, n: i32): f64 {
  const NEG = -Infinity;
  let i = 0;
  let m: f64 = NEG;
  if (sizeof<T>() == 4) {
    let acc = f32x4.splat(<f32>NEG);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const finite = f32x4.eq(f32x4.sub(v, v), f32x4.splat(0));
      acc = f32x4.pmax(acc, v128.bitselect(v, f32x4.splat(<f32>NEG), finite));
    }
    m = max(max(<f64>f32x4.extract_lane(acc, 0), <f64>f32x4.extract_lane(acc, 1)), max(<f64>f32x4.extract_lane(acc, 2), <f64>f32x4.extract_lane(acc, 3)));
  } else {
    let acc = f64x2.splat(NEG);
    for (; i + 2 <= n; i += 2) {
      const v = v128.load(x + (<usize>i << 3));
      const finite = f64x2.eq(f64x2.sub(v, v), f64x2.splat(0));
      acc = f64x2.pmax(acc, v128.bitselect(v, f64x2.splat(NEG), finite));
    }
    m = max(f64x2.extract_lane(acc, 0), f64x2.extract_lane(acc, 1));
  }
  for (; i < n; i++) {
    const v = loadAs<T>(x, i);
    if (isFinite64(v) && v > m) m = v;
  }
  return m;
}

/** Σ exp(x_i − m) over the finite elements of x[0…n). */
function rowSumExp<T>(x: usize, n: i32, m: f64): f64 {
  const mv = f64x2.splat(m);
  const zero = f64x2.splat(0);
  let acc = zero;
  let acc2 = zero; // a second chain of adds hides their latency
  let i = 0;
  if (sizeof<T>() == 4) {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      const flo = f64x2.eq(f64x2.sub(lo, lo), zero);
      const fhi = f64x2.eq(f64x2.sub(hi, hi), zero);
      acc = f64x2.add(acc, v128.and(expF64x2(f64x2.sub(lo, mv)), flo));
      acc2 = f64x2.add(acc2, v128.and(expF64x2(f64x2.sub(hi, mv)), fhi));
    }
  } else {
    for (; i + 2 <= n; i += 2) {
      const v = v128.load(x + (<usize>i << 3));
      const f = f64x2.eq(f64x2.sub(v, v), zero);
      acc = f64x2.add(acc, v128.and(expF64x2(f64x2.sub(v, mv)), f));
    }
  }
  for (; i < n; i++) {
    const v = loadAs<T>(x, i);
    if (isFinite64(v)) {
      const e = expF64x2(f64x2.splat(v - m));
      acc = f64x2.add(acc, f64x2.replace_lane(e, 1, 0));
    }
  }
  acc = f64x2.add(acc, acc2);
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

function rowStats<T>(logits: usize, rows: i32, vocab: i32, outMax: usize, outLogSum: usize): void {
  for (let r = 0; r < rows; r++) {
    const x = logits + <usize>r * <usize>vocab * sizeof<T>();
    const m = rowMax<T>(x, vocab);
    if (m == -Infinity) {
      // No finite logit: every log-probability becomes non-finite and the row yields no candidates.
      stf(outMax, r, Infinity);
      stf(outLogSum, r, 0);
    } else {
      stf(outMax, r, m);
      stf(outLogSum, r, Math.log(rowSumExp<T>(x, vocab, m)));
    }
  }
}

/**
 * Per-row log-softmax statistics: outMax[r] = max of the finite logits, outLogSum[r] = log Σ exp(x − max);
 * log p = (x − outMax) − outLogSum. A row without finite logits gets outMax = +∞.
 * `logits`: rows×vocab f32; outMax, outLogSum: rows f64.
 */
export function beam_row_stats_f32(logits: usize, rows: i32, vocab: i32, outMax: usize, outLogSum: usize): void {
  rowStats<f32>(logits, rows, vocab, outMax, outLogSum);
}
/** As beam_row_stats_f32 for f64 logits. */
export function beam_row_stats_f64(logits: usize, rows: i32, vocab: i32, outMax: usize, outLogSum: usize): void {
  rowStats<f64>(logits, rows, vocab, outMax, outLogSum);
}

function gather<T>(logits: usize, vocab: i32, rows: i32, offsets: usize, tokens: usize, rowMaxP: usize, rowLogSum: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const base = logits + <usize>r * <usize>vocab * sizeof<T>();
    const m = ldf(rowMaxP, r);
    const ls = ldf(rowLogSum, r);
    const a = tokens ? ldi(offsets, r) : r * vocab;
    const b = tokens ? ldi(offsets, r + 1) : a + vocab;
    for (let j = a; j < b; j++) {
      const t = tokens ? ldi(tokens, j) : j - a;
      const v = (loadAs<T>(base, t) - m) - ls;
      stf(out, j, isFinite64(v) ? v : -Infinity);
    }
  }
}

/**
 * Allowed log-probabilities: out[j] = (logits[r][tokens[j]] − rowMax[r]) − rowLogSum[r] for j in
 * offsets[r]…offsets[r+1), −∞ when not finite. `tokens` = 0 means every token (out is rows×vocab).
 */
export function beam_gather_f32(logits: usize, vocab: i32, rows: i32, offsets: usize, tokens: usize, rowMaxP: usize, rowLogSum: usize, out: usize): void {
  gather<f32>(logits, vocab, rows, offsets, tokens, rowMaxP, rowLogSum, out);
}
/** As beam_gather_f32 for f64 logits. */
export function beam_gather_f64(logits: usize, vocab: i32, rows: i32, offsets: usize, tokens: usize, rowMaxP: usize, rowLogSum: usize, out: usize): void {
  gather<f64>(logits, vocab, rows, offsets, tokens, rowMaxP, rowLogSum, out);
}

/**
 * Renormalize f64 scores over each row's allowed set in place: s −= log Σ exp(s) over the finite s
 * (computed with the max subtracted). Rows: offsets[r]…offsets[r+1); offsets = 0 means dense rows of
 * `width` elements. A row with no finite score stays all −∞.
 */
export function beam_renormalize(scores: usize, rows: i32, offsets: usize, width: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = offsets ? ldi(offsets, r) : r * width;
    const b = offsets ? ldi(offsets, r + 1) : a + width;
    const p = scores + (<usize>a << 3);
    const m = rowMax<f64>(p, b - a);
    if (m == -Infinity) continue;
    const ls = Math.log(rowSumExp<f64>(p, b - a, m));
    for (let j = a; j < b; j++) {
      const v = ldf(scores, j);
      stf(scores, j, isFinite64(v) ? (v - m) - ls : -Infinity);
    }
  }
}

// ---- bounded top-K selection ----

// A candidate record is 32 bytes: f64 logProb | i32 j | i32 row | i32 token | i32 child | i32 flags | pad.
// @ts-ignore: decorator
@inline const REC: usize = 32;

/** Insert into a list sorted by value desc (ties keep arrival order); the list holds at most k. */
// @ts-ignore: decorator
@inline function insert(list: usize, count: i32, k: i32, v: f64, j: i32, row: i32, tok: i32, child: i32, flags: i32): i32 {
  // Position after every element ≥ v: earlier arrivals win ties (they have smaller (row, token)).
  let pos = count;
  while (pos > 0 && load<f64>(list + <usize>(pos - 1) * REC) < v) pos--;
  const n = count < k ? count + 1 : k;
  if (pos >= n) return count;
  // Shift [pos, n−1) one record to the right (the last one falls off when full).
  if (n - 1 > pos) memory.copy(list + <usize>(pos + 1) * REC, list + <usize>pos * REC, <usize>(n - 1 - pos) * REC);
  const p = list + <usize>pos * REC;
  store<f64>(p, v);
  store<i32>(p, j, 8);
  store<i32>(p, row, 12);
  store<i32>(p, tok, 16);
  store<i32>(p, child, 20);
  store<i32>(p, flags, 24);
  return n;
}

// Selection source modes (bit flags of `mode`):
//   1 SRC_BY_TOKEN: value source is the logit row, indexed by token (r·vocab + token); else indexed by j
//   2 APPLY_STATS:  v = (x − rowMax[r]) − rowLogSum[r] before adding the beam's logProb
// @ts-ignore: decorator
@inline const SRC_BY_TOKEN: i32 = 1;
// @ts-ignore: decorator
@inline const APPLY_STATS: i32 = 2;

/**
 * Offer candidate v (already known finite-or-not) to both lists; the running counts live in
 * outCounts[0] (overall) and outCounts[1] (continuing). Returns the continuing list's threshold: the
 * value a later candidate must exceed to enter either list.
 */
function offer(
  v: f64, j: i32, r: i32, tok: i32, a: i32, firstChild: i32, endToken: i32,
  nodes: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize,
  k: i32, outAll: usize, outCont: usize, outCounts: usize,
): f64 {
  let nAll = load<i32>(outCounts);
  let nCont = load<i32>(outCounts, 4);
  const thrCont: f64 = nCont == k ? load<f64>(outCont + <usize>(k - 1) * REC) : -Infinity;
  if (!(v > thrCont) || !isFinite64(v)) return thrCont;
  let finishes = false;
  let continues = false;
  let child = -1;
  if (nodes) {
    child = firstChild + (j - a);
    const l = ldi(lo, child);
    finishes = l < ldi(hi, child) && ldi(entryNode, l) == child;
    continues = ldi(childStart, child + 1) > ldi(childStart, child);
  } else {
    finishes = tok == endToken;
    continues = !finishes;
  }
  const flags = (finishes ? 1 : 0) | (continues ? 2 : 0);
  const thrAll: f64 = nAll == k ? load<f64>(outAll + <usize>(k - 1) * REC) : -Infinity;
  if (v > thrAll) nAll = insert(outAll, nAll, k, v, j, r, tok, child, flags);
  if (continues) nCont = insert(outCont, nCont, k, v, j, r, tok, child, flags);
  store<i32>(outCounts, nAll);
  store<i32>(outCounts, nCont, 4);
  return nCont == k ? load<f64>(outCont + <usize>(k - 1) * REC) : -Infinity;
}

function select<T>(
  src: usize, mode: i32, vocab: i32, rowStart: i32, rowEnd: i32, offsets: usize, tokens: usize,
  rowMaxP: usize, rowLogSum: usize, beamLogProb: usize, endToken: i32,
  nodes: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize,
  k: i32, outAll: usize, outCont: usize, outCounts: usize,
): void {
  store<i32>(outCounts, 0);
  store<i32>(outCounts, 0, 4);
  // Fast reject: a candidate must beat the K-th continuing one, which is ≤ the K-th overall.
  let thr: f64 = -Infinity;
  const dense = tokens == 0;
  for (let r = rowStart; r < rowEnd; r++) {
    const a = offsets ? ldi(offsets, r) : r * vocab;
    const b = offsets ? ldi(offsets, r + 1) : a + vocab;
    const base = ldf(beamLogProb, r);
    let m: f64 = 0;
    let ls: f64 = 0;
    if (mode & APPLY_STATS) {
      m = ldf(rowMaxP, r);
      ls = ldf(rowLogSum, r);
    }
    const rowSrc = mode & SRC_BY_TOKEN ? src + <usize>r * <usize>vocab * sizeof<T>() : src;
    const firstChild = nodes ? ldi(childStart, ldi(nodes, r)) : 0;
    let j = a;
    // Dense rows of logits (the unconstrained GENRE/HF case): blocks whose lanes all fall at or below
    // the threshold are skipped without leaving SIMD; the rare others are offered one by one.
    if (dense && (mode & SRC_BY_TOKEN) && (mode & APPLY_STATS)) {
      const mv = f64x2.splat(m);
      const lsv = f64x2.splat(ls);
      const bv = f64x2.splat(base);
      if (sizeof<T>() == 4) {
        for (; j + 4 <= b; j += 4) {
          const v = v128.load(rowSrc + (<usize>(j - a) << 2));
          const lo2 = f64x2.add(bv, f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(v), mv), lsv));
          const hi2 = f64x2.add(bv, f64x2.sub(f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), mv), lsv));
          const tv = f64x2.splat(thr);
          if (!v128.any_true(v128.or(f64x2.gt(lo2, tv), f64x2.gt(hi2, tv)))) continue;
          for (let q = j; q < j + 4; q++) {
            const x = base + ((loadAs<T>(rowSrc, q - a) - m) - ls);
            thr = offer(x, q, r, q - a, a, firstChild, endToken, nodes, childStart, lo, hi, entryNode, k, outAll, outCont, outCounts);
          }
        }
      } else {
        for (; j + 2 <= b; j += 2) {
          const v = v128.load(rowSrc + (<usize>(j - a) << 3));
          const s = f64x2.add(bv, f64x2.sub(f64x2.sub(v, mv), lsv));
          if (!v128.any_true(f64x2.gt(s, f64x2.splat(thr)))) continue;
          for (let q = j; q < j + 2; q++) {
            const x = base + ((loadAs<T>(rowSrc, q - a) - m) - ls);
            thr = offer(x, q, r, q - a, a, firstChild, endToken, nodes, childStart, lo, hi, entryNode, k, outAll, outCont, outCounts);
          }
        }
      }
    }
    for (; j < b; j++) {
      const tok = dense ? j - a : ldi(tokens, j);
      let x = mode & SRC_BY_TOKEN ? loadAs<T>(rowSrc, tok) : loadAs<T>(rowSrc, j);
      if (mode & APPLY_STATS) x = (x - m) - ls;
      const v = base + x;
      if (!(v > thr)) continue;
      thr = offer(v, j, r, tok, a, firstChild, endToken, nodes, childStart, lo, hi, entryNode, k, outAll, outCont, outCounts);
    }
  }
}

/**
 * Bounded top-K selection over the candidates of rows rowStart…rowEnd−1 (one query's beams), in the
 * order logProb desc, then row asc, then token asc (candidates are visited in that (row, token) order
 * and ties keep arrival order).
 *
 * Candidate value v = beamLogProb[r] + s, with s = src[r·vocab + token] (mode bit 1) or src[j];
 * mode bit 2 first applies s = (s − rowMax[r]) − rowLogSum[r]. Rows are CSR `offsets` (rows+1 i32) over
 * sorted `tokens`; `tokens` = 0 means every token 0…vocab−1 with j = r·vocab + token.
 * Trie constraint (`nodes` ≠ 0): the candidate's child node is childStart[nodes[r]] + (j − offsets[r]),
 * it finishes if terminal and continues if it has children; otherwise it finishes iff token = endToken
 * and continues iff not. Only finite v are candidates.
 *
 * Output: `outAll` receives the top K overall, `outCont` the top K continuing (records of 32 bytes:
 * f64 logProb, i32 j, row, token, child, flags (1 finishes, 2 continues), pad); outCounts[0..1] their
 * counts. Both lists must have room for K records.
 */
export function beam_select_f32(
  src: usize, mode: i32, vocab: i32, rowStart: i32, rowEnd: i32, offsets: usize, tokens: usize,
  rowMaxP: usize, rowLogSum: usize, beamLogProb: usize, endToken: i32,
  nodes: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize,
  k: i32, outAll: usize, outCont: usize, outCounts: usize,
): void {
  select<f32>(src, mode, vocab, rowStart, rowEnd, offsets, tokens, rowMaxP, rowLogSum, beamLogProb, endToken,
    nodes, childStart, lo, hi, entryNode, k, outAll, outCont, outCounts);
}
/** As beam_select_f32 with an f64 source (f64 logits, or the gathered f64 scores with mode 0). */
export function beam_select_f64(
  src: usize, mode: i32, vocab: i32, rowStart: i32, rowEnd: i32, offsets: usize, tokens: usize,
  rowMaxP: usize, rowLogSum: usize, beamLogProb: usize, endToken: i32,
  nodes: usize, childStart: usize, lo: usize, hi: usize, entryNode: usize,
  k: i32, outAll: usize, outCont: usize, outCounts: usize,
): void {
  select<f64>(src, mode, vocab, rowStart, rowEnd, offsets, tokens, rowMaxP, rowLogSum, beamLogProb, endToken,
    nodes, childStart, lo, hi, entryNode, k, outAll, outCont, outCounts);
}
