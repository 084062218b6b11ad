/** Diffusion sampler loops, single steps, UDM rules, the Gaussian-mixture denoiser (docs/diffusion.md). */
import { defineCapability } from '../capability.js';
import { diffusionApi } from './diffusion.js';
import { parallelEstimateAnalyticGamma, parallelMixtureDenoise, parallelMixturePosterior, parallelSample } from './parallel.js';

export const diffusion = defineCapability({
  api: diffusionApi,
  parallel: {
    sample: parallelSample,
    estimateAnalyticGamma: parallelEstimateAnalyticGamma,
    mixtureDenoise: parallelMixtureDenoise,
    mixturePosterior: parallelMixturePosterior,
  },
});
