// Spec for kernels/adapters/gather.ts: rows are copied whole, by index, repeated or reordered.
import { gather_rows } from '../../kernels/adapters/gather';

const src = memory.data(256, 16);
const dst = memory.data(256, 16);
const index = memory.data(32, 16);

describe('gather_rows', () => {
  it('copies row index[r] of src to row r of dst (rows of 12 bytes, repeats and reorders)', () => {
    for (let i = 0; i < 4 * 3; i++) store<f32>(src + <usize>i * 4, <f32>(i + 1));
    const order: i32[] = [3, 0, 3, 1, 2];
    for (let r = 0; r < order.length; r++) store<i32>(index + <usize>r * 4, order[r]);
    gather_rows(src, 12, index, order.length, dst);
    for (let r = 0; r < order.length; r++) {
      for (let j = 0; j < 3; j++) expect<f32>(load<f32>(dst + <usize>(r * 3 + j) * 4)).toBe(<f32>(order[r] * 3 + j + 1));
    }
  });

  it('writes nothing for zero rows', () => {
    store<f32>(dst, 42);
    gather_rows(src, 12, index, 0, dst);
    expect<f32>(load<f32>(dst)).toBe(42);
  });
});
