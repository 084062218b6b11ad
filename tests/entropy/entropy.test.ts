/**
 * Entropy module (docs/entropy.md): fixtures in both input forms and both dtypes, float64 JS references
 * written here (entropy, the plain 'su' iteration, filters by enumeration), properties on random rows,
 * status rules, argument errors, memory baseline. GENCORE_LONG=1 runs the full 10 000 random rows.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EntropyStatus, entropyInvariantScale, init, type Gencore } from '../../bindings/index.js';
import { mulberry32 } from '../helpers/reference.js';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/entropy.json', import.meta.url), 'utf8'), (_k, v) =>
  v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
);
const LONG = process.env.GENCORE_LONG === '1';

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

// ---------------------------------------------------------------------------------------------------
// float64 references

/** Entropy (nats) of a row of probabilities (normalised here; zeros outside the support). */
function refEntropyProbs(p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i];
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= (p[i] / s) * Math.log(p[i] / s);
  return h;
}

/** Shifted logits s = z − max (−∞ masked). */
function shifted(z: ArrayLike<number>): number[] {
  let mx = -Infinity;
  for (let i = 0; i < z.length; i++) mx = Math.max(mx, z[i]);
  return Array.from(z, (v) => v - mx);
}

/** H, Var_q(s) of q = softmax(β s), straight from the definitions. */
function refMoments(s: number[], beta: number): { h: number; v: number } {
  let Z = 0;
  for (const x of s) if (x !== -Infinity) Z += Math.exp(beta * x);
  let h = 0;
  let mu = 0;
  for (const x of s) {
    if (x === -Infinity) continue;
    const q = Math.exp(beta * x) / Z;
    if (q > 0) h -= q * Math.log(q);
    mu += q * x;
  }
  let v = 0;
  for (const x of s) if (x !== -Infinity) v += (Math.exp(beta * x) / Z) * (x - mu) ** 2;
  return { h, v };
}

/** The plain iteration of docs/entropy.md §3.4 (Newton on the cumulative exponent), float64, written independently. */
function refSu(s: number[], target: number, tol: number, maxIter: number, g0 = 1) {
  let beta = g0;
  let best = { err: Infinity, beta: NaN, h: NaN };
  const updates: number[] = [];
  for (let pass = 1; pass <= maxIter; pass++) {
    const { h, v } = refMoments(s, beta);
    if (Math.abs(h - target) < best.err) best = { err: Math.abs(h - target), beta, h };
    if (Math.abs(h - target) <= tol) return { status: 'Ok', beta, passes: pass, updates };
    const next = beta + (h - target) / (beta * v);
    updates.push(next);
    if (!(Number.isFinite(next) && next > 0)) return { status: 'MaxIter', beta: best.beta, passes: pass, updates };
    beta = next;
  }
  return { status: 'MaxIter', beta: best.beta, passes: maxIter, updates };
}

const statusName = (code: number) => Object.entries(EntropyStatus).find(([, c]) => c === code)?.[0];

/** Dirichlet(α) row by gamma variates (Marsaglia–Tsang; α < 1 boosted). */
function gammaVariate(alpha: number, rnd: () => number): number {
  if (alpha < 1) return gammaVariate(alpha + 1, rnd) * Math.pow(rnd(), 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rnd);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rnd();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
function normal(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** A random probability row: Dirichlet (α log-uniform in [0.01, 10]) or Zipf (exponent 0.5–2, shuffled). */
function randomRow(n: number, rnd: () => number, kind: 'dirichlet' | 'zipf'): Float64Array {
  const p = new Float64Array(n);
  if (kind === 'dirichlet') {
    const alpha = Math.exp(Math.log(0.01) + rnd() * Math.log(1000));
    for (let i = 0; i < n; i++) p[i] = gammaVariate(alpha, rnd);
  } else {
    const a = 0.5 + 1.5 * rnd();
    for (let i = 0; i < n; i++) p[i] = Math.pow(i + 1, -a);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
  }
  let s = 0;
  for (const v of p) s += v;
  if (!(s > 0)) p[0] = 1;
  else for (let i = 0; i < n; i++) p[i] /= s;
  return p;
}

function supportAndTies(p: ArrayLike<number>) {
  let mx = -Infinity;
  let m = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) { m++; mx = Math.max(mx, p[i]); }
  let k = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === mx) k++;
  return { m, k };
}

// ---------------------------------------------------------------------------------------------------

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`entropy module (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    describe('fixtures: normalize', () => {
      for (const c of fixtures.normalize) {
        for (const form of ['probs', 'logits'] as const) {
          const fromLogits = form === 'logits';
          const row: number[] = c[form];
          it(`${c.id} ${form} Float64Array (${c.note})`, () => {
            const x = new Float64Array(row);
            const t = 1e-6;
            const r = gc.entropyNormalize(x, 1, c.n, c.targetH, { fromLogits });
            expect(statusName(r.status[0])).toBe(c.status);
            expect(r.status[0]).toBe(c.statusCode);
            if (c.status === 'Ok') {
              expect(Math.abs(r.gamma[0] - c.gamma)).toBeLessThanOrEqual((2 * t) / Math.abs(c.dHdGamma) + 1e-12 * c.gamma);
              expect(Math.abs(refEntropyProbs(r.out) - c.targetH)).toBeLessThanOrEqual(t + 1e-12);
              expect(Math.abs(r.entropy[0] - c.targetH)).toBeLessThanOrEqual(t);
              expect(Math.abs(r.iterations[0] - c.passesRef)).toBeLessThanOrEqual(2);
            } else {
              expect(r.gamma[0]).toBe(c.gamma);
              expect(r.entropy[0]).toBeCloseTo(c.entropy, 14);
              for (let i = 0; i < c.n; i++) expect(Math.abs(r.out[i] - c.out[i])).toBeLessThanOrEqual(1e-15);
            }
            // Range check of the fixture: log m, log k.
            expect(Math.abs(Math.log(c.support) - c.range[1])).toBeLessThanOrEqual(1e-15 * Math.max(1, c.range[1]));
            // Tight tol: the output row matches elementwise.
            const tight = gc.entropyNormalize(x, 1, c.n, c.targetH, { fromLogits, tol: 1e-12 });
            if (c.status === 'Ok') {
              expect(statusName(tight.status[0])).toBe('Ok');
              for (let i = 0; i < c.n; i++) expect(Math.abs(tight.out[i] - c.out[i])).toBeLessThanOrEqual(1e-9);
            }
            // method 'su' at the defaults: the fixture's status and pass count (±2).
            const su = gc.entropyNormalize(x, 1, c.n, c.targetH, { fromLogits, method: 'su' });
            expect(statusName(su.status[0])).toBe(c.suRef.status);
            expect(Math.abs(su.iterations[0] - c.suRef.iterations)).toBeLessThanOrEqual(2);
            // The input's entropy.
            const h = gc.entropy(x, 1, c.n, { fromLogits });
            expect(Math.abs(h[0] - c.inputEntropy)).toBeLessThanOrEqual(1e-13 * Math.max(1, c.inputEntropy));
            // temperatureForEntropy on the logits: T = 1/γ.
            if (fromLogits) {
              const T = gc.temperatureForEntropy(x, 1, c.n, c.targetH);
              expect(T.status[0]).toBe(c.statusCode);
              const g = 1 / T.temperature[0];
              if (c.status === 'Ok') expect(Math.abs(g - c.gamma)).toBeLessThanOrEqual((2 * t) / Math.abs(c.dHdGamma) + 1e-12 * c.gamma);
              else expect(T.temperature[0]).toBe(c.temperature);
            }
          });

          it(`${c.id} ${form} Float32Array`, () => {
            const x = new Float32Array(row);
            const r = gc.entropyNormalize(x, 1, c.n, c.targetH, { fromLogits });
            expect(r.out).toBeInstanceOf(Float32Array);
            expect(statusName(r.status[0])).toBe(c.status);
            expect(Math.abs(refEntropyProbs(Array.from(r.out)) - c.targetH)).toBeLessThanOrEqual(5e-4);
            // γ reported is the f32 β actually used.
            expect(Math.fround(r.gamma[0])).toBe(r.gamma[0]);
            const h = gc.entropy(x, 1, c.n, { fromLogits });
            expect(Math.abs(h[0] - c.inputEntropy)).toBeLessThanOrEqual(1e-5);
          });
        }
      }
    });

    describe('fixtures: entropy, attention scale, filters', () => {
      for (const c of fixtures.entropy) {
        it(`${c.id}`, () => {
          const h64 = gc.entropy(new Float64Array(c.x), 1, c.x.length, { fromLogits: c.fromLogits });
          if (Number.isNaN(c.expected)) expect(h64[0]).toBeNaN();
          else expect(Math.abs(h64[0] - c.expected)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(c.expected)));
          const h32 = gc.entropy(new Float32Array(c.x), 1, c.x.length, { fromLogits: c.fromLogits });
          if (Number.isNaN(c.expected)) expect(h32[0]).toBeNaN();
          else expect(Math.abs(h32[0] - c.expected)).toBeLessThanOrEqual(1e-5);
        });
      }
      for (const c of fixtures.attentionScale) {
        it(`entropyInvariantScale(${c.n}, ${c.d}, ${c.trainLength})`, () => {
          const v = entropyInvariantScale(c.n, c.d, { trainLength: c.trainLength });
          if (c.exact) expect(v).toBe(c.expected);
          else expect(Math.abs(v - c.expected)).toBeLessThanOrEqual(1e-15 * c.expected);
        });
      }
      for (const c of fixtures.filters) {
        for (const ctor of [Float32Array, Float64Array] as FloatCtor[]) {
          it(`${c.id} ${ctor.name} (${c.note})`, () => {
            const z = new ctor(c.logits);
            const got = c.kind === 'topK' ? gc.topKFilter(z, c.rows, c.cols, c.k, c.options) : gc.nucleusFilter(z, c.rows, c.cols, c.p, c.options);
            expect(got).toBeInstanceOf(ctor);
            expect(Array.from(got)).toEqual(Array.from(new ctor(c.expected)));
            const kept = Array.from(got).flatMap((v, i) => (v === -Infinity ? [] : [i]));
            expect(kept).toEqual(c.kept.flat());
          });
        }
      }
    });

    describe('properties on random rows', () => {
      const rnd = mulberry32(simd === 'plain' ? 7 : 8);
      const sizes = [2, 3, 5, 17, 100, 1000, 4097];
      for (const ctor of [Float64Array, Float32Array] as FloatCtor[]) {
        it(`${ctor.name}: order kept, |H(out) − H*| ≤ tol, both forms give one γ, zeros stay zero`, () => {
          const f64 = ctor === Float64Array;
          const tol = f64 ? 1e-6 : 1e-4;
          for (const n of sizes) {
            for (const kind of ['dirichlet', 'zipf'] as const) {
              const p = randomRow(n, rnd, kind);
              if (n > 4) for (let i = 0; i < n; i += 5) p[i] = 0; // zeros outside the support
              const x = new ctor(p);
              const { m, k } = supportAndTies(x);
              if (m === k) continue;
              const target = Math.log(k) + (0.05 + 0.9 * rnd()) * (Math.log(m) - Math.log(k));
              const r = gc.entropyNormalize(x, 1, n, target);
              expect(statusName(r.status[0])).toBe('Ok');
              const hOut = refEntropyProbs(Array.from(r.out));
              expect(Math.abs(hOut - target)).toBeLessThanOrEqual(f64 ? tol + 1e-12 : 5e-4);
              for (let i = 0; i < n; i++) {
                if (x[i] === 0) expect(r.out[i]).toBe(0);
                // Order: p_i > p_j ⇒ out_i ≥ out_j; checked against the max and a neighbour.
                if (i > 0 && x[i] > x[i - 1]) expect(r.out[i]).toBeGreaterThanOrEqual(r.out[i - 1]);
                if (i > 0 && x[i] < x[i - 1]) expect(r.out[i]).toBeLessThanOrEqual(r.out[i - 1]);
              }
              // γ(p) = γ(softmax(log p)): the logit form of the same row.
              const logits = new ctor(Array.from(x, (v) => (v > 0 ? Math.log(v) : -Infinity)));
              const rl = gc.entropyNormalize(logits, 1, n, target, { fromLogits: true });
              expect(statusName(rl.status[0])).toBe('Ok');
              for (let i = 0; i < n; i++) if (logits[i] === -Infinity) expect(rl.out[i]).toBe(0);
              const s = shifted(Array.from(logits));
              const slope = Math.abs(refMoments(s, r.gamma[0]).v * r.gamma[0]);
              expect(Math.abs(rl.gamma[0] - r.gamma[0])).toBeLessThanOrEqual((2 * tol) / slope + (f64 ? 1e-9 : 1e-5) * r.gamma[0]);
            }
          }
        });
      }

      it('temperatureForEntropy agrees with entropyNormalize on logits and writes no rows', () => {
        const z = new Float64Array(300).map(() => 3 * normal(rnd));
        const target = 0.6 * Math.log(300);
        const a = gc.entropyNormalize(z, 1, 300, target, { fromLogits: true });
        const b = gc.temperatureForEntropy(z, 1, 300, target);
        expect(b.temperature[0]).toBe(1 / a.gamma[0]);
        expect(b.iterations[0]).toBe(a.iterations[0]);
        expect('out' in b).toBe(false);
      });

      it('per-row targets, −Infinity masks, out aliasing x, input untouched otherwise', () => {
        const rows = 5;
        const cols = 64;
        const z = new Float64Array(rows * cols).map(() => 2 * normal(rnd));
        for (let i = 0; i < z.length; i += 7) z[i] = -Infinity;
        const targets = new Float64Array([0.5, 1, 2, 3, 3.5]);
        const copy = z.slice();
        const r = gc.entropyNormalize(z, rows, cols, targets, { fromLogits: true, tol: 1e-9 });
        expect(Array.from(z)).toEqual(Array.from(copy));
        for (let i = 0; i < rows; i++) {
          expect(statusName(r.status[i])).toBe('Ok');
          expect(Math.abs(refEntropyProbs(r.out.subarray(i * cols, (i + 1) * cols)) - targets[i])).toBeLessThanOrEqual(1e-9 + 1e-12);
        }
        for (let i = 0; i < z.length; i += 7) expect(r.out[i]).toBe(0);
        const inPlace = gc.entropyNormalize(z, rows, cols, targets, { fromLogits: true, tol: 1e-9, out: z });
        expect(inPlace.out).toBe(z);
        expect(Array.from(z)).toEqual(Array.from(r.out));
      });

      it('warm start from the returned γ meets tol on the first pass; bad array entries read as 1', () => {
        const rows = 4;
        const cols = 2000;
        const z = new Float64Array(rows * cols).map(() => 2.5 * normal(rnd));
        const cold = gc.entropyNormalize(z, rows, cols, 4, { fromLogits: true });
        const warm = gc.entropyNormalize(z, rows, cols, 4, { fromLogits: true, initialGamma: cold.gamma });
        for (let i = 0; i < rows; i++) expect(warm.iterations[i]).toBe(1);
        const bad = new Float64Array([NaN, -1, 0, Infinity]);
        const fromBad = gc.entropyNormalize(z, rows, cols, 4, { fromLogits: true, initialGamma: bad });
        expect(Array.from(fromBad.iterations)).toEqual(Array.from(cold.iterations));
        const T = gc.temperatureForEntropy(z, rows, cols, 4, { initialTemperature: new Float64Array(Array.from(cold.gamma, (g) => 1 / g)) });
        for (let i = 0; i < rows; i++) expect(T.iterations[i]).toBe(1);
      });
    });

    describe('status rules', () => {
      it('ClampedHigh at H* = Math.log(m) exactly and above; ClampedLow at log k and below', () => {
        const p = new Float64Array([0.5, 0.3, 0.2, 0]);
        for (const target of [Math.log(3), 5]) {
          const r = gc.entropyNormalize(p, 1, 4, target);
          expect(r.status[0]).toBe(EntropyStatus.ClampedHigh);
          expect(r.gamma[0]).toBe(0);
          expect(r.entropy[0]).toBe(Math.log(3));
          expect(r.iterations[0]).toBe(0);
          expect(Array.from(r.out)).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
          expect(gc.temperatureForEntropy(new Float64Array([0, -1, -2, -Infinity]), 1, 4, target).temperature[0]).toBe(Infinity);
        }
        const tied = new Float32Array([0.4, 0.1, 0.4, 0.1]);
        for (const target of [Math.log(2), 0.1, -3]) {
          const r = gc.entropyNormalize(tied, 1, 4, target);
          expect(r.status[0]).toBe(EntropyStatus.ClampedLow);
          expect(r.gamma[0]).toBe(Infinity);
          expect(r.entropy[0]).toBe(Math.log(2));
          expect(Array.from(r.out)).toEqual([0.5, 0, 0.5, 0]);
        }
        expect(gc.temperatureForEntropy(new Float64Array([1, 0, 1]), 1, 3, 0).temperature[0]).toBe(0);
      });

      it('Degenerate: one-hot and constant rows, any target', () => {
        for (const target of [-1, 0, 0.5, 10]) {
          const oneHot = gc.entropyNormalize(new Float64Array([0, 0, 1, 0]), 1, 4, target);
          expect(oneHot.status[0]).toBe(EntropyStatus.Degenerate);
          expect(oneHot.gamma[0]).toBe(1);
          expect(oneHot.entropy[0]).toBe(0);
          expect(Array.from(oneHot.out)).toEqual([0, 0, 1, 0]);
          const flat = gc.entropyNormalize(new Float32Array([2, 2, -Infinity, 2]), 1, 4, target, { fromLogits: true });
          expect(flat.status[0]).toBe(EntropyStatus.Degenerate);
          expect(flat.entropy[0]).toBe(Math.log(3));
          expect(Array.from(flat.out)).toEqual([1 / 3, 1 / 3, 0, 1 / 3].map(Math.fround));
          expect(gc.temperatureForEntropy(new Float64Array([2, 2]), 1, 2, target).temperature[0]).toBe(1);
        }
      });

      it('Invalid rows are reported per row, never thrown', () => {
        const rows = [
          [0.5, NaN, 0.5],
          [0.5, Infinity, 0.5],
          [0.5, -0.1, 0.6],
          [0, 0, 0],
          [0.2, -0, 0.8], // −0 is outside the support, not negative: valid
        ];
        const x = new Float64Array(rows.flat());
        const r = gc.entropyNormalize(x, rows.length, 3, 0.5);
        expect(Array.from(r.status)).toEqual([5, 5, 5, 5, 0]);
        for (let i = 0; i < 4; i++) {
          expect(r.gamma[i]).toBeNaN();
          expect(r.entropy[i]).toBeNaN();
          expect(r.iterations[i]).toBe(0);
          for (let j = 0; j < 3; j++) expect(r.out[i * 3 + j]).toBeNaN();
        }
        const h = gc.entropy(x, rows.length, 3);
        expect(Array.from(h.subarray(0, 4)).every(Number.isNaN)).toBe(true);
        const logits = new Float32Array([1, NaN, Infinity, 0, -Infinity, -Infinity]);
        const rl = gc.entropyNormalize(logits, 3, 2, 0.3, { fromLogits: true });
        expect(Array.from(rl.status)).toEqual([5, 5, 5]);
        expect(gc.temperatureForEntropy(logits, 3, 2, 0.3).temperature.every(Number.isNaN)).toBe(true);
        // cols = 0: every row is invalid; rows = 0: empty results.
        expect(Array.from(gc.entropyNormalize(new Float64Array(0), 2, 0, 1).status)).toEqual([5, 5]);
        const empty = gc.entropyNormalize(new Float64Array(0), 0, 10, 1);
        expect(empty.out.length).toBe(0);
        expect(empty.status.length).toBe(0);
        expect(gc.entropy(new Float32Array(0), 0, 5).length).toBe(0);
      });

      it("MaxIter: maxIter passes used, best γ returned; a tol below the f32 noise floor never gives a false Ok", () => {
        const z = new Float64Array(500).map((_, i) => -i / 50);
        const r = gc.entropyNormalize(z, 1, 500, 4, { fromLogits: true, maxIter: 2, tol: 1e-12 });
        expect(r.status[0]).toBe(EntropyStatus.MaxIter);
        expect(r.iterations[0]).toBe(2);
        const s = shifted(Array.from(z));
        expect(Math.abs(refMoments(s, r.gamma[0]).h - r.entropy[0])).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(refEntropyProbs(r.out) - r.entropy[0])).toBeLessThanOrEqual(1e-12);
        const rnd = mulberry32(3);
        const z32 = new Float32Array(50000).map(() => 3 * normal(rnd));
        const r32 = gc.entropyNormalize(z32, 1, 50000, 6, { fromLogits: true, tol: 1e-13 });
        expect(r32.status[0]).toBe(EntropyStatus.MaxIter);
      });
    });

    describe("method 'su' (docs/entropy.md §3.4)", () => {
      it('reproduces the plain float64 iteration pass for pass', () => {
        const rnd = mulberry32(99);
        for (let trial = 0; trial < 12; trial++) {
          const n = 50 + trial * 37;
          const z = new Float64Array(n).map(() => 2 * normal(rnd));
          const target = (0.15 + 0.06 * trial) * Math.log(n);
          const ref = refSu(shifted(Array.from(z)), target, 1e-6, 30);
          const r = gc.entropyNormalize(z, 1, n, target, { fromLogits: true, method: 'su' });
          expect(statusName(r.status[0])).toBe(ref.status);
          expect(r.iterations[0]).toBe(ref.passes);
          expect(Math.abs(r.gamma[0] - ref.beta)).toBeLessThanOrEqual(1e-9 * ref.beta);
        }
      });

      it('fails on the near-one-hot row with a high target: MaxIter after 1 pass, γ = 1; the default converges', () => {
        const n = 1000;
        const p = new Float64Array(n);
        p[0] = 1 - 1e-6;
        const tail = ((n - 1) * n) / 2;
        for (let i = 1; i < n; i++) p[i] = (1e-6 * i) / tail;
        for (const [frac, gamma1] of [[0.5, -8189], [0.9, -14741]]) {
          const target = frac * Math.log(n);
          const ref = refSu(shifted(Array.from(p, Math.log)), target, 1e-6, 30);
          expect(ref.passes).toBe(1);
          expect(Math.abs(ref.updates[0] - gamma1)).toBeLessThan(1);
          for (const fromLogits of [false, true]) {
            const x = fromLogits ? new Float64Array(Array.from(p, Math.log)) : p;
            const su = gc.entropyNormalize(x, 1, n, target, { fromLogits, method: 'su' });
            expect(su.status[0]).toBe(EntropyStatus.MaxIter);
            expect(su.iterations[0]).toBe(1);
            expect(su.gamma[0]).toBe(1);
            expect(Math.abs(refEntropyProbs(su.out) - refEntropyProbs(p))).toBeLessThanOrEqual(1e-12);
            const safe = gc.entropyNormalize(x, 1, n, target, { fromLogits });
            expect(safe.status[0]).toBe(EntropyStatus.Ok);
            expect(Math.abs(refEntropyProbs(safe.out) - target)).toBeLessThanOrEqual(1e-6 + 1e-12);
          }
        }
      });
    });

    describe('random rows (Dirichlet and Zipf, n from 2 to 50 000)', () => {
      const count = LONG ? 10000 : 1000;
      for (const ctor of [Float64Array, Float32Array] as FloatCtor[]) {
        it(`${count} ${ctor.name} rows: zero failures`, { timeout: LONG ? 1_200_000 : 60_000 }, () => {
          const rnd = mulberry32(ctor === Float64Array ? 2024 : 2025);
          const f64 = ctor === Float64Array;
          const failures: string[] = [];
          let passes = 0;
          let maxPasses = 0;
          let solved = 0;
          for (let t = 0; t < count; t++) {
            const n = Math.max(2, Math.round(Math.exp(Math.log(2) + rnd() * Math.log(25000))));
            const kind = t % 2 ? 'zipf' : 'dirichlet';
            const x = new ctor(randomRow(n, rnd, kind));
            const { m, k } = supportAndTies(x);
            const frac = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999][t % 9];
            const target = Math.log(k) + frac * (Math.log(m) - Math.log(k));
            const fromLogits = t % 3 === 0;
            const input = fromLogits ? new ctor(Array.from(x, (v) => (v > 0 ? Math.log(v) : -Infinity))) : x;
            const r = gc.entropyNormalize(input, 1, n, target, { fromLogits });
            const expected = m === k ? 'Degenerate' : 'Ok';
            const hOut = refEntropyProbs(r.out);
            const bound = f64 ? 1e-6 + 1e-12 : 5e-4;
            if (statusName(r.status[0]) !== expected || (expected === 'Ok' && !(Math.abs(hOut - target) <= bound))) {
              failures.push(`${kind} n=${n} m=${m} k=${k} frac=${frac} logits=${fromLogits}: ${statusName(r.status[0])} H(out)=${hOut} target=${target}`);
            }
            if (expected === 'Ok') {
              solved++;
              passes += r.iterations[0];
              maxPasses = Math.max(maxPasses, r.iterations[0]);
            }
          }
          if (simd === 'plain') console.log(`${ctor.name}: ${solved} solved rows, passes mean ${(passes / solved).toFixed(2)} max ${maxPasses}`);
          expect(failures).toEqual([]);
        });
      }
    });

    describe('filters', () => {
      /**
       * Reference by enumeration of docs/entropy.md §6: the entries ahead of i in the order (value
       * descending, ties to the lower index) are counted, and their softmax mass summed, one by one.
       */
      function refKeep(z: number[], kind: 'topK' | 'nucleus', param: number, endToken?: number): boolean[] {
        const mx = Math.max(...z.filter((v) => v !== -Infinity));
        const w = z.map((v) => (v === -Infinity ? 0 : Math.exp(v - mx)));
        const Z = w.reduce((a, v) => a + v, 0);
        return z.map((v, i) => {
          if (i === endToken) return true;
          if (v === -Infinity) return false;
          let ahead = 0;
          let massAhead = 0;
          for (let j = 0; j < z.length; j++) {
            if (z[j] !== -Infinity && (z[j] > v || (z[j] === v && j < i))) {
              ahead++;
              massAhead += w[j] / Z;
            }
          }
          if (kind === 'topK') return ahead < param;
          return ahead === 0 || param === 1 || massAhead < param - 1e-9;
        });
      }
      const rnd = mulberry32(5);

      it('random rows with many ties match the enumeration, both dtypes, topK and nucleus', () => {
        for (let trial = 0; trial < 64; trial++) {
          // Mostly short rows; a few long ones, where the nucleus head grows several times.
          const cols = trial < 60 ? 1 + Math.floor(rnd() * 700) : 3000 + Math.floor(rnd() * 2000);
          const z = Array.from({ length: cols }, () => (rnd() < 0.1 ? -Infinity : Math.round(normal(rnd) * 4) / 2));
          for (const ctor of [Float32Array, Float64Array] as FloatCtor[]) {
            const zz = new ctor(z);
            const k = 1 + Math.floor(rnd() * cols);
            const p = [0.05, 0.3, 0.9, 0.999, 1][trial % 5];
            const endToken = trial % 2 ? Math.floor(rnd() * cols) : undefined;
            const opts = endToken === undefined ? {} : { consistent: true, endToken };
            const a = gc.topKFilter(zz, 1, cols, k, opts);
            const b = gc.nucleusFilter(zz, 1, cols, p, opts);
            const ka = refKeep(Array.from(zz), 'topK', k, endToken);
            const kb = refKeep(Array.from(zz), 'nucleus', p, endToken);
            for (let i = 0; i < cols; i++) {
              expect(a[i]).toBe(ka[i] ? zz[i] : -Infinity);
              expect(b[i]).toBe(kb[i] ? zz[i] : -Infinity);
            }
          }
        }
      });

      it('ties go to the lower index: exactly k survive; a tie group may be split', () => {
        const z = new Float64Array([1, 3, 2, 3, 2, 0]);
        expect(Array.from(gc.topKFilter(z, 1, 6, 2))).toEqual([-Infinity, 3, -Infinity, 3, -Infinity, -Infinity]);
        expect(Array.from(gc.topKFilter(z, 1, 6, 3))).toEqual([-Infinity, 3, 2, 3, -Infinity, -Infinity]);
        expect(Array.from(gc.topKFilter(z, 1, 6, 6))).toEqual(Array.from(z));
        // Uniform: each entry has mass 1/8; the first four reach p = 0.5 exactly, so the fifth is dropped.
        const u = new Float64Array(8);
        expect(Array.from(gc.nucleusFilter(u, 1, 8, 0.5))).toEqual([0, 0, 0, 0, -Infinity, -Infinity, -Infinity, -Infinity]);
        const four = new Float64Array([5, 4, 3, 2].map((v) => Math.log(v)));
        const q = [5, 4, 3, 2].map((v) => v / 14);
        // Mass before the third value is exactly 9/14: p = 9/14 drops it, p slightly above keeps it.
        expect(Array.from(gc.nucleusFilter(four, 1, 4, q[0] + q[1])).filter((v) => v !== -Infinity).length).toBe(2);
        expect(Array.from(gc.nucleusFilter(four, 1, 4, q[0] + q[1] + 1e-6)).filter((v) => v !== -Infinity).length).toBe(3);
        expect(Array.from(gc.nucleusFilter(four, 1, 4, 1))).toEqual(Array.from(four));
      });

      it("keep the tokens decodeTransform's topK / nucleus keep on the same distributions (logits = log p)", () => {
        const rows = 40;
        const cols = 12;
        // Few distinct probabilities, so rows have tie groups straddling k and p.
        const P = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) {
          const row = Array.from({ length: cols }, () => Math.floor(rnd() * 5));
          if (Math.max(...row) === 0) row[0] = 1;
          const s = row.reduce((a, v) => a + v, 0);
          row.forEach((v, j) => (P[r * cols + j] = v / s));
        }
        const logits = P.map(Math.log);
        const kept = (a: ArrayLike<number>, r: number, isKept: (v: number) => boolean) =>
          Array.from(a).slice(r * cols, (r + 1) * cols).flatMap((v, j) => (isKept(v) ? [j] : []));
        for (const [spec, filtered] of [
          [{ kind: 'topK', k: 1 }, gc.topKFilter(logits, rows, cols, 1)],
          [{ kind: 'topK', k: 4 }, gc.topKFilter(logits, rows, cols, 4)],
          [{ kind: 'topK', k: 3, consistent: true, eosIndex: 5 }, gc.topKFilter(logits, rows, cols, 3, { consistent: true, endToken: 5 })],
          [{ kind: 'nucleus', p: 0.5 }, gc.nucleusFilter(logits, rows, cols, 0.5)],
          [{ kind: 'nucleus', p: 0.8 }, gc.nucleusFilter(logits, rows, cols, 0.8)],
          [{ kind: 'nucleus', p: 0.3, consistent: true, eosIndex: 0 }, gc.nucleusFilter(logits, rows, cols, 0.3, { consistent: true, endToken: 0 })],
        ] as const) {
          const decoded = gc.decodeTransform(P, rows, cols, spec);
          for (let r = 0; r < rows; r++) {
            expect(kept(filtered, r, (v) => v !== -Infinity), `${JSON.stringify(spec)} row ${r}`).toEqual(kept(decoded, r, (v) => v > 0));
          }
        }
      });

      it('consistent keeps the end token as is (even −Infinity); multi-row; out aliasing; all −∞ row', () => {
        const z = new Float32Array([3, 2, 1, -Infinity, 0, 5, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity]);
        const r = gc.topKFilter(z, 2, 6, 1, { consistent: true, endToken: 3 });
        expect(Array.from(r)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, 5, ...Array(6).fill(-Infinity)]);
        // Mass of the max is e^5 / (e^5 + e^3 + e^2 + e + 1) ≈ 0.83 ≥ 0.5: only it, plus the end token.
        const r2 = gc.nucleusFilter(z, 2, 6, 0.5, { consistent: true, endToken: 4 });
        expect(Array.from(r2)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity, 0, 5, ...Array(6).fill(-Infinity)]);
        // Without consistent, endToken is ignored.
        expect(Array.from(gc.topKFilter(z, 2, 6, 1, { endToken: 3 }))[4]).toBe(-Infinity);
        const inPlace = z.slice();
        expect(gc.topKFilter(inPlace, 2, 6, 2, { out: inPlace })).toBe(inPlace);
        expect(Array.from(inPlace)).toEqual(Array.from(gc.topKFilter(z, 2, 6, 2)));
      });

      it('argument errors', () => {
        const z = new Float64Array([1, 2, 3]);
        expect(() => gc.topKFilter(z, 1, 3, 0)).toThrow(RangeError);
        expect(() => gc.topKFilter(z, 1, 3, 1.5)).toThrow(RangeError);
        expect(() => gc.nucleusFilter(z, 1, 3, 0)).toThrow(RangeError);
        expect(() => gc.nucleusFilter(z, 1, 3, 1.01)).toThrow(RangeError);
        expect(() => gc.topKFilter(z, 1, 3, 1, { consistent: true })).toThrow(/endToken/);
        expect(() => gc.topKFilter(z, 1, 3, 1, { consistent: true, endToken: 3 })).toThrow(RangeError);
        expect(() => gc.topKFilter(new Float64Array([1, NaN, 2, 3]), 2, 2, 1)).toThrow(/row 0, column 1/);
        expect(() => gc.nucleusFilter(new Float32Array([1, 2, Infinity, 3]), 2, 2, 0.5)).toThrow(/row 1, column 0/);
        expect(() => gc.topKFilter(z, 2, 2, 1)).toThrow(/rows\*cols/);
        expect(() => gc.topKFilter([1, 2, 3] as never, 1, 3, 1)).toThrow(TypeError);
      });
    });

    describe('argument errors and memory', () => {
      it('throw before any wasm call, with clear messages', () => {
        const x = new Float64Array([0.2, 0.8, 0.5, 0.5]);
        expect(() => gc.entropyNormalize(x, 3, 2, 1)).toThrow(/x.length 4 does not match rows\*cols = 6/);
        expect(() => gc.entropy(x, 1, 3)).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, NaN)).toThrow(/targetH must be finite, got NaN/);
        expect(() => gc.entropyNormalize(x, 2, 2, new Float64Array([1, NaN]))).toThrow(/targetH\[1\] is NaN/);
        expect(() => gc.entropyNormalize(x, 2, 2, new Float64Array([1]))).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, '1' as never)).toThrow(TypeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { tol: -1 })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { tol: Infinity })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { maxIter: 0 })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { maxIter: 2.5 })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { method: 'newton' as never })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { initialGamma: 0 })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { out: new Float64Array(3) })).toThrow(RangeError);
        expect(() => gc.entropyNormalize(x, 2, 2, 1, { out: new Float32Array(4) as never })).toThrow(TypeError);
        expect(() => gc.entropyNormalize([0.5, 0.5] as never, 1, 2, 1)).toThrow(TypeError);
        expect(() => gc.entropyNormalize(x, -1, 2, 1)).toThrow(RangeError);
        expect(() => gc.temperatureForEntropy(x, 2, 2, 1, { initialTemperature: -2 })).toThrow(RangeError);
        expect(() => gc.entropy(x, 2, 2, { fromLogits: 1 as never })).toThrow(TypeError);
        // Negative targets are allowed (they clamp low).
        expect(gc.entropyNormalize(x, 2, 2, -1).status[0]).toBe(EntropyStatus.ClampedLow);
        // A negative probability is a row status, not an exception (docs/entropy.md §1).
        expect(gc.entropyNormalize(new Float64Array([0.5, -0.5]), 1, 2, 0.3).status[0]).toBe(EntropyStatus.Invalid);
        expect(() => entropyInvariantScale(0, 64)).toThrow(RangeError);
        expect(() => entropyInvariantScale(10, 0)).toThrow(RangeError);
        expect(() => entropyInvariantScale(10, 64, { trainLength: 1 })).toThrow(RangeError);
        expect(() => entropyInvariantScale('10' as never, 64)).toThrow(TypeError);
        expect(entropyInvariantScale(1, 64)).toBe(0);
      });

      it('wasm memory returns to its baseline', () => {
        const before = gc.memory.bytesInUse;
        const z = new Float32Array(3 * 1000).map((_, i) => Math.sin(i));
        for (let i = 0; i < 20; i++) {
          gc.entropyNormalize(z, 3, 1000, 3, { fromLogits: true });
          gc.temperatureForEntropy(z, 3, 1000, 3);
          gc.entropy(z, 3, 1000);
          expect(() => gc.entropyNormalize(z, 3, 1000, NaN)).toThrow();
        }
        expect(gc.memory.bytesInUse).toBe(before);
      });
    });
  });
}
