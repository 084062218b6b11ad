/**
 * Error classes of gencore. Comlink keeps only `name`, `message` and `stack` of an error crossing a
 * worker boundary, so every error gencore throws is told apart by its `name`.
 */

/** The operation was cancelled through its `AbortSignal` (name `AbortError`). */
export class AbortError extends Error {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** The worker running a call died before answering (name `WorkerCrashedError`); the pool replaces it. */
export class WorkerCrashedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerCrashedError';
  }
}

/**
 * A wasm kernel trapped (name `KernelFaultError`). This is a gencore bug, never the caller's: the
 * instance is discarded and a fresh one takes its place, so the next call works.
 */
export class KernelFaultError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KernelFaultError';
  }
}

/** A callback (scorer, denoiser) did not settle within its `timeoutMs` (name `TimeoutError`). */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * A resident array was used after `release()`, or after a kernel fault reset the instance that held it
 * (name `ResidentArrayReleasedError`). Nothing was read or written: allocate the array again.
 */
export class ResidentArrayReleasedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResidentArrayReleasedError';
  }
}

/** Throw an `AbortError` when `signal` is aborted (its reason, if an Error, becomes the cause). */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new AbortError(`${what}: aborted`, { cause: signal.reason });
  }
}
