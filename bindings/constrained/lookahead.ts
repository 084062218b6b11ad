/**
 * The KgCLUE LCS lookahead (docs/constrained.md §3.6): a ready-made beam-search transform that rescores
 * the continuations of a prefix by the longest common subsequence of their best completion with the
 * question.
 */
import type { Transform, TransformContext } from './beam.js';
import { checkBool, checkFunction, checkInt, checkOptions, show } from '../shared/validate.js';
import { TokenTrie, TOKEN_LIMIT, checkTokens, entryTokens } from './trie.js';

export interface LcsLookaheadOptions {
  /** End token marking a complete subject (default: the trie's end token). */
  endToken?: number;
  /**
   * Apply to every row with ≥ 2 allowed tokens, not only after the end token (docs/constrained.md: KgCLUE applies the
   * lookahead once the subject is complete; `true` suits single-field entries such as names). Default false.
   */
  always?: boolean;
  /**
   * Map a token sequence to the units the LCS runs over (default: the tokens themselves), e.g. the
   * lower-cased characters of its text; `question` must then be in the same units.
   */
  units?: (tokens: Int32Array) => ArrayLike<number>;
  /** Skip rows whose node has more completions than this (default: no limit). */
  maxCompletions?: number;
}

/** Longest sequence `lcsLength` accepts: the DP row and the result are int32. */
const MAX_SEQUENCE_LENGTH = 2 ** 31 - 2;

/**
 * A sequence of finite numbers: an Array, a typed array (not BigInt) or an array-like object with an
 * integer `length`. Every element is read once here, so a bogus array-like (`{ length: 2 ** 40 }`) fails
 * at its first missing element instead of starting quadratic work.
 */
function checkSequence(fn: string, name: string, v: unknown): ArrayLike<number> {
  if (v === null || typeof v !== 'object' || v instanceof ArrayBuffer || v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array) {
    throw new TypeError(`${fn}: ${name} must be an array of numbers, got ${show(v)}`);
  }
  const n = (v as { length?: unknown }).length;
  if (typeof n !== 'number') throw new TypeError(`${fn}: ${name} must be an array of numbers, got ${show(v)}`);
  if (!Number.isInteger(n) || n < 0 || n > MAX_SEQUENCE_LENGTH) {
    throw new RangeError(`${fn}: ${name}.length must be an integer in [0, ${MAX_SEQUENCE_LENGTH}], got ${n}`);
  }
  const seq = v as ArrayLike<unknown>;
  for (let i = 0; i < n; i++) {
    const x = seq[i];
    if (typeof x !== 'number') throw new TypeError(`${fn}: ${name}[${i}] must be a number, got ${show(x)}`);
    if (!Number.isFinite(x)) throw new RangeError(`${fn}: ${name}[${i}] must be finite, got ${x}`);
  }
  return v as ArrayLike<number>;
}

/**
 * Length of the longest common subsequence of `a` and `b` (elements compared with `===`).
 * O(|a|·|b|) time, O(|b|) memory.
 * @param a - Array, typed array or array-like of finite numbers (length ≤ 2^31 − 2).
 * @param b - the same.
 * @throws TypeError when `a` or `b` is not an array of numbers; RangeError for a bad length or a
 *   non-finite element.
 */
export function lcsLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const fn = 'lcsLength';
  checkSequence(fn, 'a', a);
  checkSequence(fn, 'b', b);
  return lcs(a, b);
}

/** The LCS DP on validated sequences. */
function lcs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) return 0;
  const row = new Int32Array(b.length + 1);
  for (let i = 0; i < a.length; i++) {
    let diag = 0;
    const x = a[i];
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = x === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.length];
}

/**
 * The KgCLUE lookahead (docs/constrained.md §3.6): for a row whose prefix x contains the end token, each allowed token a
 * gets w[a] = max over the completions c through a of LCS(c, question) − LCS(x, question) + 1 (at least 1),
 * and its score s_a becomes s_a / w[a] (= log p_a^(1/w)). Completions come straight from the node's entry
 * range. Runs in the calling thread (also with a pool: the trie is read where it lives).
 */
export function lcsLookahead(trie: TokenTrie, question: ArrayLike<number>, opts?: LcsLookaheadOptions): Transform {
  const fn = 'lcsLookahead';
  if (!(trie instanceof TokenTrie)) throw new TypeError(`${fn}: trie must be a TokenTrie, got ${show(trie)}`);
  const o = checkOptions(fn, opts);
  const always = o.always === undefined ? false : checkBool(fn, 'opts.always', o.always);
  const units = checkFunction<(t: Int32Array) => ArrayLike<number>>(fn, 'opts.units', o.units, true);
  if (!units) checkTokens(fn, 'question', question);
  else checkSequence(fn, 'question', question);
  const unitsOf = units && ((t: Int32Array) => checkSequence(fn, 'the result of opts.units', units(t)));
  const endToken = o.endToken === undefined ? trie.endToken : checkInt(fn, 'opts.endToken', o.endToken, 0, TOKEN_LIMIT - 1);
  if (endToken < 0 && !always) throw new RangeError(`${fn}: the trie has no end token; pass opts.endToken or opts.always`);
  const maxCompletions = o.maxCompletions === undefined ? Infinity : checkInt(fn, 'opts.maxCompletions', o.maxCompletions, 1);
  const q = Array.from(question);
  // LCS(c, question) depends only on the entry: computed once per entry for the transform's lifetime;
  // an entry's completion tokens and units are shared by every lookahead over the same trie and units.
  const entryLcs = new Map<number, number>();
  const shared = sharedCompletions(trie, units);
  return (ctx: TransformContext) => {
    if (trie.disposed) throw new TypeError(`${fn}: the trie was disposed`);
    if (!ctx.allowedOffsets || !ctx.allowedTokens) return;
    const arrays = trie.arrays();
    const completion = (e: number) => {
      let c = shared.get(e);
      if (!c) {
        let tokens = entryTokens(arrays, e, trie.maxDepth);
        if (tokens.length > 0 && tokens[tokens.length - 1] === endToken) tokens = tokens.subarray(0, tokens.length - 1);
        c = { tokens, units: unitsOf ? unitsOf(tokens) : tokens };
        shared.set(e, c);
      }
      return c;
    };
    const s = ctx.step;
    for (let r = 0; r < ctx.rows; r++) {
      const a = ctx.allowedOffsets[r];
      const b = ctx.allowedOffsets[r + 1];
      if (b - a < 2) continue;
      const x = ctx.prefixes.subarray(r * s, (r + 1) * s);
      if (!always && !x.includes(endToken)) continue;
      const node = ctx.nodes[r];
      const lo = arrays.lo[node];
      const hi = arrays.hi[node];
      if (hi - lo > maxCompletions) continue;
      const lcs0 = lcs(unitsOf ? unitsOf(x) : x, q);
      const w = new Map<number, number>();
      for (let e = lo; e < hi; e++) {
        const c = completion(e);
        if (c.tokens.length <= s) continue;
        let lcsE = entryLcs.get(e);
        if (lcsE === undefined) entryLcs.set(e, (lcsE = lcs(c.units, q)));
        const t = c.tokens[s];
        const v = lcsE - lcs0 + 1;
        if (v > (w.get(t) ?? 1)) w.set(t, v);
      }
      for (let j = a; j < b; j++) {
        const wt = w.get(ctx.allowedTokens[j]);
        if (wt !== undefined) ctx.scores[j] /= wt;
      }
    }
  };
}

/**
 * Completion tokens (end token dropped) and their units, per entry, shared by the lookaheads over one trie
 * with one units function (weakly held: nothing outlives the trie or the function).
 */
type Completions = Map<number, { tokens: Int32Array; units: ArrayLike<number> }>;
const completionCache = new WeakMap<TokenTrie, { plain: Completions; byUnits: WeakMap<object, Completions> }>();
function sharedCompletions(trie: TokenTrie, units: object | undefined): Completions {
  let c = completionCache.get(trie);
  if (!c) completionCache.set(trie, (c = { plain: new Map(), byUnits: new WeakMap() }));
  if (!units) return c.plain;
  let m = c.byUnits.get(units);
  if (!m) c.byUnits.set(units, (m = new Map()));
  return m;
}

