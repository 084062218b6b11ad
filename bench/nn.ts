/**
 * Dense-network training step: gencore (GEMM + kernels/nn, one wasm call sequence per step) against
 * tfjs-core + tfjs-backend-wasm (XNNPACK, SIMD, single-threaded in Node) on the same MLP, the same batch,
 * the same initial weights and Adam settings, timed in interleaved rounds of the same run.
 * The MLP is the cities denoiser's: [2 + 32, 128, 128, 128, 128, 2] with SiLU, batch 1024.
 */
import { createRequire } from 'node:module';
import { init, denseNetwork, adamState, type DenseNetwork } from '../bindings/index.js';
import { denseLayout } from '../bindings/nn/dense.js';
import { tfjsWasm } from './node-env.js';
import { fmt, measureInterleaved, printTable, writeResults } from './lib.js';

const SIZES = [34, 128, 128, 128, 128, 2];

/** The same network as a tfjs model: variables initialised from `net`, Adam with the same defaults. */
async function tfjsTrainer(net: DenseNetwork, x: Float32Array, y: Float32Array, rows: number) {
  const tf = await tfjsWasm();
  // tfjs-core's gradient functions are registered by a separate entry point (tfjs-layers does it too).
  createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients');
  const { weights, biases } = denseLayout(net.sizes);
  const vars = net.sizes.slice(1).map((nOut, l) => ({
    w: tf.variable(tf.tensor2d(net.params.subarray(weights[l], weights[l] + net.sizes[l] * nOut), [net.sizes[l], nOut])),
    b: tf.variable(tf.tensor1d(net.params.subarray(biases[l], biases[l] + nOut))),
  }));
  const xs = tf.tensor2d(x, [rows, net.sizes[0]]);
  const ys = tf.tensor2d(y, [rows, net.sizes[net.sizes.length - 1]]);
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const forward = () => vars.reduce<import('@tensorflow/tfjs-core').Tensor2D>((h, { w, b }, l) => {
    const z = tf.add(tf.matMul(h, w), b) as import('@tensorflow/tfjs-core').Tensor2D;
    return l + 1 < vars.length ? (tf.mul(z, tf.sigmoid(z)) as import('@tensorflow/tfjs-core').Tensor2D) : z;
  }, xs);
  return () => {
    const loss = optimizer.minimize(() => tf.losses.meanSquaredError(ys, forward()) as import('@tensorflow/tfjs-core').Scalar, true);
    const value = loss!.dataSync()[0];
    loss!.dispose();
    return value;
  };
}

export async function run(): Promise<void> {
  const gc = await init();
  const rows = 1024;
  const net0 = denseNetwork({ sizes: SIZES, seed: 1 });
  let u = 12345;
  const rand = () => ((u = (Math.imul(u, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const x = Float32Array.from({ length: rows * SIZES[0] }, rand);
  const y = Float32Array.from({ length: rows * SIZES[SIZES.length - 1] }, rand);
  let state = { net: net0, adam: adamState(net0) };
  const gencoreStep = () => {
    const r = gc.denseTrainStep(state.net, state.adam, x, y, rows);
    state = r;
    return r.loss;
  };
  const tfjsStep = await tfjsTrainer(net0, x, y, rows);
  // Same start, same data: the first losses agree (a check that both train the same network).
  const [lossGc, lossTf] = [gencoreStep(), tfjsStep()];
  const t = await measureInterleaved({ gencore: gencoreStep, tfjs: tfjsStep }, { rounds: 9 });
  const row = {
    MLP: SIZES.join('-'),
    params: net0.params.length,
    batch: rows,
    'first loss gencore': fmt(lossGc, 5),
    'first loss tfjs': fmt(lossTf, 5),
    'gencore ms/step': fmt(t.gencore.median * 1e3),
    'tfjs-wasm ms/step': fmt(t.tfjs.median * 1e3),
    'tfjs/gencore': fmt(t.tfjs.median / t.gencore.median),
  };
  printTable(`Dense-network training step (forward + backward + Adam), ${gc.features.build} build, interleaved medians`, [row]);
  console.log(`wrote ${writeResults('nn', { row, timings: t })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
