/**
 * §8 Random numbers (docs/diffusion.md): Threefry-2x32-20 keyed by the seed, with counter
 * (pair, stream), so the value of element row·dim + col does not depend on batch split, worker count or
 * SIMD width. Here: the JS twin of assembly/kernels/diffusion/rng.ts (for the plain exports, the mixture
 * and the masking sampler) and the wasm-backed generator (`gc.randomWords`, `gc.randomNormal`, the
 * normals the samplers draw).
 */
import type { WasmInstance } from '../wasm/load.js';
import type { Scope } from '../wasm/memory.js';
import { checkInt, checkOptions, checkTyped, show } from '../shared/validate.js';

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1) → [w0, w1] (unsigned 32-bit). */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  let x0 = (c0 + ks[0]) >>> 0;
  let x1 = (c1 + ks[1]) >>> 0;
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0;
    const R = ROT[r % 8];
    x1 = (((x1 << R) | (x1 >>> (32 - R))) ^ x0) >>> 0;
    if ((r & 3) === 3) {
      const i = (r >> 2) + 1;
      x0 = (x0 + ks[i % 3]) >>> 0;
      x1 = (x1 + ks[(i + 1) % 3] + i) >>> 0;
    }
  }
  return [x0, x1];
}

/** u(w) = ((w >>> 9) + 0.5)·2^−23 ∈ (0, 1). */
export const uniformOfWord = (w: number): number => ((w >>> 9) + 0.5) * 2 ** -23;

/** The Threefry key of a seed: integer in [0, 2^53) or bigint in [0, 2^64). */
export function seedKey(fn: string, name: string, seed: unknown): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`${fn}: ${name} must be in [0, 2^64), got ${seed}`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number') throw new TypeError(`${fn}: ${name} must be a number or a bigint, got ${show(seed)}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^53), got ${seed}`);
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

/** Standard normal of global element e on (key, stream), float64 Box–Muller (JS reference path). */
export function normalJs(k0: number, k1: number, stream: number, e: number): number {
  const [w0, w1] = threefry2x32(k0, k1, Math.floor(e / 2) >>> 0, stream >>> 0);
  const rho = Math.sqrt(-2 * Math.log(uniformOfWord(w0)));
  const theta = 2 * Math.PI * uniformOfWord(w1);
  return e % 2 === 0 ? rho * Math.cos(theta) : rho * Math.sin(theta);
}

/** Streams of docs/diffusion.md §8. */
export const STREAM = {
  xT: 0,
  step: (i: number) => i + 1,
  mask: (k: number) => (0x40000000 | k) >>> 0,
  mixtureComponent: 0x80000000,
  mixtureNormal: 0x80000001,
  estimator: (t: number) => (0xc0000000 | t) >>> 0,
} as const;

/** Standard normals of elements [first, first + n) on (key, stream) into `ptr` (f32). */
export function normalsInto(inst: WasmInstance, scope: Scope, key: [number, number], stream: number, first: number, n: number, ptr: number, scratch?: number): void {
  const s = scratch ?? scope.alloc(inst.kernels.rng_scratch_bytes(), 'rng scratch');
  inst.run('rng', (k) => k.rng_normal_f32(key[0], key[1], stream >>> 0, first >>> 0, n, ptr, s));
}

/** gc.randomWords and gc.randomNormal on `inst`. */
export function rngApi(inst: WasmInstance) {
  return {
    /**
     * Raw Threefry-2x32-20 words (docs/diffusion.md §8): pairs firstPair … firstPair + pairs − 1 of
     * `stream` under `seed`, as 2·pairs unsigned 32-bit values (w0, w1 interleaved).
     */
    randomWords(seed: number | bigint, stream: number, pairs: number, opts?: { firstPair?: number }): Uint32Array {
      const fn = 'randomWords';
      const key = seedKey(fn, 'seed', seed);
      checkInt(fn, 'stream', stream, 0, 2 ** 32 - 1);
      checkInt(fn, 'pairs', pairs, 0, 2 ** 28);
      const o = checkOptions(fn, opts);
      const firstPair = o.firstPair === undefined ? 0 : checkInt(fn, 'opts.firstPair', o.firstPair, 0, 2 ** 32 - 1);
      if (firstPair + pairs > 2 ** 32) throw new RangeError(`${fn}: firstPair + pairs exceeds 2^32 counters`);
      if (pairs === 0) return new Uint32Array(0);
      return inst.mem.scoped((scope) => {
        const p = scope.alloc(pairs * 8, 'words');
        inst.run(fn, (k) => k.rng_words(key[0], key[1], stream >>> 0, firstPair >>> 0, pairs, p));
        return scope.copyOut(Uint32Array, p, pairs * 2);
      });
    },

    /**
     * Standard normals of the counter-based generator (docs/diffusion.md §8): elements
     * first … first + n − 1 of `stream` under `seed`, f32 (the values gc.sample uses).
     */
    randomNormal(seed: number | bigint, stream: number, n: number, opts?: { first?: number; out?: Float32Array }): Float32Array {
      const fn = 'randomNormal';
      const key = seedKey(fn, 'seed', seed);
      checkInt(fn, 'stream', stream, 0, 2 ** 32 - 1);
      checkInt(fn, 'n', n);
      const o = checkOptions(fn, opts);
      const first = o.first === undefined ? 0 : checkInt(fn, 'opts.first', o.first, 0, 2 ** 32 - 1);
      if (first + n > 2 ** 32) throw new RangeError(`${fn}: first + n = ${first + n} exceeds 2^32 elements`);
      const out = o.out === undefined ? undefined : checkTyped(fn, 'opts.out', o.out, Float32Array, n, 'n');
      if (n === 0) return out ?? new Float32Array(0);
      return inst.mem.scoped((scope) => {
        scope.pin(out);
        const p = scope.resultPtr(out, n * 4, 'normals');
        normalsInto(inst, scope, key, stream, first, n, p);
        return scope.copyOut(Float32Array, p, n, out);
      });
    },
  };
}
