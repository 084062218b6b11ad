/**
 * Trie-constrained beam search (docs/constrained.md §3) and the KgCLUE LCS lookahead transform.
 *
 * The loop runs in TypeScript, one step per round trip: build the batch of all live beams (all queries),
 * await the scorer, then one wasm pass computes each row's log-softmax statistics (max, log-sum-exp over
 * the vocabulary), gathers the allowed log-probabilities and selects, per query, the top K candidates
 * overall and the top K continuing ones with the canonical tie-break (logProb desc, row asc, token asc).
 * The finished pool and the next beams follow from those two short lists.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { Scope } from '../wasm/memory.js';
import { awaitCallback, checkTimeoutMs, stepYielder } from '../shared/callbacks.js';
import { throwIfAborted } from '../shared/errors.js';
import { checkBool, checkFunction, checkInt, checkNumber, checkOptions, checkSignal, show } from '../shared/validate.js';
import { TokenTrie, TOKEN_LIMIT, checkTokens, entryTokens, trieApi, trieFromBuffer } from './trie.js';
import { SubstringConstraint, makeSubstringConstraint, substringFromBuffer } from './substring.js';
import { lcsLookahead, type LcsLookaheadOptions } from './lookahead.js';
import { editLookaheadApi } from './edit-lookahead.js';

/** What the scorer receives each step: every live beam of every query, in rank order, grouped by query. */
export interface BeamBatch {
  /** Step index s: every row's prefix has exactly s tokens. */
  step: number;
  /** Number of live beams (rows of the batch). */
  rows: number;
  /** Query of each row. */
  query: Int32Array;
  /** Row of the previous batch this beam extends (−1 at step 0): reorder a KV cache with it. */
  parentRow: Int32Array;
  /** Token appended at step s−1 (−1 at step 0). */
  lastToken: Int32Array;
  /** rows×s generated tokens, row-major (no start token, no prompt). */
  prefixes: Int32Array;
  /** Constraint state per row: trie node id, an opaque substring-automaton state, or −1 if unconstrained. */
  nodes: Int32Array;
  /** CSR offsets (rows+1) into `allowedTokens`; null when unconstrained. */
  allowedOffsets: Int32Array | null;
  /** Allowed next tokens of each row, ascending; null when unconstrained. */
  allowedTokens: Int32Array | null;
}

/** Returns (or resolves to) rows×V logits, row-major. NaN counts as −∞. */
export type Scorer = (batch: BeamBatch) => Float32Array | Float64Array | Promise<Float32Array | Float64Array>;

/** What a transform sees: the batch plus the step's log-probabilities of the allowed tokens. */
export interface TransformContext extends BeamBatch {
  /**
   * f64 log-probabilities aligned with `allowedTokens` (rows×V, token order, when unconstrained); edit in
   * place, or return a replacement of the same length. Never add tokens: −∞ removes one.
   */
  scores: Float64Array;
  /** V. */
  vocabSize: number;
}

/** Rewrites `ctx.scores` in place (or returns new scores); may be async. */
export type Transform = (ctx: TransformContext) => void | Float64Array | Promise<void | Float64Array>;

export interface BeamSearchOptions {
  /** A trie or substring constraint (or the bytes of one); absent/null = unconstrained. */
  constraint?: TokenTrie | SubstringConstraint | ArrayBuffer | ArrayBufferView | null;
  /** Beam width K, integer ≥ 1. */
  beams: number;
  /** Most tokens per hypothesis (end token included), integer ≥ 1. */
  maxLength: number;
  /** Hypotheses returned per query, 1…K (default K). */
  numReturn?: number;
  /** α in score = logProb / length^α (finite; default 1.0). */
  lengthPenalty?: number;
  /** Renormalize over the allowed tokens (KgCLUE) instead of the full-vocabulary log-softmax (default false). */
  renormalize?: boolean;
  /** The end token (required); a trie built with another end token is refused. */
  endToken: number;
  /** Number of queries searched in lockstep with one scorer call per step (default 1). */
  queries?: number;
  /** V; inferred from the first scorer result when absent. */
  vocabSize?: number;
  /** Rewrites the step's scores before renormalization and selection (e.g. `gc.lcsLookahead`). */
  transform?: Transform;
  /**
   * Cancels the search: checked between steps and raced against every pending callback (→ `AbortError`);
   * with a signal the loop lets the event loop run at least every 8 ms, so a timer or message can abort it.
   */
  signal?: AbortSignal;
  /**
   * Milliseconds (finite, > 0) each scorer or transform call may take to settle; a call still pending
   * then rejects the search with a `TimeoutError` (memory is freed; the late result is ignored).
   * Default: no limit.
   */
  timeoutMs?: number;
  /** Called after every step; an async reporter is awaited, and its throw or rejection rejects the search. */
  onProgress?: (p: { step: number; live: number; finished: number }) => void;
}

/** A finished hypothesis. */
export interface Hypothesis {
  /** Generated tokens, end token included. */
  tokens: Int32Array;
  /** Sum of the step scores used for ranking. */
  logProb: number;
  /** logProb / tokens.length^α. */
  score: number;
  /** Trie entry id (trie constraints only): `trie.entry(entry)` equals `tokens`. */
  entry?: number;
}

// ------------------------------------------------------------------ the search

type Constraint =
  | { kind: 'none' }
  | { kind: 'trie'; trie: TokenTrie; temp: boolean }
  | { kind: 'substring'; sc: SubstringConstraint };

interface Beam {
  prefix: Int32Array;
  logProb: number;
  node: number;
  /** Row in the batch this beam was sent in (its children's parentRow). */
  row: number;
}

interface QueryState {
  beams: Beam[];
  pool: Hypothesis[];
}

const REC = 32;
const MAX_TOKENS_PER_BATCH = 2 ** 31 - 1;

function lexCompare(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Keep the best `limit` hypotheses: score desc, then tokens lexicographic asc. */
function addToPool(pool: Hypothesis[], h: Hypothesis, limit: number): void {
  let pos = pool.length;
  while (pos > 0) {
    const p = pool[pos - 1];
    if (p.score > h.score || (p.score === h.score && lexCompare(p.tokens, h.tokens) < 0)) break;
    pos--;
  }
  if (pos >= limit) return;
  pool.splice(pos, 0, h);
  if (pool.length > limit) pool.pop();
}

function appendToken(prefix: Int32Array, tok: number): Int32Array {
  const out = new Int32Array(prefix.length + 1);
  out.set(prefix);
  out[prefix.length] = tok;
  return out;
}

export function beamApi(inst: WasmInstance) {
  const tries = trieApi(inst);

  function resolveConstraint(fn: string, c: unknown, endToken: number): Constraint {
    if (c === undefined || c === null) return { kind: 'none' };
    if (c instanceof SubstringConstraint) {
      if (c.disposed) throw new TypeError(`${fn}: opts.constraint was disposed`);
      if (c.endToken !== endToken) throw new RangeError(`${fn}: the substring constraint's end token ${c.endToken} differs from opts.endToken ${endToken}`);
      return { kind: 'substring', sc: c };
    }
    if (c instanceof TokenTrie) {
      if (c.disposed) throw new TypeError(`${fn}: opts.constraint was disposed`);
      if (c.endToken >= 0 && c.endToken !== endToken) throw new RangeError(`${fn}: the trie was built with end token ${c.endToken} but opts.endToken is ${endToken}`);
      const home = c.wasmHome(fn);
      if (home && home.inst === inst) return { kind: 'trie', trie: c, temp: false };
      // Another instance's memory or plain bytes (a pool's trie): copied into this instance for the search.
      return { kind: 'trie', trie: tries.loadTrie(c.serialize()), temp: true };
    }
    if (c instanceof ArrayBuffer || ArrayBuffer.isView(c)) {
      const bytes = ArrayBuffer.isView(c) ? new Uint8Array(c.buffer, c.byteOffset, c.byteLength) : new Uint8Array(c);
      const magic = bytes.byteLength >= 4 ? String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) : '';
      if (magic === 'GCSA') return resolveConstraint(fn, substringFromBuffer(bytes, fn), endToken);
      if (magic !== 'GCTR') throw new RangeError(`${fn}: opts.constraint bytes are neither a serialized trie nor a substring constraint`);
      const header = new DataView(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 32));
      const trieEnd = bytes.byteLength >= 28 ? header.getInt32(24, true) : -1;
      if (trieEnd >= 0 && trieEnd !== endToken) throw new RangeError(`${fn}: the trie was built with end token ${trieEnd} but opts.endToken is ${endToken}`);
      return { kind: 'trie', trie: tries.loadTrie(bytes), temp: true };
    }
    throw new TypeError(`${fn}: opts.constraint must be a TokenTrie, a SubstringConstraint or the bytes of one, got ${show(c)}`);
  }

  /**
   * Beam search with an optional trie or substring constraint (docs/constrained.md §3): the finished
   * pool takes a finishing candidate only if it ranks < K among all candidates, the beams are refilled
   * to K from the continuing ones, candidates with −∞/NaN scores or outside the constraint never enter,
   * ties break by row then token. Float64 throughout.
   *
   * @param scorer - gets every live beam of every query as one batch (see `BeamBatch`) and returns, or
   *   resolves to, rows×V logits (Float32Array or Float64Array). It may be async (a model in a worker).
   * @returns finished hypotheses by score desc then tokens asc, at most `numReturn` (per query when
   *   `queries` > 1). Beams still live at `maxLength` are discarded.
   * @throws (rejects) TypeError / RangeError for bad options, checked before any scorer or wasm call;
   *   RangeError when the scorer returns the wrong length, changes V, or V does not cover an allowed
   *   token; the scorer's, transform's or onProgress's own error; `AbortError` when `signal` aborts
   *   (between steps, or while a callback is pending); `TimeoutError` when a scorer or transform call
   *   has not settled after `opts.timeoutMs` ms. Memory is freed in every case.
   */
  async function beamSearch(scorer: Scorer, opts: BeamSearchOptions): Promise<Hypothesis[] | Hypothesis[][]> {
    const fn = 'beamSearch';
    checkFunction(fn, 'scorer', scorer);
    if (opts === undefined) throw new TypeError(`${fn}: opts is required ({ beams, maxLength, endToken })`);
    const o = checkOptions(fn, opts);
    if (o.beams === undefined) throw new TypeError(`${fn}: opts.beams is required`);
    const K = checkInt(fn, 'opts.beams', o.beams, 1, 1 << 20);
    if (o.maxLength === undefined) throw new TypeError(`${fn}: opts.maxLength is required`);
    const maxLength = checkInt(fn, 'opts.maxLength', o.maxLength, 1);
    const numReturn = o.numReturn === undefined ? K : checkInt(fn, 'opts.numReturn', o.numReturn, 1, K);
    const alpha = o.lengthPenalty === undefined ? 1 : checkNumber(fn, 'opts.lengthPenalty', o.lengthPenalty);
    const renormalize = o.renormalize === undefined ? false : checkBool(fn, 'opts.renormalize', o.renormalize);
    if (o.endToken === undefined) throw new TypeError(`${fn}: opts.endToken is required`);
    const E = checkInt(fn, 'opts.endToken', o.endToken, 0, TOKEN_LIMIT - 1);
    const Q = o.queries === undefined ? 1 : checkInt(fn, 'opts.queries', o.queries, 1, 1 << 20);
    let V = o.vocabSize === undefined ? 0 : checkInt(fn, 'opts.vocabSize', o.vocabSize, 1);
    const transform = checkFunction<Transform>(fn, 'opts.transform', o.transform, true);
    const signal = checkSignal(fn, o.signal);
    const onProgress = checkFunction<NonNullable<BeamSearchOptions['onProgress']>>(fn, 'opts.onProgress', o.onProgress, true);
    const timeoutMs = checkTimeoutMs(fn, 'opts.timeoutMs', o.timeoutMs);
    if (o.constraint instanceof TokenTrie && V > 0 && o.constraint.maxToken() >= V) {
      throw new RangeError(`${fn}: the trie holds token ${o.constraint.maxToken()} but opts.vocabSize is ${V}`);
    }
    throwIfAborted(signal, fn);

    const con = resolveConstraint(fn, o.constraint, E);
    // The memory the constraint and each step's buffers live in; a reset while awaiting discards it.
    const mem = inst.mem;
    const between = stepYielder(fn, signal);
    try {
      const states: QueryState[] = [];
      for (let q = 0; q < Q; q++) states.push({ beams: [{ prefix: new Int32Array(0), logProb: 0, node: con.kind === 'none' ? -1 : 0, row: -1 }], pool: [] });
      // An empty trie admits nothing: no scorer call.
      if (con.kind === 'trie' && con.trie.numNodes === 1) return Q === 1 ? [] : states.map(() => []);

      // Every step increment is ≤ 0 unless a transform may raise scores without renormalization.
      const canStopEarly = renormalize || !transform;
      for (let step = 0; step < maxLength; step++) {
        // ---- the batch: live beams of query 0, 1, … in rank order
        const rowsOf: Array<[q: number, beam: Beam]> = [];
        for (let q = 0; q < Q; q++) for (const b of states[q].beams) rowsOf.push([q, b]);
        if (rowsOf.length === 0) break;
        await between();
        inst.checkNotResetSince(fn, mem);
        const batch = makeBatch(con, rowsOf, step);
        const rows = batch.rows;
        // Raced against the signal and the time limit: a scorer that never settles cannot hang the search.
        const raw = await awaitCallback(scorer(batch), { fn, what: 'the scorer', signal, timeoutMs });
        inst.checkNotResetSince(fn, mem);
        throwIfAborted(signal, fn);
        if (!(raw instanceof Float32Array) && !(raw instanceof Float64Array)) {
          throw new TypeError(`${fn}: the scorer must return a Float32Array or Float64Array, got ${show(raw)}`);
        }
        if (V === 0) {
          if (raw.length === 0 || raw.length % rows !== 0) {
            throw new RangeError(`${fn}: the scorer returned ${raw.length} logits for ${rows} rows; expected rows × V`);
          }
          V = raw.length / rows;
        } else if (raw.length !== rows * V) {
          throw new RangeError(`${fn}: the scorer returned ${raw.length} logits at step ${step}; expected ${rows} rows × V ${V} = ${rows * V}`);
        }
        if (rows * V > MAX_TOKENS_PER_BATCH) throw new RangeError(`${fn}: rows × V = ${rows * V} exceeds 2^31 − 1`);
        if (batch.allowedTokens) {
          let maxAllowed = -1;
          for (let i = 0; i < batch.allowedTokens.length; i++) if (batch.allowedTokens[i] > maxAllowed) maxAllowed = batch.allowedTokens[i];
          if (maxAllowed >= V) throw new RangeError(`${fn}: token ${maxAllowed} is allowed at step ${step} but the scorer's vocabulary has V = ${V}`);
        }

        const scope = inst.mem.openScope();
        try {
          const lists = await runStep(scope, con, batch, raw, V, K, E, renormalize, transform, rowsOf, Q, signal, timeoutMs);
          // ---- pool and next beams, per query
          for (let q = 0; q < Q; q++) {
            const st = states[q];
            const l = lists[q];
            if (!l) {
              st.beams = [];
              continue;
            }
            for (const c of l.all) {
              if (!(c.flags & 1)) continue;
              const tokens = appendToken(rowsOf[c.row][1].prefix, c.token);
              const h: Hypothesis = { tokens, logProb: c.logProb, score: alpha === 0 ? c.logProb : c.logProb / Math.pow(tokens.length, alpha) };
              if (con.kind === 'trie') h.entry = con.trie.entryRange(c.child)[0];
              addToPool(st.pool, h, numReturn);
            }
            st.beams = l.cont.map((c) => ({
              prefix: appendToken(rowsOf[c.row][1].prefix, c.token),
              logProb: c.logProb,
              node: con.kind === 'trie' ? c.child : con.kind === 'substring' ? con.sc.next(rowsOf[c.row][1].node, c.token) : -1,
              row: c.row,
            }));
            if (canStopEarly && st.pool.length >= numReturn) {
              // Result-preserving early exit (docs/constrained.md §3.4): increments are ≤ 0, so no live beam can still
              // reach the worst pooled score.
              const worst = st.pool[st.pool.length - 1].score;
              const hopeless = st.beams.every((b) => {
                const len = b.prefix.length;
                const best = Math.max(b.logProb / Math.pow(len + 1, alpha), b.logProb / Math.pow(maxLength, alpha));
                return best < worst;
              });
              if (hopeless) st.beams = [];
            }
          }
        } finally {
          scope.close();
        }
        if (onProgress) {
          let live = 0;
          let finished = 0;
          for (const st of states) {
            live += st.beams.length;
            finished += st.pool.length;
          }
          // Awaited (and raced against the signal): an async reporter's rejection, or a proxied one's
          // throw, rejects the search instead of escaping unhandled (which would kill a pool worker).
          await awaitCallback(onProgress({ step, live, finished }), { fn, what: 'opts.onProgress', signal });
        }
      }
      const results = states.map((st) => st.pool);
      return Q === 1 ? results[0] : results;
    } finally {
      if (con.kind === 'trie' && con.temp) con.trie.dispose();
    }
  }

  function makeBatch(con: Constraint, rowsOf: Array<[number, Beam]>, step: number): BeamBatch {
    const rows = rowsOf.length;
    const query = new Int32Array(rows);
    const parentRow = new Int32Array(rows);
    const lastToken = new Int32Array(rows);
    const prefixes = new Int32Array(rows * step);
    const nodes = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const [q, b] = rowsOf[r];
      query[r] = q;
      parentRow[r] = b.row;
      lastToken[r] = step > 0 ? b.prefix[step - 1] : -1;
      prefixes.set(b.prefix, r * step);
      nodes[r] = b.node;
    }
    let allowedOffsets: Int32Array | null = null;
    let allowedTokens: Int32Array | null = null;
    if (con.kind === 'trie') {
      const { label, childStart } = con.trie.arrays();
      allowedOffsets = new Int32Array(rows + 1);
      for (let r = 0; r < rows; r++) allowedOffsets[r + 1] = allowedOffsets[r] + childStart[nodes[r] + 1] - childStart[nodes[r]];
      allowedTokens = new Int32Array(allowedOffsets[rows]);
      for (let r = 0; r < rows; r++) allowedTokens.set(label.subarray(childStart[nodes[r]], childStart[nodes[r] + 1]), allowedOffsets[r]);
    } else if (con.kind === 'substring') {
      const sets = Array.from(nodes, (n) => con.sc.allowed(n));
      allowedOffsets = new Int32Array(rows + 1);
      for (let r = 0; r < rows; r++) allowedOffsets[r + 1] = allowedOffsets[r] + sets[r].length;
      allowedTokens = new Int32Array(allowedOffsets[rows]);
      sets.forEach((s, r) => allowedTokens!.set(s, allowedOffsets![r]));
    }
    return { step, rows, query, parentRow, lastToken, prefixes, nodes, allowedOffsets, allowedTokens };
  }

  interface Cand {
    logProb: number;
    row: number;
    token: number;
    child: number;
    flags: number;
  }

  /** One step in wasm: statistics, gather (+ transform, renormalize), per-query selection. */
  async function runStep(
    scope: Scope, con: Constraint, batch: BeamBatch, raw: Float32Array | Float64Array, V: number, K: number, E: number,
    renormalize: boolean, transform: Transform | undefined, rowsOf: Array<[number, Beam]>, Q: number,
    signal: AbortSignal | undefined, timeoutMs: number | undefined,
  ): Promise<Array<{ all: Cand[]; cont: Cand[] } | undefined>> {
    const fn = 'beamSearch';
    const rows = batch.rows;
    const f64 = raw instanceof Float64Array;
    const sfx = f64 ? 'f64' : 'f32';
    const logits = scope.copyIn(raw, 'logits');
    const rowMax = scope.alloc(8 * rows, 'row max');
    const rowLogSum = scope.alloc(8 * rows, 'row log-sum');
    const beamLP = scope.alloc(8 * rows, 'beam logProb');
    {
      const lp = inst.mem.f64(beamLP, rows);
      for (let r = 0; r < rows; r++) lp[r] = rowsOf[r][1].logProb;
    }
    const constrained = batch.allowedTokens !== null;
    const offsets = constrained ? scope.copyIn(batch.allowedOffsets!, 'allowed offsets') : 0;
    const tokens = constrained ? scope.copyIn(batch.allowedTokens!.length ? batch.allowedTokens! : new Int32Array(1), 'allowed tokens') : 0;
    const nodes = con.kind === 'trie' ? scope.copyIn(batch.nodes, 'nodes') : 0;
    const outAll = scope.alloc(REC * K, 'selection');
    const outCont = scope.alloc(REC * K, 'selection');
    const counts = scope.alloc(8, 'counts');
    inst.run(fn, (k) => k[`beam_row_stats_${sfx}`](logits, rows, V, rowMax, rowLogSum));

    let src = logits;
    let mode = 3;
    let selectSfx: 'f32' | 'f64' = sfx;
    if (transform || renormalize) {
      const width = constrained ? batch.allowedTokens!.length : rows * V;
      const scores = scope.alloc(8 * width, 'scores');
      inst.run(fn, (k) => k[`beam_gather_${sfx}`](logits, V, rows, offsets, tokens, rowMax, rowLogSum, scores));
      if (transform) {
        const ctx: TransformContext = { ...batch, scores: inst.mem.f64(scores, width).slice(), vocabSize: V };
        const returned = await awaitCallback(transform(ctx), { fn, what: 'opts.transform', signal, timeoutMs });
        inst.checkNotResetSince(fn, scope.mem);
        let next = ctx.scores;
        if (returned !== undefined) {
          if (!(returned instanceof Float64Array) || returned.length !== width) {
            throw new RangeError(`${fn}: the transform returned ${show(returned)}${ArrayBuffer.isView(returned) ? ` of length ${(returned as Float64Array).length}` : ''}; expected a Float64Array of ${width} scores or nothing`);
          }
          next = returned;
        }
        inst.mem.f64(scores, width).set(next);
      }
      if (renormalize) inst.run(fn, (k) => k.beam_renormalize(scores, rows, offsets, V));
      src = scores;
      mode = 0;
      selectSfx = 'f64';
    }

    const trieP = con.kind === 'trie' ? con.trie.pointers(fn) : undefined;
    const lists: Array<{ all: Cand[]; cont: Cand[] } | undefined> = new Array(Q);
    let r0 = 0;
    while (r0 < rows) {
      const q = rowsOf[r0][0];
      let r1 = r0;
      while (r1 < rows && rowsOf[r1][0] === q) r1++;
      inst.run(fn, (k) =>
        k[`beam_select_${selectSfx}`](
          src, mode, V, r0, r1, offsets, tokens, rowMax, rowLogSum, beamLP, E,
          nodes, trieP?.childStart ?? 0, trieP?.lo ?? 0, trieP?.hi ?? 0, trieP?.entryNode ?? 0,
          K, outAll, outCont, counts,
        ),
      );
      const c = inst.mem.i32(counts, 2);
      lists[q] = { all: readCands(outAll, c[0]), cont: readCands(outCont, c[1]) };
      r0 = r1;
    }
    return lists;
  }

  function readCands(ptr: number, n: number): Cand[] {
    const out: Cand[] = [];
    const dv = new DataView(inst.mem.buffer, ptr, REC * Math.max(n, 1));
    for (let i = 0; i < n; i++) {
      const o = i * REC;
      out.push({
        logProb: dv.getFloat64(o, true),
        row: dv.getInt32(o + 12, true),
        token: dv.getInt32(o + 16, true),
        child: dv.getInt32(o + 20, true),
        flags: dv.getInt32(o + 24, true),
      });
    }
    return out;
  }

  return {
    beamSearch: beamSearch as {
      (scorer: Scorer, opts: BeamSearchOptions & { queries?: 1 }): Promise<Hypothesis[]>;
      (scorer: Scorer, opts: BeamSearchOptions): Promise<Hypothesis[] | Hypothesis[][]>;
    },

    /**
     * The KgCLUE LCS lookahead as a ready-made `transform` for `beamSearch` (docs/constrained.md §3.6).
     * @param trie - the constraint the search uses (the transform reads its entry ranges).
     * @param question - the tokens (or `opts.units`) the completions are compared with.
     */
    lcsLookahead(trie: TokenTrie, question: ArrayLike<number>, opts?: LcsLookaheadOptions): Transform {
      return lcsLookahead(trie, question, opts);
    },
  };
}

/**
 * The constrained-decoding API of one instance: `buildTrie`, `buildTrieBuffer`, `loadTrie` (trie.ts),
 * `substringConstraint` (substring.ts), `beamSearch`, `lcsLookahead` (lookahead.ts) and `editLookahead`
 * (edit-lookahead.ts).
 */
export function constrainedApi(inst: WasmInstance) {
  return {
    ...trieApi(inst),
    /**
     * A constraint admitting exactly `x + [endToken]`, x a contiguous (possibly empty) substring of one
     * passage (docs/constrained.md §2), for extractive answers. Built as a generalized suffix automaton
     * (< 2n states); usable as `beamSearch`'s `constraint`.
     * @throws TypeError / RangeError for bad tokens, a missing endToken, or a passage containing it.
     */
    substringConstraint(passages: ArrayLike<number>[], opts: { endToken: number }): SubstringConstraint {
      return makeSubstringConstraint(passages, opts);
    },
    ...beamApi(inst),
    ...editLookaheadApi(inst),
  };
}

export { TokenTrie, SubstringConstraint, trieFromBuffer };
export type { TrieOptions, TrieArrays } from './trie.js';
