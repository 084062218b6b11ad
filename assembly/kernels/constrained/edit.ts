// Edit-distance lookahead kernel (docs/constrained.md, "Edit lookahead"): an optimal-string-alignment
// (restricted Damerau-Levenshtein) DP of a typed query against the decoded prefix of every beam, advanced
// through each allowed token's units and, to a fixed depth, through the trie below it, turned into a
// score change for that token.
//
// Units: pointers are byte addresses; counts and indices are elements. Units (characters) and CSR offsets
// are i32; DP cells, costs and scores are f64. The host allocates every block (16-byte aligned).
//
// DP orientation: a beam's state after a decoded prefix x (column c = |x|) holds, for i = 0…m,
//   cur[i]  = cost of aligning query[0…i) with x,     prev[i] = the same for x without its last unit,
// plus the last unit of x (−1 if none) and best, the least cost of a name that ends where the query may
// stop early: in prefix mode min over columns so far of D[m]; with a truncation unit, min over the
// columns just before that unit of D[m] + truncation cost (the query leaves the rest out); else ∞.
// State layout, `stride` f64 per row: cur[0…M] | prev[0…M] | last | best, M = the longest query.
//
// Costs (f64, all ≥ 0), read from `costs`: 0 insert (a query unit the name lacks), 1 delete (a name unit
// the query lacks), 2 substitute, 3 similar (one or two query units typed for one or two name units
// listed as similar to them), 4 transpose (adjacent units swapped), 5 repeat (insert or delete a unit
// next to the same unit).
//
// Similar spellings, per query position p (the query units ending at p + 1): entries
// sim[simOffsets[p] … simOffsets[p+1]), four i32 each: queryLen (1 or 2: the query units ending at p + 1
// that are replaced), nameLen (1 or 2), n1, n2 (the name units; n2 unused when nameLen = 1).

// @ts-ignore: decorator
@inline function ldi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function ldf(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function stf(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

// The call's constants, set once by edit_lookahead_step (the helpers below read them).
let gQuery: usize = 0; // this row's query units
let gM: i32 = 0; // its length
let gSimOff: usize = 0; // similar spellings of query position p: entries gSimOff[p] … gSimOff[p+1] of gSim
let gSim: usize = 0;
let gJump: f64 = 0; // the cheapest edit that skips a name column: transpose, or a similar pair of two name units
let gCosts: usize = 0;
let gPrefix: bool = false;
let gTruncUnit: i32 = 0; // the query may stop before this name unit, at gTruncCost (∞: never)
let gTruncCost: f64 = Infinity;
let gUnitOffsets: usize = 0; // units of token t: gUnits[gUnitOffsets[t] … gUnitOffsets[t+1])
let gUnits: usize = 0;
let gEnd: i32 = 0;
let gLabel: usize = 0; // trie arrays
let gChildStart: usize = 0;
let gCellBytes: usize = 0; // bytes of one DP column (M + 1 cells)
let gCutoff: f64 = 0; // values beyond it need not be exact

/**
 * One DP column: next[i] for the name unit `u` appended after `last`, from cur (column c) and prev
 * (column c−1).
 */
function advance(cur: usize, prev: usize, next: usize, u: i32, last: i32): void {
  const q = gQuery;
  const m = gM;
  const ins = ldf(gCosts, 0);
  const del = ldf(gCosts, 1);
  const sub = ldf(gCosts, 2);
  const simCost = ldf(gCosts, 3);
  const tra = ldf(gCosts, 4);
  const rep = ldf(gCosts, 5);
  // Deleting u is cheaper when the name doubles it (query "misisipi" for "mississippi").
  const delU = u == last ? min(del, rep) : del;
  stf(next, 0, ldf(cur, 0) + delU);
  let qPrev: i32 = -1;
  for (let i = 1; i <= m; i++) {
    const qi = ldi(q, i - 1);
    let v = ldf(cur, i - 1) + (qi == u ? 0 : sub);
    // Similar spellings ending here: query units (i − queryLen … i] typed for the name's u or (last, u).
    for (let k = ldi(gSimOff, i - 1), e = ldi(gSimOff, i); k < e; k++) {
      const entry = gSim + (<usize>k << 4);
      const from = i - load<i32>(entry);
      if (load<i32>(entry, 4) == 1) {
        if (load<i32>(entry, 8) == u) v = min(v, ldf(cur, from) + simCost);
      } else if (load<i32>(entry, 8) == last && load<i32>(entry, 12) == u) v = min(v, ldf(prev, from) + simCost);
    }
    v = min(v, ldf(cur, i) + delU);
    // Inserting q[i−1] is cheaper when the query doubles it ("amssterdam").
    v = min(v, ldf(next, i - 1) + (qi == qPrev ? min(ins, rep) : ins));
    if (i >= 2 && last >= 0 && qi == last && qPrev == u) v = min(v, ldf(prev, i - 2) + tra);
    stf(next, i, v);
    qPrev = qi;
  }
}

/** min over cells 0…m. */
function colMin(p: usize): f64 {
  let v = ldf(p, 0);
  for (let i = 1; i <= gM; i++) v = min(v, ldf(p, i));
  return v;
}

/**
 * Lower bound on the final cost of every completion of a prefix with state (cur, prev, last, best): an
 * alignment path of the whole query crosses column c in some cell (≥ min cur) or jumps over it from
 * column c−1 with a transposition or a similar pair of two name units (≥ min prev + gJump); costs are
 * ≥ 0, so no later step lowers it. The final cost is min(best, a later D[m] or D[m] + truncation cost),
 * bounded by min(best, that bound).
 */
function bound(cur: usize, prev: usize, last: i32, best: f64): f64 {
  let b = colMin(cur);
  if (last >= 0) b = min(b, colMin(prev) + gJump);
  return min(b, best);
}

// The state a token leads to (written by advanceToken): its columns, last unit and best D[m].
let tCur: usize = 0;
let tPrev: usize = 0;
let tLast: i32 = 0;
let tBest: f64 = 0;

/**
 * Advance the state (cur, prev, last, best) through the units of token t, in the three columns at
 * `buf` (never aliasing cur or prev); the result is left in tCur, tPrev, tLast, tBest.
 */
function advanceToken(cur: usize, prev: usize, last: i32, best: f64, t: i32, buf: usize): void {
  let c = cur;
  let p = prev;
  for (let k = ldi(gUnitOffsets, t), e = ldi(gUnitOffsets, t + 1); k < e; k++) {
    const u = ldi(gUnits, k);
    // The query may stop here and leave out the rest of the name, from u on.
    if (u == gTruncUnit) best = min(best, ldf(c, gM) + gTruncCost);
    // A column of `buf` that holds neither c nor p (of three, at most two are taken).
    let next = buf;
    if (next == c || next == p) next += gCellBytes;
    if (next == c || next == p) next += gCellBytes;
    advance(c, p, next, u, last);
    p = c;
    c = next;
    last = u;
    if (gPrefix) best = min(best, ldf(c, gM));
  }
  tCur = c;
  tPrev = p;
  tLast = last;
  tBest = best;
}

/**
 * The value of trie node `node` reached with state (cur, prev, last, best): with depth 0 the bound;
 * otherwise the least value over its children, a child being the end token scoring the exact cost of the
 * complete name, any other the value of its own children with depth − 1 (the bound when depth − 1 = 0).
 * Every completion passes through one child and a deeper value is never below its ancestor's bound, so
 * this is a lower bound on the final cost, tighter with depth, and exact when it is within gCutoff and
 * depth reaches the leaves. Branch and bound: a child whose bound reaches the least value so far is not
 * explored, nor one whose bound exceeds gCutoff (its bound is what counts). `buf`: 3·depth columns.
 */
function nodeValue(node: i32, cur: usize, prev: usize, last: i32, best: f64, depth: i32, buf: usize): f64 {
  if (depth == 0) return bound(cur, prev, last, best);
  let value = Infinity;
  const next = buf + 3 * gCellBytes;
  for (let c = ldi(gChildStart, node), e = ldi(gChildStart, node + 1); c < e; c++) {
    const t = ldi(gLabel, c);
    if (t == gEnd) {
      value = min(value, min(ldf(cur, gM), best));
      continue;
    }
    advanceToken(cur, prev, last, best, t, buf);
    const b = bound(tCur, tPrev, tLast, tBest);
    if (b >= value) continue;
    value = depth == 1 || b > gCutoff ? b : min(value, nodeValue(c, tCur, tPrev, tLast, tBest, depth - 1, next));
  }
  return value;
}

/**
 * Score every allowed token of every beam of one step.
 *
 * Row r (trie node nodes[r], query rowQuery[r] = the units query[queryStart[k] … queryStart[k+1])):
 * 1. Load the state rowStart[r·stride …] and advance it through the tokens rowTokens[rowTokenOffsets[r]
 *    … rowTokenOffsets[r+1]) (those decoded since that state); store it in outState. The row's value v_r
 *    is rowValues[r] (the value its token got in the previous step, 0 at step 0, so that the score changes
 *    telescope), or, if NaN, nodeValue(nodes[r], depth) of that state with the budget as cutoff.
 * 2. Each allowed token j in offsets[r] … offsets[r+1) is the child childStart[nodes[r]] + j − offsets[r]
 *    of that node. Its value: the exact final cost for the end token, else nodeValue(child, depth) of the
 *    state advanced through its units, exact up to min(budget, v_r + window). Then
 *      scores[j] = value > budget ? −∞ : priorWeight · scores[j] − (value − v_r);   outValue[j] = value.
 * Units of token t: units[unitOffsets[t] … unitOffsets[t+1]). `sim`/`simOffsets`: similar spellings
 * per global query position (entries of four i32, see the top of this file). prefixMode ≠ 0: the query
 * may stop anywhere in the name (as-you-type). truncateCost < ∞: the query may stop before any name unit
 * equal to truncateUnit, leaving the rest out for truncateCost ("new york" for "new york city").
 * `scratch`: 3·(depth + 1)·(M + 1) f64, M + 1 = (stride − 2) / 2.
 */
export function edit_lookahead_step(
  query: usize, queryStart: usize, simOffsets: usize, sim: usize, costs: usize, prefixMode: i32, truncateUnit: i32, truncateCost: f64,
  unitOffsets: usize, units: usize, endToken: i32, childStart: usize, label: usize, depth: i32,
  rows: i32, nodes: usize, rowQuery: usize, stride: i32, rowStart: usize, rowTokenOffsets: usize, rowTokens: usize,
  rowValues: usize, window: f64, offsets: usize, tokens: usize, priorWeight: f64, budget: f64, scores: usize,
  outState: usize, outValue: usize, scratch: usize,
): void {
  const width = (stride - 2) >> 1;
  gCellBytes = <usize>width << 3;
  gSim = sim;
  gCosts = costs;
  gPrefix = prefixMode != 0;
  gTruncUnit = truncateUnit;
  gTruncCost = truncateCost;
  gUnitOffsets = unitOffsets;
  gUnits = units;
  gEnd = endToken;
  gLabel = label;
  gChildStart = childStart;
  const rowBuf = scratch;
  const deepBuf = scratch + 3 * gCellBytes;
  for (let r = 0; r < rows; r++) {
    const k = ldi(rowQuery, r);
    const qs = ldi(queryStart, k);
    gM = ldi(queryStart, k + 1) - qs;
    gQuery = query + (<usize>qs << 2);
    gSimOff = simOffsets + (<usize>qs << 2);
    gJump = ldf(costs, 4);
    for (let k = ldi(gSimOff, 0), e = ldi(gSimOff, gM); k < e; k++) {
      if (load<i32>(sim + (<usize>k << 4), 4) == 2) gJump = min(gJump, ldf(costs, 3));
    }
    const start = rowStart + <usize>r * <usize>stride * 8;
    // 1. The row's own state.
    let cur = start;
    let prev = start + gCellBytes;
    let last = <i32>ldf(start, 2 * width);
    let best = ldf(start, 2 * width + 1);
    const out = outState + <usize>r * <usize>stride * 8;
    for (let p = ldi(rowTokenOffsets, r), e = ldi(rowTokenOffsets, r + 1); p < e; p++) {
      advanceToken(cur, prev, last, best, ldi(rowTokens, p), rowBuf);
      cur = tCur;
      prev = tPrev;
      last = tLast;
      best = tBest;
    }
    memory.copy(out, cur, gCellBytes);
    memory.copy(out + gCellBytes, prev, gCellBytes);
    stf(out, 2 * width, <f64>last);
    stf(out, 2 * width + 1, best);
    cur = out;
    prev = out + gCellBytes;
    const node = ldi(nodes, r);
    let rowValue = ldf(rowValues, r);
    if (rowValue != rowValue) {
      gCutoff = budget;
      rowValue = nodeValue(node, cur, prev, last, best, depth, deepBuf);
    }
    // Tokens ranked beyond the window below the row's best need no exact value: they rank last anyway.
    gCutoff = min(budget, rowValue + window);

    // 2. Each allowed token (a child of the row's node).
    const a = ldi(offsets, r);
    const firstChild = ldi(childStart, node);
    for (let j = a, jEnd = ldi(offsets, r + 1); j < jEnd; j++) {
      const t = ldi(tokens, j);
      let value: f64;
      if (t == endToken) value = min(ldf(cur, gM), best);
      else {
        advanceToken(cur, prev, last, best, t, rowBuf);
        value = nodeValue(firstChild + j - a, tCur, tPrev, tLast, tBest, depth, deepBuf);
      }
      stf(outValue, j, value);
      const s = ldf(scores, j);
      stf(scores, j, value > budget ? -Infinity : priorWeight * s - (value - rowValue));
    }
  }
}
