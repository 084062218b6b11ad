/**
 * The fuzz driver shared by the sync and pool blocks: runs one function's cases and judges every call
 * against the pass criteria of issue #9 (a correct-shaped result, or a TypeError / RangeError; never
 * trap text; inputs untouched on error; heap back at its baseline).
 */
import { createPool, init, type Gencore, type Pool } from '../../bindings/index.js';
import { FUNCTION_CASES, fuzzArgs, type CaseContext, type FnCases } from './cases.js';
import { Rng, TRAP_TEXT, bytesOf, sameBytes, seedFor, tokenSeqs, typedArraysIn } from './gen.js';

/** Calls per function: 10 000 by default for the sync API (GENCORE_FUZZ_CALLS for bigger runs). */
export const SYNC_CALLS = Number(process.env.GENCORE_FUZZ_CALLS ?? 10_000);
/** Calls per function through the pool: a round trip each, so 1 000 by default (GENCORE_FUZZ_POOL_CALLS). */
export const POOL_CALLS = Number(process.env.GENCORE_FUZZ_POOL_CALLS ?? Math.min(SYNC_CALLS, 1_000));
/** Base seed of the run (GENCORE_FUZZ_SEED to explore other inputs). */
export const FUZZ_SEED = Number(process.env.GENCORE_FUZZ_SEED ?? 0x9e3779b9);
/** A call still pending after this long counts as a hang. */
export const HANG_MS = 15_000;

export interface FuzzStats {
  name: string;
  calls: number;
  validOk: number;
  typeErrors: number;
  rangeErrors: number;
  callbackErrors: number;
  aborts: number;
  acceptedCorruptions: number;
  skipped: number;
  /** Errors whose message does not start with "<function>:" (soft: reported, not failed). */
  unnamedMessages: number;
  ms: number;
  failures: string[];
}

/** Short description of arguments for a failure report. */
export function describe(v: unknown, depth = 0): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 30 ? v.slice(0, 30) + '…' : v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'fn';
  if (typeof v === 'symbol') return 'Symbol';
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (ArrayBuffer.isView(v)) {
    let len = -1;
    try {
      len = (v as unknown as ArrayLike<number>).length ?? v.byteLength;
    } catch {
      /* detached */
    }
    const items = len > 0 && len <= 6 && !(v instanceof DataView) ? `[${Array.from(v as unknown as ArrayLike<number>).map((x) => describe(x)).join(',')}]` : '';
    return `${v.constructor.name}(${len})${items}`;
  }
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  if (depth > 2) return '…';
  if (Array.isArray(v)) return v.length > 6 ? `Array(${v.length})` : `[${v.map((x) => describe(x, depth + 1)).join(', ')}]`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return `{${Object.entries(v as object).map(([k, x]) => `${k}: ${describe(x, depth + 1)}`).join(', ')}}`;
  }
  return (v as object).constructor?.name ?? 'object';
}

const argsWithAbortedSignal = (args: unknown[]): boolean =>
  args.some((a) => a !== null && typeof a === 'object' && (a as { signal?: AbortSignal }).signal instanceof AbortSignal && (a as { signal: AbortSignal }).signal.aborted);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`hang: no answer after ${ms} ms`), { name: 'FuzzHang' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Typed arrays given as an `out` (they may legitimately change on success). */
function outsOf(args: unknown[]): ArrayBufferView[] {
  const outs: ArrayBufferView[] = [];
  for (const a of args) {
    const out = a !== null && typeof a === 'object' && !ArrayBuffer.isView(a) ? (a as { out?: unknown }).out : undefined;
    if (ArrayBuffer.isView(out)) outs.push(out);
  }
  return outs;
}

const sharesBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

export interface Target {
  ctx: CaseContext;
  /** Heap checks after every call (sync): bytes in use and the memory owner identity. */
  heap?: () => { bytes: number; owner: unknown };
}

/** Run `calls` fuzz calls of one function and judge each. */
export async function fuzzFunction(spec: FnCases, target: Target, calls: number): Promise<FuzzStats> {
  const { ctx } = target;
  const stats: FuzzStats = {
    name: spec.name, calls: 0, validOk: 0, typeErrors: 0, rangeErrors: 0, callbackErrors: 0, aborts: 0,
    acceptedCorruptions: 0, skipped: 0, unnamedMessages: 0, ms: 0, failures: [],
  };
  const fn = spec.plain ?? ((ctx.api as unknown as Record<string, (...a: unknown[]) => unknown>)[spec.name]).bind(ctx.api);
  const base = target.heap?.();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    // Long synchronous stretches starve the test runner's own messages: yield now and then.
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    const seed = seedFor(spec.name + (ctx.pool ? '/pool' : ''), i, FUZZ_SEED);
    const rng = new Rng(seed);
    const { args, valid } = fuzzArgs(spec, rng, ctx);
    if (spec.tooBig?.(args)) {
      stats.skipped++;
      continue;
    }
    stats.calls++;
    const fail = (what: string) => {
      if (stats.failures.length < 12) stats.failures.push(`${spec.name} #${i} (seed ${seed}) ${valid ? 'valid' : 'corrupted'} args ${describe(args)}: ${what}`);
    };
    const snaps = typedArraysIn(args).map((v) => [v, bytesOf(v)] as const);
    let result: unknown;
    let error: unknown;
    let threw = false;
    try {
      result = fn(...args);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        result = await withTimeout(result as Promise<unknown>, HANG_MS);
      }
    } catch (e) {
      threw = true;
      error = e;
    }
    if (threw) {
      const e = error as Error;
      const name = e?.name;
      const message = String(e?.message ?? e);
      if (name === 'FuzzHang') fail(message);
      else if (TRAP_TEXT.test(message) || TRAP_TEXT.test(name ?? '') || e instanceof WebAssembly.RuntimeError) fail(`wasm trap text reached the caller: ${name}: ${message}`);
      else if (name === 'CallbackFault' && !valid) stats.callbackErrors++;
      else if (name === 'AbortError' && argsWithAbortedSignal(args)) stats.aborts++;
      else if (e instanceof TypeError && name === 'TypeError') stats.typeErrors++;
      else if (e instanceof RangeError && name === 'RangeError') stats.rangeErrors++;
      else fail(`threw ${name ?? typeof e} (not TypeError / RangeError): ${message}`);
      if (valid && name !== 'FuzzHang') fail(`a valid call threw ${name}: ${message}`);
      if ((name === 'TypeError' || name === 'RangeError') && !message.startsWith(`${spec.name}`) && !message.includes(`${spec.name}:`) && !message.includes(`${spec.name}.`)) {
        stats.unnamedMessages++;
      }
      for (const [v, before] of snaps) if (!sameBytes(bytesOf(v), before)) fail(`a failed call modified an argument (${describe(v)}): ${message}`);
    } else {
      try {
        spec.shape(result, args, ctx);
        if (valid) {
          valid.check?.(result);
          stats.validOk++;
        } else stats.acceptedCorruptions++;
      } catch (e) {
        fail(`bad result: ${(e as Error).message}`);
      }
      const outs = outsOf(args);
      for (const [v, before] of snaps) {
        if (outs.some((out) => sharesBytes(v, out))) continue;
        if (!sameBytes(bytesOf(v), before)) fail(`an input was modified (${describe(v)})`);
      }
      try {
        spec.release?.(result);
      } catch (e) {
        fail(`release failed: ${(e as Error).message}`);
      }
    }
    if (base) {
      const now = target.heap!();
      if (now.owner !== base.owner) {
        fail('the wasm instance was reset (a kernel trapped)');
        break;
      }
      if (now.bytes !== base.bytes) {
        fail(`heap not at baseline: ${now.bytes} bytes in use, baseline ${base.bytes}`);
        break;
      }
    }
  }
  stats.ms = performance.now() - t0;
  return stats;
}

/** Fixtures every block needs, built in `api`. */
export async function makeContext(api: Gencore | Pool, pool: boolean): Promise<CaseContext> {
  const rng = new Rng(1234);
  const trieVocab = 12;
  const trieEnd = 11;
  const seqs = tokenSeqs(rng, 30, 5, trieVocab - 1);
  const trie = await api.buildTrie(seqs, { endToken: trieEnd });
  const trieBytes = trie.serialize();
  const substring = await api.substringConstraint(tokenSeqs(rng, 3, 12, 15), { endToken: 15 });
  return { api, pool, trie, trieEnd, trieVocab, trieBytes, substring };
}

export { FUNCTION_CASES, createPool, init };

/** One line per function for the run's summary table. */
export function summaryLine(s: FuzzStats): string {
  return [
    s.name.padEnd(22),
    String(s.calls).padStart(6),
    String(s.validOk).padStart(6),
    String(s.typeErrors).padStart(6),
    String(s.rangeErrors).padStart(6),
    String(s.callbackErrors + s.aborts).padStart(5),
    String(s.acceptedCorruptions).padStart(5),
    String(s.skipped).padStart(4),
    String(s.unnamedMessages).padStart(5),
    `${(s.ms / 1000).toFixed(2)} s`.padStart(8),
  ].join(' ');
}
export const SUMMARY_HEADER = 'function                calls  valid  TypeE RangeE cb/ab  acc skip unnmd     time';
