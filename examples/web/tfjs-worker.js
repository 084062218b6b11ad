// tfjs-backend-wasm for the GEMM comparison, in a classic worker (tfjs ships UMD bundles for importScripts).
// Served from the repository's node_modules by the playground server; single-threaded, SIMD.
/* global tf, importScripts */
let ready;
let operands;

async function init() {
  importScripts('/node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js', '/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // compare one thread with one worker
  await tf.setBackend('wasm');
  await tf.ready();
  return { backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') };
}

function prepare(n) {
  operands?.forEach((t) => t.dispose());
  operands = [tf.randomUniform([n, n], -1, 1, 'float32', 1), tf.randomUniform([n, n], -1, 1, 'float32', 2)];
  return n;
}

/** One timed matmul (ms), read back so the work is really done. */
function matmul() {
  const t0 = performance.now();
  const c = tf.matMul(operands[0], operands[1]);
  c.dataSync();
  const ms = performance.now() - t0;
  c.dispose();
  return ms;
}

self.onmessage = async ({ data }) => {
  try {
    let result;
    if (data.type === 'init') result = await (ready ??= init());
    else if (data.type === 'prepare') result = prepare(data.n);
    else if (data.type === 'matmul') result = matmul();
    else throw new Error(`unknown request ${data.type}`);
    self.postMessage({ id: data.id, result });
  } catch (err) {
    self.postMessage({ id: data.id, error: String(err?.stack ?? err) });
  }
};
