/**
 * The edit-distance lookahead: a beam-search transform that steers a trie-constrained search towards the
 * names closest to a typed query under a noisy-channel model (docs/constrained.md, "Edit lookahead").
 *
 * Each live beam carries the column of an optimal-string-alignment DP of the query against its decoded
 * prefix (tokens → units through a units table). One wasm call per step advances every beam by its last
 * token and scores every allowed token of every beam: a token's value is the lower bound on the channel
 * cost of any name through it (exact once the name is complete), and its score becomes
 * `priorWeight · log p − (value − the beam's bound)`. Along a path the changes telescope, so a finished
 * hypothesis scores `priorWeight · log P(name) − cost(query, name)`, i.e. log P(query | name) up to the
 * prior's weight when the costs are negative log-probabilities of the edits.
 */
import type { Kernels, WasmInstance } from '../wasm/load.js';
import type { WorkerPool } from '../worker/pool.js';
import type { Transform, TransformContext } from './beam.js';
import { TokenTrie } from './trie.js';
import { checkBool, checkInt, checkNumber, checkOptions, show } from '../shared/validate.js';

/** Costs of the edits, in nats (−log probability of the edit); each finite and ≥ 0. */
export interface EditCosts {
  /** A query unit the name lacks (default 4). */
  insert?: number;
  /** A name unit the query lacks (default 4). */
  delete?: number;
  /** One unit typed for another (default 4). */
  substitute?: number;
  /** One or two units typed for a spelling listed in `opts.similar` with them, e.g. a keyboard neighbour (default 2.5). */
  similar?: number;
  /** Two adjacent units swapped (default 3). */
  transpose?: number;
  /** A unit inserted or deleted next to the same unit: a doubled or undoubled letter (default 2). */
  repeat?: number;
}

/** Token → units: a function of a one-token sequence (as `lcsLookahead` takes) or a table indexed by token. */
export type UnitsTable = ((tokens: Int32Array) => ArrayLike<number> | string) | ArrayLike<ArrayLike<number> | string>;

export interface EditLookaheadOptions {
  /**
   * The units (e.g. lower-cased characters) of each token; a string stands for its code points. Default:
   * each token is one unit. The end token has no units.
   */
  units?: UnitsTable;
  /** Edit costs (see `EditCosts`). */
  costs?: EditCosts;
  /**
   * Unordered pairs of spellings typed for one another at `costs.similar`, one edit whatever their
   * lengths: keyboard neighbours ("s", "d"), sound-alikes ("ph", "f"). Each side is one or two units: a
   * string (its code points), a unit, or an array of units.
   */
  similar?: Iterable<readonly [number | string | ArrayLike<number>, number | string | ArrayLike<number>]>;
  /** As-you-type: the query may stop anywhere in the name, the rest of the name is free (default false). */
  prefix?: boolean;
  /**
   * The query may leave out the end of a name from a separator unit on — its trailing words, "new york"
   * for "new york city" — as one edit of `cost` nats (finite, ≥ 0). `at`: the separator, a one-code-point
   * string or a unit. Default: not allowed.
   */
  truncate?: { at: number | string; cost: number };
  /** Tokens whose best reachable cost exceeds this get −∞ (≥ 0; default ∞: no pruning). */
  budget?: number;
  /** Weight λ of the model's log-probability against the channel cost (finite, ≥ 0; default 1). */
  priorWeight?: number;
  /**
   * Trie levels below each token that its value looks through, an integer ≥ 0 or ∞ (default ∞): the value
   * is the least bound over the token's descendants that many levels down (the exact cost for names
   * ending sooner), explored by branch and bound. With ∞ a token's value is the exact cost of its best
   * name whenever that is within the budget, so the beam knows from the first letter which prefixes lead
   * to close names; 0 is the DP column's own bound (cheapest, weakest).
   */
  depth?: number;
  /**
   * Nats (≥ 0, default 6): a token's value is exact only up to this much above its beam's own value
   * (and the budget); a token further away gets a lower bound, which ranks it behind the others anyway
   * and saves exploring its subtree.
   */
  window?: number;
}

const COST_NAMES = ['insert', 'delete', 'substitute', 'similar', 'transpose', 'repeat'] as const;
const DEFAULT_COSTS: Record<(typeof COST_NAMES)[number], number> = { insert: 4, delete: 4, substitute: 4, similar: 2.5, transpose: 3, repeat: 2 };

/** Units of every token of a trie: token t → units[offsets[t] … offsets[t+1]) (none for tokens not in it), and the set of all units. */
interface TokenUnits {
  offsets: Int32Array;
  units: Int32Array;
  all: Set<number>;
}
const EMPTY = new Int32Array(0);
const IDENTITY = {};
const unitsCache = new WeakMap<TokenTrie, WeakMap<object, TokenUnits>>();

/** Code points of a string, or the finite integer units of an array (i32 range). */
function toUnits(fn: string, what: string, v: unknown): Int32Array {
  if (typeof v === 'string') return Int32Array.from(Array.from(v, (ch) => ch.codePointAt(0)!));
  if (v === null || typeof v !== 'object' || typeof (v as { length?: unknown }).length !== 'number') {
    throw new TypeError(`${fn}: ${what} must be a string or an array of integer units, got ${show(v)}`);
  }
  const a = v as ArrayLike<unknown>;
  if (!Number.isInteger(a.length) || a.length < 0 || a.length > 2 ** 31 - 1) throw new RangeError(`${fn}: ${what}.length must be an integer in [0, 2^31 − 1], got ${a.length}`);
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 31) {
      throw new RangeError(`${fn}: ${what}[${i}] must be an integer unit in the int32 range, got ${show(x)}`);
    }
    out[i] = x;
  }
  return out;
}

/** The units of every token of `trie` (cached per trie and units table). */
function tokenUnits(fn: string, trie: TokenTrie, units: UnitsTable | undefined, endToken: number): TokenUnits {
  const key = units ?? IDENTITY;
  let perTrie = unitsCache.get(trie);
  if (!perTrie) unitsCache.set(trie, (perTrie = new WeakMap()));
  const cached = perTrie.get(key);
  if (cached) return cached;
  const byToken = new Map<number, Int32Array>();
  const all = new Set<number>();
  const { label } = trie.arrays();
  for (let n = 1; n < label.length; n++) {
    const t = label[n];
    if (byToken.has(t)) continue;
    let u: Int32Array;
    if (t === endToken) u = EMPTY;
    else if (units === undefined) u = Int32Array.of(t);
    else if (typeof units === 'function') u = toUnits(fn, `opts.units([${t}])`, units(Int32Array.of(t)));
    else {
      if (t >= units.length) {
        throw new RangeError(`${fn}: the trie holds token ${t} but opts.units covers tokens 0…${units.length - 1} (a trie built with other units?)`);
      }
      u = toUnits(fn, `opts.units[${t}]`, units[t]);
    }
    byToken.set(t, u);
    for (const x of u) all.add(x);
  }
  const offsets = new Int32Array(trie.maxToken() + 2);
  for (let t = 0; t + 1 < offsets.length; t++) offsets[t + 1] = offsets[t] + (byToken.get(t)?.length ?? 0);
  const flat = new Int32Array(Math.max(offsets[offsets.length - 1], 1));
  for (const [t, u] of byToken) flat.set(u, offsets[t]);
  const made = { offsets, units: flat, all };
  perTrie.set(key, made);
  return made;
}

function describeUnit(u: number): string {
  return u >= 0x20 && u <= 0x10ffff ? `'${String.fromCodePoint(u)}' (${u})` : String(u);
}

/** A query's units, checked against the units the trie's tokens produce. */
function queryUnits(fn: string, name: string, q: unknown, table: TokenUnits): Int32Array {
  const u = toUnits(fn, name, q);
  if (u.length === 0) throw new RangeError(`${fn}: ${name} is empty`);
  for (let i = 0; i < u.length; i++) {
    if (!table.all.has(u[i])) {
      throw new RangeError(`${fn}: ${name}[${i}] = ${describeUnit(u[i])} is not a unit of any token of the trie`);
    }
  }
  return u;
}

/**
 * The edit lookahead's API on one instance (the transform calls its kernel).
 */
export function editLookaheadApi(inst: WasmInstance) {
  return {
    /**
     * A `beamSearch` transform scoring names by `priorWeight · log P(name) − cost(query, name)`, the cost
     * being an optimal-string-alignment edit distance with the given costs (docs/constrained.md).
     * Use it with the trie the search is constrained by, `renormalize: false` and `lengthPenalty: 0`, so a
     * hypothesis's logProb is exactly that score.
     * @param trie - the search's constraint; it needs an end token (the complete names are scored exactly).
     * @param query - the typed query (a string = its code points, or units), or one per query of a
     *   multi-query search (`opts.queries` of beamSearch; row r uses query `ctx.query[r]`).
     * @throws TypeError / RangeError for a bad trie, an empty query, a query unit no token produces, a
     *   trie token the units table does not cover, or bad options.
     */
    editLookahead(trie: TokenTrie, query: string | ArrayLike<number> | ReadonlyArray<string | ArrayLike<number>>, opts?: EditLookaheadOptions): Transform {
      return editLookahead(inst, trie, query, opts);
    },
  };
}

/**
 * The pool's `editLookahead`: the transform runs in the caller's thread (as every transform of
 * `pool.beamSearch` does), on the pool's own instance there.
 */
/** The pool's editLookahead: the transform runs on the caller's thread, beside the search's callbacks. */
export const poolEditLookahead = async (
  pool: WorkerPool,
  trie: TokenTrie,
  query: string | ArrayLike<number> | ReadonlyArray<string | ArrayLike<number>>,
  opts?: EditLookaheadOptions,
): Promise<Transform> => editLookahead(pool.callerInstance(), trie, query, opts);

/** The most units on either side of a similar pair: the DP reaches back one name column. */
const MAX_SIMILAR_UNITS = 2;

/**
 * `opts.similar` as ordered pairs [typed, meant] of unit sequences, both ways round: each side a string
 * (its code points) or a unit, or an array of units; one or two units per side.
 */
function similarPairs(fn: string, similar: unknown): Array<[Int32Array, Int32Array]> {
  if (similar === undefined) return [];
  if (similar === null || typeof (similar as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError(`${fn}: opts.similar must be an iterable of pairs, got ${show(similar)}`);
  const out = new Map<string, [Int32Array, Int32Array]>();
  let i = 0;
  for (const pair of similar as Iterable<unknown>) {
    if (pair === null || typeof pair !== 'object' || (pair as ArrayLike<unknown>).length !== 2) throw new TypeError(`${fn}: opts.similar[${i}] must be a pair [a, b], got ${show(pair)}`);
    const [a, b] = [0, 1].map((s) => {
      const v = (pair as ArrayLike<unknown>)[s];
      const what = `opts.similar[${i}][${s}]`;
      const u = toUnits(fn, what, typeof v === 'number' ? [v] : v);
      if (u.length < 1 || u.length > MAX_SIMILAR_UNITS) throw new RangeError(`${fn}: ${what} must be one or two units, got ${show(v)}`);
      return u;
    });
    // Each ordered pair once: a pair listed twice or both ways round is one entry per direction.
    for (const [typed, meant] of [[a, b], [b, a]]) out.set(`${typed}|${meant}`, [typed, meant]);
    i++;
  }
  return [...out.values()];
}

/** `opts.truncate` as a unit and a cost (cost ∞: no truncation). */
function truncation(fn: string, truncate: unknown): { unit: number; cost: number } {
  if (truncate === undefined) return { unit: 0, cost: Infinity };
  const t = checkOptions(fn, truncate as { at?: unknown; cost?: unknown }, 'opts.truncate');
  const at = typeof t.at === 'number' ? [t.at] : t.at;
  const unit = toUnits(fn, 'opts.truncate.at', at);
  if (unit.length !== 1) throw new RangeError(`${fn}: opts.truncate.at must be one unit, got ${show(t.at)}`);
  return { unit: unit[0], cost: checkNumber(fn, 'opts.truncate.cost', t.cost, 0, Number.MAX_VALUE) };
}

/** Bytes per f64. */
const F64 = 8;

export function editLookahead(
  inst: WasmInstance, trie: TokenTrie, query: string | ArrayLike<number> | ReadonlyArray<string | ArrayLike<number>>, opts?: EditLookaheadOptions,
): Transform {
  const fn = 'editLookahead';
  if (!(trie instanceof TokenTrie)) throw new TypeError(`${fn}: trie must be a TokenTrie, got ${show(trie)}`);
  const o = checkOptions(fn, opts);
  const endToken = trie.endToken;
  if (endToken < 0) throw new RangeError(`${fn}: the trie has no end token; build it with { endToken } so that complete names are scored exactly`);
  const units = o.units;
  if (units !== undefined && typeof units !== 'function' && (units === null || typeof units !== 'object' || typeof (units as { length?: unknown }).length !== 'number')) {
    throw new TypeError(`${fn}: opts.units must be a function or a table indexed by token, got ${show(units)}`);
  }
  const costsIn = checkOptions(fn, o.costs, 'opts.costs');
  const costs = new Float64Array(COST_NAMES.map((k) => (costsIn[k] === undefined ? DEFAULT_COSTS[k] : checkNumber(fn, `opts.costs.${k}`, costsIn[k], 0, Number.MAX_VALUE))));
  const prefixMode = o.prefix === undefined ? false : checkBool(fn, 'opts.prefix', o.prefix);
  const truncate = truncation(fn, o.truncate);
  // ∞ (no pruning) is a valid budget, and a valid window.
  const budget = o.budget === undefined || o.budget === Infinity ? Infinity : checkNumber(fn, 'opts.budget', o.budget, 0);
  const priorWeight = o.priorWeight === undefined ? 1 : checkNumber(fn, 'opts.priorWeight', o.priorWeight, 0, Number.MAX_VALUE);
  // Deeper than the trie explores nothing more.
  const depth = o.depth === undefined || o.depth === Infinity ? trie.maxDepth : Math.min(checkInt(fn, 'opts.depth', o.depth, 0), trie.maxDepth);
  const window = o.window === undefined ? 6 : o.window === Infinity ? Infinity : checkNumber(fn, 'opts.window', o.window, 0);
  const table = tokenUnits(fn, trie, units, endToken);

  // Queries, concatenated, with their similar spellings per position (CSR).
  const many = Array.isArray(query) && query.length > 0 && typeof query[0] !== 'number';
  const list = (many ? (query as ReadonlyArray<unknown>) : [query]).map((q, k) => queryUnits(fn, many ? `query[${k}]` : 'query', q, table));
  const pairs = similarPairs(fn, o.similar);
  const queryStart = new Int32Array(list.length + 1);
  list.forEach((q, k) => (queryStart[k + 1] = queryStart[k] + q.length));
  const queryAll = new Int32Array(queryStart[list.length]);
  list.forEach((q, k) => queryAll.set(q, queryStart[k]));
  // Per query position p: the similar spellings whose query side ends at p (entries of four i32:
  // query length, name length, name units), in the order the kernel reads them.
  const simOffsets = new Int32Array(queryAll.length + 1);
  const simList: number[] = [];
  let position = 0;
  for (const q of list) {
    for (let i = 1; i <= q.length; i++) {
      for (const [typed, meant] of pairs) {
        if (typed.length <= i && typed.every((u, k) => q[i - typed.length + k] === u)) simList.push(typed.length, meant.length, meant[0], meant[1] ?? -1);
      }
      simOffsets[++position] = simList.length / 4;
    }
  }
  const sim = Int32Array.from(simList);
  const longest = Math.max(...list.map((q) => q.length));
  const stride = 2 * (longest + 1) + 2;

  // The state of a beam before any unit: D[i] = cost of typing query[0…i) into nothing.
  const initial = list.map((q) => {
    const s = new Float64Array(stride);
    for (let i = 1; i <= q.length; i++) s[i] = s[i - 1] + (i >= 2 && q[i - 1] === q[i - 2] ? Math.min(costs[0], costs[5]) : costs[0]);
    s.fill(Infinity, longest + 1, 2 * (longest + 1));
    s[stride - 2] = -1;
    // The cheapest early stop so far: in prefix mode, before the name's first unit.
    s[stride - 1] = prefixMode ? s[q.length] : Infinity;
    return s;
  });

  // The previous step: its rows' states and its tokens' values, which this step's rows extend and start from.
  let carried: { step: number; states: Float64Array; offsets: Int32Array; tokens: Int32Array; values: Float64Array } | null = null;

  return (ctx: TransformContext) => {
    if (trie.disposed) throw new TypeError(`${fn}: the trie was disposed`);
    if (!ctx.allowedOffsets || !ctx.allowedTokens) throw new TypeError(`${fn}: the search has no trie constraint`);
    const rows = ctx.rows;
    const s = ctx.step;
    const useCarried = carried !== null && s > 0 && carried.step === s - 1;
    const rowQuery = new Int32Array(rows);
    const rowStart = new Float64Array(rows * stride);
    // NaN: unknown (a search not seen from its start), the kernel computes it.
    const rowValues = new Float64Array(rows).fill(s === 0 ? 0 : NaN);
    for (let r = 0; r < rows; r++) {
      const k = list.length === 1 ? 0 : ctx.query[r];
      if (k >= list.length) throw new RangeError(`${fn}: row ${r} belongs to query ${k} but the lookahead has ${list.length} queries`);
      rowQuery[r] = k;
      if (useCarried) {
        const c = carried!;
        const p = ctx.parentRow[r];
        rowStart.set(c.states.subarray(p * stride, (p + 1) * stride), r * stride);
        const j = indexOf(c.tokens, c.offsets[p], c.offsets[p + 1], ctx.lastToken[r]);
        if (j >= 0) rowValues[r] = c.values[j];
      } else rowStart.set(initial[k], r * stride);
    }
    // Carried: each row extends its parent's state by the token appended since. Otherwise: the whole prefix.
    const rowTokenOffsets = Int32Array.from({ length: rows + 1 }, (_, r) => (useCarried ? r : r * s));
    const rowTokens = useCarried ? ctx.lastToken : ctx.prefixes;
    const width = ctx.allowedTokens.length;
    const home = trie.wasmHome(fn);

    const values = new Float64Array(width);
    const states = inst.mem.scoped((scope) => {
      // A trie of another instance (or a pool's) is copied in for the call: its node ids are the same.
      const arrays = home?.inst === inst ? null : trie.arrays();
      const ptrs = arrays ? { childStart: scope.copyIn(arrays.childStart, 'trie'), label: scope.copyIn(arrays.label, 'trie') } : trie.pointers(fn);
      const pScores = scope.copyIn(width ? ctx.scores : new Float64Array(1), 'scores');
      const pStates = scope.alloc(F64 * rows * stride, 'states');
      const pValues = scope.alloc(F64 * Math.max(width, 1), 'values');
      // Typed as the kernel's parameter list, so tsc checks the count and order against the export.
      const args: Parameters<Kernels['edit_lookahead_step']> = [
        scope.copyIn(queryAll, 'query'), scope.copyIn(queryStart, 'query starts'), scope.copyIn(simOffsets, 'similar offsets'),
        scope.copyIn(sim.length ? sim : new Int32Array(1), 'similar'), scope.copyIn(costs, 'costs'), prefixMode ? 1 : 0, truncate.unit, truncate.cost,
        scope.copyIn(table.offsets, 'token unit offsets'), scope.copyIn(table.units, 'token units'), endToken, ptrs.childStart, ptrs.label, depth,
        rows, scope.copyIn(ctx.nodes, 'nodes'), scope.copyIn(rowQuery, 'row queries'), stride, scope.copyIn(rowStart, 'row states'),
        scope.copyIn(rowTokenOffsets, 'row token offsets'), scope.copyIn(rowTokens.length ? rowTokens : new Int32Array(1), 'row tokens'),
        scope.copyIn(rowValues, 'row values'), window, scope.copyIn(ctx.allowedOffsets!, 'allowed offsets'), scope.copyIn(width ? ctx.allowedTokens! : new Int32Array(1), 'allowed tokens'),
        priorWeight, budget, pScores, pStates, pValues, scope.alloc(F64 * 3 * (depth + 1) * (longest + 1), 'scratch'),
      ];
      inst.run(fn, (k) => k.edit_lookahead_step(...args));
      ctx.scores.set(inst.mem.f64(pScores, width));
      values.set(inst.mem.f64(pValues, width));
      return inst.mem.f64(pStates, rows * stride).slice();
    });
    carried = { step: s, states, offsets: ctx.allowedOffsets.slice(), tokens: ctx.allowedTokens.slice(), values };
  };
}

/** Index of `token` in the ascending tokens[a…b), or −1. */
function indexOf(tokens: Int32Array, a: number, b: number, token: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid] < token) lo = mid + 1;
    else hi = mid;
  }
  return lo < b && tokens[lo] === token ? lo : -1;
}
