/**
 * gencore: WebAssembly SIMD kernels for generative-model inference math, with a synchronous API on the
 * calling thread (`init`) and the same API off the main thread (`createPool`).
 */
import { loadInstance, type Features, type LoadOptions } from './wasm/load.js';
import { createApi, type Api, type ResidentApi } from './api.js';
import type { WasmMemory } from './wasm/memory.js';
import { allocResident, type ResidentArray, type ResidentElements, type ResidentType } from './wasm/resident.js';

export type { Features, LoadOptions } from './wasm/load.js';
export type { Api, ResidentApi } from './api.js';
export type { MatmulOptions } from './linalg/linalg.js';
export type { PinvOptions } from './linalg/linalg.js';
export type { AttentionOptions, NystromOptions } from './attention/attention.js';
export type { RepetitionOptions, RepetitionResult, ArpResult, DecodeSpec, DecodeTransformOptions, TerminationStats, HighInflowResult } from './repetition/types.js';
export { TokenTrie, SubstringConstraint, type TrieOptions, type TrieArrays, type BeamBatch, type BeamSearchOptions, type Hypothesis, type Scorer, type Transform, type TransformContext } from './constrained/beam.js';
export { lcsLength, type LcsLookaheadOptions } from './constrained/lookahead.js';
export { noiseSchedule, timesteps, type NoiseSchedule, type NoiseScheduleOptions, type ScheduleKind, type TimestepSpacing, type PrevTimestep } from './diffusion/schedule.js';
export { samplerPlan, type Sampler, type Prediction, type PlanOptions, type SamplerPlan, type StepCoefficientOptions } from './diffusion/plan.js';
export type { SingleStepOptions, SingleStepResult } from './diffusion/step.js';
export type { SampleOptions, Denoiser, EstimateGammaOptions, AnalyticGammaResult } from './diffusion/sample.js';
export type { DiffusionProgress } from './diffusion/checks.js';
export { gaussianMixture, type GaussianMixture, type GaussianMixtureOptions, type GaussianMixtureParams } from './diffusion/mixture.js';
export type { UdmDeterministicOptions, UdmMaskingOptions, UdmMaskStepOptions } from './diffusion/udm.js';
export { entropyInvariantScale, EntropyStatus, type EntropyStatusCode, type EntropyOptions, type EntropySolveOptions, type EntropyNormalizeOptions, type EntropyNormalizeResult, type TemperatureOptions, type TemperatureResult, type FilterOptions } from './entropy/entropy.js';
export { denseNetwork, denseLayout, adamState, type DenseNetwork, type AdamOptions, type AdamState } from './nn/dense.js';
export { mlpDenoiser, timeEmbedding, denoiserInputs, mlpDenoiserToJson, mlpDenoiserFromJson, type MlpDenoiserModel, type MlpDenoiserJson } from './diffusion/mlp-denoiser.js';
export { trainKneserNey, KneserNeyModel, type KneserNeyOptions } from './constrained/kneser-ney.js';
export type { EditLookaheadOptions, EditCosts, UnitsTable } from './constrained/edit-lookahead.js';
export type { FloatArray, TypedArray, WasmMemory } from './wasm/memory.js';
export { ResidentArray, type ResidentElements, type ResidentType } from './wasm/resident.js';
export { AbortError, WorkerCrashedError, KernelFaultError, TimeoutError, ResidentArrayReleasedError } from './shared/errors.js';
export { createPool, type Pool, type PoolOptions } from './worker/pool.js';

/** The synchronous gencore API bound to one wasm instance in the calling thread. */
export type Gencore = ResidentApi & {
  /** Which wasm build was chosen. */
  readonly features: Features;
  /**
   * The instance's memory owner (advanced): arrays allocated here are passed to kernels without a copy,
   * and an `opts.out` here receives the result in place. Any allocation may grow the memory, which
   * detaches every view on it. A call that grows it still reads and writes such arrays by address, and
   * returns a new view on `opts.out`'s bytes instead of the (detached) `opts.out` object; without a grow
   * it returns `opts.out` itself.
   */
  readonly memory: WasmMemory;
  /**
   * Allocate a resident array: `length` elements of `type` kept in this instance's wasm memory until
   * `release()`. Pass it to any method, as an input or as `opts.out`, and it is read and written in place
   * with no copy (docs/memory.md). Its contents are unspecified until written.
   *
   * @param type - `Float32Array`, `Float64Array`, `Int32Array` or `Uint8Array`.
   * @param length - number of elements (a non-negative safe integer).
   * @throws TypeError for another `type`; RangeError for a bad `length` or when the 4 GiB wasm address space is full.
   */
  alloc<T extends ResidentElements>(type: ResidentType<T>, length: number): ResidentArray<T>;
};

/**
 * Load gencore in the calling thread.
 *
 * @param opts.simd - `'auto'` (default) picks the relaxed-SIMD build when the runtime supports it, else
 *   plain SIMD; `'relaxed'` / `'plain'` force one. A runtime without WebAssembly SIMD gets an Error.
 * @param opts.wasm - a wasm binary (bytes or URL) to use instead of the packaged build (bundlers).
 */
export async function init(opts: LoadOptions = {}): Promise<Gencore> {
  const inst = await loadInstance(opts);
  const gc = createApi(inst) as Gencore;
  // Getters: a trap replaces the instance's memory, and callers must see the new one.
  Object.defineProperties(gc, {
    features: { get: () => inst.features, enumerable: true },
    memory: { get: () => inst.mem, enumerable: true },
    alloc: { value: <T extends ResidentElements>(type: ResidentType<T>, length: number) => allocResident(inst, 'alloc', type, length) },
    // Test hook (not public API): the wasm instance behind this object.
    _instance: { value: inst },
  });
  return gc;
}
