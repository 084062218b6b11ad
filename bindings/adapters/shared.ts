/** Checks shared by the model adapters (onnxruntime, tfjs, transformers). */
import type { BeamBatch, Scorer } from '../constrained/beam.js';
import { init, type Gencore } from '../index.js';
import { show } from '../shared/validate.js';

/** Prompt or source tokens: `rows[q]` for query q, or `rows[0]` for every query when `shared`. */
export interface TokenRows {
  rows: Int32Array[];
  shared: boolean;
}

/** Token rows per query: one shared array or one per query, all of one length ≥ 1. */
export function checkTokenRows(fn: string, name: string, v: unknown): TokenRows {
  const isRow = (x: unknown) => ArrayBuffer.isView(x) || (Array.isArray(x) && x.every((t) => typeof t === 'number'));
  if (!isRow(v) && !(Array.isArray(v) && v.length > 0 && v.every(isRow))) {
    throw new TypeError(`${fn}: ${name} must be an array of token ids or an array of such arrays, got ${show(v)}`);
  }
  const shared = isRow(v);
  const rows = (shared ? [v] : (v as unknown[])).map((row, q) => {
    const r = Int32Array.from(row as ArrayLike<number>);
    r.forEach((t, i) => {
      if (!Number.isInteger((row as ArrayLike<number>)[i]) || t < 0) throw new RangeError(`${fn}: ${name}${shared ? '' : `[${q}]`}[${i}] must be a token id ≥ 0, got ${(row as ArrayLike<number>)[i]}`);
    });
    return r;
  });
  if (rows[0].length === 0) throw new RangeError(`${fn}: ${name} must hold at least one token`);
  const bad = rows.findIndex((r) => r.length !== rows[0].length);
  if (bad >= 0) throw new RangeError(`${fn}: ${name}[${bad}] has ${rows[bad].length} tokens but ${name}[0] has ${rows[0].length}; all must have one length`);
  return { rows, shared };
}

/** No NaN in a model's output; the RangeError names the output (`what`), `where` (the step) and the position. */
export function checkNoNaN(fn: string, what: string, data: Float32Array, width: number, where: string): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== data[i]) throw new RangeError(`${fn}: ${what} at ${where} is NaN at row ${Math.floor(i / width)}, column ${i % width}`);
  }
}

/** The tokens of query q, or a RangeError when the batch has more queries than were given. */
export function rowOf(fn: string, name: string, t: TokenRows, q: number): Int32Array {
  const row = t.rows[t.shared ? 0 : q];
  if (!row) throw new RangeError(`${fn}: the batch has query ${q} but ${name} has ${t.rows.length} rows`);
  return row;
}

/** Each row's whole sequence, prompt then generated prefix: rows × (P + step) tokens, row-major. */
export function fullSequences(fn: string, batch: BeamBatch, prompt: TokenRows): Int32Array {
  const { rows, step } = batch;
  const P = prompt.rows[0].length;
  const T = P + step;
  const tokens = new Int32Array(rows * T);
  for (let r = 0; r < rows; r++) {
    tokens.set(rowOf(fn, 'opts.prompt', prompt, batch.query[r]), r * T);
    tokens.set(batch.prefixes.subarray(r * step, (r + 1) * step), r * T + P);
  }
  return tokens;
}

let defaultGencore: Promise<Gencore> | undefined;

/** The instance an adapter was given, or one shared by every adapter, loaded on first use. */
export async function gencoreFor(given: Gencore | undefined): Promise<Gencore> {
  return given ?? (defaultGencore ??= init());
}

/**
 * Begin scorer step `st`: step 0 starts a search and drops the previous cache (`reset`); a later step needs
 * the cache the step before it left.
 */
export function startStep(fn: string, st: number, reset: () => void, hasCache: boolean): void {
  if (st === 0) reset();
  else if (!hasCache) throw new Error(`${fn}: step ${st} without the cache of step ${st - 1} (a failed step, reset() or a new search must start at step 0)`);
}

/**
 * A scorer that runs `step` one call at a time, with `reset` attached: a step abandoned by an aborted
 * search still finishes before the next one starts, so the model's cache is never used by two steps.
 */
export function serialScorer(step: (batch: BeamBatch) => Promise<Float32Array>, reset: () => void): Scorer & { reset(): void } {
  let queue: Promise<unknown> = Promise.resolve();
  const scorer = (batch: BeamBatch) => {
    const run = queue.then(() => step(batch));
    queue = run.catch(() => undefined);
    return run;
  };
  return Object.assign(scorer, { reset });
}
