// Entropy of softmax / probability rows and the solve for the exponent γ that gives a target entropy
// (docs/entropy.md §2–§4): p̃ = softmax(γ·s) on the support S, s = shifted logits (z − max z) or
// log(p / p_max) for probability rows.
//
// ABI (all exports; pointers are byte addresses in linear memory, sizes are in ELEMENTS):
//   entropy_rows_f32 / _f64(x, rows, cols, fromLogits, hOut, scratch)
//   entropy_solve_f32 / _f64(x, rows, cols, fromLogits, targets, gamma0, tol, maxIter, method,
//                            out, gammaOut, hOut, itOut, statusOut, scratch, logTable)
// - x: rows×cols row-major f32 / f64. Rows need not be 16-byte aligned (every v128 access is an
//   unaligned-safe load/store; a row's last cols % 4 (f32) or cols % 2 (f64) entries go through a
//   vector padded with −∞, so nothing past the row is read or written).
// - targets, gamma0, gammaOut, hOut: f64 per row. itOut: i32 per row. statusOut: u8 per row.
//   gamma0 entries must be finite and > 0 (the host maps anything else to 1).
// - out: rows×cols of x's type for the output rows, or 0 for none (temperatureForEntropy). out must not
//   overlap x or scratch: every moment pass stores its weights w = e^{βs} there, so the output of the
//   final pass is a 1/Z scaling instead of another exp pass.
// - scratch: cols elements of x's type, 16-byte aligned; probability rows keep their s = log(p/p_max) there.
// - logTable: f64[cols + 1] with logTable[i] = the host's Math.log(i). log m and log k decide the clamps by
//   exact comparison with the caller's targets (docs/entropy.md §3.2: H* = Math.log(m) is ClampedHigh), and engines'
//   logs differ in the last bit (V8 and this module's log disagree on log 3), so the host's values are used.
// - method: 0 = safeguarded Newton in u = log β on r = log((log m − H)/(H − log k)) (docs/entropy.md §3.3),
//   1 = 'su', plain Newton on β (docs/entropy.md §3.4).
// - Status codes: 0 Ok, 1 ClampedHigh, 2 ClampedLow, 3 Degenerate, 4 MaxIter, 5 Invalid.
//
// Precision: f64 rows use a float64 exp (inline/expf64x2) and f64x2 sums. f32 rows use an f32x4 exp for
// non-positive arguments (expNonPositiveF32x4 in inline/exp.ts: no overflow handling, fused
// multiply-adds in the relaxed build; a few ulp) and sum the moments in f32x4 partial
// sums over blocks of 64 elements that are added into float64 totals. All three moments are sums of
// same-signed terms, so each block sum carries ~1e-7 relative error and the float64 totals average them
// out: H is within ~1e-7 nats of its float64 value at n = 50 000, enough for tol 1e-6. β for f32 rows is
// rounded to f32 before use, and that rounded β is the one reported.
// The scalar solver logic runs in f64. One call solves a chunk of rows, one row at a time, so a row
// (≤ 200 KB at 50 000 f32) stays in cache across its passes.

import { expNonPositiveF32x4 } from '../../inline/exp';
import { expF64x2 } from '../../inline/expf64x2';
import { maddF32x4, maddF64x2 } from '../../inline/madd';

const OK: u8 = 0;
const CLAMPED_HIGH: u8 = 1;
const CLAMPED_LOW: u8 = 2;
const DEGENERATE: u8 = 3;
const MAX_ITER: u8 = 4;
const INVALID: u8 = 5;

/** Cap of one Newton step in u = log β (a factor of 30 in β), docs/entropy.md §3.3. */
const LOG30: f64 = 3.4011973816621555;
/** Elements per f32 partial-sum block before it is added into the f64 totals. */
const F32_BLOCK: i32 = 64;
/** Shifted values below this are masked entries (−∞); they are replaced by a finite stand-in so that
 *  0·s stays 0 in the moment sums. */
const F32_FLOOR: f32 = -3.0e38;
const F64_FLOOR: f64 = -1.0e308;
/** Below this, expF64x2 clamps instead of underflowing: such weights are set to exactly 0. */
const F64_EXP_MIN: f64 = -708.0;

// Per-row results of the prep pass and of one moment pass (module globals: one instance per thread).
let prepMax: f64 = 0;
let prepM: i32 = 0;
let prepK: i32 = 0;
let prepValid: bool = true;
let sumZ: f64 = 0;
let sumA: f64 = 0;
let sumB: f64 = 0;

// ---------------------------------------------------------------------------------------------------
// Prep pass: max, support size m, ties at the max k, validity (no exp).

/** Logit row: NaN or +∞ invalid; −∞ masked. One SIMD pass tracking per-lane max and ties at it. */
function prepLogitsF32(x: usize, n: i32): void {
  let vmax = f32x4.splat(-Infinity);
  let ties = i32x4.splat(0);
  let support = i32x4.splat(0);
  let bad = i32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i <= n; i += 4) {
    let v: v128;
    if (i < n4) v = v128.load(x + (<usize>i << 2));
    else {
      const rem = n - i;
      if (rem == 0) break;
      v = f32x4.splat(-Infinity);
      v = f32x4.replace_lane(v, 0, load<f32>(x + (<usize>i << 2)));
      if (rem > 1) v = f32x4.replace_lane(v, 1, load<f32>(x + (<usize>(i + 1) << 2)));
      if (rem > 2) v = f32x4.replace_lane(v, 2, load<f32>(x + (<usize>(i + 2) << 2)));
    }
    bad = v128.or(bad, v128.or(f32x4.ne(v, v), f32x4.eq(v, f32x4.splat(Infinity))));
    support = i32x4.sub(support, f32x4.ne(v, f32x4.splat(-Infinity)));
    const nm = f32x4.pmax(vmax, v); // NaN rows are flagged in `bad`; pmax is one instruction
    ties = v128.andnot(ties, f32x4.ne(nm, vmax));
    ties = i32x4.sub(ties, f32x4.eq(v, nm));
    vmax = nm;
  }
  finishPrep(
    v128.any_true(bad),
    <f64>f32x4.extract_lane(vmax, 0), <f64>f32x4.extract_lane(vmax, 1),
    <f64>f32x4.extract_lane(vmax, 2), <f64>f32x4.extract_lane(vmax, 3),
    i32x4.extract_lane(ties, 0), i32x4.extract_lane(ties, 1), i32x4.extract_lane(ties, 2), i32x4.extract_lane(ties, 3),
    i32x4.extract_lane(support, 0) + i32x4.extract_lane(support, 1) + i32x4.extract_lane(support, 2) + i32x4.extract_lane(support, 3),
  );
}

function prepLogitsF64(x: usize, n: i32): void {
  let vmax = f64x2.splat(-Infinity);
  let ties = i64x2.splat(0);
  let support = i64x2.splat(0);
  let bad = i64x2.splat(0);
  let i = 0;
  for (; i < n; i += 2) {
    let v: v128;
    if (i + 1 < n) v = v128.load(x + (<usize>i << 3));
    else v = f64x2.replace_lane(f64x2.splat(-Infinity), 0, load<f64>(x + (<usize>i << 3)));
    bad = v128.or(bad, v128.or(f64x2.ne(v, v), f64x2.eq(v, f64x2.splat(Infinity))));
    support = i64x2.sub(support, f64x2.ne(v, f64x2.splat(-Infinity)));
    const nm = f64x2.pmax(vmax, v);
    ties = v128.andnot(ties, f64x2.ne(nm, vmax));
    ties = i64x2.sub(ties, f64x2.eq(v, nm));
    vmax = nm;
  }
  finishPrep(
    v128.any_true(bad),
    f64x2.extract_lane(vmax, 0), f64x2.extract_lane(vmax, 1), -Infinity, -Infinity,
    <i32>i64x2.extract_lane(ties, 0), <i32>i64x2.extract_lane(ties, 1), 0, 0,
    <i32>(i64x2.extract_lane(support, 0) + i64x2.extract_lane(support, 1)),
  );
}

/** Combine per-lane maxima and tie counts into the row's max, k, m and validity. */
function finishPrep(bad: bool, m0: f64, m1: f64, m2: f64, m3: f64, t0: i32, t1: i32, t2: i32, t3: i32, support: i32): void {
  const mx = max(max(m0, m1), max(m2, m3));
  prepMax = mx;
  prepK = (m0 == mx ? t0 : 0) + (m1 == mx ? t1 : 0) + (m2 == mx ? t2 : 0) + (m3 == mx ? t3 : 0);
  prepM = support;
  prepValid = !bad && support > 0;
}

/**
 * Probability row: NaN, +∞ or a negative entry is invalid; ±0 is outside the support. Writes
 * s = log(p / p_max) (−∞ off the support) to `s` — one log per element, in f64.
 */
function prepProbs<T>(x: usize, n: i32, s: usize): void {
  let pmax: f64 = 0;
  let valid = true;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const p = <f64>load<T>(x + (<usize>i << alignof<T>()));
    if (!(p >= 0) || p == Infinity) valid = false;
    else if (p > 0) {
      m++;
      if (p > pmax) pmax = p;
    }
  }
  prepM = m;
  prepValid = valid && m > 0;
  prepMax = 0;
  if (!prepValid) return;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = <f64>load<T>(x + (<usize>i << alignof<T>()));
    if (p == pmax) k++;
    store<T>(s + (<usize>i << alignof<T>()), <T>(p > 0 ? Math.log(p / pmax) : -Infinity));
  }
  prepK = k;
}

/** Prep for one row; returns the pointer to the values the moment passes read (x or the s scratch). */
// @ts-ignore: decorator
@inline function prepRow<T>(x: usize, n: i32, fromLogits: i32, scratch: usize): usize {
  if (fromLogits) {
    if (sizeof<T>() == 4) prepLogitsF32(x, n);
    else prepLogitsF64(x, n);
    return x;
  }
  prepProbs<T>(x, n, scratch);
  return scratch;
}

// ---------------------------------------------------------------------------------------------------
// Moment pass: w = e^{β(v − vmax)}, Z = Σw, A = Σw·d, B = Σw·d² with d = v − vmax (masked: w = 0).

// @ts-ignore: decorator
@inline function lanesF32(v: v128, vm: v128): v128 {
  // pmax: one instruction on x64 (max's NaN/±0 rules cost several); valid rows hold no NaN.
  return f32x4.pmax(f32x4.sub(v, vm), f32x4.splat(F32_FLOOR));
}

/** f32 row: stores the weights to `w` when w ≠ 0 (pointer), accumulates in 64-element f32 blocks then f64. */
function momentsF32(v: usize, n: i32, vmax: f32, beta: f32, w: usize): void {
  // Two instantiations so the store test is resolved at compile time, not in the hot loop.
  if (w) momentsF32Impl<u8>(v, n, vmax, beta, w);
  else momentsF32Impl<u16>(v, n, vmax, beta, w);
}

/** STORE = u8: store the weights; u16: do not. */
function momentsF32Impl<STORE>(v: usize, n: i32, vmax: f32, beta: f32, w: usize): void {
  const vm = f32x4.splat(vmax);
  const vb = f32x4.splat(beta);
  let z64 = f64x2.splat(0);
  let a64 = f64x2.splat(0);
  let b64 = f64x2.splat(0);
  const n4 = n & ~3;
  let i = 0;
  while (i < n4) {
    const end = min(i + F32_BLOCK, n4);
    let z = f32x4.splat(0);
    let a = f32x4.splat(0);
    let b = f32x4.splat(0);
    for (; i < end; i += 4) {
      const d = lanesF32(v128.load(v + (<usize>i << 2)), vm);
      const e = expNonPositiveF32x4(f32x4.mul(d, vb));
      if (sizeof<STORE>() == 1) v128.store(w + (<usize>i << 2), e);
      z = f32x4.add(z, e);
      const ed = f32x4.mul(e, d);
      a = f32x4.add(a, ed);
      b = maddF32x4(ed, d, b);
    }
    z64 = f64x2.add(z64, f64x2.add(f64x2.promote_low_f32x4(z), f64x2.promote_low_f32x4(v128.shuffle<f32>(z, z, 2, 3, 0, 1))));
    a64 = f64x2.add(a64, f64x2.add(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1))));
    b64 = f64x2.add(b64, f64x2.add(f64x2.promote_low_f32x4(b), f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1))));
  }
  let zs = f64x2.extract_lane(z64, 0) + f64x2.extract_lane(z64, 1);
  let as = f64x2.extract_lane(a64, 0) + f64x2.extract_lane(a64, 1);
  let bs = f64x2.extract_lane(b64, 0) + f64x2.extract_lane(b64, 1);
  const rem = n - n4;
  if (rem > 0) {
    const p = v + (<usize>n4 << 2);
    let x = f32x4.splat(-Infinity);
    x = f32x4.replace_lane(x, 0, load<f32>(p));
    if (rem > 1) x = f32x4.replace_lane(x, 1, load<f32>(p + 4));
    if (rem > 2) x = f32x4.replace_lane(x, 2, load<f32>(p + 8));
    const d = lanesF32(x, vm);
    const e = expNonPositiveF32x4(f32x4.mul(d, vb));
    const ed = f32x4.mul(e, d);
    const b = f32x4.mul(ed, d);
    for (let j = 0; j < 3; j++) {
      if (j >= rem) break;
      const ej: f32 = j == 0 ? f32x4.extract_lane(e, 0) : j == 1 ? f32x4.extract_lane(e, 1) : f32x4.extract_lane(e, 2);
      const edj: f32 = j == 0 ? f32x4.extract_lane(ed, 0) : j == 1 ? f32x4.extract_lane(ed, 1) : f32x4.extract_lane(ed, 2);
      const bj: f32 = j == 0 ? f32x4.extract_lane(b, 0) : j == 1 ? f32x4.extract_lane(b, 1) : f32x4.extract_lane(b, 2);
      if (w) store<f32>(w + (<usize>(n4 + j) << 2), ej);
      zs += <f64>ej;
      as += <f64>edj;
      bs += <f64>bj;
    }
  }
  sumZ = zs;
  sumA = as;
  sumB = bs;
}

/** f64 row: float64 exp and f64x2 sums. */
function momentsF64(v: usize, n: i32, vmax: f64, beta: f64, w: usize): void {
  const vm = f64x2.splat(vmax);
  const vb = f64x2.splat(beta);
  const floor = f64x2.splat(F64_FLOOR);
  const lo = f64x2.splat(F64_EXP_MIN);
  let z = f64x2.splat(0);
  let a = f64x2.splat(0);
  let b = f64x2.splat(0);
  for (let i = 0; i < n; i += 2) {
    let x: v128;
    if (i + 1 < n) x = v128.load(v + (<usize>i << 3));
    else x = f64x2.replace_lane(f64x2.splat(-Infinity), 0, load<f64>(v + (<usize>i << 3)));
    const d = f64x2.pmax(f64x2.sub(x, vm), floor);
    const t = f64x2.mul(d, vb);
    const e = v128.and(expF64x2(t), f64x2.ge(t, lo));
    if (w) {
      if (i + 1 < n) v128.store(w + (<usize>i << 3), e);
      else store<f64>(w + (<usize>i << 3), f64x2.extract_lane(e, 0));
    }
    z = f64x2.add(z, e);
    const ed = f64x2.mul(e, d);
    a = f64x2.add(a, ed);
    b = maddF64x2(ed, d, b);
  }
  sumZ = f64x2.extract_lane(z, 0) + f64x2.extract_lane(z, 1);
  sumA = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  sumB = f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
}

// @ts-ignore: decorator
@inline function moments<T>(v: usize, n: i32, vmax: f64, beta: f64, w: usize): void {
  if (sizeof<T>() == 4) momentsF32(v, n, <f32>vmax, <f32>beta, w);
  else momentsF64(v, n, vmax, beta, w);
}

/** β as the kernel uses it: rounded to f32 (and kept finite, > 0 where possible) for f32 rows. */
// @ts-ignore: decorator
@inline function usedBeta<T>(beta: f64): f64 {
  if (sizeof<T>() == 4) return <f64>min(<f32>beta, F32.MAX_VALUE);
  return beta;
}

// ---------------------------------------------------------------------------------------------------
// Output rows.

/** out = w · (1/Z) over the row (w was stored by the last moment pass). */
function scaleRow<T>(out: usize, n: i32, invZ: f64): void {
  if (sizeof<T>() == 4) {
    const s = f32x4.splat(<f32>invZ);
    const n4 = n & ~3;
    let i = 0;
    for (; i < n4; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(out + (<usize>i << 2)), s));
    for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(out + (<usize>i << 2)) * <f32>invZ);
  } else {
    const s = f64x2.splat(invZ);
    const n2 = n & ~1;
    let i = 0;
    for (; i < n2; i += 2) v128.store(out + (<usize>i << 3), f64x2.mul(v128.load(out + (<usize>i << 3)), s));
    if (i < n) store<f64>(out + (<usize>i << 3), load<f64>(out + (<usize>i << 3)) * invZ);
  }
}

/** Uniform 1/count on the support (onlyMax = false) or on the argmax set (onlyMax = true); 0 elsewhere. */
function uniformRow<T>(v: usize, n: i32, vmax: f64, onlyMax: bool, count: i32, out: usize): void {
  const u: T = <T>(1.0 / <f64>count);
  for (let i = 0; i < n; i++) {
    const x = <f64>load<T>(v + (<usize>i << alignof<T>()));
    const inSet = onlyMax ? x == vmax : x != -Infinity;
    store<T>(out + (<usize>i << alignof<T>()), inSet ? u : <T>0);
  }
}

function fillRow<T>(out: usize, n: i32, value: T): void {
  for (let i = 0; i < n; i++) store<T>(out + (<usize>i << alignof<T>()), value);
}

// ---------------------------------------------------------------------------------------------------
// Exports.

/**
 * Entropy (nats) of each row: H = log Z − μ with w = e^s (logits) or w = p/p_max (probabilities).
 * Invalid rows give NaN. scratch: cols elements of the row type (probability rows).
 */
export function entropy_rows_f32(x: usize, rows: i32, cols: i32, fromLogits: i32, hOut: usize, scratch: usize): void {
  entropyRows<f32>(x, rows, cols, fromLogits, hOut, scratch);
}

export function entropy_rows_f64(x: usize, rows: i32, cols: i32, fromLogits: i32, hOut: usize, scratch: usize): void {
  entropyRows<f64>(x, rows, cols, fromLogits, hOut, scratch);
}

function entropyRows<T>(x: usize, rows: i32, cols: i32, fromLogits: i32, hOut: usize, scratch: usize): void {
  const rowBytes = <usize>cols << alignof<T>();
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * rowBytes;
    const v = prepRow<T>(row, cols, fromLogits, scratch);
    let h: f64 = NaN;
    if (prepValid) {
      moments<T>(v, cols, prepMax, 1.0, 0);
      h = Math.log(sumZ) - sumA / sumZ;
    }
    store<f64>(hOut + (<usize>r << 3), h);
  }
}

/** Solve every row of a chunk (see the header for the ABI). */
export function entropy_solve_f32(x: usize, rows: i32, cols: i32, fromLogits: i32, targets: usize, gamma0: usize, tol: f64,
                                  maxIter: i32, method: i32, out: usize, gammaOut: usize, hOut: usize, itOut: usize,
                                  statusOut: usize, scratch: usize, logTable: usize): void {
  solveRows<f32>(x, rows, cols, fromLogits, targets, gamma0, tol, maxIter, method, out, gammaOut, hOut, itOut, statusOut, scratch, logTable);
}

export function entropy_solve_f64(x: usize, rows: i32, cols: i32, fromLogits: i32, targets: usize, gamma0: usize, tol: f64,
                                  maxIter: i32, method: i32, out: usize, gammaOut: usize, hOut: usize, itOut: usize,
                                  statusOut: usize, scratch: usize, logTable: usize): void {
  solveRows<f64>(x, rows, cols, fromLogits, targets, gamma0, tol, maxIter, method, out, gammaOut, hOut, itOut, statusOut, scratch, logTable);
}

// Per-row solve results.
let resGamma: f64 = 0;
let resH: f64 = 0;
let resIters: i32 = 0;
let resStatus: u8 = 0;
/** The stored weights belong to the returned β, so the output row is a 1/Z scaling of them. */
let resStoredZ: f64 = 0;

function solveRows<T>(x: usize, rows: i32, cols: i32, fromLogits: i32, targets: usize, gamma0: usize, tol: f64, maxIter: i32,
                      method: i32, out: usize, gammaOut: usize, hOut: usize, itOut: usize, statusOut: usize, scratch: usize,
                      logTable: usize): void {
  const rowBytes = <usize>cols << alignof<T>();
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * rowBytes;
    const outRow: usize = out ? out + <usize>r * rowBytes : 0;
    const target = load<f64>(targets + (<usize>r << 3));
    const g0 = load<f64>(gamma0 + (<usize>r << 3));
    const v = prepRow<T>(row, cols, fromLogits, scratch);
    solveRow<T>(v, cols, target, g0, tol, maxIter, method, outRow, logTable);
    store<f64>(gammaOut + (<usize>r << 3), resGamma);
    store<f64>(hOut + (<usize>r << 3), resH);
    store<i32>(itOut + (<usize>r << 2), resIters);
    store<u8>(statusOut + <usize>r, resStatus);
  }
}

/** Classify a prepped row and solve it (docs/entropy.md §3.2–§3.4); results in res*, output row written if outRow ≠ 0. */
function solveRow<T>(v: usize, n: i32, target: f64, g0: f64, tol: f64, maxIter: i32, method: i32, outRow: usize, logTable: usize): void {
  resIters = 0;
  if (!prepValid) {
    resStatus = INVALID;
    resGamma = NaN;
    resH = NaN;
    if (outRow) fillRow<T>(outRow, n, <T>NaN);
    return;
  }
  const m = prepM;
  const k = prepK;
  const logM = load<f64>(logTable + (<usize>m << 3));
  const logK = load<f64>(logTable + (<usize>k << 3));
  const vmax = prepMax;
  if (m == k || target >= logM) {
    resStatus = m == k ? DEGENERATE : CLAMPED_HIGH;
    resGamma = m == k ? 1.0 : 0.0;
    resH = logM;
    if (outRow) uniformRow<T>(v, n, vmax, false, m, outRow);
    return;
  }
  if (target <= logK) {
    resStatus = CLAMPED_LOW;
    resGamma = Infinity;
    resH = logK;
    if (outRow) uniformRow<T>(v, n, vmax, true, k, outRow);
    return;
  }
  if (method == 1) solveSu<T>(v, n, vmax, target, g0, tol, maxIter, outRow);
  else solveSafeguarded<T>(v, n, vmax, logM, logK, target, g0, tol, maxIter, outRow);
  if (!outRow) return;
  if (resStoredZ > 0) scaleRow<T>(outRow, n, 1.0 / resStoredZ);
  else {
    // The best β was not the last one evaluated: one more exp pass for the output (not counted).
    moments<T>(v, n, vmax, resGamma, outRow);
    scaleRow<T>(outRow, n, 1.0 / sumZ);
  }
}

// Best evaluated β of the current solve (smallest |H − H*|).
let bestBeta: f64 = 0;
let bestH: f64 = 0;
let bestErr: f64 = 0;

/** One moment pass at β; returns H and leaves the variance in passVar. Tracks the best β. */
let passVar: f64 = 0;
// @ts-ignore: decorator
@inline function evaluate<T>(v: usize, n: i32, vmax: f64, beta: f64, target: f64, outRow: usize): f64 {
  moments<T>(v, n, vmax, beta, outRow);
  const mu = sumA / sumZ;
  passVar = sumB / sumZ - mu * mu;
  const h = Math.log(sumZ) - beta * mu;
  const err = abs(h - target);
  resIters++;
  if (err < bestErr) {
    bestErr = err;
    bestBeta = beta;
    bestH = h;
    resStoredZ = sumZ;
  } else {
    resStoredZ = 0;
  }
  return h;
}

// @ts-ignore: decorator
@inline function startSolve(): void {
  bestErr = Infinity;
  bestBeta = NaN;
  bestH = NaN;
  resStoredZ = 0;
}

// @ts-ignore: decorator
@inline function finish(status: u8): void {
  resStatus = status;
  resGamma = bestBeta;
  resH = bestH;
}

function solveSafeguarded<T>(v: usize, n: i32, vmax: f64, logM: f64, logK: f64, target: f64, g0: f64, tol: f64, maxIter: i32, outRow: usize): void {
  startSolve();
  const span = logM - logK;
  const rstar = Math.log((logM - target) / (target - logK));
  let u = Math.log(g0);
  let ulo: f64 = -Infinity;
  let uhi: f64 = Infinity;
  let dx1: f64 = Infinity;
  let dx2: f64 = Infinity;
  for (let pass = 1; pass <= maxIter; pass++) {
    const beta = usedBeta<T>(Math.exp(u));
    const h = evaluate<T>(v, n, vmax, beta, target, outRow);
    if (abs(h - target) <= tol) {
      finish(OK);
      return;
    }
    if (h > target) ulo = u;
    else uhi = u;
    const a1 = logM - h;
    const a2 = h - logK;
    const vr = passVar;
    let step: f64 = NaN;
    if (a1 > 0 && a2 > 0 && vr > 0) {
      step = (rstar - Math.log(a1 / a2)) * a1 * a2 / (beta * beta * vr * span);
      step = min(max(step, -LOG30), LOG30);
    }
    let un = u + step;
    const bracketed = isFinite(ulo) && isFinite(uhi);
    if (!isFinite(un) || !(ulo < un && un < uhi) || (bracketed && abs(step) > abs(dx2) * 0.5)) {
      un = bracketed ? (ulo + uhi) * 0.5 : isFinite(ulo) ? ulo + LOG30 : uhi - LOG30;
    }
    dx2 = dx1;
    dx1 = un - u;
    if (bracketed && uhi - ulo <= 2e-15 * max(1.0, max(abs(ulo), abs(uhi)))) break;
    u = un;
  }
  finish(MAX_ITER);
}

function solveSu<T>(v: usize, n: i32, vmax: f64, target: f64, g0: f64, tol: f64, maxIter: i32, outRow: usize): void {
  startSolve();
  let beta = usedBeta<T>(g0);
  for (let pass = 1; pass <= maxIter; pass++) {
    const h = evaluate<T>(v, n, vmax, beta, target, outRow);
    if (abs(h - target) <= tol) {
      finish(OK);
      return;
    }
    // Newton on the cumulative exponent: dH/dβ = −β·Var.
    const next = beta + (h - target) / (beta * passVar);
    if (!(isFinite(next) && next > 0)) break;
    beta = usedBeta<T>(next);
  }
  finish(MAX_ITER);
}
