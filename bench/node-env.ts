/**
 * The shared suites' environment in Node: gencore from its sources, tfjs-backend-wasm and onnxruntime-web
 * on one thread each, os.loadavg().
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, init, trainKneserNey } from '../bindings/index.js';
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

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * Compile the AssemblyScript probe bench/assembly/<name>.ts (plain SIMD or relaxed SIMD) to wasm bytes.
 * asconfig.json's defaults apply (imported memory `env.memory`), so a probe gets a memory like the real builds.
 */
export async function compileProbe(name: string, relaxed: boolean): Promise<Uint8Array<ArrayBuffer>> {
  // Asynchronous: the compiler takes seconds on a busy machine, and a test runner's thread must stay responsive.
  const dir = await mkdtemp(path.join(tmpdir(), 'gencore-probe-'));
  try {
    const out = path.join(dir, `${name}.wasm`);
    const enable = relaxed ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
    await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules/assemblyscript/bin/asc.js'), path.join(REPO, `bench/assembly/${name}.ts`), ...enable, '-O3', '--runtime', 'stub', '-o', out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
    gencore: { init, createPool, trainKneserNey },
    tf: await tfjsWasm(),
    ort: await onnxRuntime(),
    loadavg: async () => loadavg(),
    probe: compileProbe,
    readFile: (file) => readFile(path.join(REPO, file)),
    quick: QUICK,
    log: (line) => console.log(`  … ${line}`),
  };
}
