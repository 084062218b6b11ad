/**
 * One `abort` listener per AbortSignal, fanned out to every gencore call waiting on it: many concurrent
 * calls sharing one signal would otherwise add a listener each (Node warns past 10 listeners on one
 * signal). Platform-neutral: no global setting is touched.
 */

interface FanOut {
  listeners: Set<() => void>;
  /** Remove the signal's one real listener. */
  detach: () => void;
}

const fanOuts = new WeakMap<AbortSignal, FanOut>();

/**
 * Run `listener` once when `signal` aborts. Returns the function that unsubscribes it (idempotent);
 * the signal's own listener goes with its last subscriber.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let entry = fanOuts.get(signal);
  if (entry === undefined) {
    const listeners = new Set<() => void>();
    const fire = () => {
      fanOuts.delete(signal);
      for (const l of [...listeners]) l();
    };
    signal.addEventListener('abort', fire, { once: true });
    entry = { listeners, detach: () => signal.removeEventListener('abort', fire) };
    fanOuts.set(signal, entry);
  }
  const { listeners, detach } = entry;
  listeners.add(listener);
  return () => {
    if (!listeners.delete(listener) || listeners.size > 0) return;
    if (fanOuts.get(signal)?.listeners === listeners) fanOuts.delete(signal);
    detach();
  };
}
