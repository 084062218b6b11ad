/**
 * Browser side of the platform seam (used by the browser bundle in place of `platform.ts`).
 */
import type { Endpoint } from 'comlink';
import type { WorkerHandle } from './platform.js';

export async function readBinary(url: URL | string): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`init: could not fetch ${String(url)}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Browsers that support relaxed SIMD enable it by default. */
export function enableRelaxedSimd(): void {}

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 2));
}

/** Shared wasm memory needs cross-origin isolation (COOP/COEP headers). */
export function canShareMemory(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

export function spawnWorker(): WorkerHandle {
  const worker = new Worker(new URL('./worker.browser.js', import.meta.url), { type: 'module' });
  let crash: ((reason: string) => void) | undefined;
  return {
    endpoint: worker,
    onCrash(listener) {
      crash = listener;
      worker.addEventListener('error', (ev) => listener(`worker error: ${ev.message}`));
    },
    terminate() {
      worker.terminate();
    },
    kill() {
      // A terminated browser worker sends no event: report the crash ourselves.
      worker.terminate();
      crash?.('worker killed');
    },
  };
}

export async function parentEndpoint(): Promise<Endpoint> {
  return globalThis as unknown as Endpoint;
}
