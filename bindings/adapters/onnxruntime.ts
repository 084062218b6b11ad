/**
 * gencore/onnxruntime: onnxruntime-web sessions as beam-search scorers and diffusion denoisers.
 *
 * `ortCausalLM` runs every live beam of a step in one `session.run`, keeps the KV cache between steps and
 * reorders it by the step's `parentRow` with gencore's `gatherRows` (one wasm call per cache tensor);
 * with `opts.encoder` it also serves encoder-decoder models. `ortDenoiser` wraps an ε- (x̂0-, v-) model
 * for `sample`. The runtime is an optional peer dependency: only this entry point imports it.
 */
import { Tensor, type InferenceSession } from 'onnxruntime-web';
import type { Gencore } from '../index.js';
import type { BeamBatch, Scorer } from '../constrained/beam.js';
import type { Denoiser } from '../diffusion/sample.js';
import type { Prediction } from '../diffusion/plan.js';
import { checkEnum, checkInt, checkOptions, show } from '../shared/validate.js';
import { checkNoNaN, checkTokenRows, fullSequences, gencoreFor, rowOf, serialScorer, startStep, type TokenRows } from './shared.js';

type IntType = 'int64' | 'int32';

/** What the adapters need of an `InferenceSession` (any onnxruntime-web session has it). */
export type OrtSession = Pick<InferenceSession, 'run' | 'inputNames' | 'outputNames'> & {
  readonly inputMetadata?: InferenceSession['inputMetadata'];
};

/** Names of the KV-cache inputs and outputs of layer `i` (`{i}` is replaced by the layer index). */
export interface KvNames {
  /** Default `'past_key_values.{i}.key'`. */
  pastKey?: string;
  /** Default `'past_key_values.{i}.value'`. */
  pastValue?: string;
  /** Default `'present.{i}.key'`. */
  presentKey?: string;
  /** Default `'present.{i}.value'`. */
  presentValue?: string;
}

export interface OrtEncoderOptions {
  /** The encoder session, run once per search on every query's source tokens. */
  session: OrtSession;
  /** Source tokens: one array for every query, or one array per query (all of one length). */
  inputs: ArrayLike<number> | ArrayLike<number>[];
  /** Encoder input name (default `'input_ids'`); an `'attention_mask'` input is fed ones. */
  inputIds?: string;
  /** Encoder output name (default `'last_hidden_state'`). */
  output?: string;
  /** Decoder input receiving the encoder output, expanded to one row per beam (default `'encoder_hidden_states'`). */
  hiddenStates?: string;
  /** Decoder input fed ones over the source, when the decoder has it (default `'encoder_attention_mask'`). */
  attentionMask?: string;
}

export interface OrtCausalLMOptions extends KvNames {
  /**
   * Tokens fed before the first generated one (at least one: a BOS or decoder-start token): one array for
   * every query, or one array per query (all of one length).
   */
  prompt: ArrayLike<number> | ArrayLike<number>[];
  /** Instance whose `gatherRows` reorders the cache; default: one loaded on first use. */
  gencore?: Gencore;
  /** Input names; `attentionMask` and `positionIds` are fed only when the session has them. */
  inputIds?: string;
  attentionMask?: string;
  positionIds?: string;
  /** Output holding [rows, seq, V] (or [rows, V]) logits; default `'logits'`. */
  logits?: string;
  /** Encoder-decoder models: the encoder and how its output reaches the decoder. */
  encoder?: OrtEncoderOptions;
}

/** A beam-search scorer over an ONNX model; `reset()` drops the KV cache kept between steps. */
export type OrtScorer = Scorer & { reset(): void };

/** An index list of the session's names, for messages. */
const listed = (names: readonly string[]) => (names.length ? names.map((n) => `'${n}'`).join(', ') : 'none');

function checkName(fn: string, what: string, name: unknown, fallback: string): string {
  if (name === undefined) return fallback;
  if (typeof name !== 'string' || name === '') throw new TypeError(`${fn}: ${what} must be a non-empty string, got ${show(name)}`);
  return name;
}

function requireNames(fn: string, session: OrtSession, kind: 'input' | 'output', names: string[]): void {
  const have = kind === 'input' ? session.inputNames : session.outputNames;
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length) throw new TypeError(`${fn}: the session has no ${kind} ${listed(missing)}; its ${kind}s are ${listed(have)}`);
}

function checkSession(fn: string, name: string, s: unknown): OrtSession {
  const o = s as OrtSession;
  if (s === null || typeof s !== 'object' || typeof o.run !== 'function' || !Array.isArray(o.inputNames) || !Array.isArray(o.outputNames)) {
    throw new TypeError(`${fn}: ${name} must be an onnxruntime InferenceSession, got ${show(s)}`);
  }
  return o;
}

function inputType(session: OrtSession, name: string): string | undefined {
  const m = session.inputMetadata?.find((x) => x.name === name);
  return m && m.isTensor ? m.type : undefined;
}

function intTensor(type: IntType, values: ArrayLike<number>, dims: number[]): Tensor {
  return type === 'int32' ? new Tensor('int32', Int32Array.from(values), dims) : new Tensor('int64', BigInt64Array.from(Array.from(values), BigInt), dims);
}

function onesTensor(type: IntType, dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return type === 'int32' ? new Tensor('int32', new Int32Array(n).fill(1), dims) : new Tensor('int64', new BigInt64Array(n).fill(1n), dims);
}

const idType = (session: OrtSession, name: string): IntType => (inputType(session, name) === 'int32' ? 'int32' : 'int64');

/** A float32 output tensor of `rows` leading rows, or a RangeError naming the step. */
function floatOutput(fn: string, out: InferenceSession.ReturnType, name: string, rows: number, where: string): Tensor {
  const t = out[name] as Tensor | undefined;
  if (!t || t.type !== 'float32') throw new RangeError(`${fn}: output '${name}' at ${where} is ${t ? `a ${t.type} tensor` : 'missing'}; expected float32`);
  if (t.dims.length < 2 || t.dims[0] !== rows) throw new RangeError(`${fn}: output '${name}' at ${where} has shape [${t.dims.join(', ')}]; expected ${rows} rows first`);
  return t;
}

const disposeAll = (tensors: Iterable<Tensor | undefined>) => {
  for (const t of tensors) t?.dispose();
};

/**
 * A beam-search scorer running an ONNX causal LM (or the decoder of an encoder-decoder) in onnxruntime-web.
 *
 * Each step feeds every live beam as one batch: step 0 the prompt ([rows, P] input ids, positions 0…P−1),
 * later steps the last token alone with the KV cache of the parent rows (reordered by `batch.parentRow`
 * with `gatherRows`), position P+s−1 and an all-ones attention mask of P+s. A session without the
 * `pastKey` inputs gets the whole sequence every step instead. Logits of the last position are returned
 * (rows×V float32). An encoder runs once per search (at step 0) on `encoder.inputs`; its output is
 * expanded to one row per beam by `batch.query`.
 *
 * One search at a time per scorer: calls are serialized, and step 0 starts afresh. Left-padded prompts of
 * different lengths are not supported.
 *
 * @throws TypeError (synchronously) when the session lacks an input or output the options name, listing
 *   what it has. The returned scorer rejects with a RangeError naming the step for logits or cache
 *   tensors of the wrong shape or NaN logits, and with an Error whose `cause` is the runtime's error when
 *   `session.run` fails; the tensors it made are disposed then and the cache is dropped.
 */
export function ortCausalLM(session: InferenceSession | OrtSession, opts: OrtCausalLMOptions): OrtScorer {
  const fn = 'ortCausalLM';
  const s = checkSession(fn, 'session', session);
  if (opts === undefined) throw new TypeError(`${fn}: opts is required ({ prompt })`);
  const o = checkOptions(fn, opts);
  const prompt = checkTokenRows(fn, 'opts.prompt', o.prompt);
  const names = {
    inputIds: checkName(fn, 'opts.inputIds', o.inputIds, 'input_ids'),
    attentionMask: checkName(fn, 'opts.attentionMask', o.attentionMask, 'attention_mask'),
    positionIds: checkName(fn, 'opts.positionIds', o.positionIds, 'position_ids'),
    logits: checkName(fn, 'opts.logits', o.logits, 'logits'),
  };
  const kv = {
    pastKey: checkName(fn, 'opts.pastKey', o.pastKey, 'past_key_values.{i}.key'),
    pastValue: checkName(fn, 'opts.pastValue', o.pastValue, 'past_key_values.{i}.value'),
    presentKey: checkName(fn, 'opts.presentKey', o.presentKey, 'present.{i}.key'),
    presentValue: checkName(fn, 'opts.presentValue', o.presentValue, 'present.{i}.value'),
  };
  requireNames(fn, s, 'input', [names.inputIds]);
  requireNames(fn, s, 'output', [names.logits]);
  const layerNames = (i: number) => ({
    pastKey: kv.pastKey.replaceAll('{i}', String(i)),
    pastValue: kv.pastValue.replaceAll('{i}', String(i)),
    presentKey: kv.presentKey.replaceAll('{i}', String(i)),
    presentValue: kv.presentValue.replaceAll('{i}', String(i)),
  });
  const layers: Array<ReturnType<typeof layerNames>> = [];
  while (s.inputNames.includes(layerNames(layers.length).pastKey)) {
    const l = layerNames(layers.length);
    requireNames(fn, s, 'input', [l.pastValue]);
    requireNames(fn, s, 'output', [l.presentKey, l.presentValue]);
    layers.push(l);
  }
  // Empty past tensors at step 0 need the cache's fixed dims (heads, head size) from the metadata.
  const pastDims = layers.map((l) => {
    const m = s.inputMetadata?.find((x) => x.name === l.pastKey);
    const shape = m && m.isTensor ? m.shape : [];
    const fixed = shape.slice(1);
    const seqAxis = fixed.findIndex((d) => typeof d !== 'number');
    if (shape.length < 3 || seqAxis < 0 || fixed.some((d, i) => i !== seqAxis && typeof d !== 'number')) {
      throw new TypeError(`${fn}: input '${l.pastKey}' must have a shape [batch, …fixed dims, past, …] in the session metadata, got [${shape.join(', ')}]`);
    }
    return { fixed: fixed.map((d, i) => (i === seqAxis ? 0 : (d as number))), type: inputType(s, l.pastKey) };
  });
  for (const [i, p] of pastDims.entries()) {
    if (p.type !== 'float32') throw new TypeError(`${fn}: input '${layers[i].pastKey}' is ${p.type}; only float32 caches are supported`);
  }
  const hasMask = s.inputNames.includes(names.attentionMask);
  const hasPositions = s.inputNames.includes(names.positionIds);
  const ids = idType(s, names.inputIds);

  const enc = o.encoder === undefined ? undefined : checkEncoder(fn, s, o.encoder);
  let instance: Gencore | undefined = o.gencore;

  /** The cache of the last step: present tensors, layer by layer (key, value). */
  let cache: Tensor[] | undefined;
  let encoded: { data: Float32Array; dims: readonly number[] } | undefined;
  const reset = () => {
    disposeAll(cache ?? []);
    cache = undefined;
    encoded = undefined;
  };

  async function step(batch: BeamBatch): Promise<Float32Array> {
    const { step: st, rows } = batch;
    const where = `step ${st}`;
    const P = prompt.rows[0].length;
    startStep(fn, st, reset, layers.length === 0 || cache !== undefined);
    const gc = (instance ??= await gencoreFor(undefined));
    if (enc && st === 0) encoded = await encode(fn, enc, batch.query);

    const cached = layers.length > 0 && st > 0;
    const T = cached ? 1 : P + st;
    const tokens = cached ? batch.lastToken : fullSequences(fn, batch, prompt);
    const feeds: Record<string, Tensor> = { [names.inputIds]: intTensor(ids, tokens, [rows, T]) };
    if (hasMask) feeds[names.attentionMask] = onesTensor(idType(s, names.attentionMask), [rows, P + st]);
    if (hasPositions) {
      const pos = new Int32Array(rows * T);
      for (let i = 0; i < pos.length; i++) pos[i] = P + st - T + (i % T);
      feeds[names.positionIds] = intTensor(idType(s, names.positionIds), pos, [rows, T]);
    }
    layers.forEach((l, i) => {
      if (!cached) {
        feeds[l.pastKey] = new Tensor('float32', new Float32Array(0), [rows, ...pastDims[i].fixed]);
        feeds[l.pastValue] = new Tensor('float32', new Float32Array(0), [rows, ...pastDims[i].fixed]);
        return;
      }
      for (const [j, name] of [l.pastKey, l.pastValue].entries()) {
        const prev = cache![2 * i + j];
        const rowLength = prev.size / prev.dims[0];
        feeds[name] = new Tensor('float32', gc.gatherRows(prev.data as Float32Array, rowLength, batch.parentRow), [rows, ...prev.dims.slice(1)]);
      }
    });
    if (enc && encoded) {
      const rowLength = encoded.data.length / encoded.dims[0];
      feeds[enc.hiddenStates] = new Tensor('float32', gc.gatherRows(encoded.data, rowLength, batch.query), [rows, ...encoded.dims.slice(1)]);
      if (enc.decoderMask) feeds[enc.attentionMask] = onesTensor(idType(s, enc.attentionMask), [rows, encoded.dims[1]]);
    }

    let out: InferenceSession.ReturnType;
    try {
      out = await s.run(feeds);
    } catch (err) {
      reset();
      throw new Error(`${fn}: session.run failed at ${where}`, { cause: err });
    } finally {
      disposeAll(Object.values(feeds));
    }
    const kept = new Set<Tensor>();
    try {
      const logits = floatOutput(fn, out, names.logits, rows, where);
      const V = logits.dims[logits.dims.length - 1];
      const seq = logits.size / (rows * V);
      if (logits.dims.length > 3 || !(seq === 1 || seq === T)) {
        throw new RangeError(`${fn}: output '${names.logits}' at ${where} has shape [${logits.dims.join(', ')}]; expected [${rows}, ${T}, V] or [${rows}, V]`);
      }
      let last = logits.data as Float32Array;
      if (seq > 1) {
        const index = new Int32Array(rows);
        for (let r = 0; r < rows; r++) index[r] = r * seq + seq - 1;
        last = gc.gatherRows(last, V, index);
      }
      checkNoNaN(fn, `output '${names.logits}'`, last, V, where);
      const next: Tensor[] = [];
      for (const l of layers) {
        for (const name of [l.presentKey, l.presentValue]) {
          const t = floatOutput(fn, out, name, rows, where);
          next.push(t);
          kept.add(t);
        }
      }
      disposeAll(cache ?? []);
      cache = layers.length ? next : undefined;
      // The output's array is the runtime's copy in JS memory: it outlives the disposed tensor.
      return last;
    } catch (err) {
      kept.clear();
      reset();
      throw err;
    } finally {
      disposeAll(Object.values(out).filter((t): t is Tensor => t instanceof Tensor && !kept.has(t)));
    }
  }

  return serialScorer(step, reset);
}

interface EncoderPlan {
  session: OrtSession;
  inputs: TokenRows;
  inputIds: string;
  output: string;
  hiddenStates: string;
  attentionMask: string;
  decoderMask: boolean;
}

function checkEncoder(fn: string, decoder: OrtSession, v: unknown): EncoderPlan {
  const o = checkOptions(fn, v as OrtEncoderOptions, 'opts.encoder');
  const session = checkSession(fn, 'opts.encoder.session', o.session);
  const plan: EncoderPlan = {
    session,
    inputs: checkTokenRows(fn, 'opts.encoder.inputs', o.inputs),
    inputIds: checkName(fn, 'opts.encoder.inputIds', o.inputIds, 'input_ids'),
    output: checkName(fn, 'opts.encoder.output', o.output, 'last_hidden_state'),
    hiddenStates: checkName(fn, 'opts.encoder.hiddenStates', o.hiddenStates, 'encoder_hidden_states'),
    attentionMask: checkName(fn, 'opts.encoder.attentionMask', o.attentionMask, 'encoder_attention_mask'),
    decoderMask: false,
  };
  requireNames(fn, session, 'input', [plan.inputIds]);
  requireNames(fn, session, 'output', [plan.output]);
  requireNames(fn, decoder, 'input', [plan.hiddenStates]);
  plan.decoderMask = decoder.inputNames.includes(plan.attentionMask);
  return plan;
}

/** Run the encoder once on every query's source tokens: [Q, S, …] float32. */
async function encode(fn: string, enc: EncoderPlan, query: Int32Array): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const Q = query.length ? Math.max(...query) + 1 : 0;
  const S = enc.inputs.rows[0].length;
  const src = new Int32Array(Q * S);
  for (let q = 0; q < Q; q++) src.set(rowOf(fn, 'opts.encoder.inputs', enc.inputs, q), q * S);
  const type = idType(enc.session, enc.inputIds);
  const feeds: Record<string, Tensor> = { [enc.inputIds]: intTensor(type, src, [Q, S]) };
  if (enc.session.inputNames.includes('attention_mask')) feeds.attention_mask = onesTensor(idType(enc.session, 'attention_mask'), [Q, S]);
  let out: InferenceSession.ReturnType;
  try {
    out = await enc.session.run(feeds);
  } catch (err) {
    throw new Error(`${fn}: the encoder's session.run failed`, { cause: err });
  } finally {
    disposeAll(Object.values(feeds));
  }
  try {
    const t = floatOutput(fn, out, enc.output, Q, 'the encoder');
    const data = (t.data as Float32Array).slice();
    checkNoNaN(fn, `output '${enc.output}'`, data, data.length / Q, 'the encoder');
    return { data, dims: t.dims };
  } finally {
    disposeAll(Object.values(out).filter((t): t is Tensor => t instanceof Tensor));
  }
}

export interface OrtDenoiserOptions {
  /** Input receiving x_t (default `'sample'`); [batch, dim] or any shape [batch, …] with dim elements per row. */
  input?: string;
  /** Input receiving the timestep (default `'timestep'`): int64, int32 or float32, a scalar or one per row. */
  timestep?: string;
  /** Output holding the prediction (default: the session's first output). */
  output?: string;
  /** What the model predicts (default `'epsilon'`); pass `prediction: denoiser.prediction` to `sample`. */
  prediction?: Prediction;
}

/** A denoiser over an ONNX model, carrying what it predicts. */
export type OrtDenoiser = Denoiser & { readonly prediction: Prediction };

/**
 * A denoiser for `sample` / `pool.sample` from an ONNX diffusion model: each call runs
 * `session.run({ [input]: x_t, [timestep]: t })` and returns the output as batch×dim float32.
 *
 * @throws TypeError (synchronously) when the session lacks the named input or output, listing what it has.
 *   The denoiser rejects with a RangeError naming the timestep for an output of the wrong size or with
 *   NaN, and with an Error whose `cause` is the runtime's error when `session.run` fails. Every tensor it
 *   makes or receives is disposed before it returns.
 */
export function ortDenoiser(session: InferenceSession | OrtSession, opts: OrtDenoiserOptions = {}): OrtDenoiser {
  const fn = 'ortDenoiser';
  const s = checkSession(fn, 'session', session);
  const o = checkOptions(fn, opts);
  const input = checkName(fn, 'opts.input', o.input, 'sample');
  const timestep = checkName(fn, 'opts.timestep', o.timestep, 'timestep');
  const output = checkName(fn, 'opts.output', o.output, s.outputNames[0] ?? 'out_sample');
  const prediction = o.prediction === undefined ? 'epsilon' : checkEnum(fn, 'opts.prediction', o.prediction, ['epsilon', 'sample', 'v_prediction'] as const);
  requireNames(fn, s, 'input', [input, timestep]);
  requireNames(fn, s, 'output', [output]);
  const meta = (name: string) => s.inputMetadata?.find((m) => m.name === name);
  const xm = meta(input);
  const xShape = xm && xm.isTensor ? xm.shape : [];
  const tm = meta(timestep);
  const tType = tm && tm.isTensor ? tm.type : 'int64';
  if (tType !== 'int64' && tType !== 'int32' && tType !== 'float32') throw new TypeError(`${fn}: input '${timestep}' is ${tType}; expected int64, int32 or float32`);
  const perRow = !(tm && tm.isTensor && tm.shape.length === 0);

  const denoiser = async (x: Float32Array, t: number, shape: [number, number]): Promise<Float32Array> => {
    const [batch, dim] = shape;
    checkInt(fn, 'the timestep', t, 0);
    // A model over images ([batch, C, H, W]) gets the rows in its own fixed trailing dims.
    const fixed = xShape.slice(1);
    const dims = fixed.length > 1 && fixed.every((d) => typeof d === 'number') && fixed.reduce((a: number, b) => a * (b as number), 1) === dim ? [batch, ...(fixed as number[])] : [batch, dim];
    const n = perRow ? batch : 1;
    const tDims = perRow ? [batch] : [];
    const tTensor = tType === 'float32' ? new Tensor('float32', new Float32Array(n).fill(t), tDims) : intTensor(tType, new Int32Array(n).fill(t), tDims);
    const feeds: Record<string, Tensor> = { [input]: new Tensor('float32', x.slice(), dims), [timestep]: tTensor };
    let out: InferenceSession.ReturnType;
    try {
      out = await s.run(feeds);
    } catch (err) {
      throw new Error(`${fn}: session.run failed at timestep ${t}`, { cause: err });
    } finally {
      disposeAll(Object.values(feeds));
    }
    try {
      const y = out[output] as Tensor | undefined;
      if (!y || y.type !== 'float32' || y.size !== batch * dim) {
        throw new RangeError(`${fn}: output '${output}' at timestep ${t} is ${y ? `a ${y.type} tensor of shape [${y.dims.join(', ')}]` : 'missing'}; expected ${batch}×${dim} float32`);
      }
      const data = (y.data as Float32Array).slice();
      checkNoNaN(fn, `output '${output}'`, data, dim, `timestep ${t}`);
      return data;
    } finally {
      disposeAll(Object.values(out).filter((v): v is Tensor => v instanceof Tensor));
    }
  };
  return Object.assign(denoiser, { prediction });
}
