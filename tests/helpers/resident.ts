/**
 * One call per function family, run twice: on ordinary arrays and on resident arrays holding the same
 * values (tests/wasm/resident.test.ts for the sync API, tests/worker/resident.test.ts for pools).
 */
import { gaussianMixture, noiseSchedule, type ResidentArray, type ResidentElements, type ResidentType } from '../../bindings/index.js';
import { mulberry32, randomArray } from './reference.js';

/** The calls of `init()`'s result or a pool, untyped: a case passes ordinary or resident arrays alike. */
export type AnyApi = Record<string, (...args: unknown[]) => unknown>;
/** `gc.alloc` or `pool.alloc`. */
export type Alloc = <T extends ResidentElements>(type: ResidentType<T>, length: number) => ResidentArray<T>;

export interface FamilyCase {
  name: string;
  /** The call's typed-array arguments (fresh arrays, same values every time). */
  arrays(): ResidentElements[];
  /** Index into `arrays()` of the one passed as `opts.out` (its values matter when beta ≠ 0), if any. */
  outIndex?: number;
  /** Call the function with `arrays` (ordinary or resident) in their places. */
  call(api: AnyApi, arrays: unknown[]): unknown;
  /** Key of the result holding `opts.out`, or '' when the result is `opts.out` itself. */
  outAt?: string;
}

const f32 = (n: number, seed: number) => randomArray(Float32Array, n, mulberry32(seed));
const f64 = (n: number, seed: number) => randomArray(Float64Array, n, mulberry32(seed));
const schedule = noiseSchedule({ kind: 'linear' });
const means: number[] = [];
for (let k = 0; k < 4; k++) means.push(Math.cos((Math.PI * k) / 2), Math.sin((Math.PI * k) / 2));
const ring = gaussianMixture({ means, stds: [0.2, 0.2, 0.2, 0.2] });

/** Sizes span both sides of the pool's split thresholds: small calls run whole in one worker. */
export const FAMILY_CASES: FamilyCase[] = [
  {
    name: 'matmul f32 7×13×5, out',
    arrays: () => [f32(7 * 13, 1), f32(13 * 5, 2), new Float32Array(7 * 5)],
    outIndex: 2,
    call: (api, [a, b, out]) => api.matmul(a, b, 7, 13, 5, { out }),
    outAt: '',
  },
  {
    name: 'matmul f32 64×64×64 (split in a pool of 2), transB, beta ≠ 0 reading out',
    arrays: () => [f32(64 * 64, 3), f32(64 * 64, 4), f32(64 * 64, 5)],
    outIndex: 2,
    call: (api, [a, b, out]) => api.matmul(a, b, 64, 64, 64, { transB: true, alpha: 0.5, beta: 0.25, out }),
    outAt: '',
  },
  {
    name: 'matmul f64 9×4×6, new result',
    arrays: () => [f64(36, 6), f64(24, 7)],
    call: (api, [a, b]) => api.matmul(a, b, 9, 4, 6),
  },
  {
    name: 'solve f64 6×6, 2 right-hand sides',
    arrays: () => {
      const a = f64(36, 8);
      for (let i = 0; i < 6; i++) a[i * 7] += 4; // diagonally dominant: well conditioned
      return [a, f64(12, 9)];
    },
    call: (api, [a, b]) => api.solve(a, b, 6, 2),
  },
  {
    name: 'pinv f32 5×3, out',
    arrays: () => [f32(15, 10), new Float32Array(15)],
    outIndex: 1,
    call: (api, [a, out]) => api.pinv(a, 5, 3, { out }),
    outAt: '',
  },
  {
    name: 'exact attention n 256, d 32 (split in a pool of 2), out',
    arrays: () => [f32(256 * 32, 11), f32(256 * 32, 12), f32(256 * 32, 13), new Float32Array(256 * 32)],
    outIndex: 3,
    call: (api, [q, k, v, out]) => api.attention(q, k, v, { n: 256, d: 32, out }),
    outAt: '',
  },
  {
    name: 'exact attention n 16, d 8, key mask',
    arrays: () => [f32(128, 14), f32(128, 15), f32(128, 16), Uint8Array.from({ length: 16 }, (_, i) => +(i % 3 !== 1))],
    call: (api, [q, k, v, keyMask]) => api.attention(q, k, v, { n: 16, d: 8, keyMask }),
  },
  {
    name: 'entropyNormalize f32 8×4096 (split in a pool of 2), per-row targets, out',
    arrays: () => [f32(8 * 4096, 17), Float64Array.from({ length: 8 }, (_, r) => 2 + r / 2), new Float32Array(8 * 4096)],
    outIndex: 2,
    call: (api, [x, targets, out]) => api.entropyNormalize(x, 8, 4096, targets, { fromLogits: true, out }),
    outAt: 'out',
  },
  {
    name: 'entropyNormalize f64 3×10, new result',
    arrays: () => [f64(30, 18)],
    call: (api, [x]) => api.entropyNormalize(x, 3, 10, 1.2, { fromLogits: true }),
  },
  {
    name: 'ddpmStep f32, injected noise, out',
    arrays: () => [f32(40, 19), f32(40, 20), f32(40, 21), new Float32Array(40)],
    outIndex: 3,
    call: (api, [x, modelOutput, noise, out]) => api.ddpmStep(x, modelOutput, { schedule, t: 500, noise, out }),
    outAt: 'prevSample',
  },
  {
    name: 'sample loop (ddim, mixture denoiser), xT and out',
    arrays: () => [f32(6 * 2, 22), new Float32Array(6 * 2)],
    outIndex: 1,
    call: (api, [xT, out]) => api.sample({ sampler: 'ddim', schedule, steps: 8, shape: [6, 2], denoiser: ring, seed: 5, xT, out }),
    outAt: '',
  },
  {
    name: 'gatherRows Int32Array index',
    arrays: () => [f32(5 * 3, 23), Int32Array.from([4, 0, 0, 2])],
    call: (api, [src, index]) => api.gatherRows(src, 3, index),
  },
];

/** The bytes of every typed array in `v` (one level into a record), for bit-identical comparisons. */
export function bytesOf(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesOf(x)]));
  return v;
}

/** Resident copies of `arrays`, allocated with `alloc`. */
export function residentCopies(alloc: Alloc, arrays: ResidentElements[]): ResidentArray[] {
  return arrays.map((a) => {
    const ra = alloc(a.constructor as ResidentType, a.length);
    ra.array.set(a as never);
    return ra;
  });
}
