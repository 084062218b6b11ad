/**
 * Node.js side of the platform seam. The browser bundle swaps this file for `platform.browser.ts`
 * (rollup.config.js), so no `node:` import reaches a browser.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Endpoint } from 'comlink';

/** Running from TypeScript sources (tests, tsx) rather than from dist/. */
const fromSource = import.meta.url.endsWith('.ts');

/** Bytes of a wasm file given by URL or path. */
export async function readBinary(url: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const u = typeof url === 'string' && !/^[a-z]+:/i.test(url) ? url : new URL(url);
  if (typeof u === 'string') return new Uint8Array(await readFile(u));
  if (u.protocol === 'file:') return new Uint8Array(await readFile(fileURLToPath(u)));
  const res = await fetch(u);
  if (!res.ok) throw new Error(`init: could not fetch ${u.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Node 20 ships relaxed SIMD behind a V8 flag; setting it before compiling is safe. */
export function enableRelaxedSimd(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** Default pool size: min(4, cores). */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Node always has SharedArrayBuffer and shared wasm memory. */
export function canShareMemory(): boolean {
  return true;
}

export interface WorkerHandle {
  endpoint: Endpoint;
  /** Called once if the worker dies (exit or uncaught error). */
  onCrash(listener: (reason: string) => void): void;
  /** Stop the worker on purpose (no crash is reported). */
  terminate(): void;
  /** Stop the worker abruptly; reported as a crash (test hook). */
  kill(): void;
}

/** Flags about the main script's own input (`node --input-type=module -e …`), which a worker rejects or ignores. */
const MAIN_INPUT_FLAGS = new Set(['--input-type', '--eval', '-e', '--print', '-p', '-pe', '--check', '-c', '--interactive', '-i', '--test', '--watch', '--watch-path', '--watch-preserve-output']);
/** Those of them whose value may come as the next argument. */
const FLAGS_WITH_VALUE = new Set(['--input-type', '--eval', '-e', '--print', '-p', '-pe', '--watch-path']);

/**
 * The process's `execArgv` a worker thread can take: everything (`--import`, `--loader`, `--experimental-…`,
 * which tsx and the like need) except the flags about the main script's input.
 */
function workerExecArgv(): string[] {
  const execArgv = process.execArgv;
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const [flag] = execArgv[i].split('=', 1);
    if (!MAIN_INPUT_FLAGS.has(flag)) kept.push(execArgv[i]);
    else if (flag === execArgv[i] && FLAGS_WITH_VALUE.has(flag)) i++; // skip its value too
  }
  return kept;
}

/** Start one gencore worker thread. */
export function spawnWorker(): WorkerHandle {
  const execArgv = workerExecArgv();
  const worker = fromSource
    ? new Worker(new URL('../worker/source-entry.mjs', import.meta.url), { execArgv })
    : new Worker(new URL('./worker.node.js', import.meta.url), { execArgv });
  let terminated = false;
  let reported = false;
  return {
    endpoint: nodeEndpoint(worker),
    onCrash(listener) {
      // An error is followed by an exit: report the first, which says why.
      const report = (reason: string) => {
        if (reported || terminated) return;
        reported = true;
        listener(reason);
      };
      worker.on('error', (err) => report(`worker error: ${err.message}`));
      worker.on('exit', (code) => report(`worker exited with code ${code}`));
    },
    terminate() {
      terminated = true;
      void worker.terminate();
    },
    kill() {
      void worker.terminate();
    },
  };
}

/** The endpoint a worker uses to talk to its parent. */
export async function parentEndpoint(): Promise<Endpoint> {
  const { parentPort } = await import('node:worker_threads');
  if (!parentPort) throw new Error('gencore worker: not running in a worker thread');
  return nodeEndpoint(parentPort);
}
