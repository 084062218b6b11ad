/**
 * gencore/transformers: transformers.js (4.x) causal language models under gencore's beam search.
 *
 * `transformersScorer(model, { prompt })` drives the model's own `forward` and its cache tensors: step 0
 * runs the prompt, later steps the last token of every beam with the previous step's cache reordered by
 * `parentRow` (gencore's `gatherRows`, one wasm call per cache tensor). `constrainedGenerate` tokenizes a
 * prompt and a set of allowed answers, and returns the answers ranked by a trie-constrained beam search.
 * `entropyLogitsProcessor`, `topKLogitsProcessor` and `nucleusLogitsProcessor` slot gencore's entropy
 * normalisation and consistent filters into `model.generate({ logits_processor: [...] })`.
 */
import { DynamicCache, LogitsProcessor, Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { Gencore } from '../index.js';
import type { BeamBatch, BeamSearchOptions, Scorer } from '../constrained/beam.js';
import { checkBool, checkInt, checkNumber, checkOptions, show } from '../shared/validate.js';
import { checkNoNaN, checkTokenRows, gencoreFor, rowOf, serialScorer, startStep } from './shared.js';

/** What the scorer needs of a model: `forward` (every transformers.js PreTrainedModel has it). */
export type ForwardModel = Pick<PreTrainedModel, 'forward'>;

export interface TransformersScorerOptions {
  /** Tokens before the generated ones (at least one): one array for every query, or one per query (one length). */
  prompt: ArrayLike<number> | ArrayLike<number>[];
  /** Instance whose `gatherRows` reorders the cache; default: one loaded on first use. */
  gencore?: Gencore;
}

/** A beam-search scorer over a transformers.js model; `reset()` frees the cache kept between steps. */
export type TransformersScorer = Scorer & { reset(): void };

type Outputs = Record<string, Tensor>;
const disposeAll = (tensors: Iterable<Tensor | undefined>) => {
  for (const t of tensors) t?.dispose();
};

/**
 * A scorer running a transformers.js causal LM (`AutoModelForCausalLM.from_pretrained(…)`) with its cache.
 * Logits of the last position are returned as rows×V float32.
 *
 * @throws TypeError (synchronously) for a model without `forward` or a bad prompt. The scorer rejects with
 *   a RangeError naming the step for logits of the wrong shape or with NaN, and with an Error whose
 *   `cause` is the model's error when `forward` fails; the cache is then freed.
 */
export function transformersScorer(model: ForwardModel, opts: TransformersScorerOptions): TransformersScorer {
  const fn = 'transformersScorer';
  // transformers.js models are callable objects (functions) with a forward method.
  if (model === null || (typeof model !== 'object' && typeof model !== 'function') || typeof (model as ForwardModel).forward !== 'function') {
    throw new TypeError(`${fn}: model must be a transformers.js model with a forward method, got ${show(model)}`);
  }
  if (opts === undefined) throw new TypeError(`${fn}: opts is required ({ prompt })`);
  const o = checkOptions(fn, opts);
  const prompt = checkTokenRows(fn, 'opts.prompt', o.prompt);
  let instance: Gencore | undefined = o.gencore;
  /** The `present.*` outputs of the last step, by the name of the cache input they feed. */
  let cache: Record<string, Tensor> | undefined;
  const reset = () => {
    disposeAll(Object.values(cache ?? {}));
    cache = undefined;
  };

  async function step(batch: BeamBatch): Promise<Float32Array> {
    const { step: st, rows } = batch;
    const where = `step ${st}`;
    const P = prompt.rows[0].length;
    startStep(fn, st, reset, cache !== undefined);
    const gc = (instance ??= await gencoreFor(undefined));
    const T = st === 0 ? P : 1;
    const ids = new BigInt64Array(rows * T);
    for (let r = 0; r < rows; r++) {
      if (st === 0) rowOf(fn, 'opts.prompt', prompt, batch.query[r]).forEach((t, i) => (ids[r * T + i] = BigInt(t)));
      else ids[r] = BigInt(batch.lastToken[r]);
    }
    const inputs: Record<string, unknown> = {
      input_ids: new Tensor('int64', ids, [rows, T]),
      attention_mask: new Tensor('int64', new BigInt64Array(rows * (P + st)).fill(1n), [rows, P + st]),
    };
    const fed: Tensor[] = [inputs.input_ids as Tensor, inputs.attention_mask as Tensor];
    if (cache) {
      const reordered: Record<string, Tensor> = {};
      for (const [name, prev] of Object.entries(cache)) {
        const rowLength = prev.size / prev.dims[0];
        reordered[name] = new Tensor(prev.type, gc.gatherRows(prev.data as Float32Array, rowLength, batch.parentRow), [rows, ...prev.dims.slice(1)]);
        fed.push(reordered[name]);
      }
      inputs.past_key_values = new DynamicCache(reordered);
    }
    let out: Outputs;
    try {
      out = (await model.forward(inputs)) as Outputs;
    } catch (err) {
      reset();
      throw new Error(`${fn}: the model's forward failed at ${where}`, { cause: err });
    } finally {
      disposeAll(fed);
    }
    const kept = new Set<Tensor>();
    try {
      const logits = out.logits;
      if (!(logits instanceof Tensor) || logits.type !== 'float32' || logits.dims[0] !== rows || logits.dims.length < 2 || logits.dims.length > 3) {
        throw new RangeError(`${fn}: the logits at ${where} are ${logits instanceof Tensor ? `a ${logits.type} tensor of shape [${logits.dims.join(', ')}]` : show(logits)}; expected float32 [${rows}, ${T}, V] or [${rows}, V]`);
      }
      const V = logits.dims[logits.dims.length - 1];
      const seq = logits.size / (rows * V);
      let last = logits.data as Float32Array;
      if (seq > 1) {
        const index = Int32Array.from({ length: rows }, (_, r) => r * seq + seq - 1);
        last = gc.gatherRows(last, V, index);
      }
      checkNoNaN(fn, 'the logits', last, V, where);
      const next: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(out)) {
        if (!name.startsWith('present')) continue;
        if (!(t.data instanceof Float32Array) || t.dims[0] !== rows) throw new RangeError(`${fn}: the cache output '${name}' at ${where} has shape [${t.dims.join(', ')}] (${t.type}); expected float32 with ${rows} rows first`);
        next[name.replace('present', 'past_key_values')] = t;
        kept.add(t);
      }
      reset();
      cache = next;
      return last;
    } catch (err) {
      kept.clear();
      reset();
      throw err;
    } finally {
      disposeAll(Object.values(out).filter((t) => t instanceof Tensor && !kept.has(t)));
    }
  }

  return serialScorer(step, reset);
}

export interface ConstrainedGenerateOptions extends Omit<BeamSearchOptions, 'constraint' | 'endToken' | 'queries' | 'vocabSize'> {
  /** The prompt text. */
  prompt: string;
  /** The allowed answers: each is tokenized (no special tokens) and must be generated whole. */
  passages: string[];
  /** Token ending an answer (default: the tokenizer's EOS token). */
  endToken?: number;
  /** Instance running the search (default: one loaded on first use). */
  gencore?: Gencore;
}

/**
 * Rank `passages` as continuations of `prompt` with a trie-constrained beam search over the model:
 * returns up to `numReturn` (default `beams`) answers, best first, with their log-probabilities.
 *
 * @throws TypeError / RangeError for bad options; rejects as `beamSearch` and `transformersScorer` do.
 */
export async function constrainedGenerate(
  model: ForwardModel,
  tokenizer: Pick<PreTrainedTokenizer, 'encode'> & { eos_token_id?: number | null },
  opts: ConstrainedGenerateOptions,
): Promise<Array<{ text: string; tokens: Int32Array; logProb: number; score: number }>> {
  const fn = 'constrainedGenerate';
  if (opts === undefined) throw new TypeError(`${fn}: opts is required ({ prompt, passages, beams, maxLength })`);
  const { prompt, passages, endToken, gencore, ...search } = checkOptions(fn, opts) as ConstrainedGenerateOptions;
  if (typeof prompt !== 'string') throw new TypeError(`${fn}: opts.prompt must be a string, got ${show(prompt)}`);
  if (!Array.isArray(passages) || passages.length === 0 || passages.some((p) => typeof p !== 'string')) {
    throw new TypeError(`${fn}: opts.passages must be a non-empty array of strings, got ${show(passages)}`);
  }
  const end = endToken ?? tokenizer.eos_token_id;
  if (end === undefined || end === null) throw new TypeError(`${fn}: the tokenizer has no EOS token; pass opts.endToken`);
  checkInt(fn, 'opts.endToken', end, 0);
  const gc = await gencoreFor(gencore);
  const promptIds = tokenizer.encode(prompt);
  const answers = passages.map((p) => [...tokenizer.encode(p, { add_special_tokens: false }), end]);
  const trie = gc.buildTrie(answers, { endToken: end });
  const scorer = transformersScorer(model, { prompt: promptIds, gencore: gc });
  try {
    const hyps = await gc.beamSearch(scorer, { ...search, endToken: end, constraint: trie });
    return hyps.map((h) => ({ text: passages[answers.findIndex((a) => a.length === h.tokens.length && a.every((t, i) => t === h.tokens[i]))], tokens: h.tokens, logProb: h.logProb, score: h.score }));
  } finally {
    scorer.reset();
    trie.dispose();
  }
}

// ------------------------------------------------------------------ logits processors for generate()

function checkGencore(fn: string, gc: unknown): Gencore {
  if (gc === null || typeof gc !== 'object' || typeof (gc as Gencore).topKFilter !== 'function') {
    throw new TypeError(`${fn}: gc must be the result of gencore's init(), got ${show(gc)}`);
  }
  return gc as Gencore;
}

/** [batch, V] float32 logits of a generate() step, as (data, rows, V). */
function logitRows(fn: string, logits: Tensor): [Float32Array, number, number] {
  if (!(logits.data instanceof Float32Array) || logits.dims.length !== 2) {
    throw new RangeError(`${fn}: expected float32 logits [batch, V], got ${logits.type} [${logits.dims.join(', ')}]`);
  }
  return [logits.data, logits.dims[0], logits.dims[1]];
}

/** A LogitsProcessor applying `apply(data, rows, V)` to the logits in place. */
function processor(fn: string, apply: (data: Float32Array, rows: number, V: number) => void): LogitsProcessor {
  return new (class extends LogitsProcessor {
    override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
      apply(...logitRows(fn, logits));
      return logits;
    }
  })();
}

/**
 * A `generate()` logits processor giving each next-token distribution the entropy `target` (nats): each row
 * becomes log p̃ with p̃ = `gc.entropyNormalize` of its logits (softmax(γ·z) at the target entropy, clamped
 * to what the row's support allows; −∞ outside it).
 * @param gc - a gencore instance from `init()` (processors run synchronously).
 * @param opts.target - entropy in nats, finite and ≥ 0.
 */
export function entropyLogitsProcessor(gc: Gencore, opts: { target: number }): LogitsProcessor {
  const fn = 'entropyLogitsProcessor';
  checkGencore(fn, gc);
  const target = checkNumber(fn, 'opts.target', checkOptions(fn, opts).target, 0);
  return processor(fn, (data, rows, V) => {
    gc.entropyNormalize(data, rows, V, target, { fromLogits: true, out: data });
    for (let i = 0; i < data.length; i++) data[i] = Math.log(data[i]);
  });
}

interface FilterProcessorOptions {
  /** Keep the end token as well (the consistent variant); needs `endToken`. Default false. */
  consistent?: boolean;
  endToken?: number;
}

function filterOptions(fn: string, o: Partial<FilterProcessorOptions>): FilterProcessorOptions {
  const consistent = o.consistent === undefined ? false : checkBool(fn, 'opts.consistent', o.consistent);
  if (consistent && o.endToken === undefined) throw new TypeError(`${fn}: opts.consistent needs opts.endToken`);
  return { consistent, endToken: o.endToken === undefined ? undefined : checkInt(fn, 'opts.endToken', o.endToken, 0) };
}

/** A `generate()` logits processor keeping each row's top k logits (`gc.topKFilter`, in place). */
export function topKLogitsProcessor(gc: Gencore, opts: { k: number } & FilterProcessorOptions): LogitsProcessor {
  const fn = 'topKLogitsProcessor';
  checkGencore(fn, gc);
  const o = checkOptions(fn, opts);
  const k = checkInt(fn, 'opts.k', o.k, 1);
  const f = filterOptions(fn, o);
  return processor(fn, (data, rows, V) => void gc.topKFilter(data, rows, V, Math.min(k, V), { ...f, out: data }));
}

/** A `generate()` logits processor keeping each row's nucleus of mass p (`gc.nucleusFilter`, in place). */
export function nucleusLogitsProcessor(gc: Gencore, opts: { p: number } & FilterProcessorOptions): LogitsProcessor {
  const fn = 'nucleusLogitsProcessor';
  checkGencore(fn, gc);
  const o = checkOptions(fn, opts);
  const p = checkNumber(fn, 'opts.p', o.p);
  if (!(p > 0 && p <= 1)) throw new RangeError(`${fn}: opts.p must be in (0, 1], got ${p}`);
  const f = filterOptions(fn, o);
  return processor(fn, (data, rows, V) => void gc.nucleusFilter(data, rows, V, p, { ...f, out: data }));
}
