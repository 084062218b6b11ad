/**
 * A token n-gram language model with interpolated modified Kneser-Ney smoothing (Chen & Goodman 1998),
 * trained from sequences (e.g. the characters of names), usable as a `beamSearch` scorer over a trie of
 * those sequences, and serializable (docs/constrained.md, "Kneser-Ney prior").
 *
 * Tokens are integers 0…vocabSize−1; the end token is an ordinary token that every sequence ends with
 * (appended when missing). Contexts are padded on the left with a start symbol that is never predicted.
 * Plain JavaScript: training and scoring run in the calling thread.
 */
import type { BeamBatch, Scorer } from './beam.js';
import { checkInt, checkOptions, show } from '../shared/validate.js';

export interface KneserNeyOptions {
  /** n of the n-grams, 1…6 (default 5); (vocabSize + 1)^order must not exceed 2^53. */
  order?: number;
  /** Number of tokens V; every token (end token included) must be < V. */
  vocabSize: number;
  /** The end token, appended to every sequence that does not end with it. */
  endToken: number;
  /** Positive integer count of each sequence (e.g. from its population; default 1 each). */
  weights?: ArrayLike<number>;
}

/** One order's contexts: context id → its continuations (CSR), adjusted counts, total and back-off weight. */
interface Level {
  contexts: Map<number, number>;
  offsets: Int32Array;
  tokens: Int32Array;
  counts: Float64Array;
  total: Float64Array;
  gamma: Float64Array;
  /** D1, D2, D3+. */
  discounts: Float64Array;
}

const MAGIC = 0x4b4e4c4d; // "KNLM"
/** Distributions kept per cache (each V doubles); a full cache starts over. */
const CACHE_LIMIT = 50_000;

/** The trained model; `logProbs` gives the next-token distribution after a sequence prefix. */
export class KneserNeyModel {
  readonly order: number;
  readonly vocabSize: number;
  readonly endToken: number;
  /** levels[n − 1] holds the contexts of n − 1 tokens. */
  readonly #levels: Level[];
  /** Log-distributions by full context id, and distributions by context id per context length. */
  readonly #logCache = new Map<number, Float64Array>();
  readonly #cache: Array<Map<number, Float64Array>>;

  /** @internal Use `trainKneserNey` or `KneserNeyModel.deserialize`. */
  constructor(order: number, vocabSize: number, endToken: number, levels: Level[]) {
    this.order = order;
    this.vocabSize = vocabSize;
    this.endToken = endToken;
    this.#levels = levels;
    this.#cache = levels.map(() => new Map());
  }

  /** The start symbol (pads contexts; never predicted): V. */
  get startSymbol(): number {
    return this.vocabSize;
  }

  /**
   * Natural-log probabilities of every next token 0…V−1 after `prefix` (generated tokens, no start
   * symbol). Each distribution sums to 1. The returned array is shared: copy it before changing it.
   */
  logProbs(prefix: ArrayLike<number>): Float64Array {
    const n = this.order - 1;
    const B = this.vocabSize + 1;
    let id = 0;
    for (let i = prefix.length - n; i < prefix.length; i++) id = id * B + (i < 0 ? this.vocabSize : prefix[i]);
    let out = this.#logCache.get(id);
    if (!out) {
      const p = this.#distribution(id, n);
      out = new Float64Array(p.length);
      for (let w = 0; w < p.length; w++) out[w] = Math.log(p[w]);
      if (this.#logCache.size >= CACHE_LIMIT) this.#logCache.clear();
      this.#logCache.set(id, out);
    }
    return out;
  }

  /** P(· | the context of n tokens whose id is `id`), from the shorter context's distribution (cached). */
  #distribution(id: number, n: number): Float64Array {
    const cache = this.#cache[n];
    let out = cache.get(id);
    if (out) return out;
    if (n === 0) out = this.#mix(this.#levels[0], 0, new Float64Array(this.vocabSize).fill(1 / this.vocabSize));
    else {
      const lower = this.#distribution(id % (this.vocabSize + 1) ** (n - 1), n - 1);
      const i = this.#levels[n].contexts.get(id);
      out = i === undefined ? lower : this.#mix(this.#levels[n], i, lower);
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(id, out);
    return out;
  }

  /** max(c − D(c), 0) / total + γ · lower, for context index i of `level`. */
  #mix(level: Level, i: number, lower: Float64Array): Float64Array {
    const out = new Float64Array(lower.length);
    const gamma = level.gamma[i];
    for (let w = 0; w < out.length; w++) out[w] = lower[w] * gamma;
    const [d1, d2, d3] = level.discounts;
    for (let k = level.offsets[i]; k < level.offsets[i + 1]; k++) {
      const c = level.counts[k];
      out[level.tokens[k]] += Math.max(c - (c >= 3 ? d3 : c >= 2 ? d2 : d1), 0) / level.total[i];
    }
    return out;
  }

  /** log P(sequence), end token included (appended when missing). */
  logProbOf(sequence: ArrayLike<number>): number {
    const seq = Array.from(sequence);
    if (seq[seq.length - 1] !== this.endToken) seq.push(this.endToken);
    let sum = 0;
    for (let i = 0; i < seq.length; i++) sum += this.logProbs(seq.slice(0, i))[seq[i]];
    return sum;
  }

  /** A `beamSearch` scorer: rows × V log-probabilities of the next token after each row's prefix. */
  scorer(): Scorer {
    const V = this.vocabSize;
    return (b: BeamBatch) => {
      const out = new Float64Array(b.rows * V);
      for (let r = 0; r < b.rows; r++) out.set(this.logProbs(b.prefixes.subarray(r * b.step, (r + 1) * b.step)), r * V);
      return out;
    };
  }

  /** One little-endian ArrayBuffer; `KneserNeyModel.deserialize` restores the model. */
  serialize(): ArrayBuffer {
    const parts: ArrayBufferView[] = [Int32Array.of(MAGIC, 1, this.order, this.vocabSize, this.endToken, 0)];
    for (const l of this.#levels) {
      const ids = Float64Array.from(l.contexts.keys());
      parts.push(Int32Array.of(ids.length, l.tokens.length), l.discounts, ids, l.total, l.gamma, l.counts, l.offsets, l.tokens);
      if (l.offsets.length % 2 !== l.tokens.length % 2) parts.push(new Int32Array(1)); // keep f64 sections aligned
    }
    const size = parts.reduce((s, p) => s + p.byteLength, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return out.buffer;
  }

  /**
   * Restore a model from `serialize()`'s bytes.
   * @throws RangeError when the bytes are not a serialized model.
   */
  static deserialize(bytes: ArrayBuffer): KneserNeyModel {
    const fn = 'KneserNeyModel.deserialize';
    if (!(bytes instanceof ArrayBuffer)) throw new TypeError(`${fn}: bytes must be an ArrayBuffer, got ${show(bytes)}`);
    let at = 0;
    const take = <T extends Int32Array | Float64Array>(C: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number): T => {
      if (at + n * C.BYTES_PER_ELEMENT > bytes.byteLength) throw new RangeError(`${fn}: the buffer ends early (${bytes.byteLength} bytes)`);
      const v = new C(bytes, at, n).slice() as T;
      at += n * C.BYTES_PER_ELEMENT;
      return v;
    };
    const head = take(Int32Array, 6);
    if (head[0] !== MAGIC || head[1] !== 1) throw new RangeError(`${fn}: not a serialized Kneser-Ney model (magic ${head[0]}, version ${head[1]})`);
    const [, , order, V, endToken] = head;
    const levels: Level[] = [];
    for (let n = 0; n < order; n++) {
      const [nc, ne] = take(Int32Array, 2);
      const discounts = take(Float64Array, 3);
      const ids = take(Float64Array, nc);
      const total = take(Float64Array, nc);
      const gamma = take(Float64Array, nc);
      const counts = take(Float64Array, ne);
      const offsets = take(Int32Array, nc + 1);
      const tokens = take(Int32Array, ne);
      if ((nc + 1) % 2 !== ne % 2) take(Int32Array, 1);
      const contexts = new Map<number, number>();
      ids.forEach((id, i) => contexts.set(id, i));
      levels.push({ contexts, offsets, tokens, counts, total, gamma, discounts });
    }
    if (at !== bytes.byteLength) throw new RangeError(`${fn}: ${bytes.byteLength - at} bytes left over`);
    return new KneserNeyModel(order, V, endToken, levels);
  }
}

/**
 * Train an interpolated modified Kneser-Ney n-gram model. Highest order: the (weighted) counts; lower
 * orders: continuation counts (the number of distinct tokens seen before the n-gram), except n-grams
 * that start with the start symbol, which keep their counts. Discounts D1, D2, D3+ per order from the
 * counts of counts; the lowest order backs off to the uniform distribution over the V tokens.
 * @param sequences - token sequences, each with tokens in 0…V−1 (end token appended when missing).
 * @throws TypeError / RangeError for bad sequences or options (naming the value).
 */
export function trainKneserNey(sequences: ArrayLike<ArrayLike<number>>, opts: KneserNeyOptions): KneserNeyModel {
  const fn = 'trainKneserNey';
  const o = checkOptions(fn, opts);
  if (o.vocabSize === undefined) throw new TypeError(`${fn}: opts.vocabSize is required`);
  const order = o.order === undefined ? 5 : checkInt(fn, 'opts.order', o.order, 1, 6);
  const V = checkInt(fn, 'opts.vocabSize', o.vocabSize, 1);
  // n-grams are numbers in base V + 1: they must stay exact doubles.
  if ((V + 1) ** order > 2 ** 53) throw new RangeError(`${fn}: (opts.vocabSize + 1)^opts.order = ${V + 1}^${order} exceeds 2^53; use a smaller order`);
  if (o.endToken === undefined) throw new TypeError(`${fn}: opts.endToken is required`);
  const E = checkInt(fn, 'opts.endToken', o.endToken, 0, V - 1);
  if (sequences === null || typeof sequences !== 'object' || typeof sequences.length !== 'number') throw new TypeError(`${fn}: sequences must be an array of token arrays, got ${show(sequences)}`);
  if (o.weights !== undefined && (o.weights === null || typeof o.weights !== 'object' || o.weights.length !== sequences.length)) {
    throw new RangeError(`${fn}: opts.weights must have one weight per sequence (${sequences.length}), got ${show(o.weights)}`);
  }
  const B = V + 1;
  // raw[n]: n-gram (n + 1 tokens, base B digits) → count, for n = 0…order−1.
  const raw = Array.from({ length: order }, () => new Map<number, number>());
  for (let s = 0; s < sequences.length; s++) {
    const w = o.weights === undefined ? 1 : checkInt(fn, `opts.weights[${s}]`, o.weights[s], 1, 2 ** 30);
    const seq = sequences[s];
    if (seq === null || typeof seq !== 'object' || typeof seq.length !== 'number') throw new TypeError(`${fn}: sequences[${s}] must be an array of tokens, got ${show(seq)}`);
    const padded: number[] = new Array(order - 1).fill(V);
    for (let i = 0; i < seq.length; i++) {
      const t = seq[i];
      if (!Number.isInteger(t) || t < 0 || t >= V) throw new RangeError(`${fn}: sequences[${s}][${i}] must be a token in 0…${V - 1}, got ${show(t)}`);
      padded.push(t);
    }
    if (padded[padded.length - 1] !== E || padded.length === order - 1) padded.push(E);
    for (let i = order - 1; i < padded.length; i++) {
      let id = padded[i];
      let scale = B;
      for (let n = 0; n < order; n++) {
        const m = raw[n];
        m.set(id, (m.get(id) ?? 0) + w);
        if (n + 1 < order) {
          id += padded[i - n - 1] * scale;
          scale *= B;
        }
      }
    }
  }
  // Adjusted counts: continuation counts below the top order, except for n-grams starting with the start symbol.
  const adjusted = raw.map((m) => new Map<number, number>());
  adjusted[order - 1] = raw[order - 1];
  for (let n = order - 1; n >= 1; n--) {
    const span = B ** n; // drops the first of n + 1 digits
    for (const id of raw[n].keys()) {
      const lower = id % span;
      adjusted[n - 1].set(lower, (adjusted[n - 1].get(lower) ?? 0) + 1);
    }
  }
  for (let n = 0; n < order - 1; n++) {
    const first = B ** n;
    for (const [id, c] of raw[n]) if (n > 0 && Math.floor(id / first) === V) adjusted[n].set(id, c);
  }
  return new KneserNeyModel(order, V, E, adjusted.map((m) => makeLevel(m, B)));
}

/** Group n-grams by context, compute discounts, totals and back-off weights. */
function makeLevel(ngrams: Map<number, number>, B: number): Level {
  const countOf = [0, 0, 0, 0, 0];
  for (const c of ngrams.values()) if (c <= 4) countOf[c]++;
  const [, n1, n2, n3, n4] = countOf;
  const Y = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0;
  // D_k ∈ [0, k] keeps every probability ≥ 0 (a model with too few counts falls back to no discount).
  const d = (k: number, nk: number, nk1: number) => (nk > 0 ? Math.min(Math.max(k - (k + 1) * Y * (nk1 / nk), 0), k) : 0);
  const discounts = Float64Array.of(d(1, n1, n2), d(2, n2, n3), d(3, n3, n4));
  const ids = [...ngrams.keys()].sort((a, b) => a - b);
  const contexts = new Map<number, number>();
  const offsets: number[] = [0];
  const tokens = new Int32Array(ids.length);
  const counts = new Float64Array(ids.length);
  ids.forEach((id, k) => {
    const ctx = Math.floor(id / B);
    if (!contexts.has(ctx)) {
      if (k > 0) offsets.push(k);
      contexts.set(ctx, contexts.size);
    }
    tokens[k] = id % B;
    counts[k] = ngrams.get(id)!;
  });
  offsets.push(ids.length);
  const nc = contexts.size;
  const total = new Float64Array(nc);
  const gamma = new Float64Array(nc);
  for (let i = 0; i < nc; i++) {
    let held = 0;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      const c = counts[k];
      total[i] += c;
      held += Math.min(c, c >= 3 ? discounts[2] : c >= 2 ? discounts[1] : discounts[0]);
    }
    gamma[i] = held / total[i];
  }
  return { contexts, offsets: Int32Array.from(offsets), tokens, counts, total, gamma, discounts };
}
