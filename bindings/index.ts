/**
 * gencore: WebAssembly SIMD kernels for generative-model inference math, with a synchronous API on the
 * calling thread (`init`) and the same API off the main thread (`createPool`).
 */
import { loadInstance, type Features, type LoadOptions } from './wasm/load.js';
import { createApi, type Api } from './core/api.js';
import type { WasmMemory } from './wasm/memory.js';

export type { Features, LoadOptions } from './wasm/load.js';
export type { Api } from './core/api.js';
export type { MatmulOptions } from './core/linalg.js';
export type { PinvOptions } from './core/linalg.js';
export type { AttentionOptions, NystromOptions } from './core/attention.js';
export type { RepetitionOptions, RepetitionResult, ArpResult, DecodeSpec, DecodeTransformOptions, TerminationStats, HighInflowResult } from './core/repetition.js';
export { TokenTrie, SubstringConstraint, lcsLength, type TrieOptions, type TrieArrays, type BeamBatch, type BeamSearchOptions, type Hypothesis, type Scorer, type Transform, type TransformContext, type LcsLookaheadOptions } from './core/beam.js';
export { trainKneserNey, KneserNeyModel, type KneserNeyOptions } from './constrained/kneser-ney.js';
export type { EditLookaheadOptions, EditCosts, UnitsTable } from './constrained/edit-lookahead.js';
export { noiseSchedule, timesteps, samplerPlan, gaussianMixture, type NoiseSchedule, type NoiseScheduleOptions, type ScheduleKind, type TimestepSpacing, type PrevTimestep, type Sampler, type Prediction, type PlanOptions, type SamplerPlan, type StepCoefficientOptions, type SampleOptions, type SingleStepOptions, type SingleStepResult, type Denoiser, type DiffusionProgress, type GaussianMixture, type GaussianMixtureOptions, type GaussianMixtureParams, type EstimateGammaOptions, type AnalyticGammaResult, type UdmDeterministicOptions, type UdmMaskingOptions, type UdmMaskStepOptions } from './core/diffusion.js';
export { entropyInvariantScale, EntropyStatus, type EntropyStatusCode, type EntropyOptions, type EntropySolveOptions, type EntropyNormalizeOptions, type EntropyNormalizeResult, type TemperatureOptions, type TemperatureResult, type FilterOptions } from './core/entropy.js';
export type { FloatArray, TypedArray, WasmMemory } from './wasm/memory.js';
export { AbortError, WorkerCrashedError, KernelFaultError, TimeoutError } from './core/errors.js';
export { createPool, type Pool, type PoolOptions } from './worker/pool.js';

/** The synchronous gencore API bound to one wasm instance in the calling thread. */
export type Gencore = Api & {
  /** Which wasm build was chosen. */
  readonly features: Features;
  /** The instance's memory owner (advanced: arrays allocated here are passed to kernels without a copy). */
  readonly memory: WasmMemory;
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
    // Test hook (not public API): the wasm instance behind this object.
    _instance: { value: inst },
  });
  return gc;
}
