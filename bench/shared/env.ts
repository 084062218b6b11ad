/**
 * What a shared bench suite needs from its runtime. Node (bench/node-env.ts) and the browser page
 * (bench/browser/page.ts) each build one, so the suites themselves import nothing platform-specific.
 */
import type { Gencore, LoadOptions, Pool, PoolOptions, trainKneserNey } from '../../bindings/index.js';
import type { Table } from './timing.js';

export interface BenchEnv {
  /** Runtime, e.g. `node v20.20.2` or `Chromium 156.0…`. */
  runtime: string;
  /** gencore's entry points: the sources in Node, the packaged dist/index.browser.js in the page. */
  gencore: {
    init(opts?: LoadOptions): Promise<Gencore>;
    createPool(opts?: PoolOptions): Promise<Pool>;
    trainKneserNey: typeof trainKneserNey;
  };
  /** tfjs-core with the wasm backend ready (SIMD, one thread). */
  tf: typeof import('@tensorflow/tfjs-core');
  /** onnxruntime-web with the wasm execution provider set to one thread. */
  ort: typeof import('onnxruntime-web');
  /** The machine's 1, 5 and 15 minute load averages (in the page: read on the Node side). */
  loadavg(): Promise<number[]>;
  /** The wasm bytes of the probe bench/assembly/<name>.ts, plain or relaxed SIMD (compiled in Node). */
  probe(name: 'peak', relaxed: boolean): Promise<Uint8Array<ArrayBuffer>>;
  /** The bytes of a file of the repository, by its path from the root (in the page: from the local server). */
  readFile(path: string): Promise<Uint8Array>;
  /** Small sizes and 1–2 rounds: checks that every table is produced, in seconds. */
  quick: boolean;
  /** A progress line (the page forwards it to the terminal). */
  log(line: string): void;
}

export interface SuiteResult {
  tables: Table[];
  /** Everything measured, for bench/results/<name>.json. */
  record: Record<string, unknown>;
}

export type Suite = (env: BenchEnv) => Promise<SuiteResult>;

/** The peers' versions and settings as they run, for the JSON record. */
export async function describePeers(tf: BenchEnv['tf'], ort: BenchEnv['ort']): Promise<Record<string, string | number | boolean>> {
  return {
    tfjs: tf.version_core,
    tfjsBackend: tf.getBackend(),
    tfjsSimd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    tfjsThreads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    onnxruntimeWeb: ort.env.versions.web ?? 'unknown',
    onnxruntimeThreads: ort.env.wasm.numThreads ?? 'default',
  };
}
