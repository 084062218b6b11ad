// Dense f64 factorisations for gc.solve and the repetition analysis (docs/repetition.md §6):
// LU with partial pivoting (panel + row swaps + triangular solves; the trailing update is the GEMM
// kernel, called by the host between panels), matrix–vector products for the Perron iteration, and
// Householder bidiagonalisation for singular values.
//
// ABI: every pointer is a byte address in linear memory, every size / leading dimension counts f64
// elements (8 bytes). Matrices are row-major: element (i, j) of X lives at x + (i·ldx + j)·8. Pivot
// vectors are i32 (4 bytes per entry). Nothing here allocates; scratch comes from the host. Rows need
// not be 16-byte aligned (v128 loads in wasm accept any address; aligned rows are merely faster).
import { maddF64x2 } from '../../inline/madd';

// @ts-ignore: decorator
@inline function at(x: usize, ld: i32, i: i32, j: i32): usize {
  return x + ((<usize>i * <usize>ld + <usize>j) << 3);
}

/** y[0..len) += s·x[0..len), contiguous f64. */
// @ts-ignore: decorator
@inline function axpy(y: usize, x: usize, s: f64, len: i32): void {
  const vs = f64x2.splat(s);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const o = <usize>j << 3;
    v128.store(y + o, maddF64x2(vs, v128.load(x + o), v128.load(y + o)));
    v128.store(y + o, maddF64x2(vs, v128.load(x + o, 16), v128.load(y + o, 16)), 16);
  }
  for (; j < len; j++) {
    const o = <usize>j << 3;
    store<f64>(y + o, load<f64>(y + o) + s * load<f64>(x + o));
  }
}

/** Σ x[k]·y[k] over k < len, contiguous f64. */
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, len: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const o = <usize>j << 3;
    acc0 = maddF64x2(v128.load(x + o), v128.load(y + o), acc0);
    acc1 = maddF64x2(v128.load(x + o, 16), v128.load(y + o, 16), acc1);
  }
  const acc = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; j < len; j++) {
    const o = <usize>j << 3;
    s += load<f64>(x + o) * load<f64>(y + o);
  }
  return s;
}

/** Swap x[0..len) and y[0..len), contiguous f64. */
// @ts-ignore: decorator
@inline function swapRows(x: usize, y: usize, len: i32): void {
  let j = 0;
  for (; j + 2 <= len; j += 2) {
    const o = <usize>j << 3;
    const t = v128.load(x + o);
    v128.store(x + o, v128.load(y + o));
    v128.store(y + o, t);
  }
  if (j < len) {
    const o = <usize>j << 3;
    const t = load<f64>(x + o);
    store<f64>(x + o, load<f64>(y + o));
    store<f64>(y + o, t);
  }
}

/** x[0..len) /= d, contiguous f64 (a true division, not a multiply by 1/d). */
// @ts-ignore: decorator
@inline function divRow(x: usize, d: f64, len: i32): void {
  const vd = f64x2.splat(d);
  let j = 0;
  for (; j + 2 <= len; j += 2) {
    const o = <usize>j << 3;
    v128.store(x + o, f64x2.div(v128.load(x + o), vd));
  }
  if (j < len) {
    const o = <usize>j << 3;
    store<f64>(x + o, load<f64>(x + o) / d);
  }
}

/**
 * LU with partial pivoting of the panel made of columns [k0, k0+nb) and rows [k0, rows) of the rows×cols
 * row-major matrix `a` (leading dimension `lda`, elements). The panel is first copied column-major into
 * `scratch` (nb·(rows−k0) f64, caller-allocated) so the pivot search, the scaling and the rank-1 updates
 * all run on contiguous columns; then it is copied back. For each column j the pivot row p (largest
 * |a[p][j]|, lowest index on ties) is recorded as `ipiv[j] = p` (i32) and rows j and p are swapped across
 * ALL `cols` columns (the columns left of the panel and the not yet updated columns right of it too, as the
 * blocked algorithm needs); the multipliers are stored below the diagonal. Columns right of the panel
 * are only permuted, not updated.
 *
 * @returns 0, or 1 + the first column whose pivot is exactly zero (that column is then left as is).
 */
export function lu_panel_f64(a: usize, lda: i32, rows: i32, cols: i32, k0: i32, nb: i32, ipiv: usize, scratch: usize): i32 {
  const h = rows - k0;
  const colBytes = <usize>h << 3;
  // Gather: scratch[c][r] = a[k0 + r][k0 + c].
  for (let r = 0; r < h; r++) {
    const src = at(a, lda, k0 + r, k0);
    for (let c = 0; c < nb; c++) store<f64>(scratch + <usize>c * colBytes + (<usize>r << 3), load<f64>(src + (<usize>c << 3)));
  }
  let info = 0;
  for (let j = 0; j < nb; j++) {
    const colJ = scratch + <usize>j * colBytes;
    let p = j;
    let best = abs<f64>(load<f64>(colJ + (<usize>j << 3)));
    for (let r = j + 1; r < h; r++) {
      const v = abs<f64>(load<f64>(colJ + (<usize>r << 3)));
      if (v > best) {
        best = v;
        p = r;
      }
    }
    store<i32>(ipiv + (<usize>(k0 + j) << 2), k0 + p);
    if (best == 0) {
      if (info == 0) info = k0 + j + 1;
      continue;
    }
    if (p != j) {
      for (let c = 0; c < nb; c++) {
        const col = scratch + <usize>c * colBytes;
        const t = load<f64>(col + (<usize>j << 3));
        store<f64>(col + (<usize>j << 3), load<f64>(col + (<usize>p << 3)));
        store<f64>(col + (<usize>p << 3), t);
      }
    }
    const below = h - j - 1;
    if (below <= 0) continue;
    divRow(colJ + (<usize>(j + 1) << 3), load<f64>(colJ + (<usize>j << 3)), below);
    for (let c = j + 1; c < nb; c++) {
      const col = scratch + <usize>c * colBytes;
      const u = load<f64>(col + (<usize>j << 3));
      if (u != 0) axpy(col + (<usize>(j + 1) << 3), colJ + (<usize>(j + 1) << 3), -u, below);
    }
  }
  // Scatter the factored panel back, then apply its interchanges outside the panel.
  for (let r = 0; r < h; r++) {
    const dst = at(a, lda, k0 + r, k0);
    for (let c = 0; c < nb; c++) store<f64>(dst + (<usize>c << 3), load<f64>(scratch + <usize>c * colBytes + (<usize>r << 3)));
  }
  const kEnd = k0 + nb;
  for (let j = k0; j < kEnd; j++) {
    const p = load<i32>(ipiv + (<usize>j << 2));
    if (p == j) continue;
    if (k0 > 0) swapRows(at(a, lda, j, 0), at(a, lda, p, 0), k0);
    if (kEnd < cols) swapRows(at(a, lda, j, kEnd), at(a, lda, p, kEnd), cols - kEnd);
  }
  return info;
}

/**
 * Apply the row interchanges ipiv[k0..k1) (as produced by lu_panel_f64, in that order) to the rows of
 * the row-major X (leading dimension ldx, `ncols` columns).
 */
export function lu_apply_pivots_f64(x: usize, ldx: i32, ncols: i32, ipiv: usize, k0: i32, k1: i32): void {
  for (let j = k0; j < k1; j++) {
    const p = load<i32>(ipiv + (<usize>j << 2));
    if (p != j) swapRows(at(x, ldx, j, 0), at(x, ldx, p, 0), ncols);
  }
}

/**
 * In-place triangular solve T·Y = X for the n×n triangle of `t` (leading dimension ldt) and the n×nrhs
 * right-hand sides X (leading dimension ldx), overwritten with Y.
 * `lower` ≠ 0: lower triangle (forward substitution), else upper (back substitution).
 * `unit` ≠ 0: the diagonal is taken as 1 and not read. The strict other triangle is never read.
 * The diagonal must be non-zero when `unit` = 0 (the host checks the LU pivots first).
 */
export function lu_trsm_f64(lower: i32, unit: i32, t: usize, ldt: i32, n: i32, x: usize, ldx: i32, nrhs: i32): void {
  if (nrhs <= 0 || n <= 0) return;
  if (nrhs == 1 && ldx == 1) {
    // A single contiguous vector: the dot-product form reads each row of T once, contiguously.
    if (lower != 0) {
      for (let i = 0; i < n; i++) {
        const xi = x + (<usize>i << 3);
        let v = load<f64>(xi) - dot(at(t, ldt, i, 0), x, i);
        if (unit == 0) v /= load<f64>(at(t, ldt, i, i));
        store<f64>(xi, v);
      }
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const xi = x + (<usize>i << 3);
        const v = load<f64>(xi) - dot(at(t, ldt, i, i + 1), xi + 8, n - 1 - i);
        store<f64>(xi, unit == 0 ? v / load<f64>(at(t, ldt, i, i)) : v);
      }
    }
    return;
  }
  if (lower != 0) {
    for (let i = 0; i < n; i++) {
      const xi = at(x, ldx, i, 0);
      for (let p = 0; p < i; p++) {
        const l = load<f64>(at(t, ldt, i, p));
        if (l != 0) axpy(xi, at(x, ldx, p, 0), -l, nrhs);
      }
      if (unit == 0) divRow(xi, load<f64>(at(t, ldt, i, i)), nrhs);
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      const xi = at(x, ldx, i, 0);
      for (let p = i + 1; p < n; p++) {
        const u = load<f64>(at(t, ldt, i, p));
        if (u != 0) axpy(xi, at(x, ldx, p, 0), -u, nrhs);
      }
      if (unit == 0) divRow(xi, load<f64>(at(t, ldt, i, i)), nrhs);
    }
  }
}

/**
 * Two matrix–vector products in one pass over A (rows×cols, leading dimension lda):
 * y = A·x and w = A·z. x, z have `cols` entries, y, w have `rows` entries; y, w must not overlap x, z.
 */
export function matvec2_f64(a: usize, lda: i32, rows: i32, cols: i32, x: usize, z: usize, y: usize, w: usize): void {
  for (let i = 0; i < rows; i++) {
    const row = at(a, lda, i, 0);
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let j = 0;
    for (; j + 2 <= cols; j += 2) {
      const o = <usize>j << 3;
      const r = v128.load(row + o);
      s0 = maddF64x2(r, v128.load(x + o), s0);
      s1 = maddF64x2(r, v128.load(z + o), s1);
    }
    let sy = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
    let sw = f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
    if (j < cols) {
      const o = <usize>j << 3;
      const r = load<f64>(row + o);
      sy += r * load<f64>(x + o);
      sw += r * load<f64>(z + o);
    }
    store<f64>(y + (<usize>i << 3), sy);
    store<f64>(w + (<usize>i << 3), sw);
  }
}

/**
 * Householder bidiagonalisation of the square n×n row-major `a` (leading dimension lda), destroying it:
 * Uᵀ·A·V = bidiagonal with diagonal d[0..n) and superdiagonal e[0..n−1) (f64). Only the singular values
 * are wanted, so U and V are not accumulated. `work` holds 2n f64. Signs of d and e are not normalised
 * (singular values depend on their squares only).
 *
 * One pass over the trailing rows per step: a row gets the left update (w = vᵀA, known from the
 * previous step), then the right reflector (which depends on row k only), and, while it is in cache,
 * adds its share to the next step's u = Σ_i a[i][k+1]·A[i][k+2:] and column norm, from which the next
 * w follows as A[k+1][k+2:] + scale·u without another pass.
 */
export function bidiag_f64(a: usize, lda: i32, n: i32, d: usize, e: usize, work: usize): void {
  const w = work;
  const u = work + (<usize>n << 3);
  // The next step's accumulations are valid only when the previous pass produced them.
  let haveU = false;
  let sigmaNext: f64 = 0;
  for (let k = 0; k < n; k++) {
    const tail = n - k - 1;
    // Left reflector H = I − τ·v·vᵀ, v = (1, a[k+1][k]/(akk − β), …), zeroing column k below the diagonal.
    const akk = load<f64>(at(a, lda, k, k));
    let sigma: f64 = 0;
    if (haveU) {
      sigma = sigmaNext;
    } else {
      for (let i = k + 1; i < n; i++) {
        const v = load<f64>(at(a, lda, i, k));
        sigma += v * v;
      }
    }
    let tau: f64 = 0;
    let scale: f64 = 0;
    if (sigma == 0) {
      store<f64>(d + (<usize>k << 3), akk);
    } else {
      const norm = Math.sqrt(akk * akk + sigma);
      const beta = akk <= 0 ? norm : -norm;
      scale = 1 / (akk - beta);
      tau = (beta - akk) / beta;
      store<f64>(d + (<usize>k << 3), beta);
      for (let i = k + 1; i < n; i++) {
        const c = at(a, lda, i, k);
        store<f64>(c, load<f64>(c) * scale);
      }
    }
    if (tail == 0) break;
    const rowK = at(a, lda, k, k + 1);
    // w = vᵀ·A[k:, k+1:] = A[k][k+1:] + scale·Σ_{i>k} a[i][k]·A[i][k+1:]; then row k's left update.
    if (tau != 0) {
      memory.copy(w, rowK, <usize>tail << 3);
      if (haveU) {
        axpy(w, u, scale, tail);
      } else {
        for (let i = k + 1; i < n; i++) {
          const vi = load<f64>(at(a, lda, i, k));
          if (vi != 0) axpy(w, at(a, lda, i, k + 1), vi, tail);
        }
      }
      axpy(rowK, w, -tau, tail);
    }
    // Right reflector from row k: zero it right of the superdiagonal.
    const a01 = load<f64>(rowK);
    const rest = tail - 1;
    let sigmaR: f64 = 0;
    for (let j = 1; j <= rest; j++) {
      const v = load<f64>(rowK + (<usize>j << 3));
      sigmaR += v * v;
    }
    let tauR: f64 = 0;
    const v = rowK + 8;
    if (sigmaR == 0) {
      store<f64>(e + (<usize>k << 3), a01);
    } else {
      const norm = Math.sqrt(a01 * a01 + sigmaR);
      const beta = a01 <= 0 ? norm : -norm;
      const scaleR = 1 / (a01 - beta);
      tauR = (beta - a01) / beta;
      store<f64>(e + (<usize>k << 3), beta);
      for (let j = 0; j < rest; j++) {
        const c = v + (<usize>j << 3);
        store<f64>(c, load<f64>(c) * scaleR);
      }
    }
    // One pass over rows i > k: A[i][k+1:] −= τ·v_i·w; s = τR·(A[i][k+1] + A[i][k+2:]·v'),
    // A[i][k+1] −= s, A[i][k+2:] −= s·v'; then rows i > k+1 feed the next step's u and column norm.
    haveU = rest > 0;
    sigmaNext = 0;
    if (haveU) memory.fill(u, 0, <usize>rest << 3);
    for (let i = k + 1; i < n; i++) {
      const row = at(a, lda, i, k + 1);
      if (tau != 0) {
        const vi = load<f64>(at(a, lda, i, k));
        if (vi != 0) axpy(row, w, -tau * vi, tail);
      }
      if (tauR != 0) {
        const s = tauR * (load<f64>(row) + dot(row + 8, v, rest));
        if (s != 0) {
          store<f64>(row, load<f64>(row) - s);
          axpy(row + 8, v, -s, rest);
        }
      }
      if (haveU && i > k + 1) {
        const c = load<f64>(row);
        if (c != 0) {
          sigmaNext += c * c;
          axpy(u, row + 8, c, rest);
        }
      }
    }
  }
}
