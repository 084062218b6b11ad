/**
 * The bench page: builds the shared suites' environment in the browser (gencore's packaged
 * dist/index.browser.js, tfjs-backend-wasm and onnxruntime-web from node_modules, all served by the local
 * cross-origin-isolated server) and exposes `gencoreBench(name, quick)` to the Node-side runner.
 */
import type { BenchEnv, SuiteResult } from '../shared/env.js';
import { SHARED_SUITES } from '../shared/suites.js';

type Tf = BenchEnv['tf'] & { wasm: { setWasmPaths(prefix: string): void } };

declare global {
  interface Window {
    /** Defined by tfjs's UMD bundles (index.html). */
    tf: Tf;
    /** Provided by the runner: the machine's load averages, read in Node. */
    gencoreBenchLoadavg(): Promise<number[]>;
    /** Run one shared suite on this page. */
    gencoreBench(name: string, quick: boolean): Promise<SuiteResult>;
  }
}

const here = (path: string) => new URL(path, location.href).href;

/** tfjs-backend-wasm, SIMD, one thread (the threaded build would otherwise be picked on an isolated page). */
async function tfjsWasm(): Promise<Tf> {
  const tf = window.tf;
  tf.wasm.setWasmPaths(here('/node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('bench page: the tfjs wasm backend did not start');
  await tf.ready();
  return tf;
}

/** onnxruntime-web's wasm-only build, its .mjs/.wasm from node_modules, one thread, no proxy worker. */
async function onnxRuntime(): Promise<BenchEnv['ort']> {
  const ort = (await import(here('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs'))) as BenchEnv['ort'];
  ort.env.wasm.wasmPaths = here('/node_modules/onnxruntime-web/dist/');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return ort;
}

let env: Promise<Omit<BenchEnv, 'quick'>> | undefined;

async function browserEnv(): Promise<Omit<BenchEnv, 'quick'>> {
  const [gencore, tf, ort] = await Promise.all([import(here('/dist/index.browser.js')) as Promise<BenchEnv['gencore']>, tfjsWasm(), onnxRuntime()]);
  const chrome = /(?:Headless)?Chrome\/([\d.]+)/.exec(navigator.userAgent);
  return {
    runtime: chrome ? `Chromium ${chrome[1]}` : navigator.userAgent,
    gencore,
    tf,
    ort,
    loadavg: () => window.gencoreBenchLoadavg(),
    readFile: async (path) => {
      const res = await fetch(here(`/${path}`));
      if (!res.ok) throw new Error(`bench page: ${path} not found (HTTP ${res.status})`);
      return new Uint8Array(await res.arrayBuffer());
    },
    // Compiled by the runner before the page loads (AssemblyScript's compiler runs in Node).
    probe: async (name, relaxed) => {
      const res = await fetch(here(`/build/bench/probes/${name}.${relaxed ? 'relaxed' : 'simd'}.wasm`));
      if (!res.ok) throw new Error(`bench page: probe ${name} not found (HTTP ${res.status})`);
      return new Uint8Array(await res.arrayBuffer());
    },
    log: (line) => console.log(`[bench] ${line}`),
  };
}

window.gencoreBench = async (name, quick) => {
  const suite = SHARED_SUITES[name];
  if (!suite) throw new Error(`bench page: no suite ${name}`);
  if (!crossOriginIsolated) throw new Error('bench page: not cross-origin isolated (the server must send COOP/COEP)');
  return suite({ ...(await (env ??= browserEnv())), quick });
};
document.getElementById('status')!.textContent = 'ready';
