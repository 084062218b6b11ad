/**
 * gencore/tfjs: TensorFlow.js models (a `tf.LayersModel` or a function of tensors) as a diffusion denoiser
 * and as a beam-search scorer. Every tensor the adapters make, and every tensor the model returns, is
 * disposed before the call settles; the model's intermediates are freed by `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BeamBatch, Scorer } from '../constrained/beam.js';
import type { Denoiser } from '../diffusion/sample.js';
import type { Prediction } from '../diffusion/plan.js';
import { checkEnum, checkOptions, show } from '../shared/validate.js';
import { checkNoNaN, checkTokenRows, fullSequences } from './shared.js';

/** Anything with `predict` (a `tf.LayersModel`, a `tf.GraphModel`) or a function of tensors. */
export type TfModel = ((...inputs: tf.Tensor[]) => tf.Tensor) | { predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] };

function checkModel(fn: string, m: unknown): (inputs: tf.Tensor[]) => tf.Tensor {
  if (typeof m === 'function') return (inputs) => (m as (...x: tf.Tensor[]) => tf.Tensor)(...inputs);
  if (m !== null && typeof m === 'object' && typeof (m as { predict?: unknown }).predict === 'function') {
    const model = m as Exclude<TfModel, Function>;
    return (inputs) => {
      const y = model.predict(inputs.length === 1 ? inputs[0] : inputs);
      if (Array.isArray(y)) throw new TypeError(`${fn}: the model returned ${y.length} outputs; expected one tensor`);
      return y;
    };
  }
  throw new TypeError(`${fn}: model must be a function of tensors or have a predict method (tf.LayersModel), got ${show(m)}`);
}

/**
 * Call the model inside `tf.tidy` and read its output; the output tensor is disposed after reading.
 * A model error becomes an Error with the model's error as `cause`, naming `where`.
 */
async function runModel(fn: string, call: () => tf.Tensor, where: string): Promise<tf.Tensor> {
  let y: tf.Tensor;
  try {
    y = tf.tidy(call);
  } catch (err) {
    if (err instanceof TypeError && String(err.message).startsWith(fn)) throw err;
    throw new Error(`${fn}: the model failed at ${where}`, { cause: err });
  }
  if (!(y instanceof tf.Tensor)) throw new TypeError(`${fn}: the model returned ${show(y)} at ${where}; expected a tf.Tensor`);
  return y;
}

export interface TfDenoiserOptions {
  /** What the model predicts (default `'epsilon'`); pass `prediction: denoiser.prediction` to `sample`. */
  prediction?: Prediction;
}

/** A denoiser over a TensorFlow.js model, carrying what it predicts. */
export type TfDenoiser = Denoiser & { readonly prediction: Prediction };

/**
 * A denoiser for `sample` / `pool.sample`: a function model is called as `model(x, t)` with x [batch, dim]
 * and t [batch] (float32); a `predict` model gets `[x, t]` with t as [batch, 1] (a Keras scalar input).
 * The output must hold batch·dim values.
 *
 * @throws TypeError (synchronously) for a model that is neither. The denoiser rejects with a RangeError
 *   naming the timestep for an output of the wrong size or with NaN, and with an Error whose `cause` is
 *   the model's error when the model throws. No tensor outlives a call.
 */
export function tfDenoiser(model: TfModel, opts: TfDenoiserOptions = {}): TfDenoiser {
  const fn = 'tfDenoiser';
  const call = checkModel(fn, model);
  const o = checkOptions(fn, opts);
  const prediction = o.prediction === undefined ? 'epsilon' : checkEnum(fn, 'opts.prediction', o.prediction, ['epsilon', 'sample', 'v_prediction'] as const);
  const column = typeof model !== 'function';
  const denoiser = async (x: Float32Array, t: number, shape: [number, number]): Promise<Float32Array> => {
    const [batch, dim] = shape;
    const where = `timestep ${t}`;
    const y = await runModel(fn, () => call([tf.tensor2d(x, [batch, dim]), tf.fill(column ? [batch, 1] : [batch], t)]), where);
    try {
      if (y.size !== batch * dim) throw new RangeError(`${fn}: the model's output at ${where} has shape [${y.shape.join(', ')}]; expected ${batch}×${dim} values`);
      const data = Float32Array.from(await y.data());
      checkNoNaN(fn, "the model's output", data, dim, where);
      return data;
    } finally {
      y.dispose();
    }
  };
  return Object.assign(denoiser, { prediction });
}

export interface TfScorerOptions {
  /** Tokens before the generated ones (at least one): one array for every query, or one per query (one length). */
  prompt: ArrayLike<number> | ArrayLike<number>[];
}

/**
 * A beam-search scorer over a TensorFlow.js language model without a cache: each step the model gets
 * every row's whole sequence (prompt then prefix) as int32 [rows, P+s] and returns logits [rows, P+s, V]
 * (the last position is used) or [rows, V].
 *
 * @throws TypeError (synchronously) for a bad model or prompt. The scorer rejects with a RangeError
 *   naming the step for logits of the wrong shape or with NaN, and with an Error whose `cause` is the
 *   model's error when the model throws. No tensor outlives a step.
 */
export function tfScorer(model: TfModel, opts: TfScorerOptions): Scorer {
  const fn = 'tfScorer';
  const call = checkModel(fn, model);
  if (opts === undefined) throw new TypeError(`${fn}: opts is required ({ prompt })`);
  const prompt = checkTokenRows(fn, 'opts.prompt', checkOptions(fn, opts).prompt);
  return async (batch: BeamBatch) => {
    const { rows, step } = batch;
    const T = prompt.rows[0].length + step;
    const where = `step ${step}`;
    const tokens = fullSequences(fn, batch, prompt);
    const y = await runModel(fn, () => {
      const out = call([tf.tensor2d(tokens, [rows, T], 'int32')]);
      // The last position, cut inside the tidy so the full logits are freed with it.
      return out.rank === 3 && out.shape[0] === rows && out.shape[1] === T ? tf.reshape(tf.slice(out, [0, T - 1, 0], [rows, 1, out.shape[2]!]), [rows, out.shape[2]!]) : out;
    }, where);
    try {
      if (y.rank !== 2 || y.shape[0] !== rows) throw new RangeError(`${fn}: the model's logits at ${where} have shape [${y.shape.join(', ')}]; expected [${rows}, ${T}, V] or [${rows}, V]`);
      const data = Float32Array.from(await y.data());
      checkNoNaN(fn, "the model's logits", data, y.shape[1]!, where);
      return data;
    } finally {
      y.dispose();
    }
  };
}
