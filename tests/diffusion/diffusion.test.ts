/**
 * Diffusion module: fixtures (schedules, timestep plans, single steps, mixture ε*, RNG, energy
 * distance), the single-Gaussian exact law, determinism, the 8-Gaussian ring quality bands, UDM, bad input,
 * abort and memory. References are the fixtures and float64 formulas written here from docs/diffusion.md.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianMixture, init, noiseSchedule, samplerPlan, timesteps, type Gencore } from '../../bindings/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/diffusion.json', import.meta.url), 'utf8'));

const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, abs: number, relTol: number, what = '') {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= abs + relTol * Math.abs(want[i]))) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err} > ${abs} + ${relTol}·|want|)`);
    }
  }
}

let plain: Gencore;
let relaxed: Gencore | undefined;
const builds: Array<[string, () => Gencore]> = [
  ['plain', () => plain],
  ['relaxed', () => relaxed ?? plain],
];

beforeAll(async () => {
  plain = await init({ simd: 'plain' });
  try {
    relaxed = await init({ simd: 'relaxed' });
  } catch {
    relaxed = undefined;
  }
});

const linear = noiseSchedule({ kind: 'linear' });

// ---------------------------------------------------------------------------------------------------
/** Mean Euclidean distance between the points of p and q in float64 (pairs i = j skipped when same). */
function md(p: ArrayLike<number>, q: ArrayLike<number>, same: boolean, dim = 3): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < p.length / dim; i++)
    for (let j = 0; j < q.length / dim; j++) {
      if (same && i === j) continue;
      // hypot: no overflow or underflow of the squares for data near the float64 limits
      s += Math.hypot(...Array.from({ length: dim }, (_, c) => p[dim * i + c] - q[dim * j + c]));
      n++;
    }
  return s / n;
}

describe('noiseSchedule (fixtures)', () => {
  for (const s of fx.schedules) {
    it(`${s.kind}, T = ${s.steps}`, () => {
      const sch = noiseSchedule({ kind: s.kind, steps: s.steps });
      const tol = fx.tolerance.schedules;
      s.t.forEach((t: number, i: number) => {
        expect(rel(sch.betas[t], s.betas[i])).toBeLessThanOrEqual(tol.betas.rel);
        expect(rel(sch.alphas[t], s.alphas[i])).toBeLessThanOrEqual(tol.alphas.rel);
        expect(rel(sch.alphasCumprod[t], s.alphasCumprod[i])).toBeLessThanOrEqual(tol.alphasCumprod.rel);
      });
      const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
      expect(rel(sum(sch.betas), s.sums.betas)).toBeLessThanOrEqual(tol.sums.rel);
      expect(rel(sum(sch.alphasCumprod), s.sums.alphasCumprod)).toBeLessThanOrEqual(tol.sums.rel);
      // diffusers' float32 output agrees within the spec's stated differences.
      s.t.forEach((t: number, i: number) => {
        expect(Math.abs(sch.alphasCumprod[t] - s.diffusersFloat32.alphasCumprod[i])).toBeLessThanOrEqual(s.diffusersFloat32.maxAbsDiffAlphasCumprod * 1.01 + 1e-12);
      });
    });
  }

  it('linear ends exactly at betaEnd; T = 1 gives betaStart; scaled_linear defaults', () => {
    expect(linear.betas[999]).toBe(0.02);
    expect(linear.betas[0]).toBe(1e-4);
    expect(noiseSchedule({ kind: 'linear', steps: 1 }).betas[0]).toBe(1e-4);
    const sl = noiseSchedule({ kind: 'scaled_linear' });
    expect(sl.betas[0]).toBeCloseTo(0.00085, 15);
    expect(sl.betas[999]).toBeCloseTo(0.012, 15);
    // running product, left to right
    let p = 1;
    for (let t = 0; t < 1000; t++) p *= 1 - sl.betas[t];
    expect(sl.alphasCumprod[999]).toBe(p);
  });

  it('bad input', () => {
    expect(() => noiseSchedule({ kind: 'cosine', betaStart: 0.1 })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'linear', steps: 0 })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'linear', steps: 2.5 })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'linear', betaEnd: 1 })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'linear', betaStart: 0 })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'quadratic' as never })).toThrow(RangeError);
    expect(() => noiseSchedule({ kind: 'linear', steps: '10' as never })).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------------
describe('timesteps and previous timesteps (fixtures)', () => {
  for (const c of fx.timesteps) {
    it(`${c.timestepSpacing}, T = ${c.trainSteps}, n = ${c.steps}`, () => {
      const ts = timesteps(c.trainSteps, c.steps, c.timestepSpacing, c.stepsOffset);
      expect(Array.from(ts)).toEqual(c.timesteps);
      const base = { schedule: linear, steps: c.steps, timestepSpacing: c.timestepSpacing, stepsOffset: c.stepsOffset };
      expect(Array.from(samplerPlan({ ...base, sampler: 'ddim' }).prev)).toEqual(c.prevNext);
      expect(Array.from(samplerPlan({ ...base, sampler: 'ddim', prevTimestep: 'stride' }).prev)).toEqual(c.prevStride);
      if (c.diffusersDiffers) {
        // The reference list can be passed as a custom plan (when it is a valid strictly decreasing list).
        const ref = c.diffusersDiffers.timesteps.filter((t: number) => t >= 0);
        const plan = samplerPlan({ schedule: linear, steps: Int32Array.from(ref), sampler: 'ddim' });
        expect(Array.from(plan.timesteps)).toEqual(ref);
      }
    });
  }

  it('exact ties and ranges', () => {
    // trailing n = 48: T(n−i)/n has exact .5 ties broken to even
    expect(timesteps(1000, 48, 'trailing')[3]).toBe(937); // 1000·45/48 = 937.5 → 938 − 1
    expect(Array.from(timesteps(10, 1, 'linspace'))).toEqual([0]);
    expect(() => timesteps(1000, 1001)).toThrow(RangeError);
    expect(() => timesteps(1000, 0)).toThrow(RangeError);
    expect(() => timesteps(1000, 10, 'leading', 100)).toThrow(RangeError); // 900 + 100 > 999
    expect(() => timesteps(1000, 10, 'middle' as never)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------
describe('single steps (fixtures)', () => {
  const T = fx.tolerance;
  for (const c of fx.steps) {
    const sampler: 'ddpm' | 'ddim' = c.options.sampler;
    const opts = {
      schedule: noiseSchedule(c.schedule),
      t: c.t,
      prev: c.prev,
      variance: c.options.variance,
      eta: c.options.eta,
      clipSample: c.options.clipSample,
    };
    it(`${c.id}: coefficients and float64 step`, () => {
      const gc = plain;
      const stepFn = sampler === 'ddpm' ? gc.ddpmStep : gc.ddimStep;
      const r = stepFn(Float64Array.from(c.x), Float64Array.from(c.modelOutput), { ...opts, noise: Float64Array.from(c.noise) });
      for (const k of ['alphaBar', 'alphaBarPrev', 'a', 'b', 'P', 'Q', 'R', 'C'] as const) {
        expect(Math.abs(r.coefficients[k] - c.coefficients[k]), k).toBeLessThanOrEqual(T.f64 * Math.max(1, Math.abs(c.coefficients[k])));
      }
      expectClose(r.prevSample, c.expected.prevSample, T.f64, T.f64, 'prevSample');
      expectClose(r.predOriginalSample, c.expected.predOriginalSample, T.f64, T.f64, 'predOriginalSample');
      // The plan path gives the same coefficients when the plan reaches this step.
      const plan = samplerPlan({
        schedule: opts.schedule, steps: c.plan.steps, timestepSpacing: c.plan.timestepSpacing, sampler,
        variance: opts.variance, eta: opts.eta, prevTimestep: c.options.prevTimestep,
      });
      const i = Array.from(plan.timesteps).indexOf(c.t);
      expect(plan.prev[i]).toBe(c.prev);
      expect(Math.abs(plan.P[i] - c.coefficients.P)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(plan.C[i] - c.coefficients.C)).toBeLessThanOrEqual(1e-12);
    });
    for (const [name, gcOf] of builds) {
      it(`${c.id}: float32 kernel (${name})`, () => {
        const gc = gcOf();
        const stepFn = sampler === 'ddpm' ? gc.ddpmStep : gc.ddimStep;
        const r = stepFn(Float32Array.from(c.x), Float32Array.from(c.modelOutput), { ...opts, noise: Float32Array.from(c.noise) });
        expectClose(r.prevSample, c.expected.prevSample, T.f32.abs, T.f32.rel, 'prevSample');
        expectClose(r.predOriginalSample, c.expected.predOriginalSample, c.predOriginalSampleTolF32, 0, 'predOriginalSample');
        if (c.diffusersFloat32) expectClose(r.prevSample, c.diffusersFloat32.prevSample, 1e-6 + c.diffusersFloat32.maxAbsDiffFromExpected, 1e-6, 'vs diffusers');
      });
    }
  }

  it('out may be x itself; an out overlapping x, modelOutput or noise otherwise is refused (both types)', () => {
    const gc = plain;
    const c = fx.steps[0];
    const sampler: 'ddpm' | 'ddim' = c.options.sampler;
    const stepFn = sampler === 'ddpm' ? gc.ddpmStep : gc.ddimStep;
    const n = c.x.length;
    const opts = { schedule: noiseSchedule(c.schedule), t: c.t, prev: c.prev, variance: c.options.variance, eta: c.options.eta, clipSample: c.options.clipSample };
    for (const Arr of [Float64Array, Float32Array]) {
      const want = stepFn(Arr.from(c.x), Arr.from(c.modelOutput), { ...opts, noise: Arr.from(c.noise) }).prevSample;
      // out = x (the documented alias), also as a second view on the same bytes.
      const x = Arr.from(c.x);
      expect(stepFn(x, Arr.from(c.modelOutput), { ...opts, noise: Arr.from(c.noise), out: x }).prevSample).toBe(x);
      expect(Array.from(x)).toEqual(Array.from(want));
      const x2 = Arr.from(c.x);
      const view = new Arr(x2.buffer, 0, n);
      expect(Array.from(stepFn(x2, Arr.from(c.modelOutput), { ...opts, noise: Arr.from(c.noise), out: view }).prevSample)).toEqual(Array.from(want));
      // Shifted by one element against each input in turn: refused, inputs untouched.
      for (const which of ['x', 'modelOutput', 'noise'] as const) {
        const buf = new ArrayBuffer((n + 1) * Arr.BYTES_PER_ELEMENT);
        const shared = new Arr(buf, 0, n);
        shared.set(which === 'x' ? c.x : which === 'modelOutput' ? c.modelOutput : c.noise);
        const args = { x: Arr.from(c.x), modelOutput: Arr.from(c.modelOutput), noise: Arr.from(c.noise), [which]: shared };
        const before = Array.from(shared);
        const out = new Arr(buf, Arr.BYTES_PER_ELEMENT, n);
        const name = which === 'noise' ? 'opts\\.noise' : which;
        expect(() => stepFn(args.x, args.modelOutput, { ...opts, noise: args.noise, out })).toThrow(new RegExp(`opts\\.out must not overlap ${name}`));
        expect(Array.from(shared)).toEqual(before);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('random numbers (fixtures, §8)', () => {
  it('Threefry words, uniforms and normals', () => {
    const gc = plain;
    for (const w of fx.rng.words) {
      const seed = BigInt(w.seed);
      // Normals of elements 0..2·pairs−1 follow from the words by Box–Muller: check words via uniforms.
      const z = gc.randomNormal(seed, w.stream, w.pairs.length * 2);
      w.pairs.forEach((pair: string[], j: number) => {
        const u0 = ((parseInt(pair[0], 16) >>> 9) + 0.5) * 2 ** -23;
        const u1 = ((parseInt(pair[1], 16) >>> 9) + 0.5) * 2 ** -23;
        expect(u0).toBe(w.uniforms[j][0]);
        expect(u1).toBe(w.uniforms[j][1]);
        const rho = Math.sqrt(-2 * Math.log(u0));
        expect(Math.abs(z[2 * j] - rho * Math.cos(2 * Math.PI * u1))).toBeLessThanOrEqual(2e-6 * (1 + rho));
        expect(Math.abs(z[2 * j + 1] - rho * Math.sin(2 * Math.PI * u1))).toBeLessThanOrEqual(2e-6 * (1 + rho));
      });
    }
    for (const nm of fx.rng.normals) {
      const z = gc.randomNormal(BigInt(nm.seed), nm.stream, nm.values.length, { first: nm.firstElement });
      expectClose(z, nm.values, fx.rng.tolerance.normals.abs, fx.rng.tolerance.normals.rel, `normals seed ${nm.seed}`);
    }
  });

  it('Threefry known answers and words (wasm kernel and the JS twin via the masking step)', () => {
    for (const ka of fx.rng.knownAnswers) {
      const [k0, k1] = ka.key.map((h: string) => parseInt(h, 16));
      const [c0, c1] = ka.counter.map((h: string) => parseInt(h, 16));
      const seed = BigInt(k0) + (BigInt(k1) << 32n);
      const w = plain.randomWords(seed, c1, 1, { firstPair: c0 });
      expect(Array.from(w)).toEqual(ka.out.map((h: string) => parseInt(h, 16)));
    }
    for (const w of fx.rng.words) {
      const got = plain.randomWords(BigInt(w.seed), w.stream, w.pairs.length);
      expect(Array.from(got)).toEqual(w.pairs.flat().map((h: string) => parseInt(h, 16)));
    }
    // The JS twin (used by the masking sampler): the select uniform of position j at step k is u(w0)
    // of counter (r·len + j, 0x40000000 | k); with one row, perStep 1 and a deterministic token the
    // filled position is the argmin of those uniforms.
    const words = plain.randomWords(42, 0x40000000, 4);
    const u = [0, 1, 2, 3].map((j) => ((words[2 * j] >>> 9) + 0.5) * 2 ** -23);
    const argmin = u.indexOf(Math.min(...u));
    const probs = new Float32Array(4 * 3);
    for (let j = 0; j < 4; j++) probs[j * 3 + 1] = 1;
    const out = plain.udmMaskStep(new Int32Array(4).fill(2), probs, { n: 1, len: 4, vocab: 3, maskId: 2, seed: 42, step: 0 });
    expect(Array.from(out)).toEqual([0, 1, 2, 3].map((j) => (j === argmin ? 1 : 2)));
  });

  it('normals do not depend on where a call starts (SIMD blocks vs scalar heads and tails)', () => {
    const whole = plain.randomNormal(7, 3, 1001);
    for (const first of [1, 2, 3, 5, 8, 9, 15, 16, 17, 333]) {
      for (const n of [1, 2, 7, 8, 9, 31]) {
        const part = plain.randomNormal(7, 3, n, { first });
        expect(Array.from(part)).toEqual(Array.from(whole.subarray(first, first + n)));
      }
    }
    // both builds agree bit for bit (no fused ops in the generator)
    if (relaxed) expect(Array.from(relaxed.randomNormal(7, 3, 1001))).toEqual(Array.from(whole));
    // moments of 200 000 normals
    const z = plain.randomNormal(11, 0, 200000);
    let m = 0;
    let v = 0;
    for (const x of z) m += x;
    m /= z.length;
    for (const x of z) v += (x - m) ** 2;
    v /= z.length;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(z.length));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / z.length));
  });
});

// ---------------------------------------------------------------------------------------------------
describe('Gaussian mixture denoiser (fixtures, §9)', () => {
  const mf = fx.mixtureEps;
  const mix = gaussianMixture({ means: mf.mixture.means, stds: mf.mixture.stds, weights: mf.mixture.weights, schedule: noiseSchedule(mf.schedule) });
  for (const c of mf.cases) {
    it(`t = ${c.t}: float64 denoiser and posterior`, () => {
      const eps = mix.denoiser(Float64Array.from(c.x), c.t);
      expectClose(eps, c.eps, mf.tolerance.f64, mf.tolerance.f64, 'eps');
      const post = mix.posterior(c.x, c.t);
      expectClose(post.mean, c.posteriorMean, mf.tolerance.f64, mf.tolerance.f64, 'posteriorMean');
      expectClose(post.trCov, c.posteriorVarPerDim, mf.tolerance.f64, mf.tolerance.f64, 'posteriorVarPerDim');
    });
    for (const [name, gcOf] of builds) {
      it(`t = ${c.t}: wasm kernel (${name})`, () => {
        const gc = gcOf();
        const rows = c.x.length / 2;
        const x32 = Float32Array.from(c.x);
        const eps = gc.mixtureDenoise(mix, x32, c.t, [rows, 2]);
        // the inputs are rounded to f32 first: compare with the float64 formulas at the rounded x
        const ref = mix.posterior(Float64Array.from(x32), c.t);
        expectClose(eps, ref.eps, mf.tolerance.f32.abs, mf.tolerance.f32.rel, 'eps (f32 x)');
        expectClose(eps, c.eps, 1e-5, 1e-5, 'eps vs fixture');
        const post = gc.mixturePosterior(mix.params, x32, c.t, [rows, 2]);
        expectClose(post.mean, ref.mean, mf.tolerance.f32.abs, mf.tolerance.f32.rel, 'mean');
        expectClose(post.trCov, ref.trCov, 1e-12, 1e-9, 'trCov');
      });
    }
  }

  it('rows are independent of their batch neighbours (odd batch, any split)', () => {
    const x = plain.randomNormal(5, 9, 2 * 37);
    const whole = plain.mixtureDenoise(mix, x, 300, [37, 2]);
    for (const [r0, rows] of [[0, 1], [3, 5], [36, 1], [10, 27]]) {
      const part = plain.mixtureDenoise(mix, x.slice(r0 * 2, (r0 + rows) * 2), 300, [rows, 2]);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(r0 * 2, (r0 + rows) * 2)));
    }
  });

  it('sample() follows the spec: component by u(w0), normals of stream 0x80000001', () => {
    const two = gaussianMixture({ means: [-1, 1], stds: [0.5, 0.25], weights: [1, 3] });
    const s = two.sample(20000, 99);
    let left = 0;
    for (const v of s) if (v < 0) left++;
    expect(Math.abs(left / 20000 - 0.25)).toBeLessThan(0.015);
    // element r·d + c normal of stream 0x80000001 (d = 1): recover it from the sample
    const z = plain.randomNormal(99, 0x80000001, 10);
    for (let r = 0; r < 10; r++) {
      const fromLeft = (s[r] + 1) / 0.5;
      const fromRight = (s[r] - 1) / 0.25;
      expect(Math.min(Math.abs(fromLeft - z[r]), Math.abs(fromRight - z[r]))).toBeLessThan(1e-5 * (1 + Math.abs(z[r])));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('energy distance (fixtures, §10)', () => {
  for (const [i, c] of fx.energyDistance.cases.entries()) {
    it(`case ${i}`, () => {
      const got = plain.energyDistance(Float32Array.from(c.a), Float32Array.from(c.b), c.dim);
      expect(Math.abs(got - c.expected)).toBeLessThanOrEqual(fx.energyDistance.tolerance.abs + fx.energyDistance.tolerance.rel * Math.abs(c.expected));
      const want64 = 2 * md(c.a, c.b, false, c.dim) - md(c.a, c.a, true, c.dim) - md(c.b, c.b, true, c.dim);
      expect(Math.abs(plain.energyDistance(Float64Array.from(c.a), Float64Array.from(c.b), c.dim) - want64)).toBeLessThanOrEqual(1e-12 * md(c.a, c.b, false, c.dim));
    });
  }

  it('Float64Array inputs keep float64 accuracy (≤ 1e-12 relative; 40 against 25 points in 3-D)', () => {
    const a = Float64Array.from(plain.randomNormal(5, 1, 3 * 40), (v, i) => v * 0.1 + 1e-9 * i);
    const b = Float64Array.from(plain.randomNormal(5, 2, 3 * 25), (v, i) => v * 0.1 + 0.01 - 1e-9 * i);
    const ab = md(a, b, false);
    const want = 2 * ab - md(a, a, true) - md(b, b, true);
    for (const [, gcOf] of builds) {
      const gc = gcOf();
      // Measured as a share of the distances: the energy distance itself is a small difference of them.
      expect(Math.abs(gc.energyDistance(a, b, 3) - want)).toBeLessThanOrEqual(1e-12 * ab);
      expect(Math.abs(gc.energyDistance(a, b, 3, { withinB: md(b, b, true) }) - want)).toBeLessThanOrEqual(1e-12 * ab);
      expect(rel(gc.meanDistance(a, b, 3), ab)).toBeLessThanOrEqual(1e-12);
      expect(rel(gc.meanDistance(a, null, 3), md(a, a, true))).toBeLessThanOrEqual(1e-12);
      // One Float64Array is enough: the Float32Array side converts exactly.
      const b32 = Float32Array.from(b);
      expect(rel(gc.meanDistance(a, b32, 3), md(a, b32, false))).toBeLessThanOrEqual(1e-12);
    }
  });

  it('matches a float64 reference on random sets (SIMD body and tails)', () => {
    const a = plain.randomNormal(1, 1, 3 * 23);
    const b = plain.randomNormal(1, 2, 3 * 18);
    const want = 2 * md(a, b, false) - md(a, a, true) - md(b, b, true);
    expect(Math.abs(plain.energyDistance(a, b, 3) - want)).toBeLessThan(1e-6);
    expect(Math.abs(plain.meanDistance(b, null, 3) - md(b, b, true))).toBeLessThan(1e-6);
    expect(Math.abs(plain.energyDistance(a, b, 3, { withinB: md(b, b, true) }) - want)).toBeLessThan(1e-6);
    expect(() => plain.energyDistance(a.subarray(0, 3), b, 3)).toThrow(RangeError);
    expect(() => plain.energyDistance(a, b.subarray(0, 4), 3)).toThrow(RangeError);
  });

  it('huge and tiny finite inputs (beyond f32 squares, beyond f32 itself) give the scaled float64 answer', () => {
    const a = plain.randomNormal(2, 1, 3 * 9);
    const b = plain.randomNormal(2, 2, 3 * 7);
    const base = 2 * md(a, b, false) - md(a, a, true) - md(b, b, true);
    // Powers of two keep the f32 data exact, so the answers scale exactly; 1e30-ish as in the report.
    for (const e of [100, 1000, -100, -1000]) {
      const s = 2 ** e;
      const a64 = Float64Array.from(a, (v) => v * s);
      const b64 = Float64Array.from(b, (v) => v * s);
      const tol = 1e-12 * s * md(a, b, false);
      expect(Math.abs(plain.energyDistance(a64, b64, 3) - base * s), `2^${e}`).toBeLessThanOrEqual(tol);
      expect(Math.abs(plain.meanDistance(a64, b64, 3) - md(a64, b64, false)), `2^${e}`).toBeLessThanOrEqual(tol);
      expect(Math.abs(plain.meanDistance(b64, null, 3) - md(b64, b64, true)), `2^${e}`).toBeLessThanOrEqual(tol);
      expect(Math.abs(plain.energyDistance(a64, b64, 3, { withinB: md(b64, b64, true) }) - base * s), `2^${e}`).toBeLessThanOrEqual(tol);
      if (e === 100) {
        // The same values as Float32Array (representable there) go through the f32 kernel.
        expect(Math.abs(plain.energyDistance(Float32Array.from(a64), Float32Array.from(b64), 3) - base * s)).toBeLessThanOrEqual(1e-6 * s);
      }
    }
    // Near 1e30, not a power of two: against the float64 reference directly.
    const a30 = Float64Array.from(a, (v) => v * 1e30);
    const b30 = Float64Array.from(b, (v) => v * 1e30 + 3e29);
    const want = 2 * md(a30, b30, false) - md(a30, a30, true) - md(b30, b30, true);
    const got = plain.energyDistance(a30, b30, 3);
    expect(Number.isFinite(got)).toBe(true);
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * md(a30, b30, false));
    expect(Math.abs(plain.meanDistance(a30, b30, 3) / md(a30, b30, false) - 1)).toBeLessThan(1e-12);
  });
});

// ---------------------------------------------------------------------------------------------------
describe('single-Gaussian exact law (§9)', () => {
  const m = [0.3, -0.2];
  const s2 = 0.01;
  const acp = linear.alphasCumprod;
  const exactSigmaBar2 = acp.map((ab) => (s2 * (1 - ab)) / (ab * s2 + 1 - ab));
  /** Output law (μ per dim, V) of a plan applied to N(0, 1) at the start. */
  const law = (plan: ReturnType<typeof samplerPlan>) => {
    const mu = [0, 0];
    let V = 1;
    for (let i = 0; i < plan.timesteps.length; i++) {
      const a = plan.a[i];
      const b = plan.b[i];
      const v = a * a * s2 + b * b;
      const A = (plan.P[i] * a * s2) / v + plan.Q[i] + (plan.R[i] * b) / v;
      for (let c = 0; c < 2; c++) mu[c] = A * mu[c] + ((plan.P[i] * b * b - plan.R[i] * a * b) * m[c]) / v;
      V = A * A * V + plan.C[i] ** 2;
    }
    return { mu, V };
  };
  const kl = (mu: number[], V: number) =>
    mu.reduce((acc, x, c) => acc + 0.5 * (V / s2 + (x - m[c]) ** 2 / s2 - 1 - Math.log(V / s2)), 0);

  it('Analytic-DDPM with exact σ̄², finalStepNoise, trailing: KL ≈ 0 at every K', () => {
    for (const K of [1, 2, 5, 10, 20, 50, 100]) {
      const plan = samplerPlan({ schedule: linear, steps: K, sampler: 'analytic-ddpm', timestepSpacing: 'trailing', sigmaBar2: exactSigmaBar2, finalStepNoise: true, sigmaBar2Max: 1 });
      const { mu, V } = law(plan);
      expect(kl(mu, V), `K = ${K}`).toBeLessThan(1e-9);
    }
    const lead10 = law(samplerPlan({ schedule: linear, steps: 10, sampler: 'analytic-ddpm', sigmaBar2: exactSigmaBar2, finalStepNoise: true }));
    expect(kl(lead10.mu, lead10.V)).toBeLessThan(1e-9);
    const lead1 = law(samplerPlan({ schedule: linear, steps: 1, sampler: 'analytic-ddpm', sigmaBar2: exactSigmaBar2, finalStepNoise: true }));
    expect(kl(lead1.mu, lead1.V)).toBeGreaterThan(90); // starts at τ = 0: spec reports 99 nats
    expect(kl(lead1.mu, lead1.V)).toBeLessThan(110);
  });

  it('DDPM β̃ and DDIM at K = 10 (leading) shrink the std to 0.029 and 0.037', () => {
    const ddpm = law(samplerPlan({ schedule: linear, steps: 10, sampler: 'ddpm' }));
    const ddim = law(samplerPlan({ schedule: linear, steps: 10, sampler: 'ddim' }));
    expect(Math.sqrt(ddpm.V)).toBeCloseTo(0.029, 3);
    expect(Math.sqrt(ddim.V)).toBeCloseTo(0.037, 3);
  });

  it('sampled moments of gc.sample match the law (mixture with K = 1, both builds)', async () => {
    const g = gaussianMixture({ means: m, stds: [0.1] });
    // the mixture's own σ̄² estimate agrees with the closed form
    const sb = g.sigmaBar2({ timesteps: [0, 499, 999], samples: 2000 });
    for (const t of [0, 499, 999]) expect(rel(sb[t], exactSigmaBar2[t])).toBeLessThan(1e-9);
    const N = 20000;
    for (const [, gcOf] of builds) {
      for (const opts of [
        { sampler: 'analytic-ddpm' as const, timestepSpacing: 'trailing' as const, sigmaBar2: exactSigmaBar2, finalStepNoise: true },
        { sampler: 'ddpm' as const },
        { sampler: 'ddim' as const, eta: 0.5 },
      ]) {
        const plan = samplerPlan({ schedule: linear, steps: 10, ...opts });
        const { mu, V } = law(plan);
        const x = await gcOf().sample({ schedule: linear, steps: 10, shape: [N, 2], denoiser: g, seed: 2024, ...opts });
        for (let c = 0; c < 2; c++) {
          let mean = 0;
          for (let r = 0; r < N; r++) mean += x[2 * r + c] / N;
          let v = 0;
          for (let r = 0; r < N; r++) v += (x[2 * r + c] - mean) ** 2 / (N - 1);
          expect(Math.abs(mean - mu[c]), `${opts.sampler} mean`).toBeLessThan(5 * Math.sqrt(V / N));
          expect(Math.abs(v / V - 1), `${opts.sampler} var`).toBeLessThan(5 * Math.sqrt(2 / N));
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('gc.sample: determinism, callbacks, errors, abort, memory', () => {
  const mix = gaussianMixture({ means: [0.5, 0.5, -0.5, -0.5], stds: [0.2, 0.2] });
  const base = { sampler: 'ddpm' as const, schedule: linear, steps: 20, denoiser: mix.denoiser, seed: 77 };

  it('same seed → same bytes; a batch split by rowOffset gives the same rows; sync = async denoiser', async () => {
    for (const [, gcOf] of builds) {
      const gc = gcOf();
      const whole = await gc.sample({ ...base, shape: [101, 2] });
      expect(Array.from(await gc.sample({ ...base, shape: [101, 2] }))).toEqual(Array.from(whole));
      for (const [r0, rows] of [[0, 50], [50, 51], [37, 3], [100, 1]]) {
        const part = await gc.sample({ ...base, shape: [rows, 2], rowOffset: r0 });
        expect(Array.from(part)).toEqual(Array.from(whole.subarray(r0 * 2, (r0 + rows) * 2)));
      }
      // odd dim: element numbering crosses rows at odd offsets
      const odd = gaussianMixture({ means: [0, 0, 0], stds: [0.5] });
      const w3 = await gc.sample({ ...base, denoiser: odd, shape: [9, 3] });
      const p3 = await gc.sample({ ...base, denoiser: odd, shape: [4, 3], rowOffset: 5 });
      expect(Array.from(p3)).toEqual(Array.from(w3.subarray(15)));
      // a JS callback (row-wise, float64 inside) through an async wrapper
      const js = await gc.sample({ ...base, shape: [33, 2], denoiser: (x, t, s) => mix.denoiser(x, t, s) });
      const asyncJs = await gc.sample({ ...base, shape: [33, 2], denoiser: async (x, t, s) => mix.denoiser(x, t, s) });
      expect(Array.from(asyncJs)).toEqual(Array.from(js));
      // the JS f64 formulas and the wasm kernel agree closely
      const wasm = await gc.sample({ ...base, shape: [33, 2] });
      expectClose(js, wasm, 1e-4, 1e-4, 'js vs wasm mixture');
    }
  });

  it('the denoiser sees (x, τ_i, [batch, dim]) and step i uses z of stream i + 1 (reference loop)', async () => {
    const gc = plain;
    const calls: number[] = [];
    const eps = (x: Float32Array, t: number, shape: [number, number]) => {
      calls.push(t);
      expect(shape).toEqual([3, 4]);
      return x.map((v, i) => 0.3 * v + 0.01 * i);
    };
    const opts = { sampler: 'ddim' as const, eta: 0.7, schedule: linear, steps: 5, shape: [3, 4] as [number, number], seed: 5 };
    const got = await gc.sample({ ...opts, denoiser: eps });
    expect(calls).toEqual([800, 600, 400, 200, 0]);
    // reference: float64 formulas with the same normals
    const plan = samplerPlan(opts);
    let x = Float64Array.from(gc.randomNormal(5, 0, 12));
    for (let i = 0; i < 5; i++) {
      const m = Float32Array.from(x).map((v, j) => 0.3 * v + 0.01 * j);
      const z = gc.randomNormal(5, i + 1, 12);
      const a = plan.a[i];
      const b = plan.b[i];
      x = x.map((v, j) => plan.P[i] * ((v - b * m[j]) / a) + plan.R[i] * m[j] + plan.C[i] * z[j]);
    }
    expectClose(got, x, 1e-4, 1e-4, 'sample vs float64 loop');
  });

  it('final step, finalStepNoise, sigmaCap, useClippedEps and setAlphaToOne follow §4–5', () => {
    // trailing n = 10 ends at τ = 99 → −1: no noise unless finalStepNoise (then √(1 − ᾱ_99) for fixed_large)
    const base = { schedule: linear, steps: 10, timestepSpacing: 'trailing' as const, sampler: 'ddpm' as const, variance: 'fixed_large' as const };
    expect(samplerPlan(base).C[9]).toBe(0);
    expect(samplerPlan({ ...base, finalStepNoise: true }).C[9]).toBeCloseTo(Math.sqrt(1 - linear.alphasCumprod[99]), 12);
    expect(Math.sqrt(1 - linear.alphasCumprod[99])).toBeCloseTo(0.3209, 4);
    // setAlphaToOne: false reads ᾱ_0 on the final step
    const p0 = samplerPlan({ ...base, setAlphaToOne: false });
    expect(p0.alphaBarPrev[9]).toBe(linear.alphasCumprod[0]);
    // sigmaCap caps σ* on the last noisy steps only (the final step has none)
    const sb = new Float64Array(1000).fill(0.2);
    const an = { schedule: linear, steps: 10, sampler: 'analytic-ddpm' as const, sigmaBar2: sb };
    const free = samplerPlan(an);
    const capped = samplerPlan({ ...an, sigmaCap: { lastSteps: 2, value: 9.66e-5 } });
    expect(capped.C[9]).toBe(0);
    expect(capped.C[8]).toBeCloseTo(Math.min(free.C[8], Math.sqrt(9.66e-5)), 15);
    expect(capped.C[7]).toBeCloseTo(Math.min(free.C[7], Math.sqrt(9.66e-5)), 15);
    expect(capped.C[6]).toBe(free.C[6]);
    // analytic σ*² = C² + γ²σ̄² with γ = P − R·a/b (DDIM η = 0.4)
    const ddim = samplerPlan({ schedule: linear, steps: 10, sampler: 'ddim', eta: 0.4 });
    const adim = samplerPlan({ schedule: linear, steps: 10, sampler: 'analytic-ddim', eta: 0.4, sigmaBar2: sb });
    for (let i = 0; i < 9; i++) {
      const g = ddim.P[i] - (ddim.R[i] * ddim.a[i]) / ddim.b[i];
      const s2 = Math.min(0.2, (1 - ddim.alphaBar[i]) / ddim.alphaBar[i]);
      expect(adim.C[i] ** 2).toBeCloseTo(ddim.C[i] ** 2 + g * g * s2, 12);
    }
    // useClippedEps: ε̂ re-derived from the clipped x̂0
    const x = Float64Array.from([2.5, -0.4]);
    const mo = Float64Array.from([-0.3, 0.9]);
    const r = plain.ddimStep(x, mo, { schedule: linear, t: 300, prev: 200, clipSample: 1, useClippedEps: true });
    const { a, b, alphaBarPrev } = r.coefficients;
    for (let i = 0; i < 2; i++) {
      const x0c = Math.min(Math.max((x[i] - b * mo[i]) / a, -1), 1);
      const e = (x[i] - a * x0c) / b;
      expect(r.prevSample[i]).toBeCloseTo(Math.sqrt(alphaBarPrev) * x0c + Math.sqrt(1 - alphaBarPrev) * e, 12);
    }
  });

  it('prediction types and thresholding follow the formulas (float64 vs float32 single steps)', () => {
    const x = Float64Array.from([0.9, -1.7, 2.5, 0.1, -0.3, 3.0]);
    const mo = Float64Array.from([0.2, -0.4, 1.1, -0.6, 0.05, 0.7]);
    for (const prediction of ['epsilon', 'sample', 'v_prediction'] as const) {
      for (const extra of [{}, { thresholding: { ratio: 0.8, maxValue: 1.5 } }, { clipSample: 0.5 }]) {
        const opts = { schedule: linear, t: 600, prev: 400, prediction, eta: 0.3, shape: [2, 3] as [number, number], noise: Float64Array.from([0.1, 0.2, -0.3, 0.4, -0.5, 0.6]), ...extra };
        const r64 = plain.ddimStep(x, mo, opts);
        const r32 = plain.ddimStep(Float32Array.from(x), Float32Array.from(mo), { ...opts, noise: Float32Array.from(opts.noise) });
        expectClose(r32.prevSample, r64.prevSample, 2e-5, 2e-5, `${prediction} ${JSON.stringify(extra)}`);
        // independent x̂0 for the prediction type
        const { a, b } = r64.coefficients;
        const x0 = Array.from(x, (v, i) => (prediction === 'epsilon' ? (v - b * mo[i]) / a : prediction === 'sample' ? mo[i] : a * v - b * mo[i]));
        if (!('thresholding' in extra) && !('clipSample' in extra)) expectClose(r64.predOriginalSample, x0, 1e-12, 1e-12, 'x0');
        if ('thresholding' in extra) {
          for (let r = 0; r < 2; r++) {
            const v = x0.slice(3 * r, 3 * r + 3).map(Math.abs).sort((p, q) => p - q);
            const h = 0.8 * 2;
            const q = v[1] + (h - 1) * (v[2] - v[1]);
            const s = Math.min(Math.max(q, 1), 1.5);
            for (let c = 0; c < 3; c++) expect(r64.predOriginalSample[3 * r + c]).toBeCloseTo(Math.min(Math.max(x0[3 * r + c], -s), s) / s, 12);
          }
        }
      }
    }
  });

  it('bad input → clear errors before any work', async () => {
    const gc = plain;
    const ok = { ...base, shape: [4, 2] as [number, number] };
    await expect(gc.sample({ ...ok, steps: 1001 })).rejects.toThrow(/steps = 1001 exceeds the schedule length T = 1000/);
    await expect(gc.sample({ ...ok, sampler: 'ddim', eta: -0.1 })).rejects.toThrow(RangeError);
    await expect(gc.sample({ ...ok, denoiser: () => new Float32Array(7) })).rejects.toThrow(/returned 7 values at t = 950; expected batch\*dim = 8/);
    await expect(gc.sample({ ...ok, denoiser: () => new Float32Array(8).fill(NaN) })).rejects.toThrow(/returned NaN at index 0/);
    await expect(gc.sample({ ...ok, denoiser: () => [1, 2] as never })).rejects.toThrow(TypeError);
    await expect(gc.sample({ ...ok, shape: [4, 3] })).rejects.toThrow(/dim 2 but opts.shape\[1\] is 3/);
    await expect(gc.sample({ ...ok, xT: new Float32Array(6) })).rejects.toThrow(/xT.length 6 does not match batch\*dim = 8/);
    await expect(gc.sample({ ...ok, sampler: 'analytic-ddpm' })).rejects.toThrow(TypeError);
    await expect(gc.sample({ ...ok, seed: -1 })).rejects.toThrow(RangeError);
    await expect(gc.sample({ ...ok, denoiser: 3 as never })).rejects.toThrow(TypeError);
    await expect(gc.sample({ ...ok, sampler: 'ddpm', useClippedEps: true })).rejects.toThrow(RangeError);
    await expect(gc.sample({ ...ok, clipSample: 1, thresholding: true })).rejects.toThrow(RangeError);
    expect(() => gc.ddpmStep(new Float32Array(2), new Float32Array(2), { schedule: linear, t: 500, prev: 400 })).toThrow(/pass opts.noise or opts.seed/);
    expect(() => gc.ddpmStep(new Float32Array(2), new Float32Array(3), { schedule: linear, t: 500, seed: 1 })).toThrow(RangeError);
    expect(() => gc.ddimStep(new Float32Array(2), new Float32Array(2), { schedule: linear, t: 500, prev: 600 })).toThrow(RangeError);
    expect(() => gc.ddimStep(new Float32Array(2), new Float32Array(2), { schedule: linear, t: 500, eta: -1 })).toThrow(RangeError);
    expect(() => samplerPlan({ schedule: linear, steps: 10, sampler: 'analytic-ddim', sigmaBar2: new Float64Array(1000).fill(NaN) })).toThrow(/NaN/);
    expect(() => samplerPlan({ schedule: linear, steps: Int32Array.from([5, 7]), sampler: 'ddim' })).toThrow(/strictly decreasing/);
  });

  it('ddpmStep / ddimStep name a non-finite x, modelOutput or noise and its index; the heap and the out are untouched', () => {
    for (const [[, gcOf], Typed] of builds.flatMap((b) => [[b, Float32Array], [b, Float64Array]] as const)) {
      const gc = gcOf();
      const n = 1000;
      const make = () => {
        const v = new Typed(n);
        for (let i = 0; i < n; i++) v[i] = Math.sin(i);
        return v;
      };
      const out = new Typed(n).fill(7);
      const before = gc.memory.bytesInUse;
      for (const [name, at, value] of [['x', 999, NaN], ['modelOutput', 3, Infinity], ['opts.noise', 517, -Infinity]] as const) {
        const [x, m, noise] = [make(), make(), make()];
        ({ x, modelOutput: m, 'opts.noise': noise })[name][at] = value;
        const message = new RegExp(`^ddpmStep: ${name}\\[${at}\\] is ${value}; values must be finite$`);
        // prev = −1 adds no noise (C = 0): the noise given is checked all the same.
        for (const prev of [400, -1]) expect(() => gc.ddpmStep(x, m, { schedule: linear, t: 500, prev, noise, out })).toThrow(message);
        expect(() => gc.ddimStep(x, m, { schedule: linear, t: 500, prev: 400, eta: 1, noise, out })).toThrow(RangeError);
      }
      expect(gc.memory.bytesInUse).toBe(before);
      expect(out.every((v) => v === 7)).toBe(true);
    }
  });

  it('abort mid-loop stops within one step and frees memory; a throwing denoiser rejects and frees', async () => {
    for (const [, gcOf] of builds) {
      const gc = gcOf();
      const before = gc.memory.bytesInUse;
      const ctrl = new AbortController();
      let calls = 0;
      const p = gc.sample({
        ...base, shape: [64, 2], steps: 50, signal: ctrl.signal,
        denoiser: async (x, t, s) => {
          calls++;
          if (calls === 3) ctrl.abort();
          return mix.denoiser(x, t, s);
        },
      });
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      expect(calls).toBe(3);
      expect(gc.memory.bytesInUse).toBe(before);
      const progress: number[] = [];
      const q = gc.sample({ ...base, shape: [64, 2], steps: 50, denoiser: () => { throw new Error('model failed'); }, onProgress: (pr) => progress.push(pr.step) });
      await expect(q).rejects.toThrow('model failed');
      expect(gc.memory.bytesInUse).toBe(before);
      // progress and repeated runs leave memory at its baseline
      for (let i = 0; i < 3; i++) await gc.sample({ ...base, shape: [64, 2], steps: 5, onProgress: (pr) => progress.push(pr.step) });
      expect(progress).toEqual([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]);
      const aborted = new AbortController();
      aborted.abort();
      await expect(gc.sample({ ...base, shape: [4, 2], signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
      gc.energyDistance(new Float32Array(8), new Float32Array(8), 2);
      gc.ddpmStep(new Float32Array(4), new Float32Array(4), { schedule: linear, t: 10, seed: 1 });
      await gc.estimateAnalyticGamma(mix, mix.sample(100, 1), linear, { dim: 2, seed: 1, timesteps: [10, 500] });
      expect(gc.memory.bytesInUse).toBe(before);
    }
  });

  // Callbacks that never settle: without the race these calls would hang, so each outcome is raced
  // against a 3 s guard that names the hang.
  const never = <T,>() => new Promise<T>(() => {});
  const settle = (p: Promise<unknown>) =>
    Promise.race([p.then(() => 'resolved', (e: Error) => e.name), new Promise((r) => setTimeout(() => r('still pending after 3 s'), 3000))]);
  const hangingCalls = (gc: Gencore, o: { signal?: AbortSignal; timeoutMs?: number }) => {
    const data = mix.sample(20, 1);
    return {
      sample: () => gc.sample({ ...base, shape: [4, 2], denoiser: () => never<Float32Array>(), ...o }),
      'sample (onProgress)': () => gc.sample({ ...base, shape: [4, 2], onProgress: () => never<void>() as unknown as void, signal: o.signal }),
      estimateAnalyticGamma: () => gc.estimateAnalyticGamma(() => never<Float32Array>(), data, linear, { dim: 2, seed: 1, timesteps: [10, 500], ...o }),
      'sampleUDM deterministic (predictX0)': () =>
        gc.sampleUDM({ kind: 'deterministic', xT: new Float32Array(4), shape: [2, 2], timesteps: [3, 1], degrade: (x) => x, predictX0: () => never<Float32Array>(), ...o }),
      'sampleUDM deterministic (degrade)': () =>
        gc.sampleUDM({ kind: 'deterministic', xT: new Float32Array(4), shape: [2, 2], timesteps: [3, 1], degrade: () => never<Float32Array>(), predictX0: (x) => x, ...o }),
      'sampleUDM masking': () => gc.sampleUDM({ kind: 'masking', n: 1, len: 3, vocab: 3, maskId: 2, probs: () => never<Float32Array>(), seed: 1, ...o }),
    };
  };

  it('an abort while a callback never settles rejects with AbortError at once and frees memory', async () => {
    const gc = plain;
    const before = gc.memory.bytesInUse;
    for (const name of Object.keys(hangingCalls(gc, {}))) {
      const c = new AbortController();
      const calls = hangingCalls(gc, { signal: c.signal }) as Record<string, () => Promise<unknown>>;
      const p = calls[name]();
      setTimeout(() => c.abort(), 10);
      expect(await settle(p), name).toBe('AbortError');
      await expect(p, name).rejects.toThrow(/aborted/);
      expect(gc.memory.bytesInUse, name).toBe(before);
    }
  });

  it('opts.timeoutMs: a callback not settled in time rejects with TimeoutError and frees memory; bad values are refused', async () => {
    const gc = plain;
    const before = gc.memory.bytesInUse;
    for (const [name, run] of Object.entries(hangingCalls(gc, { timeoutMs: 20 }))) {
      if (name === 'sample (onProgress)') continue; // the limit is for the model callbacks
      const p = run();
      expect(await settle(p), name).toBe('TimeoutError');
      await expect(p, name).rejects.toThrow(/did not settle within 20 ms/);
      expect(gc.memory.bytesInUse, name).toBe(before);
    }
    // A callback that settles in time is unaffected: same bytes as without a limit, async or sync.
    const slow = async (x: Float32Array, t: number, s: [number, number]) => {
      await new Promise((r) => setTimeout(r, 1));
      return mix.denoiser(x, t, s);
    };
    const want = await gc.sample({ ...base, shape: [4, 2], steps: 5 });
    expect(Array.from(await gc.sample({ ...base, shape: [4, 2], steps: 5, denoiser: slow, timeoutMs: 10_000 }))).toEqual(Array.from(want));
    expect(Array.from(await gc.sample({ ...base, shape: [4, 2], steps: 5, timeoutMs: 10_000 }))).toEqual(Array.from(want));
    // Validation before any work: finite and > 0, the message names opts.timeoutMs.
    const data = mix.sample(20, 1);
    for (const bad of [0, -1, NaN, Infinity, -Infinity]) {
      await expect(gc.sample({ ...base, shape: [4, 2], timeoutMs: bad }), String(bad)).rejects.toThrow(/sample: opts\.timeoutMs/);
      await expect(gc.sample({ ...base, shape: [4, 2], timeoutMs: bad })).rejects.toBeInstanceOf(RangeError);
      await expect(gc.estimateAnalyticGamma(mix, data, linear, { dim: 2, seed: 1, timeoutMs: bad })).rejects.toThrow(/estimateAnalyticGamma: opts\.timeoutMs/);
      await expect(gc.sampleUDM({ kind: 'masking', n: 1, len: 3, vocab: 3, maskId: 2, probs: () => new Float32Array(9), seed: 1, timeoutMs: bad })).rejects.toBeInstanceOf(RangeError);
      await expect(gc.sampleUDM({ kind: 'deterministic', xT: new Float32Array(4), shape: [2, 2], timesteps: [1], degrade: (x) => x, predictX0: (x) => x, timeoutMs: bad })).rejects.toThrow(/sampleUDM: opts\.timeoutMs/);
    }
    await expect(gc.sample({ ...base, shape: [4, 2], timeoutMs: '5' as never })).rejects.toBeInstanceOf(TypeError);
    expect(gc.memory.bytesInUse).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------------
describe('8-Gaussian ring test bed (§11)', () => {
  const means: number[] = [];
  for (let k = 0; k < 8; k++) means.push(0.7 * Math.cos((2 * Math.PI * k) / 8), 0.7 * Math.sin((2 * Math.PI * k) / 8));
  const ring = gaussianMixture({ means, stds: new Array(8).fill(0.1) });
  const K = 10;
  const planSteps = Array.from(timesteps(1000, K));
  const band = (sd: number, plus: number) => 3 * Math.sqrt(sd ** 2 / 10 + sd ** 2 / 40 + 0.3 ** 2) + plus;

  it('estimateAnalyticGamma: auto picks the smaller standard error and agrees with the exact E tr Cov/d', async () => {
    const exact = ring.sigmaBar2({ timesteps: [9, 499, 999], samples: 20000, seed: 3 });
    const est = await plain.estimateAnalyticGamma(ring, ring.sample(20000, 7), linear, { dim: 2, timesteps: [9, 499, 999], seed: 1, sigmaBar2Max: 0.255 });
    expect(Array.from(est.estimator.subarray(0, 3))).toEqual([255, 255, 255]);
    expect(est.estimator[9]).toBe(0); // gamma: se ≈ 2e−6 vs su1 2e−4
    expect(est.estimator[499]).toBe(1); // su1
    expect(est.estimator[999]).toBe(1);
    expect(est.stdErr[9]).toBeLessThan(1e-5);
    expect(est.stdErr[999]).toBeLessThan(2e-3);
    for (const t of [9, 499, 999]) {
      expect(Math.abs(est.sigmaBar2[t] - exact[t]), `t = ${t}`).toBeLessThan(5 * est.stdErr[t] + 2e-4);
      expect(est.gamma[t]).toBeCloseTo(1 - (est.sigmaBar2[t] * linear.alphasCumprod[t]) / (1 - linear.alphasCumprod[t]), 12);
    }
    const g = await plain.estimateAnalyticGamma(ring, ring.sample(2000, 7), linear, { dim: 2, timesteps: [999], seed: 1, estimator: 'gamma', sigmaBar2Max: 0.255 });
    expect(g.estimator[999]).toBe(0);
    expect(g.stdErr[999]).toBeGreaterThan(50); // the Γ form multiplies the MC error by (1 − ᾱ)/ᾱ ≈ 2.5e4
  });

  it('energy distances at K = 10 are in the spec bands; analytic variance beats the plain samplers (paired)', async () => {
    const gc = plain;
    const ref = ring.sample(20000, 123456);
    const withinRef = gc.meanDistance(ref, null, 2);
    const sigmaBar2 = ring.sigmaBar2({ timesteps: planSteps, samples: 20000, seed: 5 });
    const rows = [
      { name: 'DDPM β̃', opts: { sampler: 'ddpm' as const }, target: 25.21, sd: 0.82 },
      { name: 'DDPM β', opts: { sampler: 'ddpm' as const, variance: 'fixed_large' as const }, target: 9.6, sd: 0.53 },
      { name: 'DDIM', opts: { sampler: 'ddim' as const }, target: 17.66, sd: 0.7 },
      { name: 'Analytic-DDPM', opts: { sampler: 'analytic-ddpm' as const, sigmaBar2, sigmaBar2Max: 0.255 }, target: 10.11, sd: 0.79 },
      { name: 'Analytic-DDIM', opts: { sampler: 'analytic-ddim' as const, sigmaBar2, sigmaBar2Max: 0.255 }, target: 9.29, sd: 0.76 },
    ];
    const ed: number[][] = rows.map(() => []);
    for (let seed = 0; seed < 10; seed++) {
      for (const [i, row] of rows.entries()) {
        const x = await gc.sample({ schedule: linear, steps: K, shape: [2000, 2], denoiser: ring, seed, ...row.opts });
        ed[i].push(1e3 * gc.energyDistance(x, ref, 2, { withinB: withinRef }));
      }
    }
    const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    for (const [i, row] of rows.entries()) {
      expect(Math.abs(mean(ed[i]) - row.target), `${row.name}: ${mean(ed[i]).toFixed(2)} vs ${row.target}`).toBeLessThan(band(row.sd, 0.05));
    }
    const diffA = mean(ed[3].map((v, s) => v - ed[0][s]));
    const diffB = mean(ed[4].map((v, s) => v - ed[2][s]));
    expect(Math.abs(diffA - -15.1), `Analytic-DDPM − DDPM β̃ = ${diffA}`).toBeLessThan(band(0.79, 0.02));
    expect(Math.abs(diffB - -8.38), `Analytic-DDIM − DDIM = ${diffB}`).toBeLessThan(band(0.81, 0.02));
    // the ordering itself, seed by seed
    for (let s = 0; s < 10; s++) {
      expect(ed[3][s]).toBeLessThan(ed[0][s]);
      expect(ed[4][s]).toBeLessThan(ed[2][s]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
describe('UDM (§6)', () => {
  it('deterministic degradation: improved and naive rules against a reference loop (async callbacks)', async () => {
    // F_t(x0): shrink each row toward its mean by λ_t = t/10 (a blur-like, mean-preserving operator).
    const shape: [number, number] = [3, 4];
    const F = (x0: ArrayLike<number>, t: number) => {
      const out = new Float32Array(x0.length);
      for (let r = 0; r < 3; r++) {
        let m = 0;
        for (let c = 0; c < 4; c++) m += x0[r * 4 + c] / 4;
        for (let c = 0; c < 4; c++) out[r * 4 + c] = (1 - t / 10) * x0[r * 4 + c] + (t / 10) * m;
      }
      return out;
    };
    // an imperfect predictor: invert F and add a bias
    const predict = (xt: ArrayLike<number>, t: number) => {
      const out = new Float32Array(xt.length);
      for (let r = 0; r < 3; r++) {
        let m = 0;
        for (let c = 0; c < 4; c++) m += xt[r * 4 + c] / 4;
        for (let c = 0; c < 4; c++) out[r * 4 + c] = (xt[r * 4 + c] - (t / 10) * m) / (1 - t / 10) + 0.01 * c;
      }
      return out;
    };
    const x0 = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const xT = F(x0, 8);
    const ts = [8, 6, 3, 1];
    for (const rule of ['improved', 'naive'] as const) {
      const got = (await plain.sampleUDM({ kind: 'deterministic', xT, shape, timesteps: ts, rule, degrade: async (x, t) => F(x, t), predictX0: (x, t) => predict(x, t) })) as Float32Array;
      let x = Float32Array.from(xT);
      for (let i = 0; i < ts.length; i++) {
        const s = i + 1 < ts.length ? ts[i + 1] : 0;
        const xh = predict(x, ts[i]);
        const Fs = s === 0 ? xh : F(xh, s);
        x = rule === 'naive' ? Fs : x.map((v, e) => v + Fs[e] - F(xh, ts[i])[e]);
      }
      expectClose(got, x, 1e-6, 1e-6, rule);
    }
    await expect(plain.sampleUDM({ kind: 'deterministic', xT, shape, timesteps: [3, 5], degrade: F, predictX0: predict })).rejects.toThrow(RangeError);
    await expect(plain.sampleUDM({ kind: 'deterministic', xT, shape, timesteps: [3, 0], degrade: F, predictX0: predict })).rejects.toThrow(RangeError);
    await expect(plain.sampleUDM({ kind: 'deterministic', xT, shape, timesteps: [3], degrade: F, predictX0: () => new Float32Array(5) })).rejects.toThrow(RangeError);
  });

  it('masking: improved is exact with a factorised predictor, baseline is biased (TV over 81 strings)', async () => {
    // p(x) ∝ exp(1.5·#{adjacent equal pairs}) over strings of length 4 on 3 symbols; maskId = 3.
    const len = 4;
    const vocab = 4;
    const maskId = 3;
    const strings: number[][] = [];
    const weight: number[] = [];
    for (let i = 0; i < 81; i++) {
      const s = [Math.floor(i / 27) % 3, Math.floor(i / 9) % 3, Math.floor(i / 3) % 3, i % 3];
      strings.push(s);
      let eq = 0;
      for (let j = 0; j + 1 < len; j++) if (s[j] === s[j + 1]) eq++;
      weight.push(Math.exp(1.5 * eq));
    }
    const Z = weight.reduce((a, b) => a + b, 0);
    const truth = weight.map((w) => w / Z);
    // exact per-position conditional marginals given the visible tokens (a factorised predictor)
    const probs = (tokens: Int32Array, shape: [number, number]) => {
      const [n] = shape;
      const out = new Float64Array(n * len * vocab);
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < 81; k++) {
          const s = strings[k];
          let ok = true;
          for (let j = 0; j < len; j++) if (tokens[r * len + j] !== maskId && tokens[r * len + j] !== s[j]) ok = false;
          if (!ok) continue;
          for (let j = 0; j < len; j++) out[(r * len + j) * vocab + s[j]] += truth[k];
        }
      }
      return out;
    };
    const n = 20000;
    const tv = (tokens: Int32Array) => {
      const counts = new Float64Array(81);
      for (let r = 0; r < n; r++) counts[tokens[r * 4] * 27 + tokens[r * 4 + 1] * 9 + tokens[r * 4 + 2] * 3 + tokens[r * 4 + 3]]++;
      let d = 0;
      for (let k = 0; k < 81; k++) d += Math.abs(counts[k] / n - truth[k]);
      return d / 2;
    };
    let steps = 0;
    const improved = (await plain.sampleUDM({ kind: 'masking', n, len, vocab, maskId, probs, seed: 1, onProgress: () => steps++ })) as Int32Array;
    const baseline = (await plain.sampleUDM({ kind: 'masking', n, len, vocab, maskId, probs, seed: 1, rule: 'baseline' })) as Int32Array;
    expect(steps).toBe(4);
    expect(improved.every((t) => t >= 0 && t < 3)).toBe(true);
    const tvI = tv(improved);
    const tvB = tv(baseline);
    // i.i.d. sampling noise of TV at n = 20 000 over 81 cells is ≈ 0.02
    expect(tvI).toBeLessThan(0.035);
    expect(tvB).toBeGreaterThan(tvI + 0.03);
    // perStep 2 halves the number of steps
    let steps2 = 0;
    await plain.sampleUDM({ kind: 'masking', n: 10, len, vocab, maskId, probs, seed: 1, perStep: 2, onProgress: () => steps2++ });
    expect(steps2).toBe(2);
  });

  it('udmMaskStep with explicit uniforms: improved and baseline by hand', () => {
    // one row, len 4, vocab 3 (maskId 2): positions 0 and 2 masked, perStep 1
    const tokens = Int32Array.from([2, 1, 2, 0]);
    const probs = Float64Array.from([0.5, 0.5, 9, /* j1 */ 1, 0, 0, /* j2 */ 0.2, 0.8, 9, /* j3 */ 1, 0, 0]);
    const uniforms = { select: [0.9, 0.1, 0.3, 0.2], token: [0.4, 0.5, 0.1, 0.5] };
    const opts = { n: 1, len: 4, vocab: 3, maskId: 2, uniforms };
    // improved: masked {0, 2}; smallest select u among them is position 2 (0.3); token v = 0.1 → c = [0.2, 1.0] → 0
    expect(Array.from(plain.udmMaskStep(tokens, probs, opts))).toEqual([2, 1, 0, 0]);
    // baseline: fill 0 (v 0.4·1 → c = [0.5, 1] → 0) and 2 (→ 0), then re-mask m − k' = 1 position with the
    // smallest u over all: position 1 (0.1)
    expect(Array.from(plain.udmMaskStep(tokens, probs, { ...opts, rule: 'baseline' }))).toEqual([0, 2, 0, 0]);
    expect(() => plain.udmMaskStep(tokens, probs.subarray(0, 11), opts)).toThrow(RangeError);
    expect(() => plain.udmMaskStep(tokens, probs, { n: 1, len: 4, vocab: 3, maskId: 2 })).toThrow(TypeError);
  });
});

describe('size parameters are bounded before anything is allocated, and errors name the caller’s parameter', () => {
  it('noiseSchedule steps: at most 2^24 (what timestep plans take), checked before allocating', () => {
    expect(() => noiseSchedule({ kind: 'linear', steps: 2 ** 31 - 1 })).toThrow(/^noiseSchedule: opts\.steps must be an integer in \[1, 16777216\], got 2147483647$/);
    expect(() => noiseSchedule({ kind: 'cosine', steps: 2 ** 24 + 1 })).toThrow(/^noiseSchedule: opts\.steps/);
    expect(noiseSchedule({ kind: 'linear', steps: 2 ** 24 }).alphasCumprod.length).toBe(2 ** 24);
  });

  it('a custom schedule longer than 2^24, a huge shape and a bad stepsOffset are refused naming sample’s own options', async () => {
    const long = { alphasCumprod: new Float64Array(2 ** 24 + 1).fill(0.5) };
    const opts = { sampler: 'ddim' as const, shape: [2, 2] as [number, number], seed: 1, denoiser: (x: Float32Array) => x };
    await expect(plain.sample({ ...opts, schedule: long, steps: 10 })).rejects.toThrow(/^sample: opts\.schedule\.alphasCumprod has 16777217 steps/);
    expect(() => samplerPlan({ schedule: long, steps: 10 })).toThrow(/^samplerPlan: opts\.schedule\.alphasCumprod/);
    await expect(plain.sample({ ...opts, schedule: linear, steps: 10, shape: [40_000, 40_000] })).rejects.toThrow(/^sample: opts\.shape batch\*dim = 1600000000 exceeds the limit of 2\^29 values$/);
    await expect(plain.sample({ ...opts, schedule: linear, steps: 10, stepsOffset: 995 })).rejects.toThrow(/^sample: the first timestep \d+ exceeds T − 1 = 999 \(opts\.stepsOffset 995\)$/);
    expect(() => timesteps(1000, 10, 'leading', 995)).toThrow(/^timesteps: .*\(stepsOffset 995\)$/);
    expect(plain.memory.bytesInUse).toBe(0);
  });

  it('arrays built from sizes alone: gaussianMixture sample / sigmaBar2 and sampleUDM masking tokens (≤ 2^29 values)', async () => {
    const mix = gaussianMixture({ means: [0, 0], stds: [1] });
    expect(() => mix.sample(2 ** 29, 1)).toThrow(/^gaussianMixture\.sample: n\*dim = 1073741824 exceeds the limit of 2\^29 values$/);
    expect(() => mix.sigmaBar2({ samples: 2 ** 29 })).toThrow(/^gaussianMixture\.sigmaBar2: opts\.samples\*dim = 1073741824 exceeds/);
    let calls = 0;
    const udm = plain.sampleUDM({ kind: 'masking', n: 2 ** 15, len: 24_576, vocab: 2, maskId: 0, seed: 1, probs: () => (calls++, new Float32Array(0)) });
    await expect(udm).rejects.toThrow(/^sampleUDM: opts\.n\*opts\.len = 805306368 exceeds the limit of 2\^29 values$/);
    expect(calls).toBe(0);
  });
});
