// Edit-distance lookahead kernel (docs/constrained.md, "Edit lookahead"): an optimal-string-alignment
// (restricted Damerau-Levenshtein) DP of a typed query against the decoded prefix of every beam, advanced
// through each allowed token's units, turned into a score change for that token.
//
// Units: pointers are byte addresses; counts and indices are elements. Units (characters) and CSR offsets
// are i32; DP cells, costs and scores are f64. The host allocates every block (16-byte aligned).
//
// DP orientation: a beam's state after a decoded prefix x (column c = |x|) holds, for i = 0…m,
//   cur[i]  = cost of aligning query[0…i) with x,     prev[i] = the same for x without its last unit,
// plus the last unit of x (−1 if none) and, in prefix mode, best = min over columns so far of D[m].
// State layout, `stride` f64 per row: cur[0…M] | prev[0…M] | last | best, M = the longest query.
//
// Costs (f64, all ≥ 0), read from `costs`: 0 insert (a query unit the name lacks), 1 delete (a name unit
// the query lacks), 2 substitute, 3 similar (substitute a unit listed as similar to the query's unit),
// 4 transpose (adjacent units swapped), 5 repeat (insert or delete a unit next to the same unit).

// @ts-ignore: decorator
@inline function ldi(p: usize, i: i32): i32 { return load<i32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function ldf(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function stf(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/**
 * One DP column: next[i] for the name unit `u` appended after `last`, from cur (column c) and prev
 * (column c−1). `q` = the query's units (m of them); the units similar to q[i] are
 * sim[simOff[i] … simOff[i+1]).
 */
function advance(
  q: usize, m: i32, simOff: usize, sim: usize, costs: usize,
  cur: usize, prev: usize, next: usize, u: i32, last: i32,
): void {
  const ins = ldf(costs, 0);
  const del = ldf(costs, 1);
  const sub = ldf(costs, 2);
  const simCost = ldf(costs, 3);
  const tra = ldf(costs, 4);
  const rep = ldf(costs, 5);
  // Deleting u is cheaper when the name doubles it (query "misisipi" for "mississippi").
  const delU = u == last ? min(del, rep) : del;
  stf(next, 0, ldf(cur, 0) + delU);
  let qPrev: i32 = -1;
  for (let i = 1; i <= m; i++) {
    const qi = ldi(q, i - 1);
    let s: f64 = 0;
    if (qi != u) {
      s = sub;
      const a = ldi(simOff, i - 1);
      const b = ldi(simOff, i);
      for (let k = a; k < b; k++) {
        if (ldi(sim, k) == u) { s = min(sub, simCost); break; }
      }
    }
    let v = ldf(cur, i - 1) + s;
    v = min(v, ldf(cur, i) + delU);
    // Inserting q[i−1] is cheaper when the query doubles it ("amssterdam").
    v = min(v, ldf(next, i - 1) + (qi == qPrev ? min(ins, rep) : ins));
    if (i >= 2 && last >= 0 && qi == last && qPrev == u) v = min(v, ldf(prev, i - 2) + tra);
    stf(next, i, v);
    qPrev = qi;
  }
}

/** min over cells 0…m. */
function rowMin(p: usize, m: i32): f64 {
  let v = ldf(p, 0);
  for (let i = 1; i <= m; i++) v = min(v, ldf(p, i));
  return v;
}

/**
 * Lower bound on the final cost of every completion of a prefix with state (cur, prev, best): an
 * alignment path of the whole query crosses column c in some cell (≥ min cur) or jumps over it with a
 * transposition from column c−1 (≥ min prev + transpose); costs are ≥ 0, so no later step lowers it.
 * In prefix mode the final cost is min(best, later D[m]), bounded by min(best, that bound).
 */
function bound(cur: usize, prev: usize, m: i32, hasPrev: bool, tra: f64, prefixMode: bool, best: f64): f64 {
  let b = rowMin(cur, m);
  if (hasPrev) b = min(b, rowMin(prev, m) + tra);
  return prefixMode ? min(b, best) : b;
}

/**
 * Score every allowed token of every beam of one step.
 *
 * Per row r (query rowQuery[r], whose units are query[queryStart[k] … queryStart[k+1])):
 * 1. Load the state rowStart[r·stride …] and advance it through rowUnits[rowUnitOffsets[r] …
 *    rowUnitOffsets[r+1]) (the units of the tokens decoded since that state); store it in outState and
 *    its bound in outRowBound[r].
 * 2. For each allowed j in offsets[r] … offsets[r+1): advance a copy through the token's units
 *    tokenUnits[tokenUnitOffsets[j] … tokenUnitOffsets[j+1]); its value is the exact final cost if
 *    tokens[j] = endToken (the name is complete), else the bound. Then
 *      scores[j] = value > budget ? −∞ : priorWeight · scores[j] − (value − outRowBound[r]).
 *    outValue[j] = value.
 * `sim`/`simOffsets`: similar units per global query position (simOffsets has one more element than
 * `query`). prefixMode ≠ 0: the query may stop anywhere in the name (as-you-type).
 * `scratch`: 6·(M+1) f64 with M + 1 = (stride − 2) / 2.
 */
export function edit_lookahead_step(
  query: usize, queryStart: usize, simOffsets: usize, sim: usize, costs: usize, prefixMode: i32,
  rows: i32, rowQuery: usize, stride: i32, rowStart: usize, rowUnitOffsets: usize, rowUnits: usize,
  offsets: usize, tokens: usize, tokenUnitOffsets: usize, tokenUnits: usize, endToken: i32,
  priorWeight: f64, budget: f64, scores: usize,
  outState: usize, outRowBound: usize, outValue: usize, scratch: usize,
): void {
  const width = (stride - 2) >> 1;
  const cellBytes = <usize>width << 3;
  const tra = ldf(costs, 4);
  const prefix = prefixMode != 0;
  const a0 = scratch;
  const a1 = a0 + cellBytes;
  const a2 = a1 + cellBytes;
  const b0 = a2 + cellBytes;
  const b1 = b0 + cellBytes;
  const b2 = b1 + cellBytes;
  for (let r = 0; r < rows; r++) {
    const k = ldi(rowQuery, r);
    const qs = ldi(queryStart, k);
    const m = ldi(queryStart, k + 1) - qs;
    const q = query + (<usize>qs << 2);
    const simOff = simOffsets + (<usize>qs << 2);
    const start = rowStart + <usize>r * <usize>stride * 8;
    // 1. The row's own state: rotate three columns (prev, cur, next) through the decoded units.
    let prev = a0;
    let cur = a1;
    let spare = a2;
    memory.copy(cur, start, cellBytes);
    memory.copy(prev, start + cellBytes, cellBytes);
    let last = <i32>ldf(start, 2 * width);
    let best = ldf(start, 2 * width + 1);
    for (let p = ldi(rowUnitOffsets, r), e = ldi(rowUnitOffsets, r + 1); p < e; p++) {
      const u = ldi(rowUnits, p);
      advance(q, m, simOff, sim, costs, cur, prev, spare, u, last);
      const t = prev; prev = cur; cur = spare; spare = t;
      last = u;
      best = min(best, ldf(cur, m));
    }
    const out = outState + <usize>r * <usize>stride * 8;
    memory.copy(out, cur, cellBytes);
    memory.copy(out + cellBytes, prev, cellBytes);
    stf(out, 2 * width, <f64>last);
    stf(out, 2 * width + 1, best);
    const rowBound = bound(cur, prev, m, last >= 0, tra, prefix, best);
    stf(outRowBound, r, rowBound);

    // 2. Each allowed token, from a copy of that state (three columns of its own).
    for (let j = ldi(offsets, r), jEnd = ldi(offsets, r + 1); j < jEnd; j++) {
      let tp = b0;
      let tc = b1;
      let ts = b2;
      memory.copy(tc, cur, cellBytes);
      memory.copy(tp, prev, cellBytes);
      let tLast = last;
      let tBest = best;
      for (let p = ldi(tokenUnitOffsets, j), e = ldi(tokenUnitOffsets, j + 1); p < e; p++) {
        const u = ldi(tokenUnits, p);
        advance(q, m, simOff, sim, costs, tc, tp, ts, u, tLast);
        const t = tp; tp = tc; tc = ts; ts = t;
        tLast = u;
        tBest = min(tBest, ldf(tc, m));
      }
      const value = ldi(tokens, j) == endToken
        ? (prefix ? tBest : ldf(tc, m))
        : bound(tc, tp, m, tLast >= 0, tra, prefix, tBest);
      stf(outValue, j, value);
      const s = ldf(scores, j);
      stf(scores, j, value > budget ? -Infinity : priorWeight * s - (value - rowBound));
    }
  }
}
