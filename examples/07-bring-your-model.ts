/**
 * Bring your own model — gencore's loops around onnxruntime-web and TensorFlow.js models
 * (run: `npx tsx examples/07-bring-your-model.ts`).
 *
 * 1. A small ONNX causal LM with a KV cache (written here by the test-model builder; with a real model,
 *    `ort.InferenceSession.create('decoder_model.onnx')`), searched with trie-constrained beam search:
 *    one `session.run` per step for all beams, the cache reordered by the beams' parent rows in wasm.
 * 2. An ONNX ε-model of Gaussian data driving `gc.sample`.
 * 3. The same ε-model as a TensorFlow.js function, through `tfDenoiser` (no tensor left behind).
 */
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { init, noiseSchedule } from '../bindings/index.js';
import { ortCausalLM, ortDenoiser } from '../bindings/adapters/onnxruntime.js';
import { tfDenoiser } from '../bindings/adapters/tfjs.js';
import { causalLM, gaussianEpsModel } from '../tests/adapters/models.js';

ort.env.wasm.numThreads = 1;
const gc = await init();

// 1. Constrained beam search over an ONNX causal LM --------------------------------------------------
const V = 32;
const END = 0;
const lm = await ort.InferenceSession.create(causalLM({ vocab: V, dim: 32, heads: 4, layers: 2, maxPositions: 32, seed: 7 }).bytes);
console.log('session inputs:', lm.inputNames.join(', '));
// The allowed answers (token sequences ending with the end token), e.g. the entity names of a knowledge base.
const answers = [[5, 9, 2, END], [5, 9, 3, END], [5, 14, END], [21, 8, 8, END], [30, END]];
const trie = gc.buildTrie(answers, { endToken: END });
const scorer = ortCausalLM(lm, { prompt: [1, 17, 4], gencore: gc });
const hyps = await gc.beamSearch(scorer, { beams: 4, maxLength: 6, endToken: END, constraint: trie });
for (const h of hyps) console.log(`  [${Array.from(h.tokens).join(' ')}]  log p = ${h.logProb.toFixed(3)}  entry ${h.entry}`);
scorer.reset();
trie.dispose();

// 2. An ONNX ε-model driving the sampler ------------------------------------------------------------
const schedule = noiseSchedule({ kind: 'linear' });
const mu = Float32Array.of(2, -1);
const eps = await ort.InferenceSession.create(gaussianEpsModel(mu, 0.5, schedule.alphasCumprod));
const onnxDenoiser = ortDenoiser(eps, { input: 'x', timestep: 't', output: 'eps' });
const n = 2000;
const samples = await gc.sample({ schedule, steps: 50, sampler: 'ddim', shape: [n, 2], seed: 3, denoiser: onnxDenoiser, prediction: onnxDenoiser.prediction });
const mean = [0, 1].map((j) => samples.filter((_, i) => i % 2 === j).reduce((a, b) => a + b, 0) / n);
console.log(`ONNX ε-model, ${n} DDIM samples: mean ≈ (${mean.map((m) => m.toFixed(3)).join(', ')}), data mean (2, -1)`);

// 3. The same model as TensorFlow.js ops -------------------------------------------------------------
const acp = tf.tensor1d(Float32Array.from(schedule.alphasCumprod));
const tfEps = (x: tf.Tensor, t: tf.Tensor) => {
  const a = tf.expandDims(tf.gather(acp, tf.cast(t, 'int32')), 1);
  return tf.div(tf.mul(tf.sqrt(tf.sub(1, a)), tf.sub(x, tf.mul(tf.sqrt(a), tf.tensor1d(mu)))), tf.add(tf.mul(a, 0.25), tf.sub(1, a)));
};
const before = tf.memory().numTensors;
const tfSamples = await gc.sample({ schedule, steps: 50, sampler: 'ddim', shape: [n, 2], seed: 3, denoiser: tfDenoiser(tfEps) });
let maxDiff = 0;
for (let i = 0; i < samples.length; i++) maxDiff = Math.max(maxDiff, Math.abs(samples[i] - tfSamples[i]));
console.log(`TensorFlow.js ε-model: max |difference| to the ONNX run ${maxDiff.toExponential(2)}; tensors before/after: ${before}/${tf.memory().numTensors}`);
