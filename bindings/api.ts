/**
 * The synchronous gencore API: the methods of every capability in the registry, bound to one wasm
 * instance.
 */
import type { WasmInstance } from './wasm/load.js';
import type { Capability } from './capability.js';
import { CAPABILITIES } from './registry.js';

type ApiOf<C> = C extends Capability<infer A> ? A : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * The methods of `init()`'s result (and, returning Promises, of a pool).
 * @interface
 */
export type Api = Intersection<ApiOf<(typeof CAPABILITIES)[number]>>;

export function createApi(inst: WasmInstance): Api {
  return Object.assign({}, ...CAPABILITIES.map((c) => c.api(inst))) as Api;
}
