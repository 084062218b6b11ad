// Spec for kernels/scan.ts: the first non-finite value is found in the vector body and in the tail.
import { nonfinite_index_f32, nonfinite_index_f64 } from '../../kernels/linalg/scan';

const arena = memory.data(1024, 16);

describe('nonfinite_index_f32', () => {
  it('finds the first ±∞ or NaN, in the vector body and in the tail', () => {
    for (let i = 0; i < 40; i++) store<f32>(arena + <usize>i * 4, 1);
    expect<i32>(nonfinite_index_f32(arena, 40)).toBe(-1);
    store<f32>(arena + 21 * 4, NaN);
    store<f32>(arena + 30 * 4, -Infinity);
    expect<i32>(nonfinite_index_f32(arena, 40)).toBe(21);
    for (let i = 0; i < 40; i++) store<f32>(arena + <usize>i * 4, -3.4e38);
    store<f32>(arena + 38 * 4, Infinity);
    expect<i32>(nonfinite_index_f32(arena, 40)).toBe(38);
    expect<i32>(nonfinite_index_f32(arena, 38)).toBe(-1);
  });
});

describe('nonfinite_index_f64', () => {
  it('finds the first ±∞ or NaN, in the vector body and in the tail', () => {
    for (let i = 0; i < 20; i++) store<f64>(arena + <usize>i * 8, 1e308);
    expect<i32>(nonfinite_index_f64(arena, 20)).toBe(-1);
    store<f64>(arena + 5 * 8, -Infinity);
    store<f64>(arena + 9 * 8, NaN);
    expect<i32>(nonfinite_index_f64(arena, 20)).toBe(5);
    for (let i = 0; i < 20; i++) store<f64>(arena + <usize>i * 8, -1);
    store<f64>(arena + 18 * 8, NaN);
    expect<i32>(nonfinite_index_f64(arena, 20)).toBe(18);
    expect<i32>(nonfinite_index_f64(arena, 18)).toBe(-1);
  });
});
