// Spec for kernels/beam.ts: log-sum-exp statistics against the scalar formula (f32 and f64 rows, every
// tail length, non-finite values), gather, renormalization, and the selection order with exact ties.
import { beam_row_stats_f32, beam_row_stats_f64, beam_gather_f64, beam_renormalize, beam_select_f64 } from '../../kernels/constrained/beam';

const arena = memory.data(1 << 16, 16);
const X = arena;
const MX = arena + 8192;
const LS = arena + 8448;
const OFF = arena + 8704;
const TOK = arena + 8960;
const OUT = arena + 9216;
const BLP = arena + 12288;
const ALL = arena + 12544;
const CONT = arena + 13056;
const CNT = arena + 13568;

function scalarLse(n: i32, f32: bool): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = f32 ? <f64>load<f32>(X + (<usize>i << 2)) : load<f64>(X + (<usize>i << 3));
    if (v - v == 0 && v > m) m = v;
  }
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = f32 ? <f64>load<f32>(X + (<usize>i << 2)) : load<f64>(X + (<usize>i << 3));
    if (v - v == 0) s += Math.exp(v - m);
  }
  return m + Math.log(s);
}

describe('beam kernels', () => {
  it('row statistics equal the scalar log-sum-exp for every length (f32 and f64)', () => {
    for (let n = 1; n < 40; n++) {
      for (let i = 0; i < n; i++) {
        const v = <f64>((i * 37) % 23) * 0.7 - 8.0;
        store<f32>(X + (<usize>i << 2), <f32>v);
      }
      beam_row_stats_f32(X, 1, n, MX, LS);
      expect(Math.abs(load<f64>(MX) + load<f64>(LS) - scalarLse(n, true)) < 1e-13).toBe(true);
      for (let i = 0; i < n; i++) store<f64>(X + (<usize>i << 3), <f64>((i * 37) % 23) * 0.7 - 8.0);
      if (n > 2) {
        store<f64>(X + 8, -Infinity);
        store<f64>(X + 16, NaN);
      }
      beam_row_stats_f64(X, 1, n, MX, LS);
      expect(Math.abs(load<f64>(MX) + load<f64>(LS) - scalarLse(n, false)) < 1e-13).toBe(true);
    }
    // A row without finite values: +∞ max, so every log-probability is non-finite.
    store<f64>(X, NaN);
    store<f64>(X + 8, -Infinity);
    beam_row_stats_f64(X, 1, 2, MX, LS);
    expect(load<f64>(MX)).toBe(Infinity);
  });

  it('gathers, renormalizes and selects in (logProb desc, row asc, token asc) order', () => {
    // Two rows of V = 4, all logits 0: every log-probability is −log 4, ties everywhere.
    for (let i = 0; i < 8; i++) store<f64>(X + (<usize>i << 3), 0);
    beam_row_stats_f64(X, 2, 4, MX, LS);
    // Allowed: row 0 → {1, 3}, row 1 → {0, 2, 3}.
    store<i32>(OFF, 0); store<i32>(OFF, 2, 4); store<i32>(OFF, 5, 8);
    store<i32>(TOK, 1); store<i32>(TOK, 3, 4); store<i32>(TOK, 0, 8); store<i32>(TOK, 2, 12); store<i32>(TOK, 3, 16);
    beam_gather_f64(X, 4, 2, OFF, TOK, MX, LS, OUT);
    for (let j = 0; j < 5; j++) expect(Math.abs(load<f64>(OUT + (<usize>j << 3)) + Math.log(4)) < 1e-15).toBe(true);
    beam_renormalize(OUT, 2, OFF, 4);
    expect(Math.abs(load<f64>(OUT) + Math.log(2)) < 1e-15).toBe(true);
    expect(Math.abs(load<f64>(OUT + 16) + Math.log(3)) < 1e-15).toBe(true);
    // Equal beam logProbs and raw (tied) scores: order by row, then token. End token 3 finishes.
    store<f64>(BLP, 0);
    store<f64>(BLP + 8, 0);
    beam_gather_f64(X, 4, 2, OFF, TOK, MX, LS, OUT);
    beam_select_f64(OUT, 0, 4, 0, 2, OFF, TOK, 0, 0, BLP, 3, 0, 0, 0, 0, 0, 3, ALL, CONT, CNT);
    expect(load<i32>(CNT)).toBe(3);
    expect(load<i32>(CNT, 4)).toBe(3);
    // overall: (r0,t1) (r0,t3) (r1,t0); continuing: (r0,t1) (r1,t0) (r1,t2)
    expect(load<i32>(ALL, 12)).toBe(0); expect(load<i32>(ALL, 16)).toBe(1);
    expect(load<i32>(ALL + 32, 12)).toBe(0); expect(load<i32>(ALL + 32, 16)).toBe(3); expect(load<i32>(ALL + 32, 24)).toBe(1);
    expect(load<i32>(ALL + 64, 12)).toBe(1); expect(load<i32>(ALL + 64, 16)).toBe(0);
    expect(load<i32>(CONT + 32, 16)).toBe(0);
    expect(load<i32>(CONT + 64, 16)).toBe(2);
    // A better beam wins over the tie order; −∞ never enters.
    store<f64>(BLP + 8, 1);
    store<f64>(OUT + 16, -Infinity);
    beam_select_f64(OUT, 0, 4, 0, 2, OFF, TOK, 0, 0, BLP, 3, 0, 0, 0, 0, 0, 3, ALL, CONT, CNT);
    expect(load<i32>(ALL, 12)).toBe(1); expect(load<i32>(ALL, 16)).toBe(2);
    expect(load<i32>(ALL + 32, 16)).toBe(3);
    expect(load<i32>(ALL + 64, 12)).toBe(0);
  });
});
