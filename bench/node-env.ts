/**
 * The shared suites' environment in Node: gencore from its sources, tfjs-backend-wasm and onnxruntime-web
 * on one thread each, os.loadavg().
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { createPool, init } from '../bindings/index.js';
import type { BenchEnv } from './shared/env.js';

/** True when GENCORE_BENCH_QUICK=1: small sizes, 1–2 rounds. */
export const QUICK = process.env.GENCORE_BENCH_QUICK === '1';

/**
 * tfjs-core with its wasm backend, loaded through Node's CommonJS entry points (their Node build: SIMD,
 * single-threaded). The ESM entry picks the browser's threaded build, which cannot start in Node.
 */
export async function tfjsWasm(): Promise<typeof import('@tensorflow/tfjs-core')> {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}

/** onnxruntime-web's Node entry: the wasm EP, its .wasm read from node_modules, one thread. */
async function onnxRuntime(): Promise<typeof import('onnxruntime-web')> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  return ort;
}

export async function nodeEnv(): Promise<BenchEnv> {
  return {
    runtime: `node ${process.version}`,
    gencore: { init, createPool },
    tf: await tfjsWasm(),
    ort: await onnxRuntime(),
    loadavg: async () => loadavg(),
    quick: QUICK,
    log: (line) => console.log(`  … ${line}`),
  };
}
