// Row softmax and a vectorised exp over arrays, f32.
//
// ABI (all exports):
//   softmax_rows_f32(x, rows, cols, ldx)  in place: x[i, :] ← softmax(x[i, :]) for i < rows
//   softmax_exp_f32(x, out, n)            out[i] = e^x[i] (expF32x4 of inline/exp.ts over an array; tests use it)
// - x, out: byte addresses of f32 data; any 4-byte alignment (vector accesses are unaligned-safe).
// - rows, cols, n: counts in elements (≥ 0); ldx: row stride in ELEMENTS (≥ cols).
// - out may equal x (in place) but must not partially overlap it.
// - softmax is max-subtracted, so any finite logits work: only x − max ≤ 0 is exponentiated. An empty
//   row (cols = 0) is left alone. −∞ entries get weight exactly 0; a row of all −∞ becomes NaN (0/0),
//   callers that mask keys skip them instead (kernels/attention.ts).
// - Semantics: docs/attention.md §4 (row softmax), exp accuracy: inline/exp.ts.

import { expF32x4, expNonPositiveF32x4 } from '../../inline/exp';

/** In-place, max-subtracted softmax of each of `rows` rows of `cols` f32 at `x` (row stride `ldx` elements). */
export function softmax_rows_f32(x: usize, rows: i32, cols: i32, ldx: i32): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>ldx << 2;
  const full = cols & ~3;
  for (let i = 0; i < rows; i++) {
    const row = x + <usize>i * rowBytes;
    // Row maximum.
    let vmax = f32x4.splat(-Infinity);
    for (let j = 0; j < full; j += 4) vmax = f32x4.pmax(v128.load(row + (<usize>j << 2)), vmax);
    let mx = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (let j = full; j < cols; j++) mx = max(mx, load<f32>(row + (<usize>j << 2)));
    // e^(x − max) and its sum.
    const vm = f32x4.splat(mx);
    let vsum = f32x4.splat(0);
    for (let j = 0; j < full; j += 4) {
      const p = row + (<usize>j << 2);
      const e = expNonPositiveF32x4(f32x4.sub(v128.load(p), vm));
      v128.store(p, e);
      vsum = f32x4.add(vsum, e);
    }
    let sum: f32 = (f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1)) + (f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3));
    if (full < cols) {
      // Tail: up to three lanes through the same vector exp, so every entry gets the same function.
      let t = f32x4.splat(-Infinity);
      const n = cols - full;
      const tail = row + (<usize>full << 2);
      t = f32x4.replace_lane(t, 0, load<f32>(tail));
      if (n > 1) t = f32x4.replace_lane(t, 1, load<f32>(tail, 4));
      if (n > 2) t = f32x4.replace_lane(t, 2, load<f32>(tail, 8));
      const e = expNonPositiveF32x4(f32x4.sub(t, vm));
      store<f32>(tail, f32x4.extract_lane(e, 0));
      sum += f32x4.extract_lane(e, 0);
      if (n > 1) { store<f32>(tail, f32x4.extract_lane(e, 1), 4); sum += f32x4.extract_lane(e, 1); }
      if (n > 2) { store<f32>(tail, f32x4.extract_lane(e, 2), 8); sum += f32x4.extract_lane(e, 2); }
    }
    // Normalise.
    const inv: f32 = <f32>1 / sum;
    const vinv = f32x4.splat(inv);
    for (let j = 0; j < full; j += 4) {
      const p = row + (<usize>j << 2);
      v128.store(p, f32x4.mul(v128.load(p), vinv));
    }
    for (let j = full; j < cols; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, load<f32>(p) * inv);
    }
  }
}

/** out[i] = e^x[i] for i < n (f32; see inline/exp.ts for accuracy). */
export function softmax_exp_f32(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), expF32x4(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) {
    const e = expF32x4(f32x4.splat(load<f32>(x + (<usize>i << 2))));
    store<f32>(out + (<usize>i << 2), f32x4.extract_lane(e, 0));
  }
}
