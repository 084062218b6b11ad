// Counter-based random numbers: Threefry-2x32-20 (Random123) and the Box–Muller normals built on it
// (docs/diffusion.md §8).
//
// A value is a pure function of (key, counter): key = (seed mod 2^32, ⌊seed/2^32⌋), counter = (pair j,
// stream). Normal element e comes from pair ⌊e/2⌋ (cos for even e, sin for odd e), so a result does not
// depend on how a batch is split, on the worker count or on the SIMD width.
//
// Bit-identity between the SIMD body and the scalar head/tail: every step is an IEEE-exact lane-wise
// operation (integer ops, f32 add/mul/div/sqrt, nearest), evaluated in the same order in both forms, and
// no fused multiply-add is used (plain mul/add on purpose), so the value also does not depend on the build.
//
// Accuracy of the f32 normals: ln u by the atanh series on m ∈ [√½, √2) (truncation < 1e-10 relative),
// sin/cos of 2π·r on r ∈ [−1/8, 1/8] after an exact quarter-turn reduction of u (Taylor to x^9 / x^10,
// truncation < 2e-9): |z − z_exact| ≲ 3e-7·(1 + |z|), inside the spec's 2e-6·(1 + |z|).
//
// ABI: pointers are byte addresses; counts are elements; no alignment is required (v128 loads/stores
// are unaligned-safe), 16-byte alignment is merely faster.

// @ts-ignore: decorator
@inline const KS_PARITY: u32 = 0x1bd11bda;
const TWO_PI_F32: f32 = 6.2831854820251465; // f32(2π)
const LN2_F32: f32 = 0.6931471824645996; // f32(ln 2)
const SQRT2_F32: f32 = 1.4142135381698608;
// Polynomial coefficients as explicit f32 constants, shared by the scalar and the SIMD forms.
const R3: f32 = <f32>(1.0 / 3.0); const R5: f32 = <f32>(1.0 / 5.0); const R7: f32 = <f32>(1.0 / 7.0);
const R9: f32 = <f32>(1.0 / 9.0); const R11: f32 = <f32>(1.0 / 11.0);
const F3: f32 = <f32>(1.0 / 6.0); const F5: f32 = <f32>(1.0 / 120.0); const F7: f32 = <f32>(1.0 / 5040.0);
const F9: f32 = <f32>(1.0 / 362880.0);
const F2: f32 = 0.5; const F4: f32 = <f32>(1.0 / 24.0); const F6: f32 = <f32>(1.0 / 720.0);
const F8: f32 = <f32>(1.0 / 40320.0); const F10: f32 = <f32>(1.0 / 3628800.0);

// ---------------------------------------------------------------- Threefry-2x32-20, scalar and 4-lane

// @ts-ignore: decorator
@inline function rotl(x: u32, r: u32): u32 { return (x << r) | (x >>> (32 - r)); }

/** One Threefry-2x32-20 block; returns word 0 in the low 32 bits and word 1 in the high 32 bits. */
export function threefryScalar(k0: u32, k1: u32, c0: u32, c1: u32): u64 {
  const k2: u32 = k0 ^ k1 ^ KS_PARITY;
  let x0: u32 = c0 + k0;
  let x1: u32 = c1 + k1;
  // Five groups of four rounds, each followed by key injection i = 1..5.
  for (let g: u32 = 0; g < 5; g++) {
    const odd = (g & 1) != 0;
    x0 += x1; x1 = rotl(x1, odd ? 17 : 13) ^ x0;
    x0 += x1; x1 = rotl(x1, odd ? 29 : 15) ^ x0;
    x0 += x1; x1 = rotl(x1, odd ? 16 : 26) ^ x0;
    x0 += x1; x1 = rotl(x1, odd ? 24 : 6) ^ x0;
    const i = g + 1;
    const m = i % 3;
    x0 += m == 0 ? k0 : m == 1 ? k1 : k2;
    x1 += (m == 0 ? k1 : m == 1 ? k2 : k0) + i;
  }
  return (<u64>x1 << 32) | <u64>x0;
}

// @ts-ignore: decorator
@inline function rotlV(x: v128, r: i32): v128 { return v128.or(i32x4.shl(x, r), i32x4.shr_u(x, 32 - r)); }

/** Four Threefry blocks with counters (c0 + lane, c1): word 0 lanes in `lo`, word 1 lanes in `hi`. */
// @ts-ignore: decorator
@inline function threefryV(k0: u32, k1: u32, c0: v128, c1: v128, out: usize): void {
  const k2: u32 = k0 ^ k1 ^ KS_PARITY;
  const K0 = i32x4.splat(k0); const K1 = i32x4.splat(k1); const K2 = i32x4.splat(k2);
  let x0 = i32x4.add(c0, K0);
  let x1 = i32x4.add(c1, K1);
  // Unrolled: rotations 13 15 26 6 | 17 29 16 24, injections ks[i mod 3], ks[(i+1) mod 3] + i.
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 13), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 15), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 26), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 6), x0);
  x0 = i32x4.add(x0, K1); x1 = i32x4.add(x1, i32x4.add(K2, i32x4.splat(1)));
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 17), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 29), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 16), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 24), x0);
  x0 = i32x4.add(x0, K2); x1 = i32x4.add(x1, i32x4.add(K0, i32x4.splat(2)));
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 13), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 15), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 26), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 6), x0);
  x0 = i32x4.add(x0, K0); x1 = i32x4.add(x1, i32x4.add(K1, i32x4.splat(3)));
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 17), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 29), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 16), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 24), x0);
  x0 = i32x4.add(x0, K1); x1 = i32x4.add(x1, i32x4.add(K2, i32x4.splat(4)));
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 13), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 15), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 26), x0);
  x0 = i32x4.add(x0, x1); x1 = v128.xor(rotlV(x1, 6), x0);
  x0 = i32x4.add(x0, K2); x1 = i32x4.add(x1, i32x4.add(K0, i32x4.splat(5)));
  v128.store(out, x0);
  v128.store(out, x1, 16);
}

/** Two independent Threefry chains (counters c0a + lane and c0b + lane): interleaved for ILP, since each
 * chain is a serial dependency. Stores w0a, w1a, w0b, w1b at out (64 bytes). Same lane values as threefryV. */
// @ts-ignore: decorator
@inline function threefryV2(k0: u32, k1: u32, c0a: v128, c0b: v128, c1: v128, out: usize): void {
  const k2: u32 = k0 ^ k1 ^ KS_PARITY;
  const K0 = i32x4.splat(k0); const K1 = i32x4.splat(k1); const K2 = i32x4.splat(k2);
  let a0 = i32x4.add(c0a, K0); let b0 = i32x4.add(c0b, K0);
  let a1 = i32x4.add(c1, K1); let b1 = a1;
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 13), a0); b1 = v128.xor(rotlV(b1, 13), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 15), a0); b1 = v128.xor(rotlV(b1, 15), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 26), a0); b1 = v128.xor(rotlV(b1, 26), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 6), a0); b1 = v128.xor(rotlV(b1, 6), b0);
  a0 = i32x4.add(a0, K1); b0 = i32x4.add(b0, K1);
  a1 = i32x4.add(a1, i32x4.add(K2, i32x4.splat(1))); b1 = i32x4.add(b1, i32x4.add(K2, i32x4.splat(1)));
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 17), a0); b1 = v128.xor(rotlV(b1, 17), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 29), a0); b1 = v128.xor(rotlV(b1, 29), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 16), a0); b1 = v128.xor(rotlV(b1, 16), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 24), a0); b1 = v128.xor(rotlV(b1, 24), b0);
  a0 = i32x4.add(a0, K2); b0 = i32x4.add(b0, K2);
  a1 = i32x4.add(a1, i32x4.add(K0, i32x4.splat(2))); b1 = i32x4.add(b1, i32x4.add(K0, i32x4.splat(2)));
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 13), a0); b1 = v128.xor(rotlV(b1, 13), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 15), a0); b1 = v128.xor(rotlV(b1, 15), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 26), a0); b1 = v128.xor(rotlV(b1, 26), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 6), a0); b1 = v128.xor(rotlV(b1, 6), b0);
  a0 = i32x4.add(a0, K0); b0 = i32x4.add(b0, K0);
  a1 = i32x4.add(a1, i32x4.add(K1, i32x4.splat(3))); b1 = i32x4.add(b1, i32x4.add(K1, i32x4.splat(3)));
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 17), a0); b1 = v128.xor(rotlV(b1, 17), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 29), a0); b1 = v128.xor(rotlV(b1, 29), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 16), a0); b1 = v128.xor(rotlV(b1, 16), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 24), a0); b1 = v128.xor(rotlV(b1, 24), b0);
  a0 = i32x4.add(a0, K1); b0 = i32x4.add(b0, K1);
  a1 = i32x4.add(a1, i32x4.add(K2, i32x4.splat(4))); b1 = i32x4.add(b1, i32x4.add(K2, i32x4.splat(4)));
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 13), a0); b1 = v128.xor(rotlV(b1, 13), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 15), a0); b1 = v128.xor(rotlV(b1, 15), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 26), a0); b1 = v128.xor(rotlV(b1, 26), b0);
  a0 = i32x4.add(a0, a1); b0 = i32x4.add(b0, b1); a1 = v128.xor(rotlV(a1, 6), a0); b1 = v128.xor(rotlV(b1, 6), b0);
  a0 = i32x4.add(a0, K2); b0 = i32x4.add(b0, K2);
  a1 = i32x4.add(a1, i32x4.add(K0, i32x4.splat(5))); b1 = i32x4.add(b1, i32x4.add(K0, i32x4.splat(5)));
  v128.store(out, a0); v128.store(out, a1, 16); v128.store(out, b0, 32); v128.store(out, b1, 48);
}

// ---------------------------------------------------------------- uniforms and normals

/** u(w) = ((w >>> 9) + 0.5)·2^−23, exact in f32, in (0, 1). */
// @ts-ignore: decorator
@inline function uniformS(w: u32): f32 { return (<f32>(w >>> 9) + 0.5) * 1.1920928955078125e-7; }
// @ts-ignore: decorator
@inline function uniformV(w: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.convert_i32x4_s(i32x4.shr_u(w, 9)), f32x4.splat(0.5)), f32x4.splat(1.1920928955078125e-7));
}

/** ln u for u ∈ (0, 1], f32 (u is never subnormal here: u ≥ 2^−24). */
// @ts-ignore: decorator
@inline function lnS(u: f32): f32 {
  const bits = reinterpret<i32>(u);
  let e = (bits >> 23) - 127;
  let m = reinterpret<f32>((bits & 0x7fffff) | 0x3f800000);
  if (m > SQRT2_F32) { m = m * 0.5; e = e + 1; }
  const f = m - 1.0;
  const s = f / (f + 2.0);
  const z = s * s;
  let p: f32 = z * R11 + R9;
  p = p * z + R7;
  p = p * z + R5;
  p = p * z + R3;
  p = p * z + 1.0;
  return <f32>e * LN2_F32 + (s + s) * p;
}
// @ts-ignore: decorator
@inline function lnV(u: v128): v128 {
  let e = i32x4.sub(i32x4.shr_s(u, 23), i32x4.splat(127));
  let m = v128.or(v128.and(u, i32x4.splat(0x7fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, f32x4.splat(SQRT2_F32));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, big);
  e = i32x4.sub(e, big); // big lanes are −1: e + 1
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f, f32x4.splat(2.0)));
  const z = f32x4.mul(s, s);
  let p = f32x4.add(f32x4.mul(z, f32x4.splat(R11)), f32x4.splat(R9));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(R7));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(R5));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(R3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.0));
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(e), f32x4.splat(LN2_F32)), f32x4.mul(f32x4.add(s, s), p));
}

// sin(x), cos(x) for |x| ≤ π/4 by Taylor polynomials in x².
// @ts-ignore: decorator
@inline function sinPolyS(x: f32, x2: f32): f32 {
  let p: f32 = x2 * F9 - F7;
  p = p * x2 + F5;
  p = p * x2 - F3;
  return x + x * (x2 * p);
}
// @ts-ignore: decorator
@inline function cosPolyS(x2: f32): f32 {
  let p: f32 = x2 * -F10 + F8;
  p = p * x2 - F6;
  p = p * x2 + F4;
  p = p * x2 - F2;
  return p * x2 + 1.0;
}
// @ts-ignore: decorator
@inline function sinPolyV(x: v128, x2: v128): v128 {
  let p = f32x4.sub(f32x4.mul(x2, f32x4.splat(F9)), f32x4.splat(F7));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(F5));
  p = f32x4.sub(f32x4.mul(p, x2), f32x4.splat(F3));
  return f32x4.add(x, f32x4.mul(x, f32x4.mul(x2, p)));
}
// @ts-ignore: decorator
@inline function cosPolyV(x2: v128): v128 {
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(-F10)), f32x4.splat(F8));
  p = f32x4.sub(f32x4.mul(p, x2), f32x4.splat(F6));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(F4));
  p = f32x4.sub(f32x4.mul(p, x2), f32x4.splat(F2));
  return f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.0));
}

/** Normal of element e = 2·j + (odd ? 1 : 0) from the words (w0, w1) of pair j. Scalar twin of normalsV. */
// @ts-ignore: decorator
@inline function normalFromWordsS(w0: u32, w1: u32, odd: bool): f32 {
  const rho = Mathf.sqrt(lnS(uniformS(w0)) * -2.0);
  const u = uniformS(w1);
  const q: f32 = nearest<f32>(u * 4.0);
  const x: f32 = (u - q * 0.25) * TWO_PI_F32;
  const x2: f32 = x * x;
  const s = sinPolyS(x, x2);
  const c = cosPolyS(x2);
  const qi = <i32>q;
  // θ = q·π/2 + x: cos θ and sin θ from (c, s) by quadrant.
  let cosT: f32, sinT: f32;
  if ((qi & 1) != 0) { cosT = -s; sinT = c; } else { cosT = c; sinT = s; }
  if ((qi & 2) != 0) { cosT = -cosT; sinT = -sinT; }
  return rho * (odd ? sinT : cosT);
}

/** Scalar normal of global element e on (key, stream). */
export function normalAt(k0: u32, k1: u32, stream: u32, e: u32): f32 {
  const w = threefryScalar(k0, k1, e >>> 1, stream);
  return normalFromWordsS(<u32>w, <u32>(w >>> 32), (e & 1) != 0);
}

/**
 * Eight normals, elements 2·j0 … 2·j0 + 7 (pairs j0 … j0 + 3), in two vectors stored at `out` (32 bytes):
 * [cos0, sin0, cos1, sin1] and [cos2, sin2, cos3, sin3].
 */
// @ts-ignore: decorator
@inline export function normals8(k0: u32, k1: u32, stream: u32, j0: u32, words: usize, out: usize): void {
  const c0 = i32x4.add(i32x4.splat(j0), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
  threefryV(k0, k1, c0, i32x4.splat(stream), words);
  normalsFromWords(v128.load(words), v128.load(words, 16), out);
}

/**
 * Sixteen normals, elements 2·j0 … 2·j0 + 15 (pairs j0 … j0 + 7), stored at `out` (64 bytes), with the
 * same values as two normals8 calls; `words` is 64 bytes of scratch.
 */
// @ts-ignore: decorator
@inline export function normals16(k0: u32, k1: u32, stream: u32, j0: u32, words: usize, out: usize): void {
  const c0 = i32x4.add(i32x4.splat(j0), v128(0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
  threefryV2(k0, k1, c0, i32x4.add(c0, i32x4.splat(4)), i32x4.splat(stream), words);
  normalsFromWords(v128.load(words), v128.load(words, 16), out);
  normalsFromWords(v128.load(words, 32), v128.load(words, 48), out + 32);
}

/** Box–Muller on four pairs of words: [cos0, sin0, cos1, sin1], [cos2, sin2, cos3, sin3] at out. */
// @ts-ignore: decorator
@inline function normalsFromWords(w0: v128, w1: v128, out: usize): void {
  const rho = f32x4.sqrt(f32x4.mul(lnV(uniformV(w0)), f32x4.splat(-2.0)));
  const u = uniformV(w1);
  const q = f32x4.nearest(f32x4.mul(u, f32x4.splat(4.0)));
  const x = f32x4.mul(f32x4.sub(u, f32x4.mul(q, f32x4.splat(0.25))), f32x4.splat(TWO_PI_F32));
  const x2 = f32x4.mul(x, x);
  const s = sinPolyV(x, x2);
  const c = cosPolyV(x2);
  const qi = i32x4.trunc_sat_f32x4_s(q);
  const oddQ = i32x4.eq(v128.and(qi, i32x4.splat(1)), i32x4.splat(1));
  const negQ = i32x4.eq(v128.and(qi, i32x4.splat(2)), i32x4.splat(2));
  let cosT = v128.bitselect(f32x4.neg(s), c, oddQ);
  let sinT = v128.bitselect(c, s, oddQ);
  cosT = v128.bitselect(f32x4.neg(cosT), cosT, negQ);
  sinT = v128.bitselect(f32x4.neg(sinT), sinT, negQ);
  const zc = f32x4.mul(rho, cosT);
  const zs = f32x4.mul(rho, sinT);
  v128.store(out, v128.shuffle<f32>(zc, zs, 0, 4, 1, 5));
  v128.store(out, v128.shuffle<f32>(zc, zs, 2, 6, 3, 7), 16);
}

// ---------------------------------------------------------------- exports

/**
 * Threefry-2x32-20 words of `pairs` consecutive counters (firstPair + i, stream) under key (k0, k1):
 * writes 2·pairs u32 (w0, w1 interleaved) at `out`.
 */
export function rng_words(k0: u32, k1: u32, stream: u32, firstPair: u32, pairs: i32, out: usize): void {
  for (let i = 0; i < pairs; i++) {
    const w = threefryScalar(k0, k1, firstPair + <u32>i, stream);
    store<u32>(out + (<usize>i << 3), <u32>w);
    store<u32>(out + (<usize>i << 3), <u32>(w >>> 32), 4);
  }
}

/**
 * Standard normals of global elements firstElement … firstElement + n − 1 on (k0, k1, stream), f32, at
 * `out` (n elements). `scratch`: rng_scratch_bytes() bytes, 16-byte aligned.
 */
export function rng_normal_f32(k0: u32, k1: u32, stream: u32, firstElement: u32, n: i32, out: usize, scratch: usize): void {
  let i = 0;
  let e = firstElement;
  if ((e & 1) != 0 && n > 0) {
    store<f32>(out, normalAt(k0, k1, stream, e));
    i = 1; e++;
  }
  const vecs = scratch + 64;
  for (; i + 16 <= n; i += 16, e += 16) {
    normals16(k0, k1, stream, e >>> 1, scratch, vecs);
    for (let v: usize = 0; v < 64; v += 16) v128.store(out + (<usize>i << 2) + v, v128.load(vecs + v));
  }
  for (; i + 8 <= n; i += 8, e += 8) {
    normals8(k0, k1, stream, e >>> 1, scratch, vecs);
    v128.store(out + (<usize>i << 2), v128.load(vecs));
    v128.store(out + (<usize>i << 2), v128.load(vecs, 16), 16);
  }
  for (; i < n; i++, e++) store<f32>(out + (<usize>i << 2), normalAt(k0, k1, stream, e));
}

/** Bytes of scratch rng_normal_f32 and the fused diffusion step need (words + one block of normals). */
export function rng_scratch_bytes(): i32 {
  return 128;
}
