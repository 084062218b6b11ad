/**
 * Dense networks: forward pass against a float64 JS network written here, backpropagated gradients
 * against central finite differences of that float64 network, one Adam step against the float64 update
 * formula, a tiny training run that lowers the loss, bad input and memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adamState, createPool, denseLayout, denseNetwork, init, type DenseNetwork, type Gencore } from '../../bindings/index.js';
import { mulberry32, randomArray } from '../helpers/reference.js';

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

/** The network in float64: z = a·W + b, SiLU between layers. */
function refForward(sizes: number[], params: ArrayLike<number>, x: ArrayLike<number>, rows: number): Float64Array {
  const { weights, biases } = denseLayout(sizes);
  let a = Float64Array.from(x);
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    const z = new Float64Array(rows * nOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nOut; j++) {
        let s = params[biases[l] + j];
        for (let i = 0; i < nIn; i++) s += a[r * nIn + i] * params[weights[l] + i * nOut + j];
        z[r * nOut + j] = l + 2 < sizes.length ? s / (1 + Math.exp(-s)) : s;
      }
    }
    a = z;
  }
  return a;
}

function refMse(sizes: number[], params: ArrayLike<number>, x: ArrayLike<number>, target: ArrayLike<number>, rows: number): number {
  const y = refForward(sizes, params, x, rows);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - target[i]) ** 2;
  return s / y.length;
}

function randomNet(sizes: number[], seed: number): DenseNetwork {
  // Random biases too (denseNetwork starts them at 0, which would hide a bias bug).
  const rnd = mulberry32(seed);
  return { sizes, params: randomArray(Float32Array, denseLayout(sizes).count, rnd) };
}

describe('denseForward', () => {
  it('matches the float64 network, with sizes that exercise the SIMD tails', () => {
    const sizes = [7, 13, 6, 3];
    const rows = 37;
    const net = randomNet(sizes, 1);
    const x = randomArray(Float32Array, rows * 7, mulberry32(2));
    const got = gc.denseForward(net, x, rows);
    const want = refForward(sizes, net.params, x, rows);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i])));
  });

  it('matches it on the cities model shape, and the pool gives the same bytes', async () => {
    const sizes = [34, 128, 128, 128, 128, 2];
    const net = denseNetwork({ sizes, seed: 3 });
    expect(net.params.length).toBe(54274);
    const rows = 50;
    const x = randomArray(Float32Array, rows * 34, mulberry32(4));
    const got = gc.denseForward(net, x, rows);
    const want = refForward(sizes, net.params, x, rows);
    let maxErr = 0;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    expect(maxErr).toBeLessThan(1e-4);
    const pool = await createPool({ workers: 1 });
    try {
      const fromPool = await pool.denseForward(net, x, rows);
      expect(Array.from(fromPool)).toEqual(Array.from(got));
    } finally {
      pool.terminate();
    }
  });

  it('SiLU stays finite and exact in its tails (|z| up to 100)', () => {
    const net: DenseNetwork = { sizes: [1, 5, 1], params: Float32Array.from([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0]) };
    for (const v of [-100, -30, -1e-3, 0, 1e-3, 30, 100]) {
      const y = gc.denseForward(net, Float32Array.of(v), 1)[0];
      const want = (5 * v) / (1 + Math.exp(-v));
      expect(Math.abs(y - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
    }
  });
});

describe('denseMseGradient', () => {
  it('equals central finite differences of the float64 loss for every parameter', () => {
    const sizes = [3, 5, 4, 2];
    const rows = 6;
    const net = randomNet(sizes, 5);
    const x = randomArray(Float32Array, rows * 3, mulberry32(6));
    const target = randomArray(Float32Array, rows * 2, mulberry32(7));
    const { loss, gradient } = gc.denseMseGradient(net, x, target, rows);
    expect(Math.abs(loss - refMse(sizes, net.params, x, target, rows))).toBeLessThan(1e-6);
    const p = Float64Array.from(net.params);
    const h = 1e-6;
    let scale = 0;
    const fd = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const keep = p[i];
      p[i] = keep + h;
      const up = refMse(sizes, p, x, target, rows);
      p[i] = keep - h;
      const down = refMse(sizes, p, x, target, rows);
      p[i] = keep;
      fd[i] = (up - down) / (2 * h);
      scale = Math.max(scale, Math.abs(fd[i]));
    }
    for (let i = 0; i < p.length; i++) {
      if (!(Math.abs(gradient[i] - fd[i]) <= 1e-4 * scale)) throw new Error(`gradient[${i}] = ${gradient[i]}, finite difference ${fd[i]}`);
    }
  });
});

describe('denseTrainStep', () => {
  it('one Adam step equals the float64 update from the reference gradient, leaving the inputs untouched', () => {
    const sizes = [4, 8, 3];
    const rows = 9;
    const net = randomNet(sizes, 8);
    const before = net.params.slice();
    const x = randomArray(Float32Array, rows * 4, mulberry32(9));
    const target = randomArray(Float32Array, rows * 3, mulberry32(10));
    let adam = adamState(net, { learningRate: 0.01 });
    const { gradient } = gc.denseMseGradient(net, x, target, rows);
    // Second step from non-zero moments: m, v given, step 1 done.
    adam = { ...adam, m: randomArray(Float32Array, before.length, mulberry32(11)).map((v) => 0.01 * v), v: randomArray(Float32Array, before.length, mulberry32(12)).map((v) => 1e-4 * Math.abs(v)), step: 1 };
    const res = gc.denseTrainStep(net, adam, x, target, rows);
    expect(Array.from(net.params)).toEqual(Array.from(before));
    expect(res.adam.step).toBe(2);
    for (let i = 0; i < before.length; i++) {
      const g = gradient[i];
      const m = 0.9 * adam.m[i] + 0.1 * g;
      const v = 0.999 * adam.v[i] + 0.001 * g * g;
      const want = before[i] - (0.01 * (m / (1 - 0.9 ** 2))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
      expect(Math.abs(res.net.params[i] - want)).toBeLessThan(2e-6 * (1 + Math.abs(want)));
      expect(Math.abs(res.adam.m[i] - m)).toBeLessThan(1e-7);
    }
  });

  it('a tiny training run lowers the loss on held-out data well below that of predicting 0', () => {
    // Regression of y = sin(3x₁)·cos(2x₂) on [−1, 1]²: Var(y) ≈ 0.18 is the loss of predicting 0.
    const sizes = [2, 32, 32, 1];
    const f = (a: number, b: number) => Math.sin(3 * a) * Math.cos(2 * b);
    const batch = (n: number, seed: number) => {
      const x = randomArray(Float32Array, 2 * n, mulberry32(seed));
      return { x, y: Float32Array.from({ length: n }, (_, r) => f(x[2 * r], x[2 * r + 1])) };
    };
    const test = batch(2000, 99);
    const zeroLoss = test.y.reduce((s, v) => s + v * v, 0) / test.y.length;
    let net = denseNetwork({ sizes, seed: 1 });
    let adam = adamState(net, { learningRate: 1e-2 });
    const lossOf = (n: DenseNetwork) => gc.denseMseGradient(n, test.x, test.y, 2000).loss;
    const initial = lossOf(net);
    for (let step = 0; step < 300; step++) {
      const b = batch(128, 1000 + step);
      ({ net, adam } = gc.denseTrainStep(net, adam, b.x, b.y, 128));
    }
    const trained = lossOf(net);
    expect(trained).toBeLessThan(0.1 * zeroLoss);
    expect(trained).toBeLessThan(0.1 * initial);
  });
});

describe('bad input and memory', () => {
  it('refuses malformed calls before any wasm call and leaves the heap at its baseline', () => {
    const net = randomNet([3, 4, 2], 1);
    const x = new Float32Array(6);
    const base = gc.memory.bytesInUse;
    expect(() => gc.denseForward(net, new Float32Array(5), 2)).toThrow(/denseForward: x.length 5 does not match rows·sizes\[0\] = 2·3 = 6/);
    expect(() => gc.denseForward(net, x, 0)).toThrow(RangeError);
    expect(() => gc.denseForward({ sizes: [3, 4, 2], params: new Float32Array(3) }, x, 2)).toThrow(/denseForward: net.params.length 3/);
    expect(() => gc.denseForward({ sizes: [3], params: new Float32Array(0) }, x, 2)).toThrow(TypeError);
    expect(() => gc.denseForward(net, Float64Array.from(x) as unknown as Float32Array, 2)).toThrow(TypeError);
    expect(() => gc.denseForward(net, Float32Array.of(0, 0, NaN, 0, 0, 0), 2)).toThrow(/denseForward: x\[2\] is NaN/);
    expect(() => gc.denseMseGradient(net, x, Float32Array.of(0, Infinity, 0, 0), 2)).toThrow(/denseMseGradient: target\[1\] is Infinity/);
    expect(() => gc.denseTrainStep(net, { ...adamState(net), m: new Float32Array(1) }, x, new Float32Array(4), 2)).toThrow(/denseTrainStep: adam.m.length 1/);
    expect(() => adamState(net, { beta1: 1 })).toThrow(/adamState: opts.beta1/);
    expect(() => denseNetwork({ sizes: [2, 0], seed: 1 })).toThrow(/denseNetwork: sizes\[1\]/);
    expect(gc.memory.bytesInUse).toBe(base);
    // A large finite input that overflows the output: RangeError, heap back, instance usable.
    const huge: DenseNetwork = { sizes: [1, 1], params: Float32Array.of(3e38, 0) };
    expect(() => gc.denseMseGradient(huge, Float32Array.of(10), Float32Array.of(0), 1)).toThrow(/denseMseGradient: the loss is Infinity/);
    expect(gc.memory.bytesInUse).toBe(base);
    gc.denseForward(net, x, 2);
    gc.denseTrainStep(net, adamState(net), x, new Float32Array(4), 2);
    expect(gc.memory.bytesInUse).toBe(base);
  });

  it('denseNetwork is deterministic for a seed, and different seeds differ', () => {
    const a = denseNetwork({ sizes: [5, 7, 2], seed: 42 });
    const b = denseNetwork({ sizes: [5, 7, 2], seed: 42 });
    const c = denseNetwork({ sizes: [5, 7, 2], seed: 43 });
    expect(Array.from(a.params)).toEqual(Array.from(b.params));
    expect(Array.from(a.params)).not.toEqual(Array.from(c.params));
    const limit = Math.sqrt(6 / 12);
    for (let i = 0; i < 35; i++) expect(Math.abs(a.params[i])).toBeLessThanOrEqual(limit);
  });
});
