// Exact softmax attention, fused and blockwise (online softmax), plus the small pieces Nyström attention
// needs around it: segment-mean landmarks and the depthwise-conv skip. All f32.
//
// ABI (all exports; one head per call, the host loops over heads and splits rows across workers):
//   attention_f32(q, k, v, mask, out, r0, rows, nk, d, dv, scale, bq, bk, scratch)
//     out[i, :] = Σ_j w_ij·v[j, :] for query rows i ∈ [r0, r0 + rows), w = softmax over unmasked keys of
//     scale·(q[i, :]·k[j, :]); a row with no unmasked key is zeros (docs/attention.md §4).
//   attention_f32_scratch_bytes(d, dv, bq, bk) → bytes of scratch attention_f32 needs.
//   segment_means_f32(x, mask, n, d, m, out)
//     out[i, :] = (1/|S_i|)·Σ_{j∈S_i} μ_j·x[j, :], the m contiguous segments of docs/attention.md §5.2.
//   conv_skip_f32(v, mask, w, kc, out, n, dv, r0, rows)
//     out[i, c] += Σ_t w[t]·μ_{i'}·v[i', c], i' = i + t − ⌊kc/2⌋ ∈ [0, n), for i ∈ [r0, r0 + rows).
// - q: n×d, k: nk×d, v: nk×dv, out: n×dv, x: n×d, all dense row-major f32 of ONE head; byte addresses,
//   4-byte aligned (vector accesses are unaligned-safe). Sizes and strides are in ELEMENTS.
// - mask: byte address of nk (or n) u8, nonzero = attend / μ = 1; 0 means "no mask".
// - bq: query rows per block, bk: keys per block (each ≥ 1; rounded up to multiples of 8 inside).
//   scratch: 16-byte aligned, attention_f32_scratch_bytes(d, dv, bq, bk) bytes; independent of n and nk.
// - out must not overlap the inputs or scratch. The kernels never allocate.
//
// Layout of one query block (Bq rows) — everything is kept query-major so that the softmax runs across
// four queries per vector with no horizontal reductions, and no key or value is ever repacked:
//   Qt  d×Bq    the block's queries transposed (packed once per query block, clamped past the last row)
//   St  Bk×Bq   scores of one key block: St[j, i] = scale·(k_j·q_i) — a 4-key × 8-query micro-kernel that
//               broadcasts k_j[p] from the key rows and loads Qt[p, i..i+8]
//   Ot  dv×Bq   unnormalised output, transposed: Ot[c, i] = corr_i·Ot[c, i] + Σ_j St[j, i]·v_j[c]
//               — a 4-column × 8-query micro-kernel that broadcasts v_j[c] from the value rows
//   M, L        running row maximum and sum (online softmax, Milakov & Gimelshein), per query
// Keys are consumed in ascending order in blocks of up to Bk unmasked keys (masked keys are skipped: a
// pointer list holds only the unmasked rows), so a row's result does not depend on how rows are split.

import { expNonPositiveF32x4 } from '../../inline/exp';
import { maddF32x4 } from '../../inline/madd';

// @ts-ignore: decorator
@inline function roundUp8(x: i32): i32 { return (x + 7) & ~7; }
// @ts-ignore: decorator
@inline function align16(x: usize): usize { return (x + 15) & ~(<usize>15); }
// @ts-ignore: decorator
@inline function minI32(a: i32, b: i32): i32 { return a < b ? a : b; }

/** Scratch for attention_f32 with these sizes: Qt, St, Ot, M, L, corr, key/value row pointers. */
export function attention_f32_scratch_bytes(d: i32, dv: i32, bq: i32, bk: i32): i32 {
  const BQ = roundUp8(max(bq, 1));
  const BK = roundUp8(max(bk, 1));
  return (d * BQ + BK * BQ + dv * BQ + 3 * BQ) * 4 + 2 * BK * 4 + 6 * 16;
}

export function attention_f32(q: usize, k: usize, v: usize, mask: usize, out: usize, r0: i32, rows: i32, nk: i32,
                              d: i32, dv: i32, scale: f32, bq: i32, bk: i32, scratch: usize): void {
  if (rows <= 0) return;
  const BQ = roundUp8(max(bq, 1));
  const BK = roundUp8(max(bk, 1));
  const qt = scratch;
  const st = align16(qt + <usize>(d * BQ) * 4);
  const ot = align16(st + <usize>(BK * BQ) * 4);
  const mrow = align16(ot + <usize>(dv * BQ) * 4);
  const lrow = align16(mrow + <usize>BQ * 4);
  const corr = align16(lrow + <usize>BQ * 4);
  const kptr = align16(corr + <usize>BQ * 4);
  const vptr = kptr + <usize>BK * 4;
  const kRowBytes = <usize>d * 4;
  const vRowBytes = <usize>dv * 4;
  const rEnd = r0 + rows;

  for (let ib = r0; ib < rEnd; ib += BQ) {
    const nq = minI32(BQ, rEnd - ib);
    packQueries(q, ib, nq, d, BQ, qt);
    for (let i = 0; i < BQ; i += 4) {
      v128.store(mrow + <usize>i * 4, f32x4.splat(-Infinity));
      v128.store(lrow + <usize>i * 4, f32x4.splat(0));
    }
    let first = true;
    let cursor = 0;
    while (cursor < nk) {
      // Gather the next ≤ BK unmasked keys (ascending), as row pointers.
      let cnt = 0;
      if (mask == 0) {
        cnt = minI32(BK, nk - cursor);
        for (let j = 0; j < cnt; j++) {
          store<u32>(kptr + <usize>j * 4, <u32>(k + <usize>(cursor + j) * kRowBytes));
          store<u32>(vptr + <usize>j * 4, <u32>(v + <usize>(cursor + j) * vRowBytes));
        }
        cursor += cnt;
      } else {
        while (cursor < nk && cnt < BK) {
          if (load<u8>(mask + <usize>cursor) != 0) {
            store<u32>(kptr + <usize>cnt * 4, <u32>(k + <usize>cursor * kRowBytes));
            store<u32>(vptr + <usize>cnt * 4, <u32>(v + <usize>cursor * vRowBytes));
            cnt++;
          }
          cursor++;
        }
      }
      if (cnt == 0) break;
      scoreBlock(kptr, cnt, qt, d, BQ, scale, st);
      onlineSoftmax(st, cnt, BQ, mrow, lrow, corr, first);
      accumulateValues(vptr, cnt, st, BQ, dv, corr, ot, first);
      first = false;
    }
    writeRows(ot, lrow, nq, dv, BQ, first, out + <usize>ib * vRowBytes);
  }
}

/** Qt[p, i] = q[ib + min(i, nq − 1), p] for i < BQ: padded queries repeat the last row (never written out). */
function packQueries(q: usize, ib: i32, nq: i32, d: i32, BQ: i32, qt: usize): void {
  const rowBytes = <usize>d * 4;
  const colBytes = <usize>BQ * 4;
  const d4 = d & ~3;
  for (let i = 0; i < BQ; i += 4) {
    const s0 = q + <usize>(ib + minI32(i, nq - 1)) * rowBytes;
    const s1 = q + <usize>(ib + minI32(i + 1, nq - 1)) * rowBytes;
    const s2 = q + <usize>(ib + minI32(i + 2, nq - 1)) * rowBytes;
    const s3 = q + <usize>(ib + minI32(i + 3, nq - 1)) * rowBytes;
    const dst = qt + <usize>i * 4;
    for (let p = 0; p < d4; p += 4) {
      const o = <usize>p * 4;
      transpose4Store(v128.load(s0 + o), v128.load(s1 + o), v128.load(s2 + o), v128.load(s3 + o), dst + <usize>p * colBytes, colBytes);
    }
    for (let p = d4; p < d; p++) {
      const o = <usize>p * 4;
      const t = dst + <usize>p * colBytes;
      store<f32>(t, load<f32>(s0 + o));
      store<f32>(t, load<f32>(s1 + o), 4);
      store<f32>(t, load<f32>(s2 + o), 8);
      store<f32>(t, load<f32>(s3 + o), 12);
    }
  }
}

/** Stores the transpose of the 4×4 block with rows r0..r3 as four rows of 4 lanes at dst, dst + stride, … */
// @ts-ignore: decorator
@inline function transpose4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const lo01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), hi01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const lo23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), hi23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7));
}

/**
 * St[j, i] = scale·Σ_p k_j[p]·Qt[p, i] for j < cnt (rounded up to 4; rows past cnt repeat the last key
 * and are never read), i < BQ.
 */
function scoreBlock(kptr: usize, cnt: i32, qt: usize, d: i32, BQ: i32, scale: f32, st: usize): void {
  const colBytes = <usize>BQ * 4;
  const vs = f32x4.splat(scale);
  const last = cnt - 1;
  for (let j = 0; j < cnt; j += 4) {
    const k0 = <usize>load<u32>(kptr + <usize>j * 4);
    const k1 = <usize>load<u32>(kptr + <usize>minI32(j + 1, last) * 4);
    const k2 = <usize>load<u32>(kptr + <usize>minI32(j + 2, last) * 4);
    const k3 = <usize>load<u32>(kptr + <usize>minI32(j + 3, last) * 4);
    const dstRow = st + <usize>j * colBytes;
    for (let i = 0; i < BQ; i += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pq = qt + <usize>i * 4;
      let off: usize = 0;
      const offEnd = <usize>d * 4;
      while (off < offEnd) {
        const b0 = v128.load(pq, 0);
        const b1 = v128.load(pq, 16);
        const a0 = v128.load32_splat(k0 + off);
        c00 = maddF32x4(a0, b0, c00); c01 = maddF32x4(a0, b1, c01);
        const a1 = v128.load32_splat(k1 + off);
        c10 = maddF32x4(a1, b0, c10); c11 = maddF32x4(a1, b1, c11);
        const a2 = v128.load32_splat(k2 + off);
        c20 = maddF32x4(a2, b0, c20); c21 = maddF32x4(a2, b1, c21);
        const a3 = v128.load32_splat(k3 + off);
        c30 = maddF32x4(a3, b0, c30); c31 = maddF32x4(a3, b1, c31);
        pq += colBytes;
        off += 4;
      }
      const dst = dstRow + <usize>i * 4;
      v128.store(dst, f32x4.mul(c00, vs), 0); v128.store(dst, f32x4.mul(c01, vs), 16);
      v128.store(dst + colBytes, f32x4.mul(c10, vs), 0); v128.store(dst + colBytes, f32x4.mul(c11, vs), 16);
      v128.store(dst + 2 * colBytes, f32x4.mul(c20, vs), 0); v128.store(dst + 2 * colBytes, f32x4.mul(c21, vs), 16);
      v128.store(dst + 3 * colBytes, f32x4.mul(c30, vs), 0); v128.store(dst + 3 * colBytes, f32x4.mul(c31, vs), 16);
    }
  }
}

/**
 * One online-softmax step over the block's cnt score rows, four queries per vector:
 * M' = max(M, max_j St[j]); corr = e^(M − M') (0 on the first block); St[j] ← e^(St[j] − M');
 * L ← corr·L + Σ_j St[j]; M ← M'.
 */
function onlineSoftmax(st: usize, cnt: i32, BQ: i32, mrow: usize, lrow: usize, corr: usize, first: bool): void {
  const colBytes = <usize>BQ * 4;
  for (let i = 0; i < BQ; i += 4) {
    const col = st + <usize>i * 4;
    let mx = f32x4.splat(-Infinity);
    let p = col;
    for (let j = 0; j < cnt; j++, p += colBytes) mx = f32x4.pmax(v128.load(p), mx);
    const mOld = v128.load(mrow + <usize>i * 4);
    const mNew = f32x4.pmax(mx, mOld);
    let sum = f32x4.splat(0);
    p = col;
    for (let j = 0; j < cnt; j++, p += colBytes) {
      const e = expNonPositiveF32x4(f32x4.sub(v128.load(p), mNew));
      v128.store(p, e);
      sum = f32x4.add(sum, e);
    }
    const c = first ? f32x4.splat(0) : expNonPositiveF32x4(f32x4.sub(mOld, mNew));
    v128.store(corr + <usize>i * 4, c);
    v128.store(lrow + <usize>i * 4, f32x4.add(f32x4.mul(c, v128.load(lrow + <usize>i * 4)), sum));
    v128.store(mrow + <usize>i * 4, mNew);
  }
}

/** Ot[c, i] = corr_i·Ot[c, i] + Σ_{j<cnt} St[j, i]·v_j[c] (Ot[c, i] = Σ … on the first block). */
function accumulateValues(vptr: usize, cnt: i32, st: usize, BQ: i32, dv: i32, corr: usize, ot: usize, first: bool): void {
  const colBytes = <usize>BQ * 4;
  const vptrEnd = vptr + <usize>cnt * 4;
  for (let c = 0; c < dv; c += 4) {
    const nc = minI32(4, dv - c);
    // Byte offsets of the four columns within a value row; past dv they repeat the last column
    // (computed, never stored), so no read leaves the row.
    const o0 = <usize>c * 4;
    const o1 = <usize>minI32(c + 1, dv - 1) * 4;
    const o2 = <usize>minI32(c + 2, dv - 1) * 4;
    const o3 = <usize>minI32(c + 3, dv - 1) * 4;
    const dstRow = ot + <usize>c * colBytes;
    for (let i = 0; i < BQ; i += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ps = st + <usize>i * 4;
      let pv = vptr;
      while (pv < vptrEnd) {
        const row = <usize>load<u32>(pv);
        const b0 = v128.load(ps, 0);
        const b1 = v128.load(ps, 16);
        const a0 = v128.load32_splat(row + o0);
        c00 = maddF32x4(a0, b0, c00); c01 = maddF32x4(a0, b1, c01);
        const a1 = v128.load32_splat(row + o1);
        c10 = maddF32x4(a1, b0, c10); c11 = maddF32x4(a1, b1, c11);
        const a2 = v128.load32_splat(row + o2);
        c20 = maddF32x4(a2, b0, c20); c21 = maddF32x4(a2, b1, c21);
        const a3 = v128.load32_splat(row + o3);
        c30 = maddF32x4(a3, b0, c30); c31 = maddF32x4(a3, b1, c31);
        ps += colBytes;
        pv += 4;
      }
      const dst = dstRow + <usize>i * 4;
      const k0 = v128.load(corr + <usize>i * 4, 0);
      const k1 = v128.load(corr + <usize>i * 4, 16);
      updateRow(dst, c00, c01, k0, k1, first);
      if (nc > 1) updateRow(dst + colBytes, c10, c11, k0, k1, first);
      if (nc > 2) updateRow(dst + 2 * colBytes, c20, c21, k0, k1, first);
      if (nc > 3) updateRow(dst + 3 * colBytes, c30, c31, k0, k1, first);
    }
  }
}

// @ts-ignore: decorator
@inline function updateRow(dst: usize, lo: v128, hi: v128, k0: v128, k1: v128, first: bool): void {
  if (first) {
    v128.store(dst, lo, 0);
    v128.store(dst, hi, 16);
  } else {
    v128.store(dst, f32x4.add(f32x4.mul(k0, v128.load(dst, 0)), lo), 0);
    v128.store(dst, f32x4.add(f32x4.mul(k1, v128.load(dst, 16)), hi), 16);
  }
}

/**
 * out[i, c] = Ot[c, i]·(1/L[i]) for i < nq, through 4×4 register transposes; zeros when no key was
 * attended (L = 0, or no key block at all: noKeys).
 */
function writeRows(ot: usize, lrow: usize, nq: i32, dv: i32, BQ: i32, noKeys: bool, out: usize): void {
  const colBytes = <usize>BQ * 4;
  const outRowBytes = <usize>dv * 4;
  if (noKeys) {
    memory.fill(out, 0, <usize>nq * outRowBytes);
    return;
  }
  const dv4 = dv & ~3;
  for (let i = 0; i < nq; i += 4) {
    const l = v128.load(lrow + <usize>i * 4);
    // 1/L, and 0 where L = 0 (a row with no unmasked key; its Ot is 0 as well).
    const inv = v128.and(f32x4.div(f32x4.splat(1), l), f32x4.gt(l, f32x4.splat(0)));
    const src = ot + <usize>i * 4;
    const dst = out + <usize>i * outRowBytes;
    if (i + 4 <= nq) {
      for (let c = 0; c < dv4; c += 4) {
        const p = src + <usize>c * colBytes;
        transpose4Store(
          f32x4.mul(v128.load(p), inv), f32x4.mul(v128.load(p + colBytes), inv),
          f32x4.mul(v128.load(p + 2 * colBytes), inv), f32x4.mul(v128.load(p + 3 * colBytes), inv),
          dst + <usize>c * 4, outRowBytes,
        );
      }
      for (let c = dv4; c < dv; c++) {
        const x = f32x4.mul(v128.load(src + <usize>c * colBytes), inv);
        const o = dst + <usize>c * 4;
        store<f32>(o, f32x4.extract_lane(x, 0));
        store<f32>(o + outRowBytes, f32x4.extract_lane(x, 1));
        store<f32>(o + 2 * outRowBytes, f32x4.extract_lane(x, 2));
        store<f32>(o + 3 * outRowBytes, f32x4.extract_lane(x, 3));
      }
    } else {
      for (let c = 0; c < dv; c++) {
        const x = f32x4.mul(v128.load(src + <usize>c * colBytes), inv);
        const o = dst + <usize>c * 4;
        store<f32>(o, f32x4.extract_lane(x, 0));
        if (i + 1 < nq) store<f32>(o + outRowBytes, f32x4.extract_lane(x, 1));
        if (i + 2 < nq) store<f32>(o + 2 * outRowBytes, f32x4.extract_lane(x, 2));
      }
    }
  }
}

/**
 * Segment means (landmarks): s = ⌊n/m⌋, r = n mod m; segment i starts at i·s + max(0, i − (m − r)) and
 * has s tokens (the first m − r segments) or s + 1 (the last r). Masked tokens (mask[j] == 0) count as
 * zero vectors; the divisor is the segment length. Requires 1 ≤ m ≤ n. out: m×d.
 */
export function segment_means_f32(x: usize, mask: usize, n: i32, d: i32, m: i32, out: usize): void {
  if (m <= 0 || n <= 0) return;
  const s = n / m;
  const r = n % m;
  const rowBytes = <usize>d * 4;
  const full = d & ~3;
  for (let i = 0; i < m; i++) {
    const start = i * s + max(0, i - (m - r));
    const len = i < m - r ? s : s + 1;
    const dst = out + <usize>i * rowBytes;
    const inv: f32 = <f32>1 / <f32>len;
    for (let c = 0; c < full; c += 4) {
      let acc = f32x4.splat(0);
      for (let j = start; j < start + len; j++) {
        if (mask != 0 && load<u8>(mask + <usize>j) == 0) continue;
        acc = f32x4.add(acc, v128.load(x + <usize>j * rowBytes + <usize>c * 4));
      }
      v128.store(dst + <usize>c * 4, f32x4.mul(acc, f32x4.splat(inv)));
    }
    for (let c = full; c < d; c++) {
      let acc: f32 = 0;
      for (let j = start; j < start + len; j++) {
        if (mask != 0 && load<u8>(mask + <usize>j) == 0) continue;
        acc += load<f32>(x + <usize>j * rowBytes + <usize>c * 4);
      }
      store<f32>(dst + <usize>c * 4, acc * inv);
    }
  }
}

/**
 * Depthwise-conv skip (one filter per head shared by the dv columns, cross-correlation, zero "same"
 * padding): out[i, c] += Σ_{t<kc} w[t]·μ_{i'}·v[i', c], i' = i + t − ⌊kc/2⌋, terms outside [0, n) are 0.
 * w: kc f32 (kc odd). Rows i ∈ [r0, r0 + rows).
 */
export function conv_skip_f32(v: usize, mask: usize, w: usize, kc: i32, out: usize, n: i32, dv: i32, r0: i32, rows: i32): void {
  const rowBytes = <usize>dv * 4;
  const half = kc >> 1;
  const full = dv & ~3;
  for (let i = r0; i < r0 + rows; i++) {
    const dst = out + <usize>i * rowBytes;
    const t0 = max(0, half - i);
    const t1 = min(kc, n + half - i);
    for (let c = 0; c < full; c += 4) {
      let acc = f32x4.splat(0);
      for (let t = t0; t < t1; t++) {
        const j = i + t - half;
        if (mask != 0 && load<u8>(mask + <usize>j) == 0) continue;
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(w + <usize>t * 4)), v128.load(v + <usize>j * rowBytes + <usize>c * 4)));
      }
      v128.store(dst + <usize>c * 4, f32x4.add(v128.load(dst + <usize>c * 4), acc));
    }
    for (let c = full; c < dv; c++) {
      let acc: f32 = 0;
      for (let t = t0; t < t1; t++) {
        const j = i + t - half;
        if (mask != 0 && load<u8>(mask + <usize>j) == 0) continue;
        acc += load<f32>(w + <usize>t * 4) * load<f32>(v + <usize>j * rowBytes + <usize>c * 4);
      }
      store<f32>(dst + <usize>c * 4, load<f32>(dst + <usize>c * 4) + acc);
    }
  }
}
