/**
 * gencore/tfjs against the real TensorFlow.js (tfjs-core 4.22, CPU backend; tfjs-layers models): outputs
 * equal closed-form float64 references, and no tensor outlives a search or a sampling run.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, noiseSchedule, type BeamBatch, type Gencore, type Hypothesis } from '../../bindings/index.js';
import { tfDenoiser, tfScorer } from '../../bindings/adapters/tfjs.js';
import { mulberry32, randomArray } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  await tf.setBackend('cpu');
  gc = await init();
});

const V = 9;
const D = 6;
const rnd = mulberry32(21);
const E = randomArray(Float32Array, V * D, rnd);
const P = randomArray(Float32Array, 5 * D, rnd);
const W = randomArray(Float32Array, D * V, rnd).map((x) => 3 * x);
const bias = randomArray(Float32Array, V, rnd);

/** logits_t = tanh(mean_{j≤t}(E[tok_j] + P[j])) · W over positions 0…4 (a longer sequence fails in tf.gather). */
function cumulativeLM(tokens: tf.Tensor): tf.Tensor {
  const [rows, T] = tokens.shape as [number, number];
  const x = tf.add(tf.gather(tf.tensor2d(E, [V, D]), tokens), tf.gather(tf.tensor2d(P, [5, D]), tf.range(0, T, 1, 'int32')));
  const mean = tf.div(tf.cumsum(x, 1), tf.reshape(tf.range(1, T + 1), [1, T, 1]));
  return tf.reshape(tf.matMul(tf.reshape(tf.tanh(mean), [rows * T, D]), tf.tensor2d(W, [D, V])), [rows, T, V]);
}

function refCumulative(tokens: number[]): Float64Array {
  const h = new Float64Array(D);
  tokens.forEach((tok, j) => {
    for (let i = 0; i < D; i++) h[i] += (E[tok * D + i] + P[j * D + i]) / tokens.length;
  });
  const out = new Float64Array(V);
  for (let i = 0; i < D; i++) for (let v = 0; v < V; v++) out[v] += Math.tanh(h[i]) * W[i * V + v];
  return out;
}

function referenceScorer(logitsOf: (query: number, tokens: number[]) => Float64Array) {
  return (b: BeamBatch) => {
    const out = new Float64Array(b.rows * V);
    for (let r = 0; r < b.rows; r++) out.set(logitsOf(b.query[r], Array.from(b.prefixes.subarray(r * b.step, (r + 1) * b.step))), r * V);
    return out;
  };
}

function expectSame(got: Hypothesis[], want: Hypothesis[]): void {
  expect(got.map((h) => Array.from(h.tokens))).toEqual(want.map((h) => Array.from(h.tokens)));
  got.forEach((h, i) => expect(h.logProb).toBeCloseTo(want[i].logProb, 4));
}

describe('tfScorer', () => {
  it('a function of tensors: beam search equals the float64 model; no tensor is left', async () => {
    const prompts = [[2, 3], [4, 1]];
    const opts = { beams: 3, maxLength: 3, endToken: 0, queries: 2 };
    const before = tf.memory().numTensors;
    const got = (await gc.beamSearch(tfScorer(cumulativeLM, { prompt: prompts }), opts)) as Hypothesis[][];
    expect(tf.memory().numTensors).toBe(before);
    const want = (await gc.beamSearch(referenceScorer((q, p) => refCumulative([...prompts[q], ...p])), opts)) as Hypothesis[][];
    got.forEach((g, q) => expectSame(g, want[q]));
  });

  it('a tf.LayersModel (embedding → average → dense) predicting [rows, V]', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: V, outputDim: D, inputLength: undefined }), tfl.layers.globalAveragePooling1d(), tfl.layers.dense({ units: V })] });
    model.build([null, null] as never);
    model.setWeights([tf.tensor2d(E, [V, D]), tf.tensor2d(W, [D, V]), tf.tensor1d(bias)]);
    const ref = (tokens: number[]) => {
      const out = Float64Array.from(bias);
      for (let i = 0; i < D; i++) {
        let m = 0;
        for (const t of tokens) m += E[t * D + i] / tokens.length;
        for (let v = 0; v < V; v++) out[v] += m * W[i * V + v];
      }
      return out;
    };
    const opts = { beams: 4, maxLength: 4, endToken: 5 };
    const before = tf.memory().numTensors;
    const got = await gc.beamSearch(tfScorer(model, { prompt: [7] }), opts);
    expect(tf.memory().numTensors).toBe(before);
    expectSame(got, await gc.beamSearch(referenceScorer((_q, p) => ref([7, ...p])), opts));
  });

  it('a model error mid-search rejects with it as cause; NaN and wrong shapes name the step; no tensor is left', async () => {
    const before = tf.memory().numTensors;
    const err = await gc.beamSearch(tfScorer(cumulativeLM, { prompt: [1, 2, 3] }), { beams: 2, maxLength: 5, endToken: 0 }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toBe('tfScorer: the model failed at step 3');
    expect(String((err as Error).cause)).toMatch(/GatherV2|index/);
    const nanAtStep1 = (t: tf.Tensor) => tf.sqrt(tf.sub(tf.oneHot(tf.cast(tf.fill([t.shape[0]!], t.shape[1]! > 1 ? -1 : 0), 'int32'), V), t.shape[1]! > 1 ? 1 : 0));
    await expect(gc.beamSearch(tfScorer(nanAtStep1, { prompt: [1] }), { beams: 2, maxLength: 3, endToken: 0 })).rejects.toThrow(/tfScorer: the model's logits at step 1 is NaN at row 0, column 0/);
    const oneRow = (t: tf.Tensor) => tf.zeros([1, V]);
    await expect(gc.beamSearch(tfScorer(oneRow, { prompt: [1] }), { beams: 2, maxLength: 3, endToken: 0 })).rejects.toThrow(/tfScorer: the model's logits at step 1 have shape \[1, 9\]; expected \[2, 2, V\] or \[2, V\]/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => tfScorer({} as never, { prompt: [1] })).toThrow(/tfScorer: model must be a function of tensors or have a predict method/);
    expect(() => tfScorer(cumulativeLM, undefined as never)).toThrow(/opts is required/);
  });
});

describe('tfDenoiser', () => {
  const schedule = noiseSchedule({ kind: 'linear' });
  const mu = [1.5, -0.5, 0.25];
  const s = 0.7;
  const exactEps = (x: ArrayLike<number>, t: number) => {
    const a = schedule.alphasCumprod[t];
    return Float32Array.from(x, (xi, i) => (Math.sqrt(1 - a) * (xi - Math.sqrt(a) * mu[i % 3])) / (a * s * s + 1 - a));
  };
  /** The same ε in tensor ops: ᾱ_t looked up with tf.gather. */
  const epsModel = (x: tf.Tensor, t: tf.Tensor) => {
    const a = tf.expandDims(tf.gather(tf.tensor1d(Float32Array.from(schedule.alphasCumprod)), tf.cast(t, 'int32')), 1);
    const num = tf.sub(x, tf.mul(tf.sqrt(a), tf.tensor1d(mu)));
    return tf.div(tf.mul(tf.sqrt(tf.sub(1, a)), num), tf.add(tf.mul(a, s * s), tf.sub(1, a)));
  };

  it('sample() with a function model equals sample() with the float64 closed form; no tensor is left', async () => {
    const den = tfDenoiser(epsModel);
    const opts = { schedule, steps: 15, sampler: 'ddpm' as const, shape: [5, 3] as [number, number], seed: 4 };
    const before = tf.memory().numTensors;
    const got = await gc.sample({ ...opts, denoiser: den, prediction: den.prediction });
    expect(tf.memory().numTensors).toBe(before);
    const want = await gc.sample({ ...opts, denoiser: exactEps });
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });

  it('a two-input tf.LayersModel gets [x, t] with t as a column', async () => {
    const x = tfl.input({ shape: [3] });
    const t = tfl.input({ shape: [1] });
    const dense = tfl.layers.dense({ units: 3 });
    const model = tfl.model({ inputs: [x, t], outputs: dense.apply(tfl.layers.concatenate().apply([x, t])) as tfl.SymbolicTensor });
    const Wd = randomArray(Float32Array, 4 * 3, rnd);
    const bd = randomArray(Float32Array, 3, rnd);
    dense.setWeights([tf.tensor2d(Wd, [4, 3]), tf.tensor1d(bd)]);
    const den = tfDenoiser(model, { prediction: 'sample' });
    expect(den.prediction).toBe('sample');
    const xs = Float32Array.of(0.5, -1, 2, 3, 0.25, -0.75);
    const before = tf.memory().numTensors;
    const y = await den(xs, 0.5 as never, [2, 3]);
    expect(tf.memory().numTensors).toBe(before);
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < 3; j++) {
        let want = bd[j] + 0.5 * Wd[3 * 3 + j];
        for (let i = 0; i < 3; i++) want += xs[r * 3 + i] * Wd[i * 3 + j];
        expect(y[r * 3 + j]).toBeCloseTo(want, 5);
      }
    }
    await expect(den(xs, 7, [3, 2])).rejects.toThrow(/tfDenoiser: the model failed at timestep 7/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
