/**
 * Diffusion sampler loops: noise schedules, timestep plans, DDPM / DDIM / Analytic-DPM steps and
 * samplers, the unified (UDM) rules for deterministic degradations and token masking, the exact
 * Gaussian-mixture denoiser and the energy distance. Semantics: docs/diffusion.md (section numbers in
 * each file).
 *
 * Plain exports (no wasm): `noiseSchedule`, `timesteps` (schedule.ts), `samplerPlan` (plan.ts),
 * `gaussianMixture` (mixture.ts). The rest is `diffusionApi(inst)`, assembled here from one factory per
 * subject: single steps (step.ts), the sampler loops (sample.ts), the mixture in wasm (mixture.ts), the
 * counter RNG (rng.ts), the energy distance (energy.ts) and UDM (udm.ts).
 */
import type { WasmInstance } from '../wasm/load.js';
import { energyApi } from './energy.js';
import { mixtureApi } from './mixture.js';
import { rngApi } from './rng.js';
import { samplerApi } from './sample.js';
import { stepApi } from './step.js';
import { udmApi } from './udm.js';

/** Every diffusion method of `gc`, bound to `inst`. */
export function diffusionApi(inst: WasmInstance) {
  return {
    ...stepApi(inst),
    ...samplerApi(inst),
    ...mixtureApi(inst),
    ...rngApi(inst),
    ...energyApi(inst),
    ...udmApi(),
  };
}
