// Spec for kernels/softmax.ts (and the exp helpers of inline/exp.ts): small cases with known answers.
import { softmax_rows_f32, softmax_exp_f32 } from '../../kernels/attention/softmax';

const arena = memory.data(4096, 16);

function put(offset: usize, values: StaticArray<f32>): void {
  for (let i = 0; i < values.length; i++) store<f32>(arena + offset + <usize>i * 4, values[i]);
}
function at(offset: usize, i: i32): f32 {
  return load<f32>(arena + offset + <usize>i * 4);
}

describe('softmax_exp_f32', () => {
  it('is exact at 0 and handles the special values', () => {
    put(0, [0, -Infinity, Infinity, -100, 100, -87.0]);
    softmax_exp_f32(arena, arena + 256, 6);
    expect<f32>(at(256, 0)).toBe(1);
    expect<f32>(at(256, 1)).toBe(0);
    expect<f32>(at(256, 2)).toBe(Infinity);
    expect<f32>(at(256, 3)).toBe(0);
    expect<f32>(at(256, 4)).toBe(Infinity);
    expect<bool>(at(256, 5) > 0).toBe(true);
  });

  it('is within 1e-6 relative of e^x on a sweep of [-87, 88.7], tails included', () => {
    const n = 301; // not a multiple of 4: the scalar tail goes through the same vector exp
    const src = memory.data(301 * 4, 16);
    const dst = memory.data(301 * 4, 16);
    for (let i = 0; i < n; i++) store<f32>(src + <usize>i * 4, <f32>(-87.0 + 175.7 * <f64>i / <f64>(n - 1)));
    softmax_exp_f32(src, dst, n);
    let worst: f64 = 0;
    for (let i = 0; i < n; i++) {
      const x = <f64>load<f32>(src + <usize>i * 4);
      const want = Math.exp(x);
      const got = <f64>load<f32>(dst + <usize>i * 4);
      worst = Math.max(worst, Math.abs(got - want) / want);
    }
    expect<bool>(worst < 1e-6).toBe(true);
  });
});

describe('softmax_rows_f32', () => {
  it('gives equal logits equal weights and masks −∞ exactly', () => {
    // Row 0: five equal logits; row 1: −∞ entries get weight 0; row stride 6 (one padding element).
    put(0, [3, 3, 3, 3, 3, 99, 1, -Infinity, 1, -Infinity, 1, 99]);
    softmax_rows_f32(arena, 2, 5, 6);
    for (let j = 0; j < 5; j++) expect<f32>(at(0, j)).toBeCloseTo(0.2, 6);
    expect<f32>(at(0, 5)).toBe(99); // padding untouched
    expect<f32>(at(0, 7)).toBe(0);
    expect<f32>(at(0, 9)).toBe(0);
    expect<f32>(at(0, 6)).toBeCloseTo(<f32>1 / 3, 6);
    expect<f32>(at(0, 11)).toBe(99);
  });

  it('is stable for huge logits (only x − max is exponentiated)', () => {
    put(0, [1000, 999, 1000, 0, 1000, 1000, 1000, 1000, 1000]);
    softmax_rows_f32(arena, 1, 9, 9);
    const e = <f32>Math.exp(-1.0);
    const sum = <f32>7 + e + <f32>Math.exp(-1000.0);
    expect<f32>(at(0, 0)).toBeCloseTo(<f32>1 / sum, 6);
    expect<f32>(at(0, 1)).toBeCloseTo(e / sum, 6);
    expect<f32>(at(0, 3)).toBe(0);
  });
});
