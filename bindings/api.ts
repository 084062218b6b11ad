/**
 * The synchronous gencore API: the methods of every capability in the registry, bound to one wasm
 * instance.
 */
import type { WasmInstance } from './wasm/load.js';
import type { Capability } from './capability.js';
import { CAPABILITIES } from './registry.js';
import { callWithResidents, type ResidentArray, type ResidentElements } from './wasm/resident.js';
import type { FloatArray } from './wasm/memory.js';

type ApiOf<C> = C extends Capability<infer A> ? A : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * The methods of every capability, as the capabilities declare them (`ResidentApi` adds resident arrays).
 * @interface
 */
export type Api = Intersection<ApiOf<(typeof CAPABILITIES)[number]>>;

/** A typed-array parameter (or one level into an options object or array) also takes a resident array of its type. */
type OrResident<P> = P extends ResidentElements ? P | ResidentArray<P> : P;
type ResidentParam<P> = P extends ResidentElements
  ? P | ResidentArray<P>
  : P extends (...args: never[]) => unknown
    ? P
    : P extends object
      ? { [K in keyof P]: OrResident<P[K]> }
      : P;

/** Method `F` taking resident arrays wherever it takes typed arrays (see `callWithResidents`). */
export type AcceptResidents<F> = F extends (...args: infer A) => infer R ? (...args: { [I in keyof A]: ResidentParam<A[I]> }) => R : never;

declare const api: Api;
/**
 * Methods generic over the float type, instantiated for f32, f64 and their union: a mapped type would
 * erase `T`, so they get one overload per type.
 */
export type FloatInstances = {
  matmul: [typeof api.matmul<Float32Array>, typeof api.matmul<Float64Array>, typeof api.matmul<FloatArray>];
  pinv: [typeof api.pinv<Float32Array>, typeof api.pinv<Float64Array>, typeof api.pinv<FloatArray>];
  solve: [typeof api.solve<Float32Array>, typeof api.solve<Float64Array>, typeof api.solve<FloatArray>];
  ddpmStep: [typeof api.ddpmStep<Float32Array>, typeof api.ddpmStep<Float64Array>, typeof api.ddpmStep<FloatArray>];
  ddimStep: [typeof api.ddimStep<Float32Array>, typeof api.ddimStep<Float64Array>, typeof api.ddimStep<FloatArray>];
  entropyNormalize: [typeof api.entropyNormalize<Float32Array>, typeof api.entropyNormalize<Float64Array>, typeof api.entropyNormalize<FloatArray>];
  topKFilter: [typeof api.topKFilter<Float32Array>, typeof api.topKFilter<Float64Array>, typeof api.topKFilter<FloatArray>];
  nucleusFilter: [typeof api.nucleusFilter<Float32Array>, typeof api.nucleusFilter<Float64Array>, typeof api.nucleusFilter<FloatArray>];
  decodeTransform: [typeof api.decodeTransform<Float32Array>, typeof api.decodeTransform<Float64Array>, typeof api.decodeTransform<FloatArray>];
};

/**
 * Methods whose exact signature a mapped type would lose (overloads, or a type parameter beyond the float
 * type): they keep it, with the resident-array signature added as an overload.
 */
type KeepSignature = 'beamSearch' | 'gatherRows';

/**
 * The methods of `init()`'s result: `Api`'s, each taking resident arrays wherever it takes typed arrays.
 * @interface
 */
export type ResidentApi = { [K in Exclude<keyof Api, keyof FloatInstances | KeepSignature>]: AcceptResidents<Api[K]> } & {
  [K in keyof FloatInstances]: AcceptResidents<FloatInstances[K][0]> & AcceptResidents<FloatInstances[K][1]> & AcceptResidents<FloatInstances[K][2]>;
} & { [K in KeepSignature]: Api[K] & AcceptResidents<Api[K]> };

/** Every method of every capability on `inst`, accepting `inst`'s resident arrays wherever it accepts a typed array. */
export function createApi(inst: WasmInstance): Api {
  const methods: Record<string, unknown> = Object.assign({}, ...CAPABILITIES.map((c) => c.api(inst)));
  const api: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods)) {
    const fn = method as (...args: unknown[]) => unknown;
    api[name] = typeof method === 'function' ? (...args: unknown[]) => callWithResidents(name, inst, args, (resolved) => fn.apply(methods, resolved)) : method;
  }
  return api as Api;
}
