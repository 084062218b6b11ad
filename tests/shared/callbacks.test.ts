import { afterEach, describe, expect, it, vi } from 'vitest';
import { awaitCallback, checkTimeoutMs } from '../../bindings/shared/callbacks.js';

const opts = { fn: 'someFn', what: 'opts.callback' };

describe('awaitCallback', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes values and rejections through, sync or async, with no timer left behind', async () => {
    vi.useFakeTimers();
    const c = new AbortController();
    expect(await awaitCallback(7, { ...opts, signal: c.signal, timeoutMs: 50 })).toBe(7);
    expect(vi.getTimerCount()).toBe(0);
    const p = awaitCallback(Promise.resolve('x'), { ...opts, signal: c.signal, timeoutMs: 50 });
    expect(await p).toBe('x');
    expect(vi.getTimerCount()).toBe(0);
    const boom = new Error('callback failed');
    await expect(awaitCallback(Promise.reject(boom), { ...opts, signal: c.signal, timeoutMs: 50 })).rejects.toBe(boom);
    expect(vi.getTimerCount()).toBe(0);
    // A foreign thenable (as a Comlink proxy returns) is awaited like a promise.
    const thenable = { then: (ok: (v: number) => void) => ok(3) };
    expect(await awaitCallback(thenable as PromiseLike<number>, { ...opts, timeoutMs: 50 })).toBe(3);
    // Aborting after the value settled changes nothing (the listener is gone).
    c.abort();
  });

  it('rejects with TimeoutError after timeoutMs, and ignores a late settlement', async () => {
    vi.useFakeTimers();
    let reject!: (e: unknown) => void;
    const pending = new Promise<number>((_, r) => (reject = r));
    const p = awaitCallback(pending, { ...opts, timeoutMs: 100 });
    const outcome = p.then(() => 'resolved', (e: Error) => e);
    await vi.advanceTimersByTimeAsync(99);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const err = (await outcome) as Error;
    expect(err.name).toBe('TimeoutError');
    expect(err.message).toBe('someFn: opts.callback did not settle within 100 ms');
    expect(vi.getTimerCount()).toBe(0);
    reject(new Error('too late')); // caught inside: no unhandled rejection
  });

  it('waits out limits longer than one setTimeout can hold (2^31 − 1 ms)', async () => {
    vi.useFakeTimers();
    const limit = 2 ** 31 + 5000;
    const outcome = awaitCallback(new Promise(() => {}), { ...opts, timeoutMs: limit }).then(() => 'resolved', (e: Error) => e.name);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('TimeoutError');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with AbortError when the signal aborts while pending, or was aborted already', async () => {
    vi.useFakeTimers();
    const c = new AbortController();
    const p = awaitCallback(new Promise(() => {}), { ...opts, signal: c.signal, timeoutMs: 1000 });
    const outcome = p.then(() => 'resolved', (e: Error) => e);
    c.abort('reason');
    const err = (await outcome) as Error;
    expect(err.name).toBe('AbortError');
    expect(err.message).toBe('someFn: aborted while waiting for opts.callback');
    expect(err.cause).toBe('reason');
    expect(vi.getTimerCount()).toBe(0);
    // Already aborted: rejects at once, whatever the value (a later rejection of it is swallowed).
    await expect(awaitCallback(5, { ...opts, signal: c.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(awaitCallback(Promise.reject(new Error('x')), { ...opts, signal: c.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes its abort listener once settled', async () => {
    const c = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const signal = c.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((type: string, l: EventListener, o?: AddEventListenerOptions) => (added.push(l), add(type, l, o))) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, l: EventListener) => (removed.push(l), remove(type, l))) as typeof signal.removeEventListener;
    await awaitCallback(Promise.resolve(1), { ...opts, signal });
    await awaitCallback(Promise.reject(new Error('x')), { ...opts, signal }).catch(() => {});
    await awaitCallback(new Promise((r) => setTimeout(r, 50)), { ...opts, signal, timeoutMs: 1 }).catch(() => {});
    expect(added.length).toBe(3);
    expect(removed).toEqual(added);
  });
});

describe('checkTimeoutMs', () => {
  it('accepts undefined or a finite number > 0, names the parameter otherwise', () => {
    expect(checkTimeoutMs('f', 'opts.timeoutMs', undefined)).toBeUndefined();
    expect(checkTimeoutMs('f', 'opts.timeoutMs', 0.5)).toBe(0.5);
    for (const bad of [0, -1, NaN, Infinity]) expect(() => checkTimeoutMs('f', 'opts.timeoutMs', bad)).toThrow(/^f: opts\.timeoutMs must be a finite number > 0/);
    for (const bad of ['1', null, {}]) expect(() => checkTimeoutMs('f', 'opts.timeoutMs', bad)).toThrow(TypeError);
  });
});
