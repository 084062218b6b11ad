/**
 * Every capability of gencore. Adding one: its folder (`bindings/<name>/index.ts` declaring it with
 * `defineCapability`, kernels under `assembly/kernels/<name>/`, tests under `tests/<name>/`) and one
 * line here.
 */
import { linalg } from './linalg/index.js';
import { attention } from './attention/index.js';
import { constrained } from './constrained/index.js';
import { repetition } from './repetition/index.js';
import { diffusion } from './diffusion/index.js';
import { entropy } from './entropy/index.js';
import { nn } from './nn/index.js';
import { adapters } from './adapters/index.js';

export const CAPABILITIES = [linalg, attention, constrained, repetition, diffusion, entropy, nn, adapters] as const;
