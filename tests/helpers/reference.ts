/** Independent float64 references and seeded random data for tests (never gencore's own code). */

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-1, 1). */
export function randomArray<T extends Float32Array | Float64Array>(
  ctor: { new (n: number): T },
  length: number,
  rnd: () => number,
): T {
  const out = new ctor(length);
  for (let i = 0; i < length; i++) out[i] = rnd() * 2 - 1;
  return out;
}

/** C = alpha·op(A)·op(B) + beta·C0 in float64 (C0 ignored when beta = 0), row-major, packed operands. */
export function refGemm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c0: ArrayLike<number> | undefined,
  m: number,
  k: number,
  n: number,
  o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {},
): Float64Array {
  const { transA = false, transB = false, alpha = 1, beta = 0 } = o;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i] : a[i * k + p];
        const bpj = transB ? b[j * k + p] : b[p * n + j];
        s += aip * bpj;
      }
      c[i * n + j] = alpha * s + (beta !== 0 && c0 ? beta * c0[i * n + j] : 0);
    }
  }
  return c;
}

/** relF(X, Y) = ‖X − Y‖_F / ‖Y‖_F (the spec's error metric); ‖X − Y‖_F when Y = 0. */
export function relFro(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    e += (got[i] - want[i]) ** 2;
    n += want[i] ** 2;
  }
  return n === 0 ? Math.sqrt(e) : Math.sqrt(e / n);
}
