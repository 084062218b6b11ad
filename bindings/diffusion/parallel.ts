/**
 * Pool side of the diffusion samplers: a batch is split by rows, one contiguous slice per worker, and
 * each worker runs the WHOLE sampling loop on its slice (`sample` with `rowOffset` = the slice's first
 * row). The counter-based generator numbers elements row·dim + col over the whole batch, so a slice
 * draws exactly the x_T and z its rows get in a single-thread run: the result is bit-identical to
 * `gc.sample` whatever the worker count (for a denoiser that treats rows independently).
 *
 * Why not one shared-memory task per step: the loop's cost is the denoiser, and a per-step barrier
 * would add a round trip per step per worker for nothing; whole-slice runs need no synchronisation and
 * only move the slice's rows.
 *
 * Where the denoiser runs:
 * - A gaussianMixture() object, its `denoiser`, or its params: the plain parameters travel to each
 *   worker, which evaluates the mixture in wasm on its own slice — fully parallel.
 * - Any other function stays on the caller's thread: the pool passes it as a Comlink proxy, and each
 *   worker calls it with ITS slice, `denoiser(xSlice, t, [rows, dim])`, once per step (the slices'
 *   calls may overlap in time, so an async denoiser backed by its own workers or a GPU runs them
 *   concurrently). A denoiser that mixes rows sees only its slice.
 *
 * Abort: the caller's signal (and the first failure of any slice) aborts every slice; each worker
 * checks between steps. Progress: `onProgress` is called when the slowest slice completes a step, and that
 * slice awaits it.
 */
import type { DiffusionProgress } from './checks.js';
import { mixtureParamsOf, type GaussianMixture, type GaussianMixtureParams } from './mixture.js';
import { planSample, type AnalyticGammaResult, type EstimateGammaOptions, type SampleOptions } from './sample.js';
import type { NoiseSchedule } from './schedule.js';
import { onAbort } from '../shared/abort.js';
import { AbortError } from '../shared/errors.js';
import type { WorkerPool } from '../worker/pool.js';
import { splitRange } from '../worker/split.js';

/** Batches below this many values run whole in one worker: splitting would cost more than it saves. */
const SPLIT_MIN_VALUES = 4096;

/** The pool's gc.sample: split by rows across workers (see the file header). */
export async function parallelSample(pool: WorkerPool, opts: SampleOptions): Promise<Float32Array> {
  const call = planSample(opts); // validate on the caller's side, before any worker is involved
  const { batch, dim } = call;
  const denoiser = call.mixture ?? call.denoiser;
  const blocks = splitRange(batch, pool.size);
  if (blocks.length < 2 || batch * dim < SPLIT_MIN_VALUES) {
    return (await pool.call('sample', [{ ...opts, denoiser }])) as Float32Array;
  }
  const controller = new AbortController();
  if (call.signal?.aborted) throw new AbortError('sample: aborted', { cause: call.signal.reason });
  const signal = call.signal;
  const stopListening = signal && onAbort(signal, () => controller.abort(signal.reason));

  const done = new Array<number>(blocks.length).fill(0);
  let reported = 0;
  // The reporter's result is returned to the slice whose step completed it, so that worker awaits it as
  // an unsplit sample awaits its reporter: the report arrives before the call resolves, and a throw or
  // rejection fails that slice, hence the call (never an unhandled rejection).
  const progressOf = (w: number) => (p: DiffusionProgress): unknown => {
    done[w] = p.step;
    const min = Math.min(...done);
    if (min <= reported || !call.onProgress) return undefined;
    reported = min;
    return call.onProgress({ step: min, steps: p.steps, t: call.resolved.plan.timesteps[min - 1] });
  };

  let firstError: unknown;
  const slots = pool.pick(blocks.length);
  const base = { ...opts, denoiser, out: undefined, xT: undefined, signal: controller.signal, onProgress: undefined };
  try {
    const parts = await Promise.allSettled(
      blocks.map(([r0, rows], w) =>
        pool
          .call(
            'sample',
            [
              {
                ...base,
                shape: [rows, dim],
                rowOffset: call.rowOffset + r0,
                xT: call.xT?.slice(r0 * dim, (r0 + rows) * dim),
                onProgress: call.onProgress ? progressOf(w) : undefined,
              },
            ],
            slots[w],
          )
          .catch((err: unknown) => {
            // The first failure stops the other slices; later AbortErrors are its consequence.
            if (firstError === undefined) firstError = err;
            controller.abort(err);
            throw err;
          }),
      ),
    );
    if (firstError !== undefined) {
      if (call.signal?.aborted) throw new AbortError('sample: aborted', { cause: call.signal.reason });
      throw firstError;
    }
    const out = call.out ?? new Float32Array(batch * dim);
    blocks.forEach(([r0], w) => out.set((parts[w] as PromiseFulfilledResult<Float32Array>).value, r0 * dim));
    return out;
  } finally {
    stopListening?.();
  }
}

/** Replace a gaussianMixture() object or denoiser by its plain params (evaluated in the worker). */
const wireDenoiser = <T>(d: T): T | GaussianMixtureParams => mixtureParamsOf(d) ?? d;

/** The pool's estimateAnalyticGamma: a mixture runs inside the worker instead of calling back. */
export async function parallelEstimateAnalyticGamma(
  pool: WorkerPool,
  denoiser: Parameters<typeof wireDenoiser>[0],
  data: Float32Array,
  schedule: NoiseSchedule,
  opts: EstimateGammaOptions,
): Promise<AnalyticGammaResult> {
  return (await pool.call('estimateAnalyticGamma', [wireDenoiser(denoiser), data, schedule, opts])) as AnalyticGammaResult;
}

/** The pool's mixtureDenoise (the mixture travels as plain params). */
export async function parallelMixtureDenoise(
  pool: WorkerPool,
  mixture: GaussianMixture | GaussianMixtureParams,
  x: Float32Array,
  t: number,
  shape: [number, number],
  opts?: { out?: Float32Array },
): Promise<Float32Array> {
  return (await pool.call('mixtureDenoise', [wireDenoiser(mixture), x, t, shape, opts])) as Float32Array;
}

/** The pool's mixturePosterior (the mixture travels as plain params). */
export async function parallelMixturePosterior(
  pool: WorkerPool,
  mixture: GaussianMixture | GaussianMixtureParams,
  x: Float32Array,
  t: number,
  shape: [number, number],
): Promise<{ mean: Float32Array; trCov: Float64Array }> {
  return (await pool.call('mixturePosterior', [wireDenoiser(mixture), x, t, shape])) as { mean: Float32Array; trCov: Float64Array };
}

