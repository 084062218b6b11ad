/**
 * The synchronous gencore API: every module's functions bound to one wasm instance.
 * Each module contributes `<module>Api(inst)`; add one line here per module.
 */
import type { WasmInstance } from '../wasm/load.js';
import { linalgApi } from './linalg.js';
import { attentionApi } from './attention.js';
import { constrainedApi } from './beam.js';
import { repetitionApi } from './repetition.js';
import { diffusionApi } from './diffusion.js';
import { entropyApi } from './entropy.js';
import { gatherApi } from '../adapters/gather.js';

export function createApi(inst: WasmInstance) {
  return {
    ...linalgApi(inst),
    ...attentionApi(inst),
    ...constrainedApi(inst),
    ...repetitionApi(inst),
    ...diffusionApi(inst),
    ...entropyApi(inst),
    ...gatherApi(inst),
  };
}

/**
 * The methods of `init()`'s result (and, returning Promises, of a pool).
 * @interface
 */
export type Api = ReturnType<typeof createApi>;
