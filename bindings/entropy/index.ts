/** Entropy normalisation, temperature for a target entropy, top-k / nucleus filters (docs/entropy.md). */
import { defineCapability } from '../capability.js';
import { entropyApi, entropySolveRows } from './entropy.js';
import { parallelEntropyNormalize, parallelTemperatureForEntropy, type EntropySolveTask } from './parallel.js';

export const entropy = defineCapability({
  api: entropyApi,
  parallel: { entropyNormalize: parallelEntropyNormalize, temperatureForEntropy: parallelTemperatureForEntropy },
  tasks: { entropySolve: (inst, t: EntropySolveTask) => entropySolveRows(inst, t.plan, t.ptrs, t.r0, t.rows, t.scratch) },
});
