import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { init, type Gencore } from '../../bindings/index.js';
import { mulberry32 as rng } from '../helpers/reference.js';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/repetition.json', import.meta.url), 'utf8'));

// --- independent float64 references (plain arrays, textbook algorithms) ---------------------------

type Mat = number[][];
const matFrom = (a: ArrayLike<number>, n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => a[i * n + j]));
const mul = (x: Mat, y: Mat): Mat => x.map((row) => y[0].map((_, j) => row.reduce((s, v, k) => s + v * y[k][j], 0)));
const trace = (x: Mat): number => x.reduce((s, row, i) => s + row[i], 0);

/** X = A⁻¹·Y by Gauss–Jordan with partial pivoting. */
function solveRef(A: Mat, Y: Mat): Mat {
  const n = A.length;
  const a = A.map((r) => r.slice());
  const x = Y.map((r) => r.slice());
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i;
    [a[k], a[p]] = [a[p], a[k]];
    [x[k], x[p]] = [x[p], x[k]];
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = a[i][k] / a[k][k];
      for (let j = k; j < n; j++) a[i][j] -= f * a[k][j];
      for (let j = 0; j < x[0].length; j++) x[i][j] -= f * x[k][j];
    }
  }
  return x.map((row, i) => row.map((v) => v / a[i][i]));
}

/** Singular values by one-sided Jacobi (Hestenes), descending: an algorithm unlike the library's. */
function jacobiSingularValues(A: Mat): number[] {
  const n = A.length;
  const u = A.map((r) => r.slice()); // rotate columns of u
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          alpha += u[i][p] * u[i][p];
          beta += u[i][q] * u[i][q];
          gamma += u[i][p] * u[i][q];
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-300) continue;
        off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const x = u[i][p];
          const y = u[i][q];
          u[i][p] = c * x - s * y;
          u[i][q] = s * x + c * y;
        }
      }
    }
    if (off < 1e-15) break;
  }
  const sv = Array.from({ length: n }, (_, j) => Math.sqrt(u.reduce((s, r) => s + r[j] * r[j], 0)));
  return sv.sort((a, b) => b - a);
}

/** A random sub-stochastic chain: density `dens`, row sums in [1 − leak, 1]. */
function randomChain(n: number, seed: number, dens = 0.6, leak = 0.3): Float64Array {
  const r = rng(seed);
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = r() < dens ? r() ** 2 : 0;
      P[i * n + j] = v;
      s += v;
    }
    if (s === 0) {
      P[i * n + ((i + 1) % n)] = 1;
      s = 1;
    }
    const mass = 1 - leak * r();
    for (let j = 0; j < n; j++) P[i * n + j] *= mass / s;
  }
  return P;
}

/** Deep comparison with the fixture conventions: 'Infinity' strings, null, exact booleans / integers. */
function compare(path: string, got: unknown, exp: unknown, tol: { rel: number; abs: number }, errs: string[]): void {
  if (exp === null) {
    if (got !== null) errs.push(`${path}: got ${String(got)}, expected null`);
  } else if (Array.isArray(exp)) {
    const g = Array.from(got as ArrayLike<unknown>);
    if (g.length !== exp.length) errs.push(`${path}: length ${g.length}, expected ${exp.length}`);
    else exp.forEach((e, i) => compare(`${path}[${i}]`, g[i], e, tol, errs));
  } else if (typeof exp === 'object') {
    for (const k of Object.keys(exp as object)) compare(`${path}.${k}`, (got as Record<string, unknown>)?.[k], (exp as Record<string, unknown>)[k], tol, errs);
  } else if (typeof exp === 'boolean' || (typeof exp === 'string' && exp !== 'Infinity')) {
    if (got !== exp) errs.push(`${path}: got ${String(got)}, expected ${String(exp)}`);
  } else {
    const e = exp === 'Infinity' ? Infinity : (exp as number);
    const g = got as number;
    if (e === Infinity) {
      if (g !== Infinity) errs.push(`${path}: got ${g}, expected Infinity`);
    } else if (!(Math.abs(g - e) <= tol.abs + tol.rel * Math.abs(e))) {
      errs.push(`${path}: got ${g}, expected ${e}`);
    }
  }
}

function callFixture(gc: Gencore, c: { call: string; args: Record<string, any> }, Arr: Float64ArrayConstructor | Float32ArrayConstructor = Float64Array) {
  const a = c.args;
  switch (c.call) {
    case 'repetition':
      return gc.repetition(Arr.from(a.P), a.n, a.opts);
    case 'decodeTransform':
      return { out: gc.decodeTransform(Arr.from(a.A), a.rows, a.cols, a.spec) };
    case 'terminationStats':
      return gc.terminationStats(Arr.from(a.A), a.n, a.eosIndex);
    case 'highInflowPairs': {
      const r = gc.highInflowPairs(Arr.from(a.counts), a.n, a.opts);
      return { ...r, pairs: Array.from({ length: r.pairs.length / 2 }, (_, i) => [r.pairs[2 * i], r.pairs[2 * i + 1]]) };
    }
  }
  throw new Error(`unknown call ${c.call}`);
}

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`repetition analysis (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    describe('fixtures', () => {
      for (const c of fixtures.cases) {
        it(`${c.id}${c.note ? ` — ${c.note}` : ''}`, () => {
          const got = callFixture(gc, c);
          const errs: string[] = [];
          compare('', got, c.expected, c.tolerance, errs);
          expect(errs).toEqual([]);
          if (c.call === 'repetition') {
            const r = got as ReturnType<Gencore['repetition']>;
            const rho = c.expected.rhoM === 'Infinity' ? Infinity : c.expected.rhoM;
            expect(r.rhoMBracket[0]).toBeLessThanOrEqual(rho * (1 + 1e-11));
            if (r.rhoMConverged) expect(r.rhoMBracket[1] - r.rhoMBracket[0]).toBeLessThanOrEqual(1e-12 * r.rhoMBracket[1]);
            expect(r.rhoMBracket[1]).toBe(r.rhoM);
          }
        });
      }
      for (const c of fixtures.invalid) {
        it(`invalid ${c.call}: ${c.why}`, () => {
          const a = c.args;
          const conv = (v: unknown[]) => v.map((x) => (x === 'NaN' ? NaN : x)) as number[];
          const run = () => {
            if (c.call === 'repetition') return gc.repetition((a.plainArray || c.plainArray ? conv(a.P) : Float64Array.from(conv(a.P))) as Float64Array, a.n, a.opts);
            if (c.call === 'decodeTransform') return gc.decodeTransform(Float64Array.from(conv(a.A)), a.rows, a.cols, a.spec);
            if (c.call === 'terminationStats') return gc.terminationStats(Float64Array.from(conv(a.A)), a.n, a.eosIndex);
            throw new Error('unknown call');
          };
          if (c.throws === null) expect(run).not.toThrow();
          else {
            let err: unknown;
            try {
              run();
            } catch (e) {
              err = e;
            }
            expect((err as Error | undefined)?.name).toBe(c.throws);
          }
        });
      }
      it('a Float32Array input gives the result of the Float64Array holding the same values', () => {
        for (const c of fixtures.cases) {
          const f32 = callFixture(gc, c, Float32Array);
          const widened = { ...c, args: Object.fromEntries(Object.entries(c.args).map(([k, v]) => [k, Array.isArray(v) ? Array.from(Float32Array.from(v as number[])) : v])) };
          const f64 = callFixture(gc, widened);
          if (c.call === 'decodeTransform') {
            // Float32 output = the float64 result rounded once.
            expect(Array.from((f32 as { out: Float32Array }).out)).toEqual(Array.from(Float32Array.from((f64 as { out: Float64Array }).out)));
          } else {
            expect(f32).toEqual(f64);
          }
        }
      });
    });

    describe('repetition: properties against independent references', () => {
      const sizes = [1, 2, 3, 7, 20, 49, 64];
      for (const n of sizes) {
        it(`random chain n = ${n}: R, traces, ARP value, singular values; every bound holds`, () => {
          const P = randomChain(n, 100 + n);
          const r = gc.repetition(P, n);
          const B = matFrom(P, n);
          const M = B.map((row) => row.map((v) => v * v));
          const I = M.map((row, i) => row.map((_, j) => (i === j ? 1 : 0)));
          // R = tr((I − M)⁻¹M)
          const Rref = trace(solveRef(I.map((row, i) => row.map((v, j) => v - M[i][j])), M));
          expect(r.finite).toBe(true);
          expect(r.status).toBe('ok');
          expect(Math.abs(r.R - Rref)).toBeLessThanOrEqual(1e-10 * Rref + 1e-14);
          // tr(M^k) and tr(B^k) by repeated multiplication
          let Mk = M;
          let Bk = B;
          let partialRef = 0;
          for (let k = 1; k <= 8; k++) {
            partialRef += trace(Mk);
            expect(Math.abs(r.traces[k - 1] - trace(Mk))).toBeLessThanOrEqual(1e-12 * (1 + trace(Mk)));
            expect(Math.abs(r.tracesB[k - 1] - trace(Bk))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(trace(Bk))));
            Mk = mul(Mk, M);
            Bk = mul(Bk, B);
          }
          // Partial sums ≤ R, and the ordering of the lower bounds.
          let run = 0;
          for (const t of r.traces) {
            run += t;
            expect(run).toBeLessThanOrEqual(r.R * (1 + 1e-12));
          }
          const lb = r.lowerBounds;
          expect(Math.abs(lb.partial - partialRef)).toBeLessThanOrEqual(1e-12 * (1 + partialRef));
          expect(lb.trace).toBeLessThanOrEqual(lb.diagonal * (1 + 1e-12));
          expect(lb.diagonal).toBeLessThanOrEqual(lb.partial * (1 + 1e-12));
          expect(lb.partial).toBeLessThanOrEqual(r.R * (1 + 1e-12));
          expect(r.R).toBeLessThanOrEqual(r.upperBounds.spectral * (1 + 1e-12));
          expect(r.R).toBeLessThanOrEqual(r.upperBounds.rowSquare * (1 + 1e-12));
          expect(r.rhoM).toBeLessThanOrEqual(r.rowSquareSums.max * (1 + 1e-12));
          expect(r.rhoMBracket[0]).toBeGreaterThanOrEqual(r.rowSquareSums.min * (1 - 1e-12));
          // ARP: value by an independent solve, singular values by one-sided Jacobi.
          const a = r.arp;
          const B2 = mul(B, B);
          const C = B2.map((row, i) => row.map((v, j) => (i === j ? a.zetaM : 0) - v));
          expect(a.finite).toBe(true);
          const valueRef = trace(solveRef(C, B2));
          expect(Math.abs(a.value - valueRef)).toBeLessThanOrEqual(1e-10 * Math.abs(valueRef) + 1e-14);
          const svB2 = jacobiSingularValues(B2);
          const nuclearRef = svB2.reduce((s, v) => s + v, 0);
          expect(Math.abs(a.nuclearB2 - nuclearRef)).toBeLessThanOrEqual(1e-10 * nuclearRef + 1e-14);
          const sigMinRef = jacobiSingularValues(C)[n - 1];
          expect(Math.abs(a.sigmaMinC - sigMinRef)).toBeLessThanOrEqual(1e-10 * sigMinRef + 1e-14);
          expect(a.value).toBeLessThanOrEqual(a.thm1Bound * (1 + 1e-12));
          expect(a.thm1Bound).toBeLessThanOrEqual(a.cor11Tight * (1 + 1e-12));
          expect(a.cor11Tight).toBeLessThanOrEqual(a.cor11 * (1 + 1e-12));
          if (a.cor12 !== null) expect(a.cor12).toBeGreaterThanOrEqual(a.thm1Bound * (1 - 1e-12));
          if (a.diagonallyDominant) expect(a.johnson).toBeGreaterThan(0);
          expect(a.johnson).toBeLessThanOrEqual(a.sigmaMinC * (1 + 1e-12));
          // ρ(B) against the spectral bound: a sub-stochastic chain has ρ(B) ≤ max row sum ≤ 1.
          expect(a.rhoB).toBeLessThanOrEqual(1 + 1e-12);
        });
      }

      it('R finite ⇔ no deterministic loop (planted one-hot rows: cycles vs. paths)', () => {
        for (let trial = 0; trial < 12; trial++) {
          const n = 6 + trial;
          const P = randomChain(n, 900 + trial);
          const r = rng(trial);
          const planted: number[] = [];
          const withCycle = trial % 2 === 0;
          // Plant a path 0 → 1 → … → L−1 of one-hot rows; close it into a cycle or end it in a leaky row.
          const L = 1 + (trial % 4);
          for (let i = 0; i < L; i++) {
            const next = i + 1 < L ? i + 1 : withCycle ? 0 : L;
            for (let j = 0; j < n; j++) P[i * n + j] = j === next ? 1 : 0;
            planted.push(i);
          }
          void r;
          const res = gc.repetition(P, n);
          expect(res.finite).toBe(!withCycle);
          if (withCycle) {
            expect(res.cycles.map((c) => Array.from(c))).toEqual([planted]);
            expect(res.R).toBe(Infinity);
            expect(res.rhoM).toBe(1);
            expect(res.upperBounds.spectral).toBe(Infinity);
            // Traces are still exact: the planted loop contributes 1 to tr(M^k) for k multiple of L.
            expect(res.traces[L - 1]).toBeGreaterThanOrEqual(L * (1 - 1e-12));
          } else {
            expect(res.cycles).toEqual([]);
            expect(Number.isFinite(res.R)).toBe(true);
          }
        }
      });

      it('ρ(B), ρ(M) with a tiny spectral gap (beyond plain power iteration) match the closed form', () => {
        // 2×2 with eigenvalues 0.99019… and 0.98480…: the shifted power iteration alone would need
        // about 10⁴ steps to close the bracket to 1e-12.
        const [a, b, c, d] = [0.99, 0.001, 0.001, 0.985];
        const rho2 = (p: number, q: number, r: number, s: number) => (p + s) / 2 + Math.sqrt(((p - s) / 2) ** 2 + q * r);
        const res = gc.repetition(Float64Array.of(a, b, c, d), 2);
        expect(res.rhoMConverged).toBe(true);
        expect(res.arp.rhoBConverged).toBe(true);
        const rhoB = rho2(a, b, c, d);
        const rhoM = rho2(a * a, b * b, c * c, d * d);
        expect(Math.abs(res.arp.rhoB - rhoB)).toBeLessThanOrEqual(2e-12 * rhoB);
        expect(Math.abs(res.rhoM - rhoM)).toBeLessThanOrEqual(2e-12 * rhoM);
        expect(res.rhoMBracket[0]).toBeLessThanOrEqual(rhoM * (1 + 1e-13));
        expect(res.rhoMBracket[1]).toBeGreaterThanOrEqual(rhoM * (1 - 1e-13));
        // A reducible chain (a transient state feeding a closed 2-cycle): bracket still closes.
        const red = gc.terminationStats(Float64Array.from([0.5, 0.25, 0, 0.25, 0, 0, 1, 0, 0, 0.6, 0.4, 0, 0, 0, 0, 1]), 4, 3);
        expect(red.rhoBConverged).toBe(true);
        expect(red.rhoB).toBeCloseTo(rho2(0, 1, 0.6, 0.4), 11);
      });

      it('near-one-hot 1×1 chain is finite but large (R ≈ 5e8)', () => {
        const r = gc.repetition(Float64Array.of(1 - 1e-9), 1);
        expect(r.finite).toBe(true);
        const m = (1 - 1e-9) ** 2;
        expect(r.R / (m / (1 - m))).toBeCloseTo(1, 6);
      });

      it('EOS removal, original indices in cycles, and a nilpotent chain with ρ = 0', () => {
        // Token 2 is EOS; tokens 0 ↔ 3 loop deterministically (B index 2 is original 3).
        const n = 4;
        const P = Float64Array.from([0, 0, 0, 1, 0.2, 0.3, 0.5, 0, 0.1, 0.1, 0.1, 0.1, 1, 0, 0, 0]);
        const r = gc.repetition(P, n, { eosIndex: 2 });
        expect(r.m).toBe(3);
        expect(r.cycles.map((c) => Array.from(c))).toEqual([[0, 3]]);
        // Strictly upper-triangular B: acyclic support, ρ(M) = 0 exactly, R = 0.
        const U = Float64Array.from([0, 0.5, 0.5, 0, 0, 0.9, 0, 0, 0]);
        const u = gc.repetition(U, 3);
        expect(u.rhoM).toBe(0);
        expect(u.rhoMBracket).toEqual([0, 0]);
        expect(u.R).toBe(0);
        expect(u.upperBounds.spectral).toBe(0);
        expect(u.arp.rhoB).toBe(0);
      });

      it('B = 0: the ARP value, estimate and all bounds are 0', () => {
        const r = gc.repetition(new Float64Array(4), 2);
        expect(r.R).toBe(0);
        expect(r.arp.value).toBe(0);
        expect(r.arp.corrected).toBe(0);
        expect(r.arp.thm1Bound).toBe(0);
        expect(r.arp.cor11).toBe(0);
        expect(r.arp.cor12).toBe(0);
        expect(r.lowerBounds.estimateR2).toBe(0);
      });

      it('bad input → clear errors before any work', () => {
        const P = Float64Array.of(0.9, 0.1, 0.5, 0.5);
        expect(() => gc.repetition(P, 2, { eosIndex: 2 })).toThrow(/eosIndex must be an integer in \[0, n\)/);
        expect(() => gc.repetition(P, 2, { eosIndex: '1' as unknown as number })).toThrow(TypeError);
        expect(() => gc.repetition(Float64Array.of(1), 1, { eosIndex: 0 })).toThrow(RangeError);
        expect(() => gc.repetition(Float64Array.of(0.9, 0.1, -0.1, 0.5), 2)).toThrow(/row 1, column 0\) is -0\.1/);
        expect(() => gc.repetition(Float64Array.of(0.5, 0.6, 0.5, 0.5), 2)).toThrow(/row 0 sums to 1\.1/);
        expect(() => gc.repetition(P, 3)).toThrow(/P\.length 4 does not match n\*n = 9/);
        expect(() => gc.repetition(new Float64Array(6), 2)).toThrow(RangeError); // not square
        expect(() => gc.repetition(P, 2, { terms: 65 })).toThrow(RangeError);
        expect(() => gc.repetition(P, 2, { zeta: 0 })).toThrow(/zeta must be in \(0, 1\]/);
        expect(() => gc.repetition(P, 2, { rowSumTol: -1 })).toThrow(RangeError);
        expect(() => gc.repetition(P, 2, 5 as unknown as object)).toThrow(TypeError);
        // Row eosIndex is not read: garbage there is fine.
        expect(() => gc.repetition(Float64Array.of(0.9, 0.1, -5, NaN), 2, { eosIndex: 1 })).not.toThrow();
      });

      it('memory returns to its baseline', () => {
        const base = gc.memory.bytesInUse;
        for (let i = 0; i < 4; i++) {
          gc.repetition(randomChain(30, i), 30, { eosIndex: 3 });
          gc.terminationStats(randomChain(12, i, 0.5, 0).map((v, k) => v) as Float64Array, 12, 0);
          expect(() => gc.repetition(Float64Array.of(2, 0, 0, 0), 2)).toThrow(RangeError);
        }
        expect(gc.memory.bytesInUse).toBe(base);
      });
    });

    describe('decodeTransform', () => {
      const rows = 6;
      const cols = 9;
      const A = randomChain(9, 77, 0.8, 0.2).slice(0, rows * cols);
      const specs = [
        { kind: 'greedy' },
        { kind: 'topK', k: 3 },
        { kind: 'topK', k: 2, consistent: true, eosIndex: 8 },
        { kind: 'nucleus', p: 0.6 },
        { kind: 'nucleus', p: 0.3, consistent: true, eosIndex: 0 },
        { kind: 'temperature', t: 0.7 },
        { kind: 'lengthPenalty', beta: 2, eosIndex: 4 },
      ] as const;
      for (const spec of specs) {
        it(`${JSON.stringify(spec)}: rows sum to 1, kept tokens keep their ratios, out may alias A`, () => {
          const out = gc.decodeTransform(A, rows, cols, spec);
          for (let i = 0; i < rows; i++) {
            const row = Array.from(A.subarray(i * cols, (i + 1) * cols));
            const q = Array.from(out.subarray(i * cols, (i + 1) * cols));
            expect(q.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
            if (spec.kind === 'topK' || spec.kind === 'nucleus') {
              const kept = q.map((v, j) => (v > 0 ? j : -1)).filter((j) => j >= 0);
              const s = kept.reduce((acc, j) => acc + row[j], 0);
              for (const j of kept) expect(q[j]).toBeCloseTo(row[j] / s, 14);
              if ('consistent' in spec && row[spec.eosIndex] > 0) expect(q[spec.eosIndex]).toBeGreaterThan(0);
              // Every dropped token is no more likely than every kept one (apart from a forced EOS).
              const forced = 'consistent' in spec ? spec.eosIndex : -1;
              const minKept = Math.min(...kept.filter((j) => j !== forced || kept.length === 1).map((j) => row[j]));
              row.forEach((v, j) => {
                if (!kept.includes(j)) expect(v).toBeLessThanOrEqual(minKept);
              });
            }
          }
          const alias = A.slice();
          expect(gc.decodeTransform(alias, rows, cols, spec, { out: alias })).toBe(alias);
          expect(Array.from(alias)).toEqual(Array.from(out));
        });
      }
      it('nucleus keeps the shortest prefix whose sum reaches p exactly; ties to the lower index', () => {
        const q = gc.decodeTransform(Float64Array.of(0.25, 0.5, 0.25), 1, 3, { kind: 'nucleus', p: 0.75 });
        expect(Array.from(q)).toEqual([1 / 3, 2 / 3, 0]);
        const g = gc.decodeTransform(Float64Array.of(0.4, 0.2, 0.4), 1, 3, { kind: 'greedy' });
        expect(Array.from(g)).toEqual([1, 0, 0]);
        const z = gc.decodeTransform(new Float64Array(3), 1, 3, { kind: 'temperature', t: 2 });
        expect(Array.from(z)).toEqual([0, 0, 0]);
        const k = gc.decodeTransform(Float64Array.of(0.5, 0.3, 0), 1, 3, { kind: 'topK', k: 1, consistent: true, eosIndex: 2 });
        expect(Array.from(k)).toEqual([1, 0, 0]); // EOS with p = 0 stays 0
      });
      it('nucleus: a mass within 1e-9 below p counts as reached (the rule of nucleusFilter)', () => {
        const row = Float64Array.of(0.2, 0.5, 0.3);
        expect(Array.from(gc.decodeTransform(row, 1, 3, { kind: 'nucleus', p: 0.8 + 5e-10 }))).toEqual([0, 0.5 / 0.8, 0.3 / 0.8]);
        expect(Array.from(gc.decodeTransform(row, 1, 3, { kind: 'nucleus', p: 0.8 + 2e-9 }))).toEqual([0.2, 0.5, 0.3]);
      });
      it('bad specs → RangeError / TypeError', () => {
        const P = Float64Array.of(0.9, 0.1, 0.5, 0.5);
        expect(() => gc.decodeTransform(P, 2, 2, { kind: 'lengthPenalty', beta: 1 } as never)).toThrow(RangeError);
        expect(() => gc.decodeTransform(P, 2, 2, { kind: 'topK', k: 1.5 })).toThrow(RangeError);
        expect(() => gc.decodeTransform(P, 2, 2, { kind: 'nucleus', p: 1.5 })).toThrow(RangeError);
        expect(() => gc.decodeTransform(P, 2, 2, null as never)).toThrow(TypeError);
        expect(() => gc.decodeTransform(P, 2, 2, { kind: 'topK', k: 1, consistent: true, eosIndex: 2 })).toThrow(RangeError);
        expect(() => gc.decodeTransform(P, 2, 2, { kind: 'greedy' }, { out: new Float32Array(4) as never })).toThrow(TypeError);
        expect(() => gc.decodeTransform(Float64Array.of(0.9, 0.2, 0.5, 0.5), 2, 2, { kind: 'greedy' })).toThrow(/row 0 sums to/);
      });
      it('an out overlapping A at an offset is refused (RangeError), A untouched; out = A itself works', () => {
        for (const Arr of [Float64Array, Float32Array]) {
          const rows = [0.1, 0.6, 0.3, 0.5, 0.2, 0.3];
          const buf = new ArrayBuffer(9 * Arr.BYTES_PER_ELEMENT);
          const A = new Arr(buf, 0, 6);
          A.set(rows);
          for (const offset of [1, 3]) {
            const out = new Arr(buf, offset * Arr.BYTES_PER_ELEMENT, 6);
            expect(() => gc.decodeTransform(A, 2, 3, { kind: 'greedy' }, { out })).toThrow(/decodeTransform: opts\.out must not overlap A/);
            expect(Array.from(A)).toEqual(Array.from(Arr.from(rows)));
          }
          // A second view on exactly A's bytes is the same as out = A.
          const same = new Arr(buf, 0, 6);
          expect(gc.decodeTransform(A, 2, 3, { kind: 'greedy' }, { out: same })).toBe(same);
          expect(Array.from(A)).toEqual([0, 1, 0, 1, 0, 0]);
        }
      });
    });

    describe('terminationStats', () => {
      it('absorption probabilities and expected lengths match an independent solve; doomed and mixed states', () => {
        // States 0..5 and EOS = 6. State 4 ↔ 5 is a closed class (doomed); 3 can go to 4 (mixed);
        // 0, 1, 2 never reach 3 (sure).
        const n = 7;
        const rows = [
          [0.2, 0.3, 0.1, 0, 0, 0, 0.4],
          [0.1, 0.1, 0.5, 0, 0, 0, 0.3],
          [0.3, 0.3, 0.2, 0, 0, 0, 0.2],
          [0.2, 0, 0, 0.3, 0.25, 0, 0.25],
          [0, 0, 0, 0, 0.5, 0.5, 0],
          [0, 0, 0, 0, 1, 0, 0],
          [0, 0, 0, 0, 0, 0, 1],
        ];
        const A = Float64Array.from(rows.flat());
        const t = gc.terminationStats(A, n, 6);
        expect(t.almostSure).toBe(false);
        // Reference: absorption on T = {0, 1, 2, 3}, lengths on S = {0, 1, 2}.
        const T = [0, 1, 2, 3];
        const h = solveRef(T.map((i) => T.map((j) => (i === j ? 1 : 0) - rows[i][j])), T.map((i) => [rows[i][6]]));
        for (const [r, i] of T.entries()) {
          expect(Math.abs(t.absorbProb[i] - (i === 3 ? h[r][0] : 1))).toBeLessThanOrEqual(1e-12);
        }
        expect(h[0][0]).toBeCloseTo(1, 12); // sure states really absorb with probability 1
        expect(t.absorbProb[4]).toBe(0);
        expect(t.absorbProb[5]).toBe(0);
        expect(t.absorbProb[6]).toBe(1);
        const S = [0, 1, 2];
        const len = solveRef(S.map((i) => S.map((j) => (i === j ? 1 : 0) - rows[i][j])), S.map(() => [1]));
        for (const [r, i] of S.entries()) expect(Math.abs(t.expectedLength[i] - len[r][0])).toBeLessThanOrEqual(1e-12 * len[r][0]);
        expect(t.expectedLength[3]).toBe(Infinity);
        expect(t.expectedLength[4]).toBe(Infinity);
        expect(t.expectedLength[6]).toBe(0);
        // Greedy: 0 → 6 (EOS, 0.4), 1 → 2, 2 → 0, 3 → 3 (0.3 beats 0.25), 4 → 4 (tie → lower), 5 → 4.
        expect(Array.from(t.greedy.next)).toEqual([6, 2, 0, 3, 4, 4, 6]);
        expect(t.greedy.cycles.map((c) => Array.from(c))).toEqual([[3], [4]]);
        expect(Array.from(t.greedy.loops)).toEqual([0, 0, 0, 1, 1, 1, 0]);
        expect(t.rhoB).toBe(1); // the closed class {4, 5} is stochastic
      });

      it('an almost surely terminating random chain: expected lengths = (I − B)⁻¹𝟙', () => {
        const n = 25;
        const e = 7;
        const A = randomChain(n, 4242, 0.5, 0);
        for (let i = 0; i < n; i++) {
          if (i === e) continue;
          // Move 10 % of each row to EOS.
          let s = 0;
          for (let j = 0; j < n; j++) {
            A[i * n + j] *= 0.9;
            s += A[i * n + j];
          }
          A[i * n + e] += 1 - s;
        }
        const t = gc.terminationStats(A, n, e);
        expect(t.almostSure).toBe(true);
        expect(t.rhoB).toBeLessThan(1);
        const idx = Array.from({ length: n }, (_, i) => i).filter((i) => i !== e);
        const B = idx.map((i) => idx.map((j) => A[i * n + j] / A.subarray(i * n, (i + 1) * n).reduce((a, b) => a + b, 0)));
        const len = solveRef(B.map((row, r) => row.map((v, c) => (r === c ? 1 : 0) - v)), idx.map(() => [1]));
        idx.forEach((i, r) => {
          expect(Math.abs(t.expectedLength[i] - len[r][0])).toBeLessThanOrEqual(1e-10 * len[r][0]);
          expect(t.absorbProb[i]).toBe(1);
        });
      });

      it('bad input', () => {
        expect(() => gc.terminationStats(Float64Array.of(0.8, 0.1, 0, 1), 2, 1)).toThrow(/row 0 sums to 0\.9/);
        expect(() => gc.terminationStats(Float64Array.of(0.9, 0.1, 0, 1), 2, 2)).toThrow(RangeError);
        expect(() => gc.terminationStats(Float64Array.of(0.9, 0.1, 0, 1), 2, 1.5)).toThrow(RangeError);
        expect(() => gc.terminationStats(Float64Array.of(1), 1, 0)).toThrow(RangeError);
        expect(() => gc.terminationStats([0.9, 0.1, 0, 1] as never, 2, 1)).toThrow(TypeError);
      });
    });

    describe('highInflowPairs', () => {
      it('matches a direct computation on Int32 counts; stop rule', () => {
        const n = 12;
        const r = rng(3);
        const counts = Int32Array.from({ length: n * n }, () => (r() < 0.3 ? Math.floor(r() * 50) : 0));
        counts[5 * n + 2] = 500; // one dominant pair
        const res = gc.highInflowPairs(counts, n, { threshold: 0.3 });
        const pairs: number[] = [];
        const inflow = new Array(n).fill(0);
        let maxProb = 0;
        for (let i = 0; i < n; i++) {
          let s = n;
          for (let j = 0; j < n; j++) s += counts[i * n + j];
          for (let j = 0; j < n; j++) {
            const a = (counts[i * n + j] + 1) / s;
            inflow[j] += a;
            maxProb = Math.max(maxProb, a);
            if (a > 0.3) pairs.push(i, j);
          }
        }
        expect(Array.from(res.pairs)).toEqual(pairs);
        expect(pairs).toContain(5);
        expect(res.maxProb).toBeCloseTo(maxProb, 15);
        inflow.forEach((v, j) => expect(res.inflow[j]).toBeCloseTo(v, 13));
        expect(res.maxInflowIndex).toBe(inflow.indexOf(Math.max(...inflow)));
        const none = gc.highInflowPairs(counts, n, { threshold: 1 });
        expect(none.pairs.length).toBe(0);
        expect(none.maxProb).toBeLessThanOrEqual(1);
        expect(() => gc.highInflowPairs(counts, n, { threshold: 0 })).toThrow(RangeError);
        expect(() => gc.highInflowPairs(Int32Array.of(1, -1, 0, 0), 2)).toThrow(/row 0, column 1/);
        expect(() => gc.highInflowPairs([1, 2, 3, 4] as never, 2)).toThrow(TypeError);
      });
    });
  });
}
