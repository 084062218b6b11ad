/**
 * gc.attention (exact, blockwise online softmax) and gc.nystromAttention, docs/attention.md §4–§5.
 * References are written here in float64 from the spec's definitions: exact attention by a direct
 * two-pass softmax, Nyström with F, A, B materialised and evaluated in the reference codes' order
 * (F·Z)·(B·v), Z by the literal hyperpower recurrence with identity matrices.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Gencore } from '../../bindings/index.js';
import { loadInstance, type WasmInstance } from '../../bindings/wasm/load.js';
import { relFro } from '../helpers/reference.js';

function lcg32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return 2 * (s / 4294967296) - 1;
  };
}
const randF32 = (len: number, rnd: () => number, amp = 1) => Float32Array.from({ length: len }, () => amp * rnd());

function mm(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let p = 0; p < k; p++) {
    const x = a[i * k + p];
    if (x === 0) continue;
    for (let j = 0; j < c; j++) out[i * c + j] += x * b[p * c + j];
  }
  return out;
}

/** Row softmax of scale·X·Yᵀ (X r×d, Y c×d) over the columns with keep[j] (all when undefined); empty rows are zeros. */
function softmaxKernel(x: ArrayLike<number>, y: ArrayLike<number>, r: number, c: number, d: number, scale: number, keep?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    let mx = -Infinity;
    const s = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      if (keep && !keep[j]) continue;
      let t = 0;
      for (let p = 0; p < d; p++) t += x[i * d + p] * y[j * d + p];
      s[j] = scale * t;
      mx = Math.max(mx, s[j]);
    }
    if (mx === -Infinity) continue;
    let l = 0;
    for (let j = 0; j < c; j++) if (!keep || keep[j]) l += Math.exp(s[j] - mx);
    for (let j = 0; j < c; j++) if (!keep || keep[j]) out[i * c + j] = Math.exp(s[j] - mx) / l;
  }
  return out;
}

interface Dims {
  n: number;
  nk?: number;
  d: number;
  dv?: number;
  heads?: number;
  scale?: number;
}

function maskRow(mask: Uint8Array | undefined, h: number, keys: number): Uint8Array | undefined {
  if (!mask) return undefined;
  return mask.length === keys ? mask : mask.subarray(h * keys, (h + 1) * keys);
}

function refAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, o: Dims & { keyMask?: Uint8Array }): Float64Array {
  const { n, d } = o;
  const nk = o.nk ?? n;
  const dv = o.dv ?? d;
  const heads = o.heads ?? 1;
  const scale = o.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(heads * n * dv);
  for (let h = 0; h < heads; h++) {
    const qh = Array.prototype.slice.call(q, h * n * d, (h + 1) * n * d) as number[];
    const kh = Array.prototype.slice.call(k, h * nk * d, (h + 1) * nk * d) as number[];
    const vh = Array.prototype.slice.call(v, h * nk * dv, (h + 1) * nk * dv) as number[];
    const w = softmaxKernel(qh, kh, n, nk, d, scale, maskRow(o.keyMask, h, nk));
    out.set(mm(w, vh, n, nk, dv), h * n * dv);
  }
  return out;
}

function refPinv(a: ArrayLike<number>, n: number, iterations: number): Float64Array {
  let n1 = 0;
  let ninf = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    let c = 0;
    for (let j = 0; j < n; j++) {
      r += Math.abs(a[i * n + j]);
      c += Math.abs(a[j * n + i]);
    }
    ninf = Math.max(ninf, r);
    n1 = Math.max(n1, c);
  }
  const alpha = 1 / (n1 * ninf);
  let z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) z[j * n + i] = alpha * a[i * n + j];
  const sub = (s: number, m: Float64Array) => {
    const r = m.map((x) => -x);
    for (let i = 0; i < n; i++) r[i * n + i] += s;
    return r;
  };
  for (let it = 0; it < iterations; it++) {
    const az = mm(a, z, n, n, n);
    const t = mm(az, sub(15, mm(az, sub(7, az), n, n, n)), n, n, n);
    z = mm(z, sub(13, t), n, n, n).map((x) => x / 4);
  }
  return z;
}

/** Segments of docs/attention.md §5.2: [start, length] for m < n. */
function segments(n: number, m: number): Array<[number, number]> {
  const s = Math.floor(n / m);
  const r = n % m;
  return Array.from({ length: m }, (_, i) => [i * s + Math.max(0, i - (m - r)), i < m - r ? s : s + 1]);
}

function refNystrom(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  o: Dims & { landmarks?: number; pinvIterations?: number; keyMask?: Uint8Array; convKernel?: ArrayLike<number> },
): Float64Array {
  const { n, d } = o;
  const dv = o.dv ?? d;
  const heads = o.heads ?? 1;
  const m = o.landmarks ?? 64;
  const scale = o.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(heads * n * dv);
  for (let h = 0; h < heads; h++) {
    const qh = Array.prototype.slice.call(q, h * n * d, (h + 1) * n * d) as number[];
    const kh = Array.prototype.slice.call(k, h * n * d, (h + 1) * n * d) as number[];
    const vh = Array.prototype.slice.call(v, h * n * dv, (h + 1) * n * dv) as number[];
    const mu = maskRow(o.keyMask, h, n);
    let res: Float64Array;
    if (m >= n) {
      res = mm(softmaxKernel(qh, kh, n, n, d, scale, mu), vh, n, n, dv);
    } else {
      const ql = new Float64Array(m * d);
      const kl = new Float64Array(m * d);
      segments(n, m).forEach(([start, len], i) => {
        for (let j = start; j < start + len; j++) {
          if (mu && !mu[j]) continue;
          for (let p = 0; p < d; p++) {
            ql[i * d + p] += qh[j * d + p] / len;
            kl[i * d + p] += kh[j * d + p] / len;
          }
        }
      });
      const F = softmaxKernel(qh, kl, n, m, d, scale);
      const A = softmaxKernel(ql, kl, m, m, d, scale);
      const B = softmaxKernel(ql, kh, m, n, d, scale, mu);
      const Z = refPinv(A, m, o.pinvIterations ?? 6);
      res = mm(mm(F, Z, n, m, m), mm(B, vh, m, n, dv), n, m, dv);
    }
    if (o.convKernel) {
      const kc = o.convKernel.length / heads;
      for (let i = 0; i < n; i++) for (let t = 0; t < kc; t++) {
        const j = i + t - (kc >> 1);
        if (j < 0 || j >= n || (mu && !mu[j])) continue;
        for (let c = 0; c < dv; c++) res[i * dv + c] += o.convKernel[h * kc + t] * vh[j * dv + c];
      }
    }
    out.set(res, h * n * dv);
  }
  return out;
}

for (const simd of ['plain', 'relaxed'] as const) {
  describe(`attention (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    it('matches the float64 reference on random shapes (odd n, d, dv, nk ≠ n, heads, masks)', () => {
      const rnd = lcg32(101);
      const cases: Array<Dims & { mask?: 'shared' | 'perHead' | 'sparse' }> = [
        { n: 1, d: 1 },
        { n: 7, d: 3, dv: 5 },
        { n: 33, nk: 17, d: 9, dv: 7, heads: 3 },
        { n: 45, nk: 300, d: 13, dv: 11, heads: 2, mask: 'shared' },
        { n: 70, nk: 129, d: 16, dv: 3, heads: 3, mask: 'perHead' },
        { n: 65, nk: 257, d: 64, dv: 64, mask: 'sparse', scale: 0.3 },
        { n: 5, nk: 2, d: 2, dv: 9, heads: 4, scale: -1.5 },
      ];
      for (const c of cases) {
        const heads = c.heads ?? 1;
        const nk = c.nk ?? c.n;
        const dv = c.dv ?? c.d;
        const q = randF32(heads * c.n * c.d, rnd, 2);
        const k = randF32(heads * nk * c.d, rnd, 2);
        const v = randF32(heads * nk * dv, rnd);
        let keyMask: Uint8Array | undefined;
        if (c.mask === 'shared') keyMask = Uint8Array.from({ length: nk }, () => (rnd() > -0.4 ? 1 : 0));
        if (c.mask === 'perHead') keyMask = Uint8Array.from({ length: heads * nk }, () => (rnd() > 0 ? 1 : 0));
        if (c.mask === 'sparse') keyMask = Uint8Array.from({ length: nk }, (_, j) => (j % 37 === 5 || j === 200 ? 1 : 0));
        const opts = { ...c, keyMask };
        const got = gc.attention(q, k, v, opts);
        expect(got.length).toBe(heads * c.n * dv);
        expect(relFro(got, refAttention(q, k, v, opts))).toBeLessThan(2e-6);
      }
    });

    it('does not depend on block sizes beyond rounding', () => {
      const rnd = lcg32(7);
      const [n, nk, d, dv] = [77, 301, 24, 20];
      const q = randF32(n * d, rnd, 2);
      const k = randF32(nk * d, rnd, 2);
      const v = randF32(nk * dv, rnd);
      const keyMask = Uint8Array.from({ length: nk }, () => (rnd() > -0.5 ? 1 : 0));
      const base = gc.attention(q, k, v, { n, nk, d, dv, keyMask });
      for (const [bq, bk] of [[1, 1], [8, 8], [5, 13], [64, 512], [256, 4096]]) {
        const got = gc.attention(q, k, v, { n, nk, d, dv, keyMask, blockQueries: bq, blockKeys: bk });
        expect(relFro(got, base)).toBeLessThan(1e-6);
      }
    });

    it('gives masked keys weight exactly 0: their content never changes the result', () => {
      const rnd = lcg32(9);
      const [n, nk, d, dv] = [20, 50, 8, 6];
      const q = randF32(n * d, rnd);
      const k = randF32(nk * d, rnd);
      const v = randF32(nk * dv, rnd);
      const keyMask = Uint8Array.from({ length: nk }, (_, j) => (j % 3 === 0 ? 0 : 1));
      const a = gc.attention(q, k, v, { n, nk, d, dv, keyMask });
      const k2 = k.slice();
      const v2 = v.slice();
      for (let j = 0; j < nk; j += 3) {
        for (let p = 0; p < d; p++) k2[j * d + p] = 1e30;
        for (let c = 0; c < dv; c++) v2[j * dv + c] = -3e38;
      }
      expect(gc.attention(q, k2, v2, { n, nk, d, dv, keyMask })).toEqual(a);
    });

    it('rows with no unmasked key, and nk = 0, give zeros; n = 0 gives an empty result', () => {
      const q = Float32Array.from([1, 2, 3, 4]);
      const k = Float32Array.from([1, 0, 0, 1, 1, 1]);
      const v = Float32Array.from([5, 6, 7]);
      expect(Array.from(gc.attention(q, k, v, { n: 2, nk: 3, d: 2, dv: 1, keyMask: new Uint8Array(3) }))).toEqual([0, 0]);
      const perHead = Uint8Array.from([0, 0, 0, 1, 0, 0]);
      const two = gc.attention(new Float32Array(8).fill(1), new Float32Array(12), new Float32Array(6).fill(2), { n: 2, nk: 3, d: 2, dv: 1, heads: 2, keyMask: perHead });
      expect(Array.from(two)).toEqual([0, 0, 2, 2]);
      expect(Array.from(gc.attention(q, new Float32Array(0), new Float32Array(0), { n: 2, nk: 0, d: 2, dv: 3 }))).toEqual([0, 0, 0, 0, 0, 0]);
      expect(gc.attention(new Float32Array(0), k, v, { n: 0, nk: 3, d: 2, dv: 1 }).length).toBe(0);
    });

    it('is invariant to a constant added to every logit of a row, even past exp overflow (88.7)', () => {
      const rnd = lcg32(21);
      const [n, nk, d] = [9, 40, 6];
      const q = randF32(n * d, rnd);
      const k = randF32(nk * d, rnd);
      const v = randF32(nk * d, rnd);
      const base = gc.attention(q, k, v, { n, nk, d, scale: 1 });
      // One more feature: q_i[d] = 30 + i, k_j[d] = 10, so row i's logits all grow by 300 + 10i.
      const q2 = new Float32Array(n * (d + 1));
      const k2 = new Float32Array(nk * (d + 1));
      for (let i = 0; i < n; i++) {
        q2.set(q.subarray(i * d, (i + 1) * d), i * (d + 1));
        q2[i * (d + 1) + d] = 30 + i;
      }
      for (let j = 0; j < nk; j++) {
        k2.set(k.subarray(j * d, (j + 1) * d), j * (d + 1));
        k2[j * (d + 1) + d] = 10;
      }
      const shifted = gc.attention(q2, k2, v, { n, nk, d: d + 1, dv: d, scale: 1 });
      expect(shifted.every(Number.isFinite)).toBe(true);
      // The logits (~400) are rounded to f32 (ulp 3e-5), so the weights move by about that much.
      expect(relFro(shifted, base)).toBeLessThan(2e-4);
    });

    it('handles huge logits (hard attention) without overflow', () => {
      const q = Float32Array.from([1000, 0, 0, 1000]);
      const k = Float32Array.from([1000, 0, 0, 1000, 999, 0]);
      const v = Float32Array.from([1, 2, 3]);
      const out = gc.attention(q, k, v, { n: 2, nk: 3, d: 2, dv: 1, scale: 1 });
      expect(Array.from(out)).toEqual([1, 2]);
    });

    it('with all-ones values returns ones (softmax rows sum to 1)', () => {
      const rnd = lcg32(4);
      const [n, nk, d] = [31, 77, 10];
      const out = gc.attention(randF32(n * d, rnd, 3), randF32(nk * d, rnd, 3), new Float32Array(nk * 2).fill(1), { n, nk, d, dv: 2 });
      for (const x of out) expect(Math.abs(x - 1)).toBeLessThan(2e-6);
    });

    it('fills opts.out and returns it', () => {
      const rnd = lcg32(5);
      const q = randF32(12, rnd);
      const out = new Float32Array(12);
      expect(gc.attention(q, q, q, { n: 4, d: 3, out })).toBe(out);
      expect(relFro(out, refAttention(q, q, q, { n: 4, d: 3 }))).toBeLessThan(2e-6);
    });

    it('rejects bad input with TypeError / RangeError', () => {
      const q = new Float32Array(12);
      const o = { n: 4, d: 3 };
      expect(() => gc.attention(q, q, q, undefined as unknown as typeof o)).toThrow(TypeError);
      expect(() => gc.attention(new Float64Array(12) as unknown as Float32Array, q, q, o)).toThrow(TypeError);
      expect(() => gc.attention(q, q, q, { n: 4, d: 4 })).toThrow(/q.length 12 does not match heads\*n\*d = 16/);
      expect(() => gc.attention(q, new Float32Array(9), q, o)).toThrow(RangeError);
      expect(() => gc.attention(q, q, new Float32Array(8), o)).toThrow(RangeError);
      expect(() => gc.attention(q, q, q, { ...o, d: 0 })).toThrow(RangeError);
      expect(() => gc.attention(q, q, q, { ...o, n: 2.5 })).toThrow(RangeError);
      expect(() => gc.attention(q, q, q, { ...o, n: '4' as unknown as number })).toThrow(TypeError);
      expect(() => gc.attention(q, q, q, { ...o, keyMask: new Uint8Array(5) })).toThrow(/keyMask.length 5/);
      expect(() => gc.attention(q, q, q, { ...o, keyMask: [1, 1, 1, 1] as unknown as Uint8Array })).toThrow(TypeError);
      expect(() => gc.attention(q, q, q, { ...o, scale: NaN })).toThrow(RangeError);
      const bad = q.slice();
      bad[7] = NaN;
      expect(() => gc.attention(q, bad, q, o)).toThrow(/k\[7\] is NaN/);
      expect(() => gc.attention(q, q, q, { ...o, out: new Float32Array(11) })).toThrow(RangeError);
      expect(() => gc.attention(q, q, q, { ...o, out: q })).toThrow(/overlap/);
    });

    it('returns the heap to its baseline', () => {
      const base = gc.memory.bytesInUse;
      const rnd = lcg32(8);
      const q = randF32(3 * 50 * 8, rnd);
      for (let i = 0; i < 10; i++) {
        gc.attention(q, q, q, { n: 50, d: 8, heads: 3 });
        gc.nystromAttention(q, q, q, { n: 50, d: 8, heads: 3, landmarks: 7, convKernel: new Float32Array(9) });
      }
      expect(() => gc.attention(q, q, q, { n: 50, d: 8, heads: 3, keyMask: new Uint8Array(7) })).toThrow(RangeError);
      expect(gc.memory.bytesInUse).toBe(base);
    });
  });

  describe(`nystromAttention (${simd} build)`, () => {
    let gc: Gencore;
    beforeAll(async () => {
      gc = await init({ simd });
    });

    it('matches the float64 reference (evaluated as (F·Z)·(B·v)) on random shapes with masks and conv', () => {
      const rnd = lcg32(202);
      const cases = [
        { n: 10, d: 3, landmarks: 4 },
        { n: 37, d: 5, dv: 7, heads: 2, landmarks: 6, mask: true },
        { n: 64, d: 16, dv: 9, landmarks: 16, pinvIterations: 3, conv: 5 },
        { n: 101, d: 12, dv: 13, heads: 3, landmarks: 9, mask: true, perHead: true, conv: 3 },
        { n: 300, d: 64, dv: 64, landmarks: 64 },
      ];
      for (const c of cases) {
        const heads = c.heads ?? 1;
        const dv = c.dv ?? c.d;
        const q = randF32(heads * c.n * c.d, rnd);
        const k = randF32(heads * c.n * c.d, rnd);
        const v = randF32(heads * c.n * dv, rnd);
        const keyMask = c.mask ? Uint8Array.from({ length: (c.perHead ? heads : 1) * c.n }, () => (rnd() > -0.6 ? 1 : 0)) : undefined;
        const convKernel = c.conv ? randF32(heads * c.conv, rnd) : undefined;
        const opts = { ...c, keyMask, convKernel };
        const got = gc.nystromAttention(q, k, v, opts);
        const want = refNystrom(q, k, v, opts);
        expect(relFro(got, want)).toBeLessThan(1e-5);
      }
    });

    it('uses m ≥ n → exact attention plus the conv term, with w = [1, 2, 3] giving v[i−1] + 2v[i] + 3v[i+1]', () => {
      const rnd = lcg32(3);
      const [n, d, dv] = [13, 4, 3];
      const q = randF32(n * d, rnd);
      const k = randF32(n * d, rnd);
      const v = randF32(n * dv, rnd);
      const exact = gc.attention(q, k, v, { n, d, dv });
      expect(gc.nystromAttention(q, k, v, { n, d, dv, landmarks: n })).toEqual(exact);
      expect(gc.nystromAttention(q, k, v, { n, d, dv, landmarks: 1000 })).toEqual(exact);
      const withConv = gc.nystromAttention(q, k, v, { n, d, dv, landmarks: n, convKernel: Float32Array.from([1, 2, 3]) });
      for (let i = 0; i < n; i++) for (let c = 0; c < dv; c++) {
        const at = (j: number) => (j >= 0 && j < n ? v[j * dv + c] : 0);
        const conv = at(i - 1) + 2 * at(i) + 3 * at(i + 1);
        expect(withConv[i * dv + c] - exact[i * dv + c]).toBeCloseTo(conv, 5);
      }
    });

    it('valid rows do not depend on the content of masked tokens', () => {
      const rnd = lcg32(17);
      const [n, d, dv, m] = [40, 6, 5, 6];
      const q = randF32(n * d, rnd);
      const k = randF32(n * d, rnd);
      const v = randF32(n * dv, rnd);
      const keyMask = Uint8Array.from({ length: n }, (_, j) => (j % 4 === 1 ? 0 : 1));
      const convKernel = randF32(3, rnd);
      const a = gc.nystromAttention(q, k, v, { n, d, dv, landmarks: m, keyMask, convKernel });
      const [q2, k2, v2] = [q.slice(), k.slice(), v.slice()];
      for (let j = 1; j < n; j += 4) {
        for (let p = 0; p < d; p++) {
          q2[j * d + p] = 50 * rnd();
          k2[j * d + p] = 50 * rnd();
        }
        for (let c = 0; c < dv; c++) v2[j * dv + c] = 1e6 * rnd();
      }
      const b = gc.nystromAttention(q2, k2, v2, { n, d, dv, landmarks: m, keyMask, convKernel });
      for (let i = 0; i < n; i++) {
        if (!keyMask[i]) continue;
        for (let c = 0; c < dv; c++) expect(b[i * dv + c]).toBe(a[i * dv + c]);
      }
    });

    it('segment means follow the spec rule (n = 10, m = 4 → [0,2) [2,4) [4,7) [7,10)); a constant sequence averages to itself', async () => {
      const inst: WasmInstance = await loadInstance({ simd });
      const [n, d, m] = [10, 3, 4];
      inst.mem.scoped((scope) => {
        const x = scope.alloc(n * d * 4);
        const mask = scope.alloc(n);
        const out = scope.alloc(m * d * 4);
        const xv = inst.mem.f32(x, n * d);
        for (let j = 0; j < n; j++) for (let p = 0; p < d; p++) xv[j * d + p] = j * 10 + p;
        inst.kernels.segment_means_f32(x, 0, n, d, m, out);
        const mean = (a: number, b: number, p: number) => (((a + b - 1) / 2) * 10 + p);
        const want = [[0, 2], [2, 4], [4, 7], [7, 10]].flatMap(([a, b]) => [0, 1, 2].map((p) => mean(a, b, p)));
        expect(Array.from(inst.mem.f32(out, m * d))).toEqual(want.map(Math.fround));
        // Masked tokens count as zeros, the divisor stays the segment length.
        const mv = inst.mem.u8(mask, n);
        mv.fill(1);
        mv[5] = 0;
        inst.kernels.segment_means_f32(x, mask, n, d, m, out);
        expect(inst.mem.f32(out, m * d)[2 * d]).toBeCloseTo((40 + 60) / 3, 5);
        inst.mem.f32(x, n * d).fill(2.5);
        inst.kernels.segment_means_f32(x, 0, n, d, 3, out);
        expect(Array.from(inst.mem.f32(out, 3 * d))).toEqual(new Array(3 * d).fill(2.5));
      });
    });

    it('the kernels F, A, B have rows summing to 1 (row softmax kernel), and exp is accurate to 1e-6', async () => {
      const inst: WasmInstance = await loadInstance({ simd });
      inst.mem.scoped((scope) => {
        const [rows, cols] = [5, 67];
        const x = scope.alloc(rows * cols * 4);
        const xv = inst.mem.f32(x, rows * cols);
        const rnd = lcg32(1);
        for (let i = 0; i < xv.length; i++) xv[i] = (i % 2 ? 200 : 5) * rnd();
        const want = new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) {
          const row = Array.from(xv.subarray(i * cols, (i + 1) * cols));
          const mx = Math.max(...row);
          const l = row.reduce((acc, x) => acc + Math.exp(x - mx), 0);
          row.forEach((x, j) => (want[i * cols + j] = Math.exp(x - mx) / l));
        }
        inst.kernels.softmax_rows_f32(x, rows, cols, cols);
        const sm = inst.mem.f32(x, rows * cols);
        for (let i = 0; i < rows; i++) {
          let s = 0;
          for (let j = 0; j < cols; j++) {
            s += sm[i * cols + j];
            if (want[i * cols + j] > 1e-30) expect(Math.abs(sm[i * cols + j] - want[i * cols + j]) / want[i * cols + j]).toBeLessThan(2e-6);
          }
          expect(Math.abs(s - 1)).toBeLessThan(1e-6);
        }
        const N = 20001;
        const a = scope.alloc(N * 4);
        const b = scope.alloc(N * 4);
        const av = inst.mem.f32(a, N);
        for (let i = 0; i < N; i++) av[i] = -87.3 + (176 * i) / (N - 1);
        inst.kernels.softmax_exp_f32(a, b, N);
        const bv = inst.mem.f32(b, N);
        let worst = 0;
        for (let i = 0; i < N; i++) {
          const want = Math.exp(av[i]);
          if (want > 3.4e38) continue;
          worst = Math.max(worst, Math.abs(bv[i] - want) / want);
        }
        expect(worst).toBeLessThan(1e-6);
        av.set([-Infinity, -100, Infinity, NaN, 0, 89]);
        inst.kernels.softmax_exp_f32(a, b, 6);
        expect(Array.from(inst.mem.f32(b, 6))).toEqual([0, 0, Infinity, NaN, 1, Infinity]);
      });
    });

    it('m = n with an exact inverse gives exact attention (pinv + matmul on the materialised kernels)', () => {
      // With one token per segment, F = A = B = the attention matrix S, and F·S⁻¹·B·v = S·v.
      const n = 8;
      const q = new Float32Array(n * n);
      for (let i = 0; i < n; i++) q[i * n + i] = 2;
      const S = softmaxKernel(q, q, n, n, n, 1);
      const Z = gc.pinv(Float64Array.from(S), n, n, { iterations: 40 });
      const rnd = lcg32(2);
      const v = randF32(n * 3, rnd);
      const viaInverse = gc.matmul(gc.matmul(Float64Array.from(S), Z, n, n, n), gc.matmul(Float64Array.from(S), Float64Array.from(v), n, n, 3), n, n, 3);
      const exact = gc.attention(q, q, v, { n, d: n, dv: 3, scale: 1 });
      expect(relFro(viaInverse, exact)).toBeLessThan(1e-6);
    });

    it('evaluation orders F·(Z·(B·v)) and (F·Z)·(B·v) agree to rounding (float64 reference)', () => {
      const rnd = lcg32(77);
      const [n, d, m] = [30, 4, 5];
      const q = Array.from({ length: n * d }, rnd);
      const k = Array.from({ length: n * d }, rnd);
      const v = Array.from({ length: n * 2 }, rnd);
      const ql = new Float64Array(m * d);
      const kl = new Float64Array(m * d);
      segments(n, m).forEach(([s, len], i) => {
        for (let j = s; j < s + len; j++) for (let p = 0; p < d; p++) {
          ql[i * d + p] += q[j * d + p] / len;
          kl[i * d + p] += k[j * d + p] / len;
        }
      });
      const F = softmaxKernel(q, kl, n, m, d, 0.5);
      const Z = refPinv(softmaxKernel(ql, kl, m, m, d, 0.5), m, 6);
      const Bv = mm(softmaxKernel(ql, k, m, n, d, 0.5), v, m, n, 2);
      expect(relFro(mm(F, mm(Z, Bv, m, m, 2), n, m, 2), mm(mm(F, Z, n, m, m), Bv, n, m, 2))).toBeLessThan(1e-13);
    });

    it('rejects bad input with TypeError / RangeError', () => {
      const q = new Float32Array(20);
      const o = { n: 5, d: 4 };
      expect(() => gc.nystromAttention(q, q, q, { ...o, landmarks: 0 })).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, landmarks: 2.5 })).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, landmarks: '4' as unknown as number })).toThrow(TypeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, pinvIterations: 101 })).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, new Float32Array(19), o)).toThrow(/v.length 19/);
      expect(() => gc.nystromAttention(q, new Float32Array(24), q, o)).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, keyMask: new Uint8Array(4) })).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, convKernel: new Float32Array(4) })).toThrow(/kc odd/);
      expect(() => gc.nystromAttention(q, q, q, { ...o, heads: 2, n: 5, d: 2, convKernel: new Float32Array(3) })).toThrow(RangeError);
      expect(() => gc.nystromAttention(q, q, q, { ...o, convKernel: Float32Array.from([1, NaN, 1]) })).toThrow(/convKernel\[1\] is NaN/);
      const bad = q.slice();
      bad[3] = Infinity;
      expect(() => gc.nystromAttention(bad, q, q, o)).toThrow(/q\[3\] is Infinity/);
      expect(() => gc.nystromAttention(q, q, q, undefined as unknown as typeof o)).toThrow(TypeError);
    });
  });
}
