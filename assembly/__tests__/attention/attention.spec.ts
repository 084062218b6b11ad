// Spec for kernels/attention.ts: cases whose answers are exact in f32 (equal scores give equal weights,
// sums of small integers), plus masks, empty rows, segment means and the conv skip.
import {
  attention_f32, attention_f32_scratch_bytes, segment_means_f32, conv_skip_f32,
} from '../../kernels/attention/attention';

const ARENA: i32 = 1 << 16;
const arena = memory.data(ARENA, 16);
const Q: usize = 0, K: usize = 4096, V: usize = 8192, OUT: usize = 12288, MASK: usize = 16384, W: usize = 16640, SCRATCH: usize = 20480;

function put(offset: usize, values: StaticArray<f32>): void {
  for (let i = 0; i < values.length; i++) store<f32>(arena + offset + <usize>i * 4, values[i]);
}
function at(offset: usize, i: i32): f32 {
  return load<f32>(arena + offset + <usize>i * 4);
}
function fill(offset: usize, n: i32, value: f32): void {
  for (let i = 0; i < n; i++) store<f32>(arena + offset + <usize>i * 4, value);
}
function run(mask: bool, n: i32, nk: i32, d: i32, dv: i32, bq: i32, bk: i32): void {
  assert(SCRATCH + <usize>attention_f32_scratch_bytes(d, dv, bq, bk) <= <usize>ARENA, 'scratch does not fit');
  memory.fill(arena + SCRATCH, 0xff, <usize>attention_f32_scratch_bytes(d, dv, bq, bk)); // garbage scratch
  attention_f32(arena + Q, arena + K, arena + V, mask ? arena + MASK : 0, arena + OUT, 0, n, nk, d, dv, 0.5, bq, bk, arena + SCRATCH);
}

describe('attention_f32', () => {
  it('averages the values when all scores are equal (keys all zero), for any block sizes', () => {
    // 3 queries, 5 keys of zeros, dv = 2 with v_j = (j, 2j): every output row is (2, 4).
    for (let bk = 1; bk <= 9; bk += 4) {
      fill(Q, 3 * 2, 1.5);
      fill(K, 5 * 2, 0);
      for (let j = 0; j < 5; j++) put(V + <usize>j * 8, [<f32>j, <f32>(j * 2)]);
      run(false, 3, 5, 2, 2, 4, bk);
      for (let i = 0; i < 3; i++) {
        expect<f32>(at(OUT, 2 * i)).toBeCloseTo(2, 6);
        expect<f32>(at(OUT, 2 * i + 1)).toBeCloseTo(4, 6);
      }
    }
  });

  it('skips masked keys and gives rows with no unmasked key zeros', () => {
    fill(Q, 2, 1);
    fill(K, 4, 0);
    put(V, [1, 2, 3, 4]);
    for (let j = 0; j < 4; j++) store<u8>(arena + MASK + <usize>j, j % 2 == 0 ? 1 : 0);
    run(true, 2, 4, 1, 1, 8, 8);
    expect<f32>(at(OUT, 0)).toBe(2); // (1 + 3) / 2
    expect<f32>(at(OUT, 1)).toBe(2);
    for (let j = 0; j < 4; j++) store<u8>(arena + MASK + <usize>j, 0);
    run(true, 2, 4, 1, 1, 8, 8);
    expect<f32>(at(OUT, 0)).toBe(0);
    run(false, 2, 0, 1, 1, 8, 8); // nk = 0
    expect<f32>(at(OUT, 1)).toBe(0);
  });

  it('attends hard to the best key when logits are huge (online softmax rescaling)', () => {
    // d = 1, scale 0.5: scores 0.5·q·k; key 2 wins by 500 for q = 1000.
    put(Q, [1000]);
    put(K, [0, 1, 2, 1]);
    put(V, [10, 20, 30, 40]);
    run(false, 1, 4, 1, 1, 8, 1);
    expect<f32>(at(OUT, 0)).toBe(30);
  });
});

describe('segment_means_f32', () => {
  it('uses the spec segments: n = 10, m = 4 → [0,2) [2,4) [4,7) [7,10)', () => {
    for (let j = 0; j < 10; j++) put(Q + <usize>j * 4, [<f32>(j * 6)]);
    segment_means_f32(arena + Q, 0, 10, 1, 4, arena + OUT);
    expect<f32>(at(OUT, 0)).toBeCloseTo(3, 6);
    expect<f32>(at(OUT, 1)).toBeCloseTo(15, 6);
    expect<f32>(at(OUT, 2)).toBeCloseTo(30, 5);
    expect<f32>(at(OUT, 3)).toBeCloseTo(48, 5);
  });
});

describe('conv_skip_f32', () => {
  it('adds w = [1, 2, 3] as v[i−1] + 2v[i] + 3v[i+1] with zero padding, masked tokens as zeros', () => {
    put(V, [1, 10, 100, 1000]);
    put(W, [1, 2, 3]);
    fill(OUT, 4, 0);
    conv_skip_f32(arena + V, 0, arena + W, 3, arena + OUT, 4, 1, 0, 4);
    expect<f32>(at(OUT, 0)).toBe(2 + 30);
    expect<f32>(at(OUT, 1)).toBe(1 + 20 + 300);
    expect<f32>(at(OUT, 3)).toBe(100 + 2000);
    for (let j = 0; j < 4; j++) store<u8>(arena + MASK + <usize>j, j == 2 ? 0 : 1);
    fill(OUT, 4, 0);
    conv_skip_f32(arena + V, arena + MASK, arena + W, 3, arena + OUT, 4, 1, 1, 2);
    expect<f32>(at(OUT, 0)).toBe(0); // outside the row range: untouched
    expect<f32>(at(OUT, 1)).toBe(1 + 20);
    expect<f32>(at(OUT, 2)).toBe(10 + 3000);
  });
});
