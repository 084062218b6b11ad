/**
 * Test models with outputs known in closed form, as ONNX bytes and as float64 references:
 * - a causal LM with a KV cache (multi-head attention whose keys and values come from token and
 *   position embeddings), so its logits depend on the cache and a wrong reorder changes them;
 * - an encoder-decoder (encoder: embedding → tanh; decoder: the same cached self-attention plus
 *   cross-attention over the encoder output);
 * - the exact ε-model of Gaussian data N(μ, s²·I) under a noise schedule.
 */
import { mulberry32 } from '../helpers/reference.js';
import { FLOAT, INT64, onnxModel, type Graph, type Initializer, type Node } from './onnx-writer.js';

/** A graph under construction with fresh value names. */
class Builder {
  nodes: Node[] = [];
  initializers: Initializer[] = [];
  private n = 0;

  op(op: string, inputs: string[], attrs?: Node['attrs'], output?: string): string {
    const out = output ?? `v${this.n++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  const(data: Float32Array | BigInt64Array, dims: number[]): string {
    const name = `c${this.n++}`;
    this.initializers.push({ name, dims, data });
    return name;
  }

  scalar(x: number): string {
    return this.const(Float32Array.of(x), []);
  }

  ints(xs: number[]): string {
    return this.const(BigInt64Array.from(xs.map(BigInt)), [xs.length]);
  }
}

const rand = (rnd: () => number, n: number, scale: number) => Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);

export interface CausalLMConfig {
  vocab: number;
  dim: number;
  heads: number;
  layers: number;
  /** Longest sequence (prompt + generated) the position table covers. */
  maxPositions: number;
  seed: number;
  /** Logit scale (larger: peakier distributions). */
  logitScale?: number;
}

export interface CausalLM {
  bytes: Uint8Array;
  /** float64 last-position logits of the full sequence `tokens` (positions 0…n−1), computed without a cache. */
  logits(tokens: ArrayLike<number>): Float64Array;
}

/** Weights shared by the graph and the reference. */
function causalWeights(c: CausalLMConfig) {
  const rnd = mulberry32(c.seed);
  const D = c.dim;
  const w = 1 / Math.sqrt(D);
  return {
    E: rand(rnd, c.vocab * D, 1),
    P: rand(rnd, c.maxPositions * D, 1),
    layers: Array.from({ length: c.layers }, () => ({ q: rand(rnd, D * D, 2 * w), k: rand(rnd, D * D, 2 * w), v: rand(rnd, D * D, 2 * w) })),
    out: rand(rnd, D * c.vocab, (c.logitScale ?? 3) * w),
  };
}

/** [B,T,D] → [B,H,T,D/H]. */
function splitHeads(b: Builder, x: string, H: number, D: number): string {
  return b.op('Transpose', [b.op('Reshape', [x, b.ints([0, 0, H, D / H])])], { perm: [0, 2, 1, 3] });
}

/** One cached self-attention layer: keys and values from x0, queries from h; returns tanh(h + attention). */
function selfAttention(b: Builder, l: number, x0: string, h: string, w: { q: Float32Array; k: Float32Array; v: Float32Array }, D: number, H: number, maskBias?: string): string {
  const k = splitHeads(b, b.op('MatMul', [x0, b.const(w.k, [D, D])]), H, D);
  const v = splitHeads(b, b.op('MatMul', [x0, b.const(w.v, [D, D])]), H, D);
  const keys = b.op('Concat', [`past_key_values.${l}.key`, k], { axis: 2 }, `present.${l}.key`);
  const values = b.op('Concat', [`past_key_values.${l}.value`, v], { axis: 2 }, `present.${l}.value`);
  const q = splitHeads(b, b.op('MatMul', [h, b.const(w.q, [D, D])]), H, D);
  let s = b.op('Mul', [b.op('MatMul', [q, b.op('Transpose', [keys], { perm: [0, 1, 3, 2] })]), b.scalar(1 / Math.sqrt(D / H))]);
  if (maskBias) s = b.op('Add', [s, maskBias]);
  const o = b.op('MatMul', [b.op('Softmax', [s], { axis: -1 }), values]);
  const merged = b.op('Reshape', [b.op('Transpose', [o], { perm: [0, 2, 1, 3] }), b.ints([0, 0, D])]);
  return b.op('Tanh', [b.op('Add', [h, merged])]);
}

function kvInputs(layers: number, H: number, Dh: number): Graph['inputs'] {
  const out: Graph['inputs'] = [];
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value']) out.push({ name: `past_key_values.${l}.${kind}`, type: FLOAT, dims: ['batch', H, 'past', Dh] });
  }
  return out;
}

function kvOutputs(layers: number, H: number, Dh: number): Graph['outputs'] {
  const out: Graph['outputs'] = [];
  for (let l = 0; l < layers; l++) {
    for (const kind of ['key', 'value']) out.push({ name: `present.${l}.${kind}`, type: FLOAT, dims: ['batch', H, 'total', Dh] });
  }
  return out;
}

/** Row-vector × matrix in float64: x[n] · W[n×m]. */
function vecMat(x: ArrayLike<number>, W: Float32Array, n: number, m: number): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) y[j] += x[i] * W[i * m + j];
  return y;
}

/** Multi-head attention of one query over rows `keys`/`values` (arrays of D-vectors), float64. */
function attend(q: Float64Array, keys: Float64Array[], values: Float64Array[], H: number, D: number): Float64Array {
  const Dh = D / H;
  const out = new Float64Array(D);
  for (let hd = 0; hd < H; hd++) {
    const s = keys.map((k) => {
      let dot = 0;
      for (let i = hd * Dh; i < (hd + 1) * Dh; i++) dot += q[i] * k[i];
      return dot / Math.sqrt(Dh);
    });
    const mx = Math.max(...s);
    const e = s.map((x) => Math.exp(x - mx));
    const z = e.reduce((a, b) => a + b, 0);
    values.forEach((v, t) => {
      for (let i = hd * Dh; i < (hd + 1) * Dh; i++) out[i] += (e[t] / z) * v[i];
    });
  }
  return out;
}

/**
 * The causal LM. Inputs: input_ids [B,T] int64, attention_mask [B,past+T] int64 (0 masks a position),
 * position_ids [B,T] int64, past_key_values.{l}.key|value [B,H,past,D/H]; outputs logits [B,T,V] and
 * present.{l}.key|value [B,H,past+T,D/H].
 */
export function causalLM(c: CausalLMConfig): CausalLM {
  const { vocab: V, dim: D, heads: H, layers: L } = c;
  const w = causalWeights(c);
  const b = new Builder();
  const x0 = b.op('Add', [b.op('Gather', [b.const(w.E, [V, D]), 'input_ids']), b.op('Gather', [b.const(w.P, [c.maxPositions, D]), 'position_ids'])]);
  const maskF = b.op('Cast', ['attention_mask'], { to: FLOAT });
  const maskBias = b.op('Unsqueeze', [b.op('Mul', [b.op('Sub', [maskF, b.scalar(1)]), b.scalar(1e9)]), b.ints([1, 2])]);
  let h = x0;
  for (let l = 0; l < L; l++) h = selfAttention(b, l, x0, h, w.layers[l], D, H, maskBias);
  b.op('MatMul', [h, b.const(w.out, [D, V])], undefined, 'logits');
  const bytes = onnxModel({
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: 'input_ids', type: INT64, dims: ['batch', 'seq'] },
      { name: 'attention_mask', type: INT64, dims: ['batch', 'total'] },
      { name: 'position_ids', type: INT64, dims: ['batch', 'seq'] },
      ...kvInputs(L, H, D / H),
    ],
    outputs: [{ name: 'logits', type: FLOAT, dims: ['batch', 'seq', V] }, ...kvOutputs(L, H, D / H)],
  });
  const logits = (tokens: ArrayLike<number>) => {
    const n = tokens.length;
    const x = Array.from({ length: n }, (_, t) => {
      const v = new Float64Array(D);
      for (let i = 0; i < D; i++) v[i] = w.E[tokens[t] * D + i] + w.P[t * D + i];
      return v;
    });
    let hv = x[n - 1];
    for (const lw of w.layers) {
      const keys = x.map((xt) => vecMat(xt, lw.k, D, D));
      const values = x.map((xt) => vecMat(xt, lw.v, D, D));
      const o = attend(vecMat(hv, lw.q, D, D), keys, values, H, D);
      hv = hv.map((y, i) => Math.tanh(y + o[i]));
    }
    return vecMat(hv, w.out, D, V);
  };
  return { bytes, logits };
}

export interface EncoderDecoder {
  encoder: Uint8Array;
  decoder: Uint8Array;
  /** float64 last-position logits of decoder tokens `dec` given encoder tokens `enc`, without a cache. */
  logits(enc: ArrayLike<number>, dec: ArrayLike<number>): Float64Array;
}

/**
 * Encoder: input_ids [B,S] → last_hidden_state = tanh(E_enc[ids]·W_enc) [B,S,D].
 * Decoder: input_ids [B,T], encoder_hidden_states [B,S,D], past_key_values.0.key|value → logits [B,T,V],
 * present.0.key|value; one cached self-attention layer, then h = tanh(h + cross-attention(h, enc)).
 */
export function encoderDecoder(c: { vocab: number; dim: number; heads: number; seed: number }): EncoderDecoder {
  const { vocab: V, dim: D, heads: H } = c;
  const rnd = mulberry32(c.seed);
  const w = 1 / Math.sqrt(D);
  const Ee = rand(rnd, V * D, 1);
  const We = rand(rnd, D * D, 2 * w);
  const Ed = rand(rnd, V * D, 1);
  const layer = { q: rand(rnd, D * D, 2 * w), k: rand(rnd, D * D, 2 * w), v: rand(rnd, D * D, 2 * w) };
  const Wc = rand(rnd, D * D, 3 * w);
  const Wout = rand(rnd, D * V, 3 * w);

  const eb = new Builder();
  eb.op('Tanh', [eb.op('MatMul', [eb.op('Gather', [eb.const(Ee, [V, D]), 'input_ids']), eb.const(We, [D, D])])], undefined, 'last_hidden_state');
  const encoder = onnxModel({
    nodes: eb.nodes,
    initializers: eb.initializers,
    inputs: [{ name: 'input_ids', type: INT64, dims: ['batch', 'src'] }],
    outputs: [{ name: 'last_hidden_state', type: FLOAT, dims: ['batch', 'src', D] }],
  });

  const b = new Builder();
  const x0 = b.op('Gather', [b.const(Ed, [V, D]), 'input_ids']);
  const h = selfAttention(b, 0, x0, x0, layer, D, H);
  const qc = b.op('MatMul', [h, b.const(Wc, [D, D])]);
  const sc = b.op('Mul', [b.op('MatMul', [qc, b.op('Transpose', ['encoder_hidden_states'], { perm: [0, 2, 1] })]), b.scalar(1 / Math.sqrt(D))]);
  const oc = b.op('MatMul', [b.op('Softmax', [sc], { axis: -1 }), 'encoder_hidden_states']);
  b.op('MatMul', [b.op('Tanh', [b.op('Add', [h, oc])]), b.const(Wout, [D, V])], undefined, 'logits');
  const decoder = onnxModel({
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: 'input_ids', type: INT64, dims: ['batch', 'seq'] },
      { name: 'encoder_hidden_states', type: FLOAT, dims: ['batch', 'src', D] },
      ...kvInputs(1, H, D / H),
    ],
    outputs: [{ name: 'logits', type: FLOAT, dims: ['batch', 'seq', V] }, ...kvOutputs(1, H, D / H)],
  });

  const logits = (enc: ArrayLike<number>, dec: ArrayLike<number>) => {
    const encOut = Array.from(enc, (t) => {
      const e = new Float64Array(D);
      for (let i = 0; i < D; i++) e[i] = Ee[t * D + i];
      return vecMat(e, We, D, D).map(Math.tanh);
    });
    const x = Array.from(dec, (t) => Float64Array.from({ length: D }, (_, i) => Ed[t * D + i]));
    const last = x[x.length - 1];
    const o = attend(vecMat(last, layer.q, D, D), x.map((xt) => vecMat(xt, layer.k, D, D)), x.map((xt) => vecMat(xt, layer.v, D, D)), H, D);
    const hv = last.map((y, i) => Math.tanh(y + o[i]));
    const oc2 = attend(vecMat(hv, Wc, D, D), encOut, encOut, 1, D);
    return vecMat(hv.map((y, i) => Math.tanh(y + oc2[i])), Wout, D, V);
  };
  return { encoder, decoder, logits };
}

/**
 * The exact ε-prediction for data x0 ~ N(μ, s²·I): E[ε | x_t] = √(1−ᾱ_t)·(x_t − √ᾱ_t·μ) / (ᾱ_t·s² + 1 − ᾱ_t).
 * Inputs x [B,dim] float32 and t [B] int64 (ᾱ_t is looked up in the schedule); output eps [B,dim].
 */
export function gaussianEpsModel(mu: Float32Array, s: number, alphasCumprod: Float64Array): Uint8Array {
  const b = new Builder();
  const dim = mu.length;
  const a = b.op('Unsqueeze', [b.op('Gather', [b.const(Float32Array.from(alphasCumprod), [alphasCumprod.length]), 't']), b.ints([1])]);
  const one = b.scalar(1);
  const num = b.op('Sub', ['x', b.op('Mul', [b.op('Sqrt', [a]), b.const(mu, [dim])])]);
  const den = b.op('Add', [b.op('Mul', [a, b.scalar(s * s)]), b.op('Sub', [one, a])]);
  b.op('Div', [b.op('Mul', [b.op('Sqrt', [b.op('Sub', [one, a])]), num]), den], undefined, 'eps');
  return onnxModel({
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: 'x', type: FLOAT, dims: ['batch', dim] },
      { name: 't', type: INT64, dims: ['batch'] },
    ],
    outputs: [{ name: 'eps', type: FLOAT, dims: ['batch', dim] }],
  });
}
