/**
 * Which entries of a row a top-k or nucleus rule keeps: the one implementation behind `topKFilter` /
 * `nucleusFilter` (rows of logits) and `decodeTransform`'s 'topK' / 'nucleus' rules (rows of
 * probabilities). The rule is stated in docs/entropy.md §6:
 *
 * - Candidates are the finite logits, or the positive probabilities. Their **order** is by value
 *   descending, ties to the lower index.
 * - top-k keeps the first k candidates of the order (all of them when k ≥ their count).
 * - nucleus keeps the shortest prefix of the order whose mass reaches p − NUCLEUS_SLACK, where the mass of
 *   an entry is its weight over the candidates' total weight (weight e^(z − max z) for a logit, p itself
 *   for a probability); when rounding never reaches it, every candidate. p = 1 keeps every candidate.
 * - An end token ≥ 0 is kept as well, whatever its value.
 *
 * Rows are selected in O(cols) without a full sort: for top-k a quickselect by value finds the boundary
 * value, and the kept entries equal to it are the first ones by index; the nucleus selects, sorts and
 * walks the largest values in chunks of doubling size until their mass reaches p.
 */
import type { FloatArray } from '../wasm/memory.js';

/** A rule of `selectKept`; `endToken` is −1 for none. */
export type KeepRule = { kind: 'topK'; k: number; endToken: number } | { kind: 'nucleus'; p: number; endToken: number };

/** How a row's values are read: logits (−∞ masks an entry) or probabilities (0 is outside the support). */
export type RowForm = 'logits' | 'probabilities';

/**
 * Mass that reaches p within this much counts as reached: softmax masses that equal p in exact
 * arithmetic then do not keep one more entry because of rounding.
 */
const NUCLEUS_SLACK = 1e-9;

/** Size of the nucleus' first chunk of largest values (the chunks double). */
const FIRST_CHUNK = 256;

let valuesBuf = new Float64Array(0);
/** Scratch of at least n float64 values, kept between calls. */
function scratch(n: number): Float64Array {
  if (valuesBuf.length < n) valuesBuf = new Float64Array(n);
  return valuesBuf;
}

/**
 * Mark in `keep[0, cols)` (1 kept, 0 dropped) the entries of `row[base, base + cols)` that `rule` keeps.
 *
 * @param row - the values; logits must be finite or −∞, probabilities finite and ≥ 0 (checked by callers).
 * @param form - 'logits' or 'probabilities'.
 * @param rule - topK with k an integer ≥ 1, or nucleus with p in (0, 1]; endToken in [0, cols) or −1.
 * @param keep - output mask, length ≥ cols.
 */
export function selectKept(row: FloatArray, base: number, cols: number, form: RowForm, rule: KeepRule, keep: Uint8Array): void {
  const logits = form === 'logits';
  const values = scratch(cols);
  let count = 0;
  for (let j = 0; j < cols; j++) {
    const v = row[base + j];
    if (logits ? v !== -Infinity : v > 0) values[count++] = v;
  }
  const boundary = rule.kind === 'topK' ? topKBoundary(values, count, rule.k) : nucleusBoundary(values, count, rule.p, logits);
  if (boundary === null) {
    for (let j = 0; j < cols; j++) {
      const v = row[base + j];
      keep[j] = (logits ? v !== -Infinity : v > 0) ? 1 : 0;
    }
  } else {
    // Every entry above the boundary value, and the first `ties` entries equal to it (lower index first).
    const { value, ties } = boundary;
    let seen = 0;
    for (let j = 0; j < cols; j++) {
      const v = row[base + j];
      keep[j] = v > value || (v === value && seen++ < ties) ? 1 : 0;
    }
  }
  if (rule.endToken >= 0) keep[rule.endToken] = 1;
}

/** The last kept entry of the order: its value, and how many entries of that value are kept. */
interface Boundary {
  value: number;
  ties: number;
}

/** The boundary of the first k of `values[0, count)` in the order, or null when all of them are kept. */
function topKBoundary(values: Float64Array, count: number, k: number): Boundary | null {
  if (k >= count) return null;
  selectNth(values, 0, count, count - k);
  // values[count − k, count) now hold the k largest; the entries above the boundary value are among them.
  const value = values[count - k];
  let above = 0;
  for (let i = count - k + 1; i < count; i++) if (values[i] > value) above++;
  return { value, ties: k - above };
}

/**
 * The boundary of the shortest prefix of the order whose mass reaches p − NUCLEUS_SLACK, or null when
 * every candidate is kept. The prefix masses are summed in the order, so the result does not depend on
 * the chunks.
 */
function nucleusBoundary(values: Float64Array, count: number, p: number, logits: boolean): Boundary | null {
  if (count === 0 || p >= 1) return null;
  let max = -Infinity;
  for (let i = 0; i < count; i++) if (values[i] > max) max = values[i];
  let total = 0;
  for (let i = 0; i < count; i++) total += weight(values[i], max, logits);
  const reach = p - NUCLEUS_SLACK;
  // The largest values are sorted and walked in chunks of growing size: values[count − walked, count)
  // are sorted and their masses summed in the order into `before`; every other value is smaller.
  let walked = 0;
  let before = 0;
  for (let chunk = FIRST_CHUNK; ; chunk *= 2) {
    const next = Math.min(count, walked + chunk);
    if (next < count) selectNth(values, 0, count - walked, count - next);
    values.subarray(count - next, count - walked).sort();
    for (let i = count - walked - 1; i >= count - next; i--) {
      before += weight(values[i], max, logits);
      // The mass of values[i, count) reaches p: the entries below i are dropped.
      if (!(before / total < reach)) return boundaryFrom(values, i, count);
    }
    walked = next;
    if (walked === count) return null;
  }
}

/** Unnormalised mass of a value: e^(z − max) for a logit, p for a probability. */
function weight(v: number, max: number, logits: boolean): number {
  return logits ? Math.exp(v - max) : v;
}

/** Boundary when the ascending `sorted[first, end)` is kept. */
function boundaryFrom(sorted: Float64Array, first: number, end: number): Boundary {
  const value = sorted[first];
  let ties = 0;
  for (let i = first; i < end && sorted[i] === value; i++) ties++;
  return { value, ties };
}

/** Partially order buf[lo, hi) so that buf[nth] holds the value it would have sorted ascending. */
function selectNth(buf: Float64Array, lo: number, hi: number, nth: number): void {
  let l = lo;
  let r = hi - 1;
  while (r > l) {
    // Median of three as pivot; Hoare partition.
    const mid = (l + r) >> 1;
    const a = buf[l], b = buf[mid], c = buf[r];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = l;
    let j = r;
    while (i <= j) {
      while (buf[i] < pivot) i++;
      while (buf[j] > pivot) j--;
      if (i <= j) {
        const t = buf[i];
        buf[i] = buf[j];
        buf[j] = t;
        i++;
        j--;
      }
    }
    if (nth <= j) r = j;
    else if (nth >= i) l = i;
    else return;
  }
}
