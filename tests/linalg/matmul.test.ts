import { describe, expect, it, beforeAll } from 'vitest';
import { init, type Gencore } from '../../bindings/index.js';
import { mulberry32, randomArray, refGemm } from '../helpers/reference.js';

type Ctor = { new (init: number | ArrayLike<number>): Float32Array | Float64Array; readonly name: string };

/** |C − C_ref| ≤ 2·k·u·(|alpha|·|op(A)|·|op(B)| + |beta|·|C0|) elementwise (docs/linalg.md §2), with u per type. */
function expectWithinGemmBound(
  got: Float32Array | Float64Array,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c0: ArrayLike<number> | undefined,
  m: number,
  k: number,
  n: number,
  o: { transA: boolean; transB: boolean; alpha: number; beta: number },
) {
  const u = got instanceof Float32Array ? 2 ** -24 : 2 ** -53;
  const exact = refGemm(a, b, c0, m, k, n, o);
  const absA = Array.from(a, Math.abs);
  const absB = Array.from(b, Math.abs);
  const mag = refGemm(absA, absB, c0 ? Array.from(c0, Math.abs) : undefined, m, k, n, {
    ...o,
    alpha: Math.abs(o.alpha),
    beta: Math.abs(o.beta),
  });
  // The result is rounded to the output type once more: allow one more ulp of the exact value.
  for (let i = 0; i < m * n; i++) {
    const bound = 2 * Math.max(k, 1) * u * mag[i] + u * Math.abs(exact[i]) + 1e-300;
    if (!(Math.abs(got[i] - exact[i]) <= bound)) {
      throw new Error(`C[${i}] = ${got[i]}, exact ${exact[i]}, error ${Math.abs(got[i] - exact[i])} > bound ${bound}`);
    }
  }
}

const SHAPES: Array<[number, number, number]> = [
  [0, 5, 3],
  [4, 0, 3],
  [3, 5, 0],
  [1, 1, 1],
  [7, 13, 5],
  [2, 3, 17],
  [31, 1, 29],
  [130, 257, 129],
  [64, 64, 64],
];

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`matmul (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
      expect(gc.features.build).toBe(simd);
    });

    for (const ctor of [Float32Array, Float64Array] as Ctor[]) {
      for (const [m, k, n] of SHAPES) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            it(`${ctor.name} ${m}×${k}×${n} transA=${transA} transB=${transB}`, () => {
              const rnd = mulberry32(m * 1000003 + k * 1009 + n + (transA ? 7 : 0) + (transB ? 13 : 0));
              const a = randomArray(ctor, m * k, rnd);
              const b = randomArray(ctor, k * n, rnd);
              const c = gc.matmul(a, b, m, k, n, { transA, transB });
              expect(c).toBeInstanceOf(ctor);
              expect(c.length).toBe(m * n);
              expectWithinGemmBound(c, a, b, undefined, m, k, n, { transA, transB, alpha: 1, beta: 0 });
            });
          }
        }
      }

      it(`${ctor.name} alpha/beta update of out`, () => {
        const rnd = mulberry32(42);
        const [m, k, n] = [37, 41, 43];
        const a = randomArray(ctor, m * k, rnd);
        const b = randomArray(ctor, k * n, rnd);
        const c0 = randomArray(ctor, m * n, rnd);
        const out = c0.slice();
        const res = gc.matmul(a, b, m, k, n, { alpha: -0.75, beta: 2.5, out });
        expect(res).toBe(out);
        expectWithinGemmBound(res, a, b, c0, m, k, n, { transA: false, transB: false, alpha: -0.75, beta: 2.5 });
      });

      it(`${ctor.name} beta = 0 never reads out (NaN there does not propagate)`, () => {
        const rnd = mulberry32(7);
        const [m, k, n] = [9, 10, 11];
        const a = randomArray(ctor, m * k, rnd);
        const b = randomArray(ctor, k * n, rnd);
        const out = new ctor(m * n).fill(NaN);
        gc.matmul(a, b, m, k, n, { out });
        expect(out.every(Number.isFinite)).toBe(true);
        expectWithinGemmBound(out, a, b, undefined, m, k, n, { transA: false, transB: false, alpha: 1, beta: 0 });
      });

      it(`${ctor.name} k = 0 gives beta·C`, () => {
        const out = new ctor([1, 2, 3, 4, 5, 6]);
        gc.matmul(new ctor(0), new ctor(0), 2, 0, 3, { beta: 3, out });
        expect(Array.from(out)).toEqual([3, 6, 9, 12, 15, 18]);
        const zeroed = new ctor(6).fill(NaN);
        gc.matmul(new ctor(0), new ctor(0), 2, 0, 3, { out: zeroed });
        expect(Array.from(zeroed)).toEqual([0, 0, 0, 0, 0, 0]);
      });
    }

    it('does not modify its inputs', () => {
      const rnd = mulberry32(3);
      const a = randomArray(Float32Array, 20 * 30, rnd);
      const b = randomArray(Float32Array, 30 * 10, rnd);
      const a0 = a.slice();
      const b0 = b.slice();
      gc.matmul(a, b, 20, 30, 10);
      expect(a).toEqual(a0);
      expect(b).toEqual(b0);
    });

    it('computes in place on arrays that live in wasm memory (zero-copy path)', () => {
      const mem = gc.memory;
      const [m, k, n] = [12, 17, 9];
      const rnd = mulberry32(11);
      const aSrc = randomArray(Float32Array, m * k, rnd);
      const bSrc = randomArray(Float32Array, k * n, rnd);
      const pa = mem.alloc(aSrc.byteLength);
      const pb = mem.alloc(bSrc.byteLength);
      const pc = mem.alloc(m * n * 4);
      try {
        mem.f32(pa, m * k).set(aSrc);
        mem.f32(pb, k * n).set(bSrc);
        const used = mem.bytesInUse;
        const out = mem.f32(pc, m * n);
        const res = gc.matmul(mem.f32(pa, m * k), mem.f32(pb, k * n), m, k, n, { out });
        expect(res).toBe(out);
        // Only the GEMM scratch was allocated during the call, and it was freed.
        expect(mem.bytesInUse).toBe(used);
        expectWithinGemmBound(mem.f32(pc, m * n), aSrc, bSrc, undefined, m, k, n, { transA: false, transB: false, alpha: 1, beta: 0 });
      } finally {
        mem.free(pa);
        mem.free(pb);
        mem.free(pc);
      }
    });
  });
}

describe('matmul: bad input is refused before any wasm call', () => {
  let gc: Gencore;
  beforeAll(async () => {
    gc = await init();
  });
  const f32 = (n: number) => new Float32Array(n);

  it('wrong lengths', () => {
    expect(() => gc.matmul(f32(11), f32(12), 3, 4, 3)).toThrow(new RangeError('matmul: a.length 11 does not match m*k = 12'));
    expect(() => gc.matmul(f32(12), f32(11), 3, 4, 3)).toThrow(/matmul: b.length 11 does not match k\*n = 12/);
    expect(() => gc.matmul(f32(12), f32(12), 3, 4, 3, { out: f32(8) })).toThrow(/opts.out.length 8 does not match m\*n = 9/);
  });
  it('negative, fractional and non-finite dimensions', () => {
    expect(() => gc.matmul(f32(0), f32(0), -1, 0, 0)).toThrow(RangeError);
    expect(() => gc.matmul(f32(0), f32(0), 0, 1.5, 0)).toThrow(/k must be an integer ≥ 0, got 1.5/);
    expect(() => gc.matmul(f32(0), f32(0), 0, 0, Infinity)).toThrow(/n must be an integer ≥ 0, got Infinity/);
    expect(() => gc.matmul(f32(0), f32(0), NaN, 0, 0)).toThrow(/m must be an integer ≥ 0, got NaN/);
    expect(() => gc.matmul(f32(0), f32(0), '2' as unknown as number, 0, 0)).toThrow(TypeError);
  });
  it('mixed f32 / f64 and plain arrays', () => {
    expect(() => gc.matmul(f32(4), new Float64Array(4) as unknown as Float32Array, 2, 2, 2)).toThrow(TypeError);
    expect(() => gc.matmul(f32(4), f32(4), 2, 2, 2, { out: new Float64Array(4) as unknown as Float32Array })).toThrow(
      /opts.out is a Float64Array but a is a Float32Array/,
    );
    expect(() => gc.matmul([1, 2, 3, 4] as unknown as Float32Array, f32(4), 2, 2, 2)).toThrow(
      new TypeError('matmul: a must be a Float32Array or Float64Array, got an Array of length 4'),
    );
  });
  it('NaN alpha, beta without out, non-finite data, overlapping out', () => {
    expect(() => gc.matmul(f32(4), f32(4), 2, 2, 2, { alpha: NaN })).toThrow(/opts.alpha must be finite, got NaN/);
    expect(() => gc.matmul(f32(4), f32(4), 2, 2, 2, { beta: 1 })).toThrow(/opts.beta is 1 but no opts.out/);
    const a = f32(4);
    a[2] = NaN;
    expect(() => gc.matmul(a, f32(4), 2, 2, 2)).toThrow(/a\[2\] is NaN/);
    const buf = f32(8);
    expect(() => gc.matmul(buf.subarray(0, 4), f32(4), 2, 2, 2, { out: buf.subarray(2, 6) })).toThrow(/must not overlap a/);
    expect(() => gc.matmul(f32(4), f32(4), 2, 2, 2, { transA: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => gc.matmul(f32(4), f32(4), 2, 2, 2, 'x' as never)).toThrow(TypeError);
  });
  it('a failed call leaves the instance and the caller buffers usable', () => {
    const before = gc.memory.bytesInUse;
    const out = new Float32Array([9, 9, 9, 9]);
    expect(() => gc.matmul(f32(3), f32(4), 2, 2, 2, { out })).toThrow(RangeError);
    expect(Array.from(out)).toEqual([9, 9, 9, 9]);
    expect(gc.memory.bytesInUse).toBe(before);
    expect(Array.from(gc.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), 2, 2, 2))).toEqual([1, 2, 3, 4]);
  });
});

describe('matmul: memory', () => {
  it('10 000 calls of varying sizes return the heap to its baseline and stop growing', async () => {
    const gc = await init();
    const rnd = mulberry32(99);
    const baseline = gc.memory.bytesInUse;
    let sizeAfterWarmup = 0;
    for (let call = 0; call < 10_000; call++) {
      const m = 1 + Math.floor(rnd() * 40);
      const k = Math.floor(rnd() * 40);
      const n = 1 + Math.floor(rnd() * 40);
      const ctor = call % 3 === 0 ? Float64Array : Float32Array;
      const c = gc.matmul(new ctor(m * k).fill(1), new ctor(k * n).fill(1), m, k, n);
      if (c[0] !== k) throw new Error(`call ${call}: C[0] = ${c[0]}, expected ${k}`);
      if (call === 1000) sizeAfterWarmup = gc.memory.byteLength;
    }
    expect(gc.memory.bytesInUse).toBe(baseline);
    expect(gc.memory.byteLength).toBe(sizeAfterWarmup);
  });
});

describe('matmul: limits', () => {
  it('refuses a product that cannot fit in the 4 GiB wasm address space before allocating anything', async () => {
    const gc = await init();
    const before = { used: gc.memory.bytesInUse, size: gc.memory.byteLength };
    const n = 40_000; // C alone is 40 000² f32 = 6.4 GB
    const a = new Float32Array(n);
    expect(() => gc.matmul(a, a, n, 1, n)).toThrow(/matmul: needs \d+ bytes of wasm memory but only \d+ of the 4 GiB/);
    expect(gc.memory.bytesInUse).toBe(before.used);
    expect(gc.memory.byteLength).toBe(before.size);
    expect(Array.from(gc.matmul(new Float32Array([2]), new Float32Array([4]), 1, 1, 1))).toEqual([8]);
  });

  it('reports a refused memory.grow as a RangeError and stays usable', async () => {
    const gc = await init();
    const realGrow = WebAssembly.Memory.prototype.grow;
    const used = gc.memory.bytesInUse;
    WebAssembly.Memory.prototype.grow = function () {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    };
    try {
      const n = 2000; // 16 MB of operands: more than the memory holds before growing
      expect(() => gc.matmul(new Float32Array(n * n), new Float32Array(n * n), n, n, n)).toThrow(/could not grow wasm memory/);
    } finally {
      WebAssembly.Memory.prototype.grow = realGrow;
    }
    expect(gc.memory.bytesInUse).toBe(used);
    expect(Array.from(gc.matmul(new Float32Array([2]), new Float32Array([4]), 1, 1, 1))).toEqual([8]);
  });
});
