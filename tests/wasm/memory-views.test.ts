/**
 * Arrays that live in `gc.memory` (views on the instance's WebAssembly.Memory, passed by pointer without a
 * copy) when the call itself grows that memory, which detaches every view on it, the caller's included.
 *
 * Each case places its arrays in `gc.memory` and then fills the memory up to its end, so the call's first
 * allocation must grow it. Checked per function family: (a) a NaN in a resident input is refused with a
 * RangeError naming the parameter; (b) results equal a float64 reference or the copy path (the same call
 * on ordinary arrays, which the other test files check against references); (c) a resident `out` holds
 * the result and the returned array views its bytes (the caller's `out` object itself is detached by the
 * grow); (d) bytes in use are back to their baseline after the call.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gaussianMixture, init, noiseSchedule, type Gencore, type TypedArray } from '../../bindings/index.js';
import { mulberry32, randomArray, refGemm } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

/** Blocks this file allocated in gc.memory; freed after every test, also a failed one. */
let blocks: number[] = [];
function alloc(bytes: number): number {
  const ptr = gc.memory.alloc(bytes);
  blocks.push(ptr);
  return ptr;
}
function releaseAll(): void {
  for (const p of blocks) gc.memory.free(p);
  blocks = [];
}
afterEach(releaseAll);

type Ctor<T extends TypedArray> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T };

interface Placed<T extends TypedArray[]> {
  /** Views on gc.memory holding copies of the sources (valid until the memory grows). */
  views: T;
  /** Byte address of each view. */
  ptrs: number[];
  /** bytesInUse with the views and the filler allocated: the baseline the call must return to. */
  baseline: number;
  /** Memory size before the call: the call grew the memory iff byteLength exceeds it afterwards. */
  sizeBefore: number;
  /** The bytes at view i now (a fresh view). */
  now(i: number): T[number];
  /** Free the blocks; the heap is then empty again. */
  release(): void;
}

/**
 * Copy `sources` into blocks of gc.memory, then allocate the rest of the memory, so that the next
 * allocation grows it. Needs an empty heap (bytesInUse 0: the allocator's top is then at its base).
 */
function placeThenFill<T extends TypedArray[]>(...sources: T): Placed<T> {
  const mem = gc.memory;
  expect(mem.bytesInUse, 'heap empty before placing').toBe(0);
  const ptrs = sources.map((s) => alloc(s.byteLength));
  const top = Math.max(...ptrs.map((p, i) => p + Math.ceil(Math.max(sources[i].byteLength, 1) / 16) * 16));
  if (mem.byteLength > top) alloc(mem.byteLength - top);
  const ctorOf = (i: number) => sources[i].constructor as Ctor<T[number]>;
  const views = sources.map((s, i) => {
    const v = new (ctorOf(i))(mem.buffer, ptrs[i], s.length);
    v.set(s as never);
    return v;
  }) as T;
  return {
    views,
    ptrs,
    baseline: mem.bytesInUse,
    sizeBefore: mem.byteLength,
    now: (i) => new (ctorOf(i))(gc.memory.buffer, ptrs[i], sources[i].length),
    release: () => {
      releaseAll();
      expect(mem.bytesInUse, 'heap empty after release').toBe(0);
    },
  };
}

/** The call grew the memory (so every view placed before it is detached) and left the heap at its baseline. */
function expectGrownAndBaseline(p: Placed<TypedArray[]>): void {
  expect(gc.memory.byteLength).toBeGreaterThan(p.sizeBefore);
  expect(p.views[0].length, 'the caller view is detached by the grow').toBe(0);
  expect(gc.memory.bytesInUse).toBe(p.baseline);
}

/** `got` is the array at `ptr` in gc.memory (a view on the current buffer) with these values. */
function expectViewAt(got: TypedArray, ptr: number, want: ArrayLike<number>): void {
  expect(got.buffer).toBe(gc.memory.buffer);
  expect(got.byteOffset).toBe(ptr);
  expect(Array.from(got)).toEqual(Array.from(want));
}

const rnd = mulberry32(2024);
const f32 = (n: number) => randomArray(Float32Array, n, rnd);
const f64 = (n: number) => randomArray(Float64Array, n, rnd);

describe('matmul / pinv / solve with arrays in gc.memory while the call grows it', () => {
  const [m, k, n] = [9, 13, 7];

  it('(a) a NaN in a resident a or b is refused naming the parameter; nothing stays allocated', () => {
    for (const name of ['a', 'b'] as const) {
      const a = f32(m * k);
      const b = f32(k * n);
      (name === 'a' ? a : b)[5] = NaN;
      const p = placeThenFill(name === 'a' ? a : b);
      const args = name === 'a' ? [p.views[0], b] : [a, p.views[0]];
      expect(() => gc.matmul(args[0], args[1], m, k, n)).toThrow(new RangeError(`matmul: ${name}[5] is NaN; values must be finite`));
      expectGrownAndBaseline(p);
      p.release();
    }
  });

  it('(a) a NaN in a resident out read with beta ≠ 0 is refused naming opts.out', () => {
    const c0 = f32(m * n);
    c0[3] = Infinity;
    const p = placeThenFill(c0);
    expect(() => gc.matmul(f32(m * k), f32(k * n), m, k, n, { out: p.views[0], beta: 1 })).toThrow(
      new RangeError('matmul: opts.out[3] is Infinity; values must be finite'),
    );
    expectGrownAndBaseline(p);
    p.release();
  });

  it('(b, c) resident a and out, external b: the float64 reference, written at out', () => {
    const a = f64(m * k);
    const b = f64(k * n);
    const c0 = f64(m * n);
    const p = placeThenFill(a, c0);
    const got = gc.matmul(p.views[0], b, m, k, n, { out: p.views[1], alpha: 0.5, beta: 2 });
    expectGrownAndBaseline(p);
    const want = refGemm(a, b, c0, m, k, n, { alpha: 0.5, beta: 2 });
    expect(got.byteOffset).toBe(p.ptrs[1]);
    for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-13);
    expectViewAt(got, p.ptrs[1], p.now(1));
    p.release();
  });

  it('(c) without a grow, the returned array is the caller\'s out itself', () => {
    const mem = gc.memory;
    mem.free(mem.alloc(4 << 20)); // room for the call's copies and scratch: it does not grow the memory
    const ptr = alloc(m * n * 4);
    const out = mem.f32(ptr, m * n);
    const size = mem.byteLength;
    const a = f32(m * k);
    const b = f32(k * n);
    expect(gc.matmul(a, b, m, k, n, { out })).toBe(out);
    expect(mem.byteLength).toBe(size);
    expect(Array.from(out)).toEqual(Array.from(gc.matmul(a, b, m, k, n)));
  });

  it('(b, c) pinv: resident a and out equal the copy path', () => {
    const a = f32(6 * 4);
    const want = gc.pinv(a.slice(), 6, 4);
    const p = placeThenFill(a, new Float32Array(24));
    const got = gc.pinv(p.views[0], 6, 4, { out: p.views[1] });
    expectGrownAndBaseline(p);
    expectViewAt(got, p.ptrs[1], want);
    p.release();
  });

  it('(b) solve: resident a and b (b is read after the LU block is allocated) equal the copy path', () => {
    const nn = 12;
    const a = f64(nn * nn);
    for (let i = 0; i < nn; i++) a[i * nn + i] += nn;
    const b = f64(nn * 3);
    const want = gc.solve(a.slice(), b.slice(), nn, 3);
    const p = placeThenFill(a, b);
    const got = gc.solve(p.views[0], p.views[1], nn, 3);
    expectGrownAndBaseline(p);
    expect(Array.from(got)).toEqual(Array.from(want));
    p.release();
  });
});

describe('attention with arrays in gc.memory while the call grows it', () => {
  const [n, d] = [20, 8];

  it('(a) a NaN in a resident q, k or v is refused naming it (exact and Nyström)', () => {
    for (const fn of ['attention', 'nystromAttention'] as const) {
      for (const name of ['q', 'k', 'v'] as const) {
        const qkv = { q: f32(n * d), k: f32(n * d), v: f32(n * d) };
        qkv[name][17] = NaN;
        const p = placeThenFill(qkv[name]);
        const args = { ...qkv, [name]: p.views[0] };
        const opts = fn === 'attention' ? { n, d } : { n, d, landmarks: 4 };
        expect(() => gc[fn](args.q, args.k, args.v, opts), `${fn} ${name}`).toThrow(
          new RangeError(`${fn}: ${name}[17] is NaN; values must be finite`),
        );
        expectGrownAndBaseline(p);
        p.release();
      }
    }
  });

  it('(b, c) exact attention: resident q, mask and out equal the copy path', () => {
    const [q, k, v] = [f32(2 * n * d), f32(2 * n * d), f32(2 * n * d)];
    const keyMask = Uint8Array.from({ length: n }, (_, j) => (j % 3 === 0 ? 0 : 1));
    const opts = { n, d, heads: 2, keyMask };
    const want = gc.attention(q.slice(), k.slice(), v.slice(), opts);
    const p = placeThenFill(q, keyMask, new Float32Array(2 * n * d));
    const got = gc.attention(p.views[0] as Float32Array, k, v, { ...opts, keyMask: p.views[1] as Uint8Array, out: p.views[2] as Float32Array });
    expectGrownAndBaseline(p);
    expectViewAt(got, p.ptrs[2], want);
    p.release();
  });

  it('(b, c) Nyström attention: resident q, k, v, convKernel and out equal the copy path', () => {
    const [q, k, v] = [f32(n * d), f32(n * d), f32(n * d)];
    const convKernel = f32(3);
    const opts = { n, d, landmarks: 4, convKernel };
    const want = gc.nystromAttention(q.slice(), k.slice(), v.slice(), opts);
    const p = placeThenFill(q, k, v, convKernel, new Float32Array(n * d));
    const [rq, rk, rv, rc, out] = p.views;
    const got = gc.nystromAttention(rq, rk, rv, { ...opts, convKernel: rc, out });
    expectGrownAndBaseline(p);
    expectViewAt(got, p.ptrs[4], want);
    p.release();
  });
});

describe('entropy functions and filters with arrays in gc.memory while the call grows it', () => {
  const [rows, cols] = [5, 33];

  it('(b) entropy and temperatureForEntropy: resident rows equal the copy path', () => {
    const x = f64(rows * cols);
    const wantH = gc.entropy(x.slice(), rows, cols, { fromLogits: true });
    const wantT = gc.temperatureForEntropy(x.slice(), rows, cols, 1.5);
    let p = placeThenFill(x);
    expect(Array.from(gc.entropy(p.views[0], rows, cols, { fromLogits: true }))).toEqual(Array.from(wantH));
    expectGrownAndBaseline(p);
    p.release();
    p = placeThenFill(x);
    expect(gc.temperatureForEntropy(p.views[0], rows, cols, 1.5)).toEqual(wantT);
    expectGrownAndBaseline(p);
    p.release();
  });

  it('(b, c) entropyNormalize: a resident x and out (also out = x, in place) give the copy path\'s rows at out', () => {
    const x = Float32Array.from(f32(rows * cols), (v) => Math.abs(v));
    const want = gc.entropyNormalize(x.slice(), rows, cols, 2, { out: new Float32Array(rows * cols) });
    const p = placeThenFill(x, new Float32Array(rows * cols));
    let got = gc.entropyNormalize(p.views[0], rows, cols, 2, { out: p.views[1] });
    expectGrownAndBaseline(p);
    expectViewAt(got.out, p.ptrs[1], want.out);
    expect({ ...got, out: undefined }).toEqual({ ...want, out: undefined });
    p.release();
    const inPlace = placeThenFill(x);
    got = gc.entropyNormalize(inPlace.views[0], rows, cols, 2, { out: inPlace.views[0] });
    expectGrownAndBaseline(inPlace);
    expectViewAt(got.out, inPlace.ptrs[0], want.out);
    inPlace.release();
  });

  it('(b, c) topKFilter and nucleusFilter (no wasm memory used): resident logits and out equal the copy path', () => {
    const logits = f32(rows * cols);
    const wantK = gc.topKFilter(logits.slice(), rows, cols, 4);
    const wantP = gc.nucleusFilter(logits.slice(), rows, cols, 0.5);
    const p = placeThenFill(logits, new Float32Array(rows * cols));
    expect(gc.topKFilter(p.views[0], rows, cols, 4, { out: p.views[1] })).toBe(p.views[1]);
    expect(Array.from(p.views[1])).toEqual(Array.from(wantK));
    expect(Array.from(gc.nucleusFilter(p.views[0], rows, cols, 0.5))).toEqual(Array.from(wantP));
    expect(gc.memory.bytesInUse).toBe(p.baseline);
    p.release();
  });
});

describe('diffusion with arrays in gc.memory while the call grows it', () => {
  const schedule = noiseSchedule({ kind: 'linear' });
  const mix = gaussianMixture({ means: [0.5, 0.5, -0.5, -0.5], stds: [0.2, 0.2] });
  const n = 64;

  it('(b, c) ddpmStep / ddimStep, f32 kernel and f64 formulas: resident x and out equal the copy path', () => {
    for (const step of ['ddpmStep', 'ddimStep'] as const) {
      for (const make of [f32, f64]) {
        const x = make(n);
        const model = make(n);
        const opts = { schedule, t: 500, seed: 9, shape: [32, 2] as [number, number], ...(step === 'ddimStep' ? { eta: 1 } : {}) };
        const want = gc[step](x.slice(), model.slice(), opts);
        const p = placeThenFill(x, make(n));
        const got = gc[step](p.views[0], model, { ...opts, out: p.views[1] } as never);
        expectGrownAndBaseline(p);
        expectViewAt(got.prevSample, p.ptrs[1], want.prevSample);
        expect(Array.from(got.predOriginalSample)).toEqual(Array.from(want.predOriginalSample));
        p.release();
      }
    }
  });

  it('(b, c) sample: a resident xT and out equal the copy path; so do a denoiser that grows the memory itself', async () => {
    const xT = f32(n);
    const opts = { sampler: 'ddpm' as const, schedule, steps: 10, shape: [32, 2] as [number, number], seed: 4 };
    const want = await gc.sample({ ...opts, denoiser: mix, xT: xT.slice() });
    let p = placeThenFill(xT, new Float32Array(n));
    let got = await gc.sample({ ...opts, denoiser: mix, xT: p.views[0], out: p.views[1] });
    expectGrownAndBaseline(p);
    expectViewAt(got, p.ptrs[1], want);
    p.release();
    // Growth during the call from a callback: the denoiser computes through gc, on a batch larger than the memory.
    const big = new Float32Array(2 * Math.ceil(gc.memory.byteLength / 8));
    const growing = (x: Float32Array, t: number, shape: [number, number]) => {
      gc.mixtureDenoise(mix, big, t, [big.length / 2, 2]);
      return gc.mixtureDenoise(mix, x, t, shape);
    };
    const wantJs = await gc.sample({ ...opts, denoiser: (x, t, s) => gc.mixtureDenoise(mix, x, t, s), xT: xT.slice() });
    const mem = gc.memory;
    const ptrX = alloc(n * 4);
    const ptrOut = alloc(n * 4);
    mem.f32(ptrX, n).set(xT);
    const size = mem.byteLength;
    got = await gc.sample({ ...opts, denoiser: growing, xT: mem.f32(ptrX, n), out: mem.f32(ptrOut, n) });
    expect(mem.byteLength).toBeGreaterThan(size);
    expectViewAt(got, ptrOut, wantJs);
    expect(mem.bytesInUse).toBe(2 * n * 4);
  });

  it('(b) estimateAnalyticGamma: resident data equal the copy path', async () => {
    const data = mix.sample(50, 3);
    const opts = { dim: 2, seed: 1, timesteps: [10, 500] };
    const want = await gc.estimateAnalyticGamma(mix, data.slice(), schedule, opts);
    const p = placeThenFill(data);
    const got = await gc.estimateAnalyticGamma(mix, p.views[0], schedule, opts);
    expectGrownAndBaseline(p);
    expect(got).toEqual(want);
    p.release();
  });

  it('(b, c) mixtureDenoise, mixturePosterior, randomNormal: resident x and out equal the copy path', () => {
    const x = f32(n);
    const eps = gc.mixtureDenoise(mix, x.slice(), 300, [32, 2]);
    const post = gc.mixturePosterior(mix, x.slice(), 300, [32, 2]);
    const normals = gc.randomNormal(5, 2, n);
    for (const call of [
      () => {
        const p = placeThenFill(x, new Float32Array(n));
        expectViewAt(gc.mixtureDenoise(mix, p.views[0], 300, [32, 2], { out: p.views[1] }), p.ptrs[1], eps);
        return p;
      },
      () => {
        const p = placeThenFill(x);
        expect(gc.mixturePosterior(mix, p.views[0], 300, [32, 2])).toEqual(post);
        return p;
      },
      () => {
        const p = placeThenFill(new Float32Array(n));
        expectViewAt(gc.randomNormal(5, 2, n, { out: p.views[0] }), p.ptrs[0], normals);
        return p;
      },
    ]) {
      const p = call();
      expectGrownAndBaseline(p);
      p.release();
    }
  });

  it('(b) mixture params whose arrays live in gc.memory equal the copy path (mixtureDenoise, sample)', async () => {
    const x = f32(n);
    const { means, stds, weights, alphasCumprod, dim } = mix.params;
    const want = gc.mixtureDenoise(mix.params, x, 700, [32, 2]);
    const opts = { sampler: 'ddim' as const, schedule, steps: 5, shape: [32, 2] as [number, number], seed: 8 };
    const wantSample = await gc.sample({ ...opts, denoiser: mix.params });
    for (const call of ['mixtureDenoise', 'sample'] as const) {
      const p = placeThenFill(means, stds, weights, alphasCumprod);
      const [rm, rs, rw, ra] = p.views;
      const params = { kind: 'gaussianMixture' as const, means: rm, stds: rs, weights: rw, alphasCumprod: ra, dim };
      if (call === 'mixtureDenoise') expect(Array.from(gc.mixtureDenoise(params, x, 700, [32, 2]))).toEqual(Array.from(want));
      else expect(Array.from(await gc.sample({ ...opts, denoiser: params }))).toEqual(Array.from(wantSample));
      expectGrownAndBaseline(p);
      p.release();
    }
  });

  it('(b) sampleUDM: a degrade result in gc.memory, detached by the next callback growing the memory, is still used', async () => {
    const base = {
      kind: 'deterministic' as const, shape: [8, 4] as [number, number], timesteps: [9, 6, 3], rule: 'improved' as const,
      xT: f32(32), predictX0: (x: Float32Array) => x.map((v) => 0.5 * v),
    };
    const F = (x: Float32Array, t: number) => x.map((v, i) => v * (1 - t / 10) + 0.01 * i);
    const want = await gc.sampleUDM({ ...base, degrade: F });
    const mem = gc.memory;
    const degrade = (x: Float32Array, t: number) => {
      mem.free(mem.alloc(mem.byteLength)); // grows the memory: a view returned by the previous call is detached
      const view = mem.f32(alloc(x.byteLength), x.length);
      view.set(F(x, t));
      return view;
    };
    expect(Array.from(await gc.sampleUDM({ ...base, degrade }))).toEqual(Array.from(want));
  });

  it('(b) energyDistance and meanDistance: resident a and b equal the copy path', () => {
    const a = f32(40 * 3);
    const b = f32(25 * 3);
    const wantE = gc.energyDistance(a.slice(), b.slice(), 3);
    const wantM = gc.meanDistance(a.slice(), b.slice(), 3);
    const wantW = gc.meanDistance(a.slice(), null, 3);
    for (const [name, call, want] of [
      ['energyDistance', (x: Float32Array, y: Float32Array) => gc.energyDistance(x, y, 3), wantE],
      ['meanDistance', (x: Float32Array, y: Float32Array) => gc.meanDistance(x, y, 3), wantM],
      ['meanDistance within', (x: Float32Array) => gc.meanDistance(x, null, 3), wantW],
    ] as const) {
      // a resident, b resident: b is copied after a's scaled copy is allocated
      const p = placeThenFill(b, a);
      expect(call(p.views[1], p.views[0]), name).toBe(want);
      expectGrownAndBaseline(p);
      p.release();
    }
  });
});

describe('repetition and tries with arrays in gc.memory while the call grows it', () => {
  it('(b) terminationStats: a resident A equals the copy path (A is read after the solves allocate)', () => {
    const nn = 30;
    const rnd2 = mulberry32(5);
    const A = new Float64Array(nn * nn);
    for (let i = 0; i < nn; i++) {
      let s = 0;
      for (let j = 0; j < nn; j++) s += A[i * nn + j] = rnd2() < 0.3 ? rnd2() : 0;
      A[i * nn + (i + 1) % nn] += 0.1;
      s += 0.1;
      for (let j = 0; j < nn; j++) A[i * nn + j] /= s;
    }
    const want = gc.terminationStats(A.slice(), nn, 0);
    const wantR = gc.repetition(A.slice(), nn, { eosIndex: 0 });
    let p = placeThenFill(A);
    expect(gc.terminationStats(p.views[0], nn, 0)).toEqual(want);
    expectGrownAndBaseline(p);
    p.release();
    p = placeThenFill(A);
    expect(gc.repetition(p.views[0], nn, { eosIndex: 0 })).toEqual(wantR);
    expectGrownAndBaseline(p);
    p.release();
  });

  it('(b) loadTrie from serialized bytes in gc.memory and buildTrie from resident sequences', () => {
    const seqs = [Int32Array.from([3, 1, 4]), Int32Array.from([3, 1, 5, 9]), Int32Array.from([2, 6])];
    const built = gc.buildTrie(seqs.map((s) => s.slice()), { endToken: 0 });
    const bytes = new Uint8Array(built.serialize());
    built.dispose();
    const p = placeThenFill(bytes);
    const loaded = gc.loadTrie(p.views[0]);
    expect(gc.memory.byteLength).toBeGreaterThan(p.sizeBefore);
    expect(new Uint8Array(loaded.serialize())).toEqual(bytes);
    loaded.dispose();
    expect(gc.memory.bytesInUse).toBe(p.baseline);
    p.release();
    const sequences = placeThenFill(...seqs);
    const fromViews = gc.buildTrie(sequences.views, { endToken: 0 });
    expect(new Uint8Array(fromViews.serialize())).toEqual(bytes);
    fromViews.dispose();
    expect(gc.memory.bytesInUse).toBe(sequences.baseline);
    sequences.release();
  });
});

describe('a view detached before the call', () => {
  it('counts as empty, as for any detached array (tests/reliability): a length mismatch names the parameter', () => {
    const mem = gc.memory;
    const stale = mem.f32(alloc(16), 4);
    alloc(mem.byteLength); // grows the memory: `stale` is detached
    expect(stale.length).toBe(0);
    expect(() => gc.matmul(stale, new Float32Array(4), 2, 2, 2)).toThrow(new RangeError('matmul: a.length 0 does not match m*k = 4'));
    expect(gc.entropy(stale, 0, 4)).toEqual(new Float64Array(0));
  });
});
