/**
 * A learned ε-model for the samplers: a dense network (bindings/nn/dense.ts) that reads a point x_t and
 * a sinusoidal embedding of its timestep t and predicts the noise ε. Conventions: docs/diffusion.md
 * ("A learned denoiser").
 *
 * The network's input row is [x_t (dim values) | e(t) (embedDim values)] with
 * e(t)_j = sin(t·ω_j), e(t)_{h+j} = cos(t·ω_j), ω_j = 1000^(−j/h), h = embedDim/2, j = 0..h−1:
 * periods from 2π up to about 2π·1000 timesteps, so that both neighbouring and distant timesteps can be
 * told apart.
 */
import type { DenseNetwork } from '../nn/dense.js';
import type { Denoiser } from './sample.js';
import { checkF32, checkInt, checkOptions, show } from '../shared/validate.js';

/** A trained ε-model: its network and how inputs are laid out. */
export interface MlpDenoiserModel {
  /** sizes[0] = dim + embedDim, sizes[last] = dim. */
  net: DenseNetwork;
  /** Point dimension d. */
  dim: number;
  /** Width of the time embedding (even). */
  embedDim: number;
}

/** The sinusoidal embedding e(t) (module header), written to `out` at `offset`. */
export function timeEmbedding(t: number, embedDim: number, out: Float32Array = new Float32Array(embedDim), offset = 0): Float32Array {
  const h = embedDim / 2;
  for (let j = 0; j < h; j++) {
    const angle = t * 1000 ** (-j / h);
    out[offset + j] = Math.sin(angle);
    out[offset + h + j] = Math.cos(angle);
  }
  return out;
}

/** Check a model argument; returns it. */
export function checkMlpDenoiserModel(fn: string, model: unknown): MlpDenoiserModel {
  const m = checkOptions(fn, model as MlpDenoiserModel, 'model') as MlpDenoiserModel;
  const dim = checkInt(fn, 'model.dim', m.dim, 1);
  const embedDim = checkInt(fn, 'model.embedDim', m.embedDim, 0);
  if (embedDim % 2 !== 0) throw new RangeError(`${fn}: model.embedDim must be even, got ${embedDim}`);
  const sizes = m.net?.sizes;
  if (!Array.isArray(sizes) || sizes[0] !== dim + embedDim || sizes[sizes.length - 1] !== dim) {
    throw new RangeError(`${fn}: model.net.sizes must start with dim + embedDim = ${dim + embedDim} and end with dim = ${dim}, got ${show(sizes)}`);
  }
  return m;
}

/**
 * Network inputs for a batch: row r is [x_r | e(t_r)].
 *
 * @param x - rows × dim points (row-major).
 * @param t - one timestep for every row, or one per row.
 * @returns rows × (dim + embedDim) values.
 */
export function denoiserInputs(model: MlpDenoiserModel, x: Float32Array, t: number | ArrayLike<number>, rows: number): Float32Array {
  const { dim, embedDim } = model;
  const width = dim + embedDim;
  const inputs = new Float32Array(rows * width);
  const shared = typeof t === 'number' ? timeEmbedding(t, embedDim) : undefined;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) inputs[r * width + c] = x[r * dim + c];
    if (shared) inputs.set(shared, r * width + dim);
    else timeEmbedding((t as ArrayLike<number>)[r], embedDim, inputs, r * width + dim);
  }
  return inputs;
}

/**
 * The sampler-facing denoiser of a model: (x, t, [batch, dim]) → ε̂, evaluated with `gc.denseForward`
 * on the calling thread (so it also serves `pool.sample`, whose denoiser callbacks run on the caller).
 *
 * @param gc - an `init()` result (anything with a synchronous `denseForward`).
 * @throws RangeError when the model's sizes do not fit dim and embedDim.
 */
export function mlpDenoiser(gc: { denseForward(net: DenseNetwork, x: Float32Array, rows: number): Float32Array }, model: MlpDenoiserModel): Denoiser {
  const m = checkMlpDenoiserModel('mlpDenoiser', model);
  return (x, t, [batch, dim]) => {
    if (dim !== m.dim) throw new RangeError(`mlpDenoiser: shape[1] = ${dim} does not match model.dim = ${m.dim}`);
    checkF32('mlpDenoiser', 'x', x, batch * dim, 'batch·dim');
    return gc.denseForward(m.net, denoiserInputs(m, x, t, batch), batch);
  };
}

/** The JSON form of a model: sizes and dims as numbers, the parameters as base64 little-endian f32. */
export interface MlpDenoiserJson {
  format: 'gencore-mlp-denoiser/1';
  dim: number;
  embedDim: number;
  sizes: number[];
  params: string;
}

/** Encode a model as JSON-ready data (the parameters' bytes in base64). */
export function mlpDenoiserToJson(model: MlpDenoiserModel): MlpDenoiserJson {
  const m = checkMlpDenoiserModel('mlpDenoiserToJson', model);
  const p = m.net.params;
  const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { format: 'gencore-mlp-denoiser/1', dim: m.dim, embedDim: m.embedDim, sizes: m.net.sizes.slice(), params: btoa(binary) };
}

/** Decode `mlpDenoiserToJson`'s output. @throws TypeError / RangeError for a malformed document. */
export function mlpDenoiserFromJson(json: MlpDenoiserJson): MlpDenoiserModel {
  const fn = 'mlpDenoiserFromJson';
  if (json?.format !== 'gencore-mlp-denoiser/1') throw new TypeError(`${fn}: json.format must be 'gencore-mlp-denoiser/1', got ${show(json?.format)}`);
  const binary = atob(json.params);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (bytes.length % 4 !== 0) throw new RangeError(`${fn}: json.params holds ${bytes.length} bytes, not a whole number of f32 values`);
  // Little-endian bytes, as wasm memory and every engine gencore runs on store f32.
  const model = { dim: json.dim, embedDim: json.embedDim, net: { sizes: json.sizes, params: new Float32Array(bytes.buffer) } };
  checkMlpDenoiserModel(fn, model);
  return model;
}
