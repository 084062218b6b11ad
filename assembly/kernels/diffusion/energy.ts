// Sums of Euclidean distances between point sets, the work of the energy distance (docs/diffusion.md §10).
//
// Four distances at a time: B is passed transposed (dim × nb, column j = point j), so one f32x4 holds
// coordinate c of four B points; squared differences accumulate in f32, sqrt in f32, and the distances
// are summed in f64 (two f64x2 accumulators). The lane form and the scalar tail use the same plain
// mul/add, so the value does not depend on the build.
//
// Float64 inputs go to the f64 variant (two distances at a time, everything in f64), so they keep float64
// accuracy.
//
// ABI: a is f32[na·dim] row-major (f64 for the f64 variant); bT is f32[dim·nb] (ldb = nb); byte
// addresses, no alignment required.

/**
 * Σ_i Σ_j ‖a_i − b_j‖ over i < rowEnd, i ≥ rowStart; with `upper` = 1 (a and b the same set) only j > i.
 * Returns the sum as f64.
 */
export function energy_distance_sum_f32(a: usize, rowStart: i32, rowEnd: i32, bT: usize, nb: i32, dim: i32, upper: i32): f64 {
  let total: f64 = 0;
  for (let i = rowStart; i < rowEnd; i++) {
    const ai = a + ((<usize>i * <usize>dim) << 2);
    let j = upper != 0 ? i + 1 : 0;
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    for (; j + 4 <= nb; j += 4) {
      let acc = f32x4.splat(0);
      for (let c = 0; c < dim; c++) {
        const diff = f32x4.sub(v128.load(bT + ((<usize>c * <usize>nb + <usize>j) << 2)), f32x4.splat(load<f32>(ai + (<usize>c << 2))));
        acc = f32x4.add(acc, f32x4.mul(diff, diff));
      }
      const dist = f32x4.sqrt(acc);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(dist));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(dist, dist, 2, 3, 0, 1)));
    }
    let tail: f64 = 0;
    for (; j < nb; j++) {
      let acc: f32 = 0;
      for (let c = 0; c < dim; c++) {
        const diff: f32 = load<f32>(bT + ((<usize>c * <usize>nb + <usize>j) << 2)) - load<f32>(ai + (<usize>c << 2));
        acc = acc + diff * diff;
      }
      tail += <f64>Mathf.sqrt(acc);
    }
    const s = f64x2.add(s0, s1);
    total += (f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1)) + tail;
  }
  return total;
}

/**
 * The same sums in f64 (float64 inputs): a is f64[na·dim], bT is f64[dim·nb]; two distances at a time
 * (f64x2), squared differences, sqrt and sums all in f64.
 */
export function energy_distance_sum_f64(a: usize, rowStart: i32, rowEnd: i32, bT: usize, nb: i32, dim: i32, upper: i32): f64 {
  let total: f64 = 0;
  for (let i = rowStart; i < rowEnd; i++) {
    const ai = a + ((<usize>i * <usize>dim) << 3);
    let j = upper != 0 ? i + 1 : 0;
    let s = f64x2.splat(0);
    for (; j + 2 <= nb; j += 2) {
      let acc = f64x2.splat(0);
      for (let c = 0; c < dim; c++) {
        const diff = f64x2.sub(v128.load(bT + ((<usize>c * <usize>nb + <usize>j) << 3)), f64x2.splat(load<f64>(ai + (<usize>c << 3))));
        acc = f64x2.add(acc, f64x2.mul(diff, diff));
      }
      s = f64x2.add(s, f64x2.sqrt(acc));
    }
    let tail: f64 = 0;
    for (; j < nb; j++) {
      let acc: f64 = 0;
      for (let c = 0; c < dim; c++) {
        const diff: f64 = load<f64>(bT + ((<usize>c * <usize>nb + <usize>j) << 3)) - load<f64>(ai + (<usize>c << 3));
        acc = acc + diff * diff;
      }
      tail += Math.sqrt(acc);
    }
    total += (f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1)) + tail;
  }
  return total;
}
