/**
 * Per-function fuzz cases for the reliability suite: for every public function, a generator of random
 * valid arguments (with a light correctness check of the result), an optional function-specific
 * corruption (bad callbacks), and a shape check for any result a call returns. Shared by the fuzz,
 * concurrency and determinism tests. Kept small-sized so 10 000 calls per function stay cheap.
 */
import { noiseSchedule, timesteps, samplerPlan, gaussianMixture, lcsLength, entropyInvariantScale, trainKneserNey, KneserNeyModel, TokenTrie, SubstringConstraint, denseLayout, adamState, type Gencore, type Pool } from '../../bindings/index.js';
import { refGemm } from '../helpers/reference.js';
import { Rng, floats, stochastic, tokenSeqs, corruptArgs } from './gen.js';

/** The error a test callback throws on purpose: it must reach the caller unchanged (by name). */
export class CallbackFault extends Error {
  constructor(message = 'callback failed on purpose') {
    super(message);
    this.name = 'CallbackFault';
  }
}

/** What a case may use: the API under test (sync or pool) and fixtures built once per block. */
export interface CaseContext {
  api: Gencore | Pool;
  pool: boolean;
  /** A trie built in `api` (for beam search constraints and lcsLookahead). */
  trie: TokenTrie;
  trieEnd: number;
  trieVocab: number;
  /** Bytes of that trie (loadTrie input). */
  trieBytes: ArrayBuffer;
  substring: SubstringConstraint;
}

export interface Case {
  args: unknown[];
  /** Throws when a result of a valid call is wrong (beyond its shape). */
  check?: (result: unknown) => void;
}

export interface FnCases {
  /** The method name (on gc / pool) or plain export. */
  name: string;
  /** Plain export (no wasm, not a pool method). */
  plain?: (...args: unknown[]) => unknown;
  valid(rng: Rng, ctx: CaseContext): Case;
  /** Function-specific corruption (e.g. bad callbacks); the generic one is used otherwise. */
  corrupt?(rng: Rng, ctx: CaseContext, valid: Case): unknown[] | undefined;
  /** Throws if a returned value is not of the documented shape for the given arguments. */
  shape(result: unknown, args: unknown[], ctx: CaseContext): void;
  /** Free what a result holds (tries). */
  release?(result: unknown): void;
  /** Arguments whose valid-but-huge work would make a CI run slow (skipped, counted). */
  tooBig?(args: unknown[]): boolean;
}

/** An integer above `limit` that a size check would still accept (valid, but expensive). */
const validBig = (v: unknown, limit: number): boolean => typeof v === 'number' && Number.isInteger(v) && v > limit && v < 2 ** 31;

function fail(msg: string): never {
  throw new Error(msg);
}
const isF32 = (v: unknown): v is Float32Array => v instanceof Float32Array;
const isF64 = (v: unknown): v is Float64Array => v instanceof Float64Array;
const isFloat = (v: unknown): v is Float32Array | Float64Array => isF32(v) || isF64(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const optsOf = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

function expectTyped(v: unknown, ctor: Function, length: number, what: string): void {
  if (!(v instanceof ctor)) fail(`${what}: expected a ${ctor.name}, got ${Object.prototype.toString.call(v)}`);
  if ((v as ArrayLike<number>).length !== length) fail(`${what}: expected length ${length}, got ${(v as ArrayLike<number>).length}`);
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rel * (scale + 1))) fail(`${what}: [${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

/** Deterministic logits for a beam batch: a hash of (seed, prefix, token), independent of row order. */
export function hashLogits(batch: { rows: number; step: number; prefixes: Int32Array }, V: number, seed: number, ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): Float32Array | Float64Array {
  const out = new ctor(batch.rows * V);
  for (let r = 0; r < batch.rows; r++) {
    let h = 0x811c9dc5 ^ seed;
    for (let i = 0; i < batch.step; i++) h = Math.imul(h ^ batch.prefixes[r * batch.step + i], 0x01000193);
    for (let v = 0; v < V; v++) {
      let x = Math.imul(h ^ (v * 0x9e3779b1), 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      x ^= x >>> 16;
      out[r * V + v] = ((x >>> 0) / 4294967296) * 6 - 3;
    }
  }
  return out;
}

const SCHEDULES = new Map<string, ReturnType<typeof noiseSchedule>>();
/** A small cached schedule (T training steps). */
export function schedule(kind: 'linear' | 'scaled_linear' | 'cosine', T: number): ReturnType<typeof noiseSchedule> {
  const key = `${kind}:${T}`;
  let s = SCHEDULES.get(key);
  if (!s) SCHEDULES.set(key, (s = noiseSchedule({ kind, steps: T })));
  return s;
}

function validSchedule(rng: Rng) {
  return schedule(rng.pick(['linear', 'scaled_linear', 'cosine'] as const), rng.pick([10, 20, 50, 100]));
}

/** A simple ε-predictor (a linear map) so sampling is cheap and deterministic. */
export function linearDenoiser(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.3 * x[i];
  return out;
}

/** Bad callbacks: wrong kind, wrong length, non-finite values, throwing, rejecting. */
function badCallback(rng: Rng, good: (...a: never[]) => unknown): (...a: never[]) => unknown {
  return rng.pick([
    () => () => null,
    () => () => 'logits',
    () => () => new Int32Array(4),
    () => (...a: never[]) => {
      const r = good(...a) as Float32Array;
      return r.subarray(0, Math.max(0, r.length - 1));
    },
    () => (...a: never[]) => {
      const r = (good(...a) as Float32Array).slice();
      r[0] = rng.pick([NaN, Infinity, -Infinity]);
      return r;
    },
    () => () => {
      throw new CallbackFault();
    },
    () => async () => {
      throw new CallbackFault('async callback failed on purpose');
    },
    () => async (...a: never[]) => good(...a),
  ])();
}

const ALL: FnCases[] = [];

// ------------------------------------------------------------------ linear algebra

ALL.push({
  name: 'matmul',
  valid(rng) {
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const m = rng.int(0, 9);
    const k = rng.int(0, 9);
    const n = rng.int(0, 9);
    const transA = rng.bool(0.3);
    const transB = rng.bool(0.3);
    const a = floats(rng, ctor, m * k);
    const b = floats(rng, ctor, k * n);
    const opts: Record<string, unknown> = { transA, transB };
    let c0: Float32Array | Float64Array | undefined;
    if (rng.bool(0.3)) {
      opts.alpha = rng.float(-2, 2);
      opts.beta = rng.float(-2, 2);
      c0 = floats(rng, ctor, m * n);
      opts.out = c0.slice();
    }
    return {
      args: [a, b, m, k, n, opts],
      check(res) {
        const want = refGemm(a, b, c0, m, k, n, opts as { transA: boolean; transB: boolean; alpha?: number; beta?: number });
        close(res as Float32Array, want, ctor === Float32Array ? 1e-5 : 1e-12, 'matmul');
      },
    };
  },
  shape(res, args) {
    const [a, , m, , n, o] = args as [Float32Array, unknown, number, number, number, Record<string, unknown> | undefined];
    expectTyped(res, a.constructor, m * n, 'matmul');
    if (o?.out !== undefined && res !== o.out) fail('matmul: opts.out was given but not returned');
  },
  // k = 0 with empty operands and a huge m·n is valid: C is m·n zeros (up to 4 GB).
  tooBig: (args) => num(args[2]) * num(args[4]) > 1e6,
});

ALL.push({
  name: 'solve',
  valid(rng) {
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const n = rng.int(0, 8);
    const nrhs = rng.int(0, 3);
    const a = floats(rng, ctor, n * n);
    for (let i = 0; i < n; i++) a[i * n + i] += n + 1; // diagonally dominant: well conditioned
    const b = floats(rng, ctor, n * nrhs);
    return {
      args: [a, b, n, nrhs],
      check(res) {
        const x = res as Float32Array;
        const ax = refGemm(a, x, undefined, n, n, nrhs);
        close(ax, b, ctor === Float32Array ? 1e-5 : 1e-12, 'solve residual');
      },
    };
  },
  shape(res, args) {
    const [, b, n, nrhs] = args as [unknown, Float32Array, number, number];
    expectTyped(res, b.constructor, n * nrhs, 'solve');
  },
});

ALL.push({
  name: 'pinv',
  valid(rng) {
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const rows = rng.int(0, 7);
    const cols = rng.int(0, 7);
    const opts: Record<string, unknown> = {};
    if (rng.bool(0.5)) opts.iterations = rng.int(0, 12);
    if (rng.bool(0.2)) opts.out = new ctor(rows * cols);
    return { args: [floats(rng, ctor, rows * cols), rows, cols, opts] };
  },
  shape(res, args) {
    const [a, rows, cols] = args as [Float32Array, number, number];
    expectTyped(res, a.constructor, rows * cols, 'pinv');
    const z = res as Float32Array;
    for (let i = 0; i < z.length; i++) if (!Number.isFinite(z[i])) fail('pinv: non-finite entry for a finite input');
  },
});

// ------------------------------------------------------------------ attention

/** Exact softmax attention in float64 (heads×n×dv). */
function refAttention(q: Float32Array, k: Float32Array, v: Float32Array, n: number, nk: number, d: number, dv: number, heads: number, scale: number, mask?: Uint8Array): Float64Array {
  const out = new Float64Array(heads * n * dv);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const s = new Float64Array(nk);
      let mx = -Infinity;
      for (let j = 0; j < nk; j++) {
        const allowed = !mask || mask[mask.length === nk ? j : h * nk + j] !== 0;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(h * n + i) * d + c] * k[(h * nk + j) * d + c];
        s[j] = allowed ? dot * scale : -Infinity;
        mx = Math.max(mx, s[j]);
      }
      if (mx === -Infinity) continue;
      let z = 0;
      for (let j = 0; j < nk; j++) z += (s[j] = Math.exp(s[j] - mx));
      for (let j = 0; j < nk; j++) for (let c = 0; c < dv; c++) out[(h * n + i) * dv + c] += (s[j] / z) * v[(h * nk + j) * dv + c];
    }
  }
  return out;
}

ALL.push({
  name: 'attention',
  valid(rng) {
    const n = rng.int(0, 6);
    const nk = rng.bool(0.5) ? n : rng.int(0, 6);
    const d = rng.int(1, 5);
    const dv = rng.bool(0.5) ? d : rng.int(1, 5);
    const heads = rng.int(1, 3);
    const q = floats(rng, Float32Array, heads * n * d);
    const k = floats(rng, Float32Array, heads * nk * d);
    const v = floats(rng, Float32Array, heads * nk * dv);
    const opts: Record<string, unknown> = { n, d, heads };
    if (nk !== n || rng.bool(0.3)) opts.nk = nk;
    if (dv !== d || rng.bool(0.3)) opts.dv = dv;
    if (rng.bool(0.3)) opts.scale = rng.float(-2, 2);
    let mask: Uint8Array | undefined;
    if (rng.bool(0.3)) {
      mask = Uint8Array.from({ length: rng.bool() ? nk : heads * nk }, () => +rng.bool(0.7));
      opts.keyMask = mask;
    }
    if (rng.bool(0.3)) opts.blockQueries = rng.int(1, 8);
    if (rng.bool(0.3)) opts.blockKeys = rng.int(1, 8);
    if (rng.bool(0.2)) opts.out = new Float32Array(heads * n * dv);
    return {
      args: [q, k, v, opts],
      check(res) {
        const want = refAttention(q, k, v, n, nk, d, dv, heads, (opts.scale as number | undefined) ?? 1 / Math.sqrt(d), mask);
        // Rows with every key masked are defined by the spec, not by this reference: compare the rest.
        const got = res as Float32Array;
        for (let i = 0; i < want.length; i++) {
          if (want[i] !== 0 && !(Math.abs(got[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])))) fail(`attention: [${i}] = ${got[i]}, expected ${want[i]}`);
        }
      },
    };
  },
  shape(res, args) {
    const o = optsOf(args[3]);
    const heads = (o.heads as number | undefined) ?? 1;
    const dv = (o.dv as number | undefined) ?? num(o.d);
    expectTyped(res, Float32Array, heads * num(o.n) * dv, 'attention');
  },
  tooBig: (args) => {
    const o = optsOf(args[3]);
    return validBig(o.n, 4096) || validBig(o.nk, 4096);
  },
});

ALL.push({
  name: 'nystromAttention',
  valid(rng) {
    const n = rng.int(0, 8);
    const d = rng.int(1, 4);
    const dv = rng.bool(0.5) ? d : rng.int(1, 4);
    const heads = rng.int(1, 2);
    const opts: Record<string, unknown> = { n, d, heads, landmarks: rng.int(1, 9) };
    if (dv !== d) opts.dv = dv;
    if (rng.bool(0.3)) opts.pinvIterations = rng.int(0, 8);
    if (rng.bool(0.2)) opts.keyMask = Uint8Array.from({ length: n }, () => +rng.bool(0.8));
    if (rng.bool(0.2)) opts.convKernel = floats(rng, Float32Array, heads * rng.pick([1, 3]));
    if (rng.bool(0.2)) opts.out = new Float32Array(heads * n * dv);
    return { args: [floats(rng, Float32Array, heads * n * d), floats(rng, Float32Array, heads * n * d), floats(rng, Float32Array, heads * n * dv), opts] };
  },
  shape(res, args) {
    const o = optsOf(args[3]);
    const heads = (o.heads as number | undefined) ?? 1;
    const dv = (o.dv as number | undefined) ?? num(o.d);
    expectTyped(res, Float32Array, heads * num(o.n) * dv, 'nystromAttention');
  },
  tooBig: (args) => validBig(optsOf(args[3]).landmarks, 4096),
});

// ------------------------------------------------------------------ constrained decoding

function trieShape(res: unknown, pool: boolean): void {
  if (!(res instanceof TokenTrie)) fail(`expected a TokenTrie, got ${Object.prototype.toString.call(res)}`);
  if (!pool && res.residence !== 'wasm') fail('a sync trie should live in wasm memory');
  if (!(res.numNodes >= 1)) fail('trie with no root');
}

ALL.push({
  name: 'buildTrie',
  valid(rng) {
    const seqs = tokenSeqs(rng, rng.int(0, 12), 6, 20);
    const endToken = rng.bool(0.6) ? 20 : undefined;
    const asTyped = rng.bool(0.5);
    return {
      args: [asTyped ? seqs.map((s) => Int32Array.from(s)) : seqs, endToken === undefined ? undefined : { endToken }],
      check(res) {
        const t = res as TokenTrie;
        const distinct = new Set(seqs.map((s) => (endToken !== undefined && s[s.length - 1] !== endToken ? [...s, endToken] : s).join(','))).size;
        if (t.numEntries !== distinct) fail(`buildTrie: numEntries ${t.numEntries}, expected ${distinct}`);
        const s = seqs[0];
        if (s && t.walk(s) < 0) fail('buildTrie: an input sequence is not a path of the trie');
      },
    };
  },
  shape: (res, _args, ctx) => trieShape(res, ctx.pool),
  release: (res) => (res as TokenTrie).dispose(),
});

ALL.push({
  name: 'buildTrieBuffer',
  valid(rng) {
    const seqs = tokenSeqs(rng, rng.int(0, 12), 6, 20);
    return { args: [seqs, rng.bool() ? { endToken: 20 } : undefined] };
  },
  shape(res) {
    if (!(res instanceof ArrayBuffer)) fail('buildTrieBuffer: expected an ArrayBuffer');
  },
});

ALL.push({
  name: 'loadTrie',
  valid(rng, ctx) {
    const bytes = ctx.trieBytes;
    const form = rng.int(0, 2);
    const arg = form === 0 ? bytes : form === 1 ? new Uint8Array(bytes) : bytes.slice(0);
    return {
      args: [arg],
      check(res) {
        const t = res as TokenTrie;
        if (t.numNodes !== ctx.trie.numNodes || t.numEntries !== ctx.trie.numEntries) fail('loadTrie: sizes differ from the serialized trie');
      },
    };
  },
  corrupt(rng, ctx) {
    if (!rng.bool(0.6)) return undefined;
    // Bit flips and truncations of a real serialized trie: must be refused, never trap.
    const b = new Uint8Array(ctx.trieBytes.slice(0));
    const r = rng.int(0, 3);
    if (r === 0) return [b.slice(0, rng.int(0, b.length - 1)).buffer];
    const flips = rng.int(1, 4);
    for (let i = 0; i < flips; i++) {
      const at = r === 1 ? rng.int(0, 31) : rng.int(32, b.length - 1);
      b[at] ^= 1 << rng.int(0, 7);
    }
    if (r === 3) new DataView(b.buffer).setInt32(rng.pick([8, 12, 16, 20, 24]), rng.pick([0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 1 << 28]), true);
    return [b.buffer];
  },
  shape: (res, _args, ctx) => trieShape(res, ctx.pool),
  release: (res) => (res as TokenTrie).dispose(),
});

ALL.push({
  name: 'substringConstraint',
  valid(rng) {
    const passages = tokenSeqs(rng, rng.int(0, 4), 10, 15);
    return { args: [passages, { endToken: 15 }] };
  },
  shape(res) {
    if (!(res instanceof SubstringConstraint)) fail('substringConstraint: expected a SubstringConstraint');
  },
  release: (res) => (res as SubstringConstraint).dispose(),
});

export function beamCase(rng: Rng, ctx: CaseContext): Case & { scorerSeed: number } {
  const kind = rng.pick(['trie', 'trie', 'none', 'substring'] as const);
  const V = kind === 'trie' ? ctx.trieVocab : kind === 'substring' ? 16 : rng.int(2, 12);
  const scorerSeed = rng.int(0, 2 ** 30);
  const f64 = rng.bool(0.3);
  const scorer = (batch: { rows: number; step: number; prefixes: Int32Array }) => hashLogits(batch, V, scorerSeed, f64 ? Float64Array : Float32Array);
  const beams = rng.int(1, 5);
  const opts: Record<string, unknown> = {
    beams,
    maxLength: rng.int(1, 6),
    endToken: kind === 'trie' ? ctx.trieEnd : kind === 'substring' ? 15 : rng.int(0, V - 1),
  };
  if (kind === 'trie') opts.constraint = ctx.trie;
  if (kind === 'substring') opts.constraint = ctx.substring;
  if (rng.bool(0.3)) opts.numReturn = rng.int(1, beams);
  if (rng.bool(0.3)) opts.lengthPenalty = rng.float(0, 2);
  if (rng.bool(0.3)) opts.renormalize = true;
  if (rng.bool(0.2)) opts.queries = rng.int(1, 3);
  return { args: [scorer, opts], scorerSeed };
}

function hypothesesShape(list: unknown, what: string): void {
  if (!Array.isArray(list)) fail(`${what}: expected an array of hypotheses`);
  for (const h of list) {
    if (!(h?.tokens instanceof Int32Array) || typeof h.logProb !== 'number' || typeof h.score !== 'number') fail(`${what}: malformed hypothesis`);
  }
}

ALL.push({
  name: 'beamSearch',
  valid: (rng, ctx) => beamCase(rng, ctx),
  corrupt(rng, ctx, valid) {
    if (!rng.bool(0.4)) return undefined;
    const [scorer, opts] = valid.args as [(b: never) => unknown, Record<string, unknown>];
    if (rng.bool(0.5)) return [badCallback(rng, scorer), opts];
    const key = rng.pick(['transform', 'onProgress', 'signal']);
    if (key === 'signal') {
      const c = new AbortController();
      c.abort();
      return [scorer, { ...opts, signal: c.signal }];
    }
    // An async onProgress that rejects is left out: beamSearch does not observe that promise (a known
    // failure, see faults.test.ts).
    // Through a pool any onProgress is an async proxy: a throwing one kills the worker (known failure,
    // see faults.test.ts), so the pool block leaves it out too.
    const throwing = key === 'transform' ? [() => { throw new CallbackFault(); }, async () => { throw new CallbackFault(); }] : ctx.pool ? [] : [() => { throw new CallbackFault(); }];
    return [scorer, { ...opts, [key]: rng.pick([...throwing, () => new Float64Array(1), 7]) }];
  },
  // Valid but huge searches (thousands of beams or steps) are legitimately slow.
  tooBig: (args) => ['beams', 'maxLength', 'queries'].some((k) => validBig(optsOf(args[1])[k], 64)),
  shape(res, args) {
    const q = num(optsOf(args[1]).queries);
    if (q > 1) {
      if (!Array.isArray(res) || res.length !== q) fail('beamSearch: expected one list per query');
      res.forEach((l, i) => hypothesesShape(l, `beamSearch query ${i}`));
    } else hypothesesShape(res, 'beamSearch');
  },
});

ALL.push({
  name: 'lcsLookahead',
  valid(rng, ctx) {
    return { args: [ctx.trie, Array.from({ length: rng.int(0, 6) }, () => rng.int(0, ctx.trieVocab - 1)), rng.bool() ? { always: rng.bool() } : undefined] };
  },
  shape(res) {
    if (typeof res !== 'function') fail('lcsLookahead: expected a transform function');
  },
});

ALL.push({
  name: 'editLookahead',
  valid(rng, ctx) {
    // Query units must be tokens of the trie (the default units are the tokens themselves).
    const tokens = Array.from(ctx.trie.children(0)).filter((t) => t !== ctx.trieEnd);
    const query = Array.from({ length: rng.int(1, 5) }, () => tokens[rng.int(0, tokens.length - 1)]);
    const opts = rng.bool() ? { prefix: rng.bool(), budget: rng.bool() ? rng.int(0, 12) : Infinity, depth: rng.int(0, 4), priorWeight: rng.int(0, 2) } : undefined;
    return { args: [ctx.trie, query, opts] };
  },
  shape(res) {
    if (typeof res !== 'function') fail('editLookahead: expected a transform function');
  },
});

// ------------------------------------------------------------------ repetition analysis

ALL.push({
  name: 'repetition',
  valid(rng) {
    const n = rng.int(1, 6);
    const eos = n >= 2 && rng.bool(0.4) ? rng.int(0, n - 1) : undefined;
    const P = stochastic(rng, rng.bool() ? Float32Array : Float64Array, n, n);
    const opts: Record<string, unknown> = {};
    if (eos !== undefined) opts.eosIndex = eos;
    if (rng.bool(0.3)) opts.terms = rng.int(1, 10);
    return {
      args: [P, n, opts],
      check(res) {
        const r = res as { R: number; finite: boolean };
        if (r.finite && !(r.R >= 0 && Number.isFinite(r.R))) fail(`repetition: finite but R = ${r.R}`);
      },
    };
  },
  shape(res) {
    const r = res as Record<string, unknown>;
    if (typeof r?.R !== 'number' || typeof r.finite !== 'boolean' || !isF64(r.traces)) fail('repetition: malformed result');
  },
});

ALL.push({
  name: 'decodeTransform',
  valid(rng) {
    const rows = rng.int(1, 5);
    const cols = rng.int(1, 7);
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const A = stochastic(rng, ctor, rows, cols);
    const spec = rng.pick([
      () => ({ kind: 'greedy' }),
      () => ({ kind: 'topK', k: rng.int(1, cols) }),
      () => ({ kind: 'nucleus', p: rng.float(0.05, 1) }),
      () => ({ kind: 'temperature', t: rng.float(0.1, 3) }),
      () => ({ kind: 'lengthPenalty', beta: rng.float(-1, 1), eosIndex: rng.int(0, cols - 1) }),
      () => ({ kind: 'topK', k: rng.int(1, cols), consistent: true, eosIndex: rng.int(0, cols - 1) }),
    ])();
    const opts = rng.bool(0.3) ? { out: rng.bool() ? A : new ctor(rows * cols) } : undefined;
    return {
      args: [opts?.out === A ? A : A.slice(), rows, cols, spec, opts],
      check(res) {
        const out = res as Float32Array;
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let j = 0; j < cols; j++) s += out[i * cols + j];
          if (!(Math.abs(s - 1) < 1e-4 || s === 0)) fail(`decodeTransform: row ${i} sums to ${s}`);
        }
      },
    };
  },
  shape(res, args) {
    const [A, rows, cols] = args as [Float32Array, number, number];
    expectTyped(res, A.constructor, rows * cols, 'decodeTransform');
  },
});

ALL.push({
  name: 'terminationStats',
  valid(rng) {
    const n = rng.int(2, 6);
    const A = stochastic(rng, rng.bool() ? Float32Array : Float64Array, n, n, 0.2);
    return { args: [A, n, rng.int(0, n - 1), rng.bool(0.2) ? { rowSumTol: 1e-3 } : undefined] };
  },
  shape(res) {
    const r = res as Record<string, unknown>;
    if (typeof r?.rhoB !== 'number' || typeof r.almostSure !== 'boolean') fail('terminationStats: malformed result');
  },
});

ALL.push({
  name: 'highInflowPairs',
  valid(rng) {
    const n = rng.int(1, 6);
    const ctor = rng.pick([Float64Array, Int32Array, Uint8Array, Float32Array] as const);
    const counts = new ctor(n * n);
    for (let i = 0; i < counts.length; i++) counts[i] = rng.int(0, 20);
    return { args: [counts, n, rng.bool(0.4) ? { threshold: rng.float(0.01, 1) } : undefined] };
  },
  shape(res, args) {
    const r = res as { pairs: unknown; inflow: unknown };
    if (!(r?.pairs instanceof Int32Array)) fail('highInflowPairs: pairs must be an Int32Array');
    expectTyped(r.inflow, Float64Array, args[1] as number, 'highInflowPairs.inflow');
  },
});

// ------------------------------------------------------------------ diffusion

function stepCase(rng: Rng, name: 'ddpmStep' | 'ddimStep'): Case {
  const ctor = rng.bool(0.7) ? Float32Array : Float64Array;
  const batch = rng.int(1, 3);
  const dim = rng.int(1, 6);
  const n = batch * dim;
  const sch = validSchedule(rng);
  const T = sch.alphasCumprod.length;
  const t = rng.int(0, T - 1);
  const opts: Record<string, unknown> = { schedule: sch, t, shape: [batch, dim] };
  if (rng.bool(0.5)) opts.seed = rng.int(0, 1e6);
  else opts.noise = floats(rng, ctor, n, -2, 2);
  if (rng.bool(0.3)) opts.prev = rng.int(-1, t - 1);
  if (rng.bool(0.2)) opts.clipSample = true;
  else if (rng.bool(0.15)) opts.thresholding = true;
  if (rng.bool(0.2)) opts.prediction = rng.pick(['epsilon', 'sample', 'v_prediction']);
  if (name === 'ddimStep' && rng.bool(0.3)) opts.eta = rng.float(0, 1);
  if (name === 'ddpmStep' && rng.bool(0.3)) opts.variance = 'fixed_large';
  if (rng.bool(0.2)) opts.out = new ctor(n);
  return { args: [floats(rng, ctor, n, -2, 2), floats(rng, ctor, n, -2, 2), opts] };
}

function stepShape(name: string) {
  return (res: unknown, args: unknown[]) => {
    const x = args[0] as Float32Array;
    const r = res as { prevSample: unknown; predOriginalSample: unknown; coefficients: unknown };
    expectTyped(r?.prevSample, x.constructor, x.length, `${name}.prevSample`);
    expectTyped(r.predOriginalSample, x.constructor, x.length, `${name}.predOriginalSample`);
    const out = optsOf(args[2]).out;
    if (out !== undefined && r.prevSample !== out) fail(`${name}: opts.out not returned`);
  };
}

ALL.push({ name: 'ddpmStep', valid: (rng) => stepCase(rng, 'ddpmStep'), shape: stepShape('ddpmStep') });
ALL.push({ name: 'ddimStep', valid: (rng) => stepCase(rng, 'ddimStep'), shape: stepShape('ddimStep') });

/** A valid gc.sample call of a few steps. */
export function sampleCase(rng: Rng): Case {
  const sch = validSchedule(rng);
  const T = sch.alphasCumprod.length;
  const batch = rng.int(1, 3);
  const dim = rng.int(1, 5);
  const sampler = rng.pick(['ddpm', 'ddim', 'analytic-ddpm', 'analytic-ddim'] as const);
  const opts: Record<string, unknown> = {
    sampler,
    schedule: sch,
    steps: rng.int(1, Math.min(T, 6)),
    shape: [batch, dim],
    denoiser: linearDenoiser,
    seed: rng.bool(0.9) ? rng.int(0, 2 ** 40) : BigInt(rng.int(0, 2 ** 30)) << 20n,
  };
  if (sampler.startsWith('analytic')) opts.sigmaBar2 = new Float64Array(T).fill(rng.float(0, 0.5));
  if (sampler.endsWith('ddim') && rng.bool(0.4)) opts.eta = rng.float(0, 1);
  if (rng.bool(0.2)) opts.clipSample = true;
  if (rng.bool(0.2)) opts.timestepSpacing = rng.pick(['leading', 'trailing', 'linspace']);
  if (rng.bool(0.2)) opts.xT = floats(rng, Float32Array, batch * dim, -2, 2);
  if (rng.bool(0.2)) opts.out = new Float32Array(batch * dim);
  return { args: [opts] };
}

function shapeLen(args: unknown[]): number {
  const s = optsOf(args[0]).shape as [number, number];
  return s[0] * s[1];
}

ALL.push({
  name: 'sample',
  valid: (rng) => sampleCase(rng),
  corrupt(rng, _ctx, valid) {
    if (!rng.bool(0.4)) return undefined;
    const opts = valid.args[0] as Record<string, unknown>;
    if (rng.bool(0.6)) return [{ ...opts, denoiser: badCallback(rng, linearDenoiser as never) }];
    if (rng.bool(0.5)) return [{ ...opts, onProgress: rng.pick([() => { throw new CallbackFault(); }, async () => { throw new CallbackFault(); }]) }];
    const c = new AbortController();
    c.abort();
    return [{ ...opts, signal: c.signal }];
  },
  shape(res, args) {
    expectTyped(res, Float32Array, shapeLen(args), 'sample');
  },
  tooBig(args) {
    const s = optsOf(args[0]).shape;
    return Array.isArray(s) && typeof s[0] === 'number' && typeof s[1] === 'number' && s[0] * s[1] > 1e6;
  },
});

ALL.push({
  name: 'estimateAnalyticGamma',
  valid(rng) {
    const sch = validSchedule(rng);
    const T = sch.alphasCumprod.length;
    const dim = rng.int(1, 4);
    const M = rng.int(2, 6);
    const ts = Array.from(new Set(Array.from({ length: rng.int(1, 4) }, () => rng.int(0, T - 1))));
    const mixture = gaussianMixture({ means: floats(rng, Float64Array, dim * 2), stds: [0.5, 0.3], schedule: sch });
    const den = rng.pick([linearDenoiser, mixture.denoiser, mixture.params] as unknown[]);
    return {
      args: [den, floats(rng, Float32Array, M * dim), sch, { dim, seed: rng.int(0, 1e6), timesteps: ts, estimator: rng.pick(['gamma', 'su1', 'auto']) }],
    };
  },
  corrupt(rng, _ctx, valid) {
    if (!rng.bool(0.3)) return undefined;
    const a = valid.args.slice();
    a[0] = badCallback(rng, linearDenoiser as never);
    return a;
  },
  shape(res, args) {
    const T = (args[2] as { alphasCumprod: Float64Array }).alphasCumprod.length;
    const r = res as Record<string, unknown>;
    expectTyped(r?.gamma, Float64Array, T, 'estimateAnalyticGamma.gamma');
    expectTyped(r.sigmaBar2, Float64Array, T, 'estimateAnalyticGamma.sigmaBar2');
    expectTyped(r.estimator, Uint8Array, T, 'estimateAnalyticGamma.estimator');
  },
});

function mixtureCase(rng: Rng) {
  const sch = validSchedule(rng);
  const dim = rng.int(1, 4);
  const K = rng.int(1, 3);
  const mix = gaussianMixture({ means: floats(rng, Float64Array, dim * K), stds: Array.from({ length: K }, () => rng.float(0.1, 1)), schedule: sch });
  const batch = rng.int(1, 4);
  return { mix: rng.bool() ? mix : mix.params, x: floats(rng, Float32Array, batch * dim, -2, 2), t: rng.int(0, sch.alphasCumprod.length - 1), shape: [batch, dim] as [number, number] };
}

ALL.push({
  name: 'mixtureDenoise',
  valid(rng) {
    const c = mixtureCase(rng);
    const params = 'params' in c.mix ? c.mix.params : c.mix;
    return {
      args: [c.mix, c.x, c.t, c.shape, rng.bool(0.2) ? { out: new Float32Array(c.x.length) } : undefined],
      check(res) {
        // The wasm path against the mixture's own float64 JS formulas.
        const want = gaussianMixture({ means: params.means, stds: params.stds, weights: params.weights, schedule: { alphasCumprod: params.alphasCumprod } }).denoiser(Float64Array.from(c.x), c.t);
        close(res as Float32Array, want, 1e-4, 'mixtureDenoise');
      },
    };
  },
  shape(res, args) {
    expectTyped(res, Float32Array, (args[1] as Float32Array).length, 'mixtureDenoise');
  },
});

ALL.push({
  name: 'mixturePosterior',
  valid(rng) {
    const c = mixtureCase(rng);
    return { args: [c.mix, c.x, c.t, c.shape] };
  },
  shape(res, args) {
    const r = res as { mean: unknown; trCov: unknown };
    const [batch, dim] = args[3] as [number, number];
    expectTyped(r?.mean, Float32Array, batch * dim, 'mixturePosterior.mean');
    expectTyped(r.trCov, Float64Array, batch, 'mixturePosterior.trCov');
  },
});

ALL.push({
  name: 'randomNormal',
  valid(rng) {
    const n = rng.int(0, 40);
    return { args: [rng.bool(0.8) ? rng.int(0, 2 ** 40) : BigInt(rng.int(0, 2 ** 30)), rng.int(0, 2 ** 32 - 1), n, rng.bool(0.3) ? { first: rng.int(0, 2 ** 20) } : undefined] };
  },
  shape(res, args) {
    expectTyped(res, Float32Array, args[2] as number, 'randomNormal');
    for (const v of res as Float32Array) if (!Number.isFinite(v)) fail('randomNormal: non-finite value');
  },
  tooBig: (args) => typeof args[2] === 'number' && args[2] > 1e6,
});

ALL.push({
  name: 'energyDistance',
  valid(rng) {
    const dim = rng.int(1, 4);
    const ctor = rng.bool() ? Float32Array : Float64Array;
    return { args: [floats(rng, ctor, rng.int(2, 6) * dim), floats(rng, ctor, rng.int(2, 6) * dim), dim] };
  },
  shape(res) {
    // Finite inputs whose distances overflow float32 give NaN / Infinity: a numerical outcome, not a crash.
    if (typeof res !== 'number') fail(`energyDistance: expected a number, got ${String(res)}`);
  },
});

function maskOpts(rng: Rng) {
  const n = rng.int(1, 3);
  const len = rng.int(1, 5);
  const vocab = rng.int(2, 6);
  const maskId = rng.int(0, vocab - 1);
  return { n, len, vocab, maskId, perStep: rng.int(1, 3), rule: rng.pick(['improved', 'baseline'] as const) };
}

ALL.push({
  name: 'udmMaskStep',
  valid(rng) {
    const o = maskOpts(rng);
    const tokens = Int32Array.from({ length: o.n * o.len }, () => (rng.bool(0.5) ? o.maskId : rng.int(0, o.vocab - 1)));
    const probs = floats(rng, rng.bool() ? Float32Array : Float64Array, o.n * o.len * o.vocab, 0.01, 1);
    return { args: [tokens, probs, { ...o, seed: rng.int(0, 1e6), step: rng.int(0, 10) }] };
  },
  shape(res, args) {
    expectTyped(res, Int32Array, (args[0] as Int32Array).length, 'udmMaskStep');
  },
});

ALL.push({
  name: 'sampleUDM',
  valid(rng) {
    if (rng.bool()) {
      const o = maskOpts(rng);
      const probs = (tokens: Int32Array) => {
        const p = new Float32Array(tokens.length * o.vocab);
        for (let i = 0; i < p.length; i++) p[i] = ((i * 2654435761) % 97) / 97 + 0.01;
        return p;
      };
      return { args: [{ kind: 'masking', ...o, probs, seed: rng.int(0, 1e6) }] };
    }
    const batch = rng.int(1, 3);
    const dim = rng.int(1, 4);
    const ts = Array.from(new Set(Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 50)))).sort((a, b) => b - a);
    const degrade = (x0: Float32Array, t: number) => x0.map((v) => v * (1 - t / 100));
    const predictX0 = (xt: Float32Array) => xt.map((v) => v * 0.9);
    return { args: [{ kind: 'deterministic', xT: floats(rng, Float32Array, batch * dim), shape: [batch, dim], timesteps: ts, degrade, predictX0, rule: rng.pick(['improved', 'naive']) }] };
  },
  tooBig(args) {
    const o = optsOf(args[0]);
    return num(o.n) * num(o.len) * num(o.vocab) > 1e5 || validBig(o.n, 1000) || validBig(o.len, 1000);
  },
  corrupt(rng, _ctx, valid) {
    if (!rng.bool(0.4)) return undefined;
    const o = { ...(valid.args[0] as Record<string, unknown>) };
    const key = o.kind === 'masking' ? 'probs' : rng.pick(['degrade', 'predictX0']);
    o[key] = badCallback(rng, o[key] as never);
    return [o];
  },
  shape(res, args) {
    const o = optsOf(args[0]);
    if (o.kind === 'masking') expectTyped(res, Int32Array, num(o.n) * num(o.len), 'sampleUDM');
    else expectTyped(res, Float32Array, (o.xT as Float32Array).length, 'sampleUDM');
  },
});

ALL.push({
  name: 'randomWords',
  valid(rng) {
    return { args: [rng.int(0, 2 ** 40), rng.int(0, 2 ** 32 - 1), rng.int(0, 20), rng.bool(0.3) ? { firstPair: rng.int(0, 2 ** 20) } : undefined] };
  },
  shape(res, args) {
    expectTyped(res, Uint32Array, 2 * (args[2] as number), 'randomWords');
  },
  tooBig: (args) => typeof args[2] === 'number' && args[2] > 1e6,
});

ALL.push({
  name: 'meanDistance',
  valid(rng) {
    const dim = rng.int(1, 4);
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const a = floats(rng, ctor, rng.int(2, 6) * dim);
    return { args: [a, rng.bool(0.3) ? null : floats(rng, ctor, rng.int(1, 6) * dim), dim] };
  },
  shape(res) {
    if (typeof res !== 'number') fail(`meanDistance: expected a number, got ${String(res)}`);
  },
});

// ------------------------------------------------------------------ entropy

/** Entropy of one row in float64 (probabilities or logits), NaN when invalid. */
function refEntropy(row: ArrayLike<number>, fromLogits: boolean): number {
  const w: number[] = [];
  if (fromLogits) {
    let mx = -Infinity;
    for (let i = 0; i < row.length; i++) mx = Math.max(mx, row[i]);
    if (mx === -Infinity) return NaN;
    for (let i = 0; i < row.length; i++) w.push(Math.exp(row[i] - mx));
  } else for (let i = 0; i < row.length; i++) w.push(row[i]);
  const z = w.reduce((a, b) => a + b, 0);
  if (!(z > 0)) return NaN;
  let h = 0;
  for (const x of w) if (x > 0) h -= (x / z) * Math.log(x / z);
  return h;
}

function entropyInput(rng: Rng) {
  const rows = rng.int(0, 5);
  const cols = rng.int(1, 8);
  const ctor = rng.bool() ? Float32Array : Float64Array;
  const fromLogits = rng.bool();
  const x = fromLogits ? floats(rng, ctor, rows * cols, -4, 4) : stochastic(rng, ctor, rows, cols, 0.3);
  if (fromLogits && rng.bool(0.2) && x.length > 0) x[rng.int(0, x.length - 1)] = -Infinity;
  return { x, rows, cols, fromLogits };
}

ALL.push({
  name: 'entropy',
  valid(rng) {
    const { x, rows, cols, fromLogits } = entropyInput(rng);
    return {
      args: [x, rows, cols, { fromLogits }],
      check(res) {
        const h = res as Float64Array;
        for (let r = 0; r < rows; r++) {
          const want = refEntropy(x.subarray(r * cols, (r + 1) * cols), fromLogits);
          if (!(Math.abs(h[r] - want) <= 1e-4 * (1 + want)) && !(Number.isNaN(want) && Number.isNaN(h[r]))) fail(`entropy: row ${r} = ${h[r]}, expected ${want}`);
        }
      },
    };
  },
  shape(res, args) {
    expectTyped(res, Float64Array, args[1] as number, 'entropy');
  },
});

function solveResultShape(name: string, rows: number, withOut: boolean, res: unknown, x?: FloatLike): void {
  const r = res as Record<string, unknown>;
  expectTyped(r?.status, Uint8Array, rows, `${name}.status`);
  expectTyped(r.iterations, Int32Array, rows, `${name}.iterations`);
  expectTyped(withOut ? r.gamma : r.temperature, Float64Array, rows, `${name}.${withOut ? 'gamma' : 'temperature'}`);
  if (withOut && x) expectTyped(r.out, x.constructor, x.length, `${name}.out`);
  for (const st of r.status as Uint8Array) if (st > 5) fail(`${name}: status ${st} is not a documented code`);
}
type FloatLike = Float32Array | Float64Array;

ALL.push({
  name: 'entropyNormalize',
  valid(rng) {
    const { x, rows, cols, fromLogits } = entropyInput(rng);
    const target = rng.bool(0.7) ? rng.float(-0.5, Math.log(cols) + 0.5) : Float64Array.from({ length: rows }, () => rng.float(0, Math.log(cols)));
    const opts: Record<string, unknown> = { fromLogits };
    if (rng.bool(0.3)) opts.tol = rng.pick([1e-3, 1e-6, 0]);
    if (rng.bool(0.3)) opts.maxIter = rng.int(1, 40);
    if (rng.bool(0.3)) opts.method = rng.pick(['safeguarded', 'su']);
    if (rng.bool(0.2)) opts.out = rng.bool() ? x : new (x.constructor as Float32ArrayConstructor)(x.length);
    return { args: [opts.out === x ? x : x.slice(), rows, cols, target, opts] };
  },
  shape: (res, args) => solveResultShape('entropyNormalize', args[1] as number, true, res, args[0] as FloatLike),
});

ALL.push({
  name: 'temperatureForEntropy',
  valid(rng) {
    const rows = rng.int(0, 5);
    const cols = rng.int(1, 8);
    const x = floats(rng, rng.bool() ? Float32Array : Float64Array, rows * cols, -4, 4);
    const opts: Record<string, unknown> = {};
    if (rng.bool(0.3)) opts.initialTemperature = rng.float(0.1, 4);
    if (rng.bool(0.3)) opts.method = rng.pick(['safeguarded', 'su']);
    return { args: [x, rows, cols, rng.float(0, Math.log(cols)), opts] };
  },
  shape: (res, args) => solveResultShape('temperatureForEntropy', args[1] as number, false, res),
});

function filterCase(rng: Rng, kind: 'topKFilter' | 'nucleusFilter'): Case {
  const rows = rng.int(0, 4);
  const cols = rng.int(1, 8);
  const ctor = rng.bool() ? Float32Array : Float64Array;
  const logits = floats(rng, ctor, rows * cols, -3, 3);
  if (rng.bool(0.2) && logits.length) logits[rng.int(0, logits.length - 1)] = -Infinity;
  const opts: Record<string, unknown> = {};
  if (rng.bool(0.3)) {
    opts.consistent = true;
    opts.endToken = rng.int(0, cols - 1);
  }
  if (rng.bool(0.2)) opts.out = rng.bool() ? logits : new ctor(rows * cols);
  const param = kind === 'topKFilter' ? rng.int(1, cols + 1) : rng.float(0.01, 1);
  return { args: [opts.out === logits ? logits : logits.slice(), rows, cols, param, opts] };
}

function filterShape(name: string) {
  return (res: unknown, args: unknown[]) => {
    const x = args[0] as FloatLike;
    expectTyped(res, x.constructor, (args[1] as number) * (args[2] as number), name);
  };
}

ALL.push({ name: 'topKFilter', valid: (rng) => filterCase(rng, 'topKFilter'), shape: filterShape('topKFilter') });
ALL.push({ name: 'nucleusFilter', valid: (rng) => filterCase(rng, 'nucleusFilter'), shape: filterShape('nucleusFilter') });

ALL.push({
  name: 'gatherRows',
  valid(rng) {
    const ctor = rng.bool() ? Float32Array : Float64Array;
    const srcRows = rng.int(1, 5);
    const rowLength = rng.int(1, 6);
    const src = floats(rng, ctor, srcRows * rowLength);
    const index = Int32Array.from({ length: rng.int(0, 6) }, () => rng.int(0, srcRows - 1));
    const out = rng.bool(0.3) ? new ctor(index.length * rowLength) : undefined;
    const want = Array.from(index).flatMap((i) => Array.from(src.subarray(i * rowLength, (i + 1) * rowLength)));
    return {
      args: out ? [src, rowLength, index, { out }] : [src, rowLength, index],
      check: (res) => void (Array.from(res as ArrayLike<number>).every((v, i) => Object.is(v, want[i])) || fail('gatherRows: wrong rows')),
    };
  },
  shape(res, args) {
    const src = args[0] as FloatLike;
    expectTyped(res, src.constructor, (args[2] as Int32Array).length * (args[1] as number), 'gatherRows');
  },
});

// ------------------------------------------------------------------ plain exports (no wasm)

ALL.push({
  name: 'noiseSchedule',
  plain: noiseSchedule as (...a: unknown[]) => unknown,
  valid(rng) {
    const kind = rng.pick(['linear', 'scaled_linear', 'cosine'] as const);
    const o: Record<string, unknown> = { kind, steps: rng.int(1, 200) };
    if (kind !== 'cosine' && rng.bool(0.4)) {
      o.betaStart = rng.float(1e-5, 0.01);
      o.betaEnd = rng.float(0.01, 0.05);
    }
    return { args: [o] };
  },
  shape(res, args) {
    const T = num(optsOf(args[0]).steps);
    expectTyped((res as { alphasCumprod: unknown }).alphasCumprod, Float64Array, Number.isNaN(T) ? (res as { alphasCumprod: Float64Array }).alphasCumprod.length : T, 'noiseSchedule');
  },
  tooBig: (args) => num(optsOf(args[0]).steps) > 1e6,
});

ALL.push({
  name: 'timesteps',
  plain: timesteps as (...a: unknown[]) => unknown,
  valid(rng) {
    const T = rng.int(1, 1000);
    const n = rng.int(1, Math.min(T, 50));
    // 'leading' starts at (n − 1)·⌊T/n⌋ + stepsOffset, which must stay ≤ T − 1.
    const offset = (n - 1) * Math.floor(T / n) + 1 <= T - 1 ? rng.int(0, 1) : 0;
    return { args: [T, n, rng.pick(['leading', 'trailing', 'linspace']), offset] };
  },
  shape(res, args) {
    expectTyped(res, Int32Array, args[1] as number, 'timesteps');
  },
  tooBig: (args) => num(args[0]) > 1e6 || num(args[1]) > 1e6,
});

ALL.push({
  name: 'samplerPlan',
  plain: samplerPlan as (...a: unknown[]) => unknown,
  valid(rng) {
    const o = sampleCase(rng).args[0] as Record<string, unknown>;
    const { shape: _s, denoiser: _d, seed: _seed, xT: _x, out: _o, ...plan } = o;
    return { args: [plan] };
  },
  shape(res) {
    const r = res as { timesteps: unknown; C: unknown };
    const ts = r?.timesteps as ArrayLike<number> | undefined;
    if (!ArrayBuffer.isView(ts) || !isF64(r.C) || r.C.length !== ts.length) fail('samplerPlan: malformed plan');
  },
});

ALL.push({
  name: 'gaussianMixture',
  plain: gaussianMixture as (...a: unknown[]) => unknown,
  valid(rng) {
    const K = rng.int(1, 3);
    const dim = rng.int(1, 3);
    return { args: [{ means: Array.from({ length: K * dim }, () => rng.float(-1, 1)), stds: Array.from({ length: K }, () => rng.float(0.1, 1)), weights: rng.bool() ? Array.from({ length: K }, () => rng.float(0.1, 1)) : undefined }] };
  },
  shape(res) {
    const r = res as { denoiser: unknown; dim: unknown };
    if (typeof r?.denoiser !== 'function' || typeof r.dim !== 'number') fail('gaussianMixture: malformed result');
  },
});

ALL.push({
  name: 'lcsLength',
  plain: lcsLength as (...a: unknown[]) => unknown,
  valid(rng) {
    const a = Array.from({ length: rng.int(0, 8) }, () => rng.int(0, 4));
    const b = Array.from({ length: rng.int(0, 8) }, () => rng.int(0, 4));
    return { args: [a, b], check: (res) => void (res === lcsRef(a, b) || fail('lcsLength: wrong value')) };
  },
  shape(res) {
    if (!Number.isInteger(res)) fail('lcsLength: expected an integer');
  },
});

function lcsRef(a: number[], b: number[]): number {
  const d = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = a[i - 1] === b[j - 1] ? d[i - 1][j - 1] + 1 : Math.max(d[i - 1][j], d[i][j - 1]);
  return d[a.length][b.length];
}

ALL.push({
  name: 'entropyInvariantScale',
  plain: entropyInvariantScale as (...a: unknown[]) => unknown,
  valid(rng) {
    return { args: [rng.int(1, 4096), rng.int(1, 256), rng.bool(0.3) ? { trainLength: rng.int(2, 4096) } : undefined] };
  },
  shape(res) {
    if (typeof res !== 'number' || !Number.isFinite(res)) fail('entropyInvariantScale: expected a finite number');
  },
});

// ------------------------------------------------------------------ dense networks (nn)

/** A small random network, a batch and targets for it. */
function denseCase(rng: Rng) {
  const sizes = Array.from({ length: rng.int(2, 4) }, () => rng.int(1, 6));
  const count = denseLayout(sizes).count;
  const rows = rng.int(1, 7);
  const net = { sizes, params: floats(rng, Float32Array, count) };
  return { net, rows, x: floats(rng, Float32Array, rows * sizes[0]), target: floats(rng, Float32Array, rows * sizes[sizes.length - 1]) };
}

ALL.push({
  name: 'denseForward',
  valid(rng) {
    const c = denseCase(rng);
    return { args: [c.net, c.x, c.rows] };
  },
  shape(res, args) {
    const net = args[0] as { sizes: number[] };
    expectTyped(res, Float32Array, (args[2] as number) * net.sizes[net.sizes.length - 1], 'denseForward');
  },
});

ALL.push({
  name: 'denseMseGradient',
  valid(rng) {
    const c = denseCase(rng);
    return { args: [c.net, c.x, c.target, c.rows] };
  },
  shape(res, args) {
    const r = optsOf(res);
    if (typeof r.loss !== 'number' || !(r.loss >= 0)) fail(`denseMseGradient: loss ${String(r.loss)}`);
    expectTyped(r.gradient, Float32Array, (args[0] as { params: Float32Array }).params.length, 'denseMseGradient gradient');
  },
});

ALL.push({
  name: 'denseTrainStep',
  valid(rng) {
    const c = denseCase(rng);
    return { args: [c.net, adamState(c.net, { learningRate: rng.float(1e-4, 1e-1) }), c.x, c.target, c.rows] };
  },
  shape(res, args) {
    const r = optsOf(res);
    const count = (args[0] as { params: Float32Array }).params.length;
    if (typeof r.loss !== 'number' || !(r.loss >= 0)) fail(`denseTrainStep: loss ${String(r.loss)}`);
    expectTyped(optsOf(r.net).params, Float32Array, count, 'denseTrainStep net.params');
    expectTyped(optsOf(r.adam).m, Float32Array, count, 'denseTrainStep adam.m');
    if (optsOf(r.adam).step !== (args[1] as { step: number }).step + 1) fail('denseTrainStep: adam.step not advanced by 1');
  },
});

ALL.push({
  name: 'trainKneserNey',
  plain: trainKneserNey as (...a: unknown[]) => unknown,
  valid(rng) {
    const V = rng.int(1, 6);
    const seqs = Array.from({ length: rng.int(0, 6) }, () => Array.from({ length: rng.int(0, 5) }, () => rng.int(0, V - 1)));
    return { args: [seqs, { vocabSize: V, endToken: 0, order: rng.int(1, 4) }] };
  },
  shape(res) {
    if (!(res instanceof KneserNeyModel)) fail('trainKneserNey: expected a KneserNeyModel');
  },
});

/** Cases of every function that exists in this build (sync method, pool method or plain export). */
export const FUNCTION_CASES: readonly FnCases[] = ALL;

/** Arguments of one fuzz call: valid (with a check) or corrupted. */
export function fuzzArgs(spec: FnCases, rng: Rng, ctx: CaseContext): { args: unknown[]; valid: Case | undefined } {
  const valid = spec.valid(rng, ctx);
  if (rng.bool(0.35)) return { args: valid.args, valid };
  const special = spec.corrupt?.(rng, ctx, valid);
  if (special) return { args: special, valid: undefined };
  // Sometimes two corruptions at once.
  let args = corruptArgs(rng, valid.args, ctx.pool);
  if (rng.bool(0.15) && args.length > 0) args = corruptArgs(rng, args, ctx.pool);
  return { args, valid: undefined };
}

