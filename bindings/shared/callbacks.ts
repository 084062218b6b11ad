/**
 * Awaiting caller-supplied callbacks (scorers, transforms, denoisers, progress reporters) from the
 * step loops. A callback may return a value or a promise (an async function, or a Comlink proxy of a
 * function living on another thread); the loops must never hang on a promise that does not settle
 * once the call is aborted or past its time limit, and must never leave a rejection unhandled.
 */
import { onAbort } from './abort.js';
import { AbortError, TimeoutError, throwIfAborted } from './errors.js';
import { show } from './validate.js';

/** True for anything `await` would unwrap (a promise, or a foreign thenable such as a Comlink result). */
export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';

/** setTimeout fires at once for delays above 2³¹−1 ms, so longer limits are waited out in pieces. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link awaitCallback}. */
export interface AwaitCallbackOptions {
  /** Public function name, first word of every error message (`'beamSearch'`). */
  fn: string;
  /** What is awaited, for messages (`'opts.scorer'`). */
  what: string;
  /** Reject with an `AbortError` as soon as this aborts (at once when already aborted). */
  signal?: AbortSignal;
  /** Reject with a `TimeoutError` when `value` has not settled after this many milliseconds (> 0). */
  timeoutMs?: number;
}

/**
 * Await a callback's result, racing it against `signal` and `timeoutMs`.
 *
 * Resolves/rejects as `value` does, unless first `signal` aborts (→ error named `AbortError`, also
 * when `signal` is already aborted on entry, whatever `value` is) or `timeoutMs` milliseconds pass
 * (→ error named `TimeoutError`). The timer and abort listener are removed in every case, and a
 * `value` that loses the race and rejects later is caught (no unhandled rejection). A value that is
 * not a thenable resolves without a timer.
 *
 * Progress reporters go through it too (`await awaitCallback(onProgress(p), { fn, what: 'opts.onProgress',
 * signal })`): an async or proxied reporter's rejection then rejects the loop instead of going unhandled.
 */
export function awaitCallback<T>(value: T | PromiseLike<T>, opts: AwaitCallbackOptions): Promise<T> {
  const { fn, what, signal, timeoutMs } = opts;
  const abortError = () => new AbortError(`${fn}: aborted while waiting for ${what}`, { cause: signal?.reason });
  if (signal?.aborted) {
    if (isThenable(value)) Promise.resolve(value).then(undefined, () => {});
    return Promise.reject(abortError());
  }
  if (!isThenable(value)) return Promise.resolve(value);
  if (!signal && timeoutMs === undefined) return Promise.resolve(value);
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe?.();
      settle();
    };
    const unsubscribe = signal && onAbort(signal, () => finish(() => reject(abortError())));
    if (timeoutMs !== undefined) {
      let remaining = timeoutMs;
      const arm = () => {
        const wait = Math.min(remaining, MAX_TIMER_MS);
        remaining -= wait;
        timer = setTimeout(
          remaining > 0
            ? arm
            : () => finish(() => reject(new TimeoutError(`${fn}: ${what} did not settle within ${timeoutMs} ms`))),
          wait,
        );
      };
      arm();
    }
    Promise.resolve(value).then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** Longest stretch (ms) a step loop with an AbortSignal runs before letting the event loop run. */
const YIELD_INTERVAL_MS = 8;

/** Resolve on a macrotask: after pending messages (a pool's abort) and due timers have had a chance. */
function nextMacrotask(): Promise<void> {
  // Node: setImmediate runs after pending I/O (worker messages); a loop resumed by it passes the timers
  // phase on its next yield.
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  // Browsers: a MessageChannel task, which (unlike a nested setTimeout(0)) is not clamped to 4 ms.
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The between-steps check of a step loop: `await between()` after every step throws an `AbortError`
 * naming `fn` once `signal` has aborted.
 *
 * A loop whose callbacks settle at once (a denoiser evaluated in wasm) runs entirely in microtasks, so
 * neither a timer nor a message carrying an abort could run before it finished. With a signal, the
 * returned function therefore also yields a macrotask when at least 8 ms have passed since the last
 * yield: an abort is seen within about one step, at a cost of one task switch per 8 ms. Without a
 * signal nothing can abort the loop, and it never yields.
 */
export function stepYielder(fn: string, signal: AbortSignal | undefined): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (signal && performance.now() - last >= YIELD_INTERVAL_MS) {
      await nextMacrotask();
      last = performance.now();
    }
    throwIfAborted(signal, fn);
  };
}

/** Validate an optional `timeoutMs` option: a finite number > 0 (milliseconds) or undefined. */
export function checkTimeoutMs(fn: string, name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number of milliseconds, got ${show(v)}`);
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: ${name} must be a finite number > 0, got ${v}`);
  return v;
}
