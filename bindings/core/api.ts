/**
 * The synchronous gencore API: every module's functions bound to one wasm instance.
 * Each module contributes `<module>Api(inst)`; add one line here per module.
 */
import type { WasmInstance } from '../wasm/load.js';
import { linalgApi } from './linalg.js';

export function createApi(inst: WasmInstance) {
  return {
    ...linalgApi(inst),
  };
}

/** The methods of `init()`'s result (and, returning Promises, of a pool). */
export type Api = ReturnType<typeof createApi>;
