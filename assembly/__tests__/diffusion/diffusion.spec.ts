// Spec for kernels/rng.ts, kernels/diffusion.ts, kernels/mixture.ts and kernels/energy.ts: Threefry known
// answers (Random123), normals independent of the call's start and length, the fused step against its
// scalar formula (with every head/tail alignment), clipping and per-row bounds, the mixture's single-
// component closed form, and exact distance sums.
import { rng_words, rng_normal_f32, normalAt } from '../../kernels/diffusion/rng';
import { diffusion_step_f32, diffusion_step_rows_f32 } from '../../kernels/diffusion/diffusion';
import { mixture_eval_f32 } from '../../kernels/diffusion/mixture';
import { energy_distance_sum_f32, energy_distance_sum_f64 } from '../../kernels/diffusion/energy';

const arena = memory.data(1 << 16, 16);
const A = arena; // 4 KiB blocks
const B = arena + 4096;
const Z = arena + 8192;
const O = arena + 12288;
const X0 = arena + 16384;
const SCR = arena + 20480;
const W = arena + 24576;

describe('rng', () => {
  it('Threefry-2x32-20 known answers', () => {
    rng_words(0, 0, 0, 0, 1, W);
    expect(load<u32>(W)).toBe(0x6b200159);
    expect(load<u32>(W, 4)).toBe(0x99ba4efe);
    rng_words(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 1, W);
    expect(load<u32>(W)).toBe(0x1cb996fc);
    expect(load<u32>(W, 4)).toBe(0xbb002be7);
    rng_words(0x13198a2e, 0x03707344, 0x85a308d3, 0x243f6a88, 1, W);
    expect(load<u32>(W)).toBe(0xc4923a9c);
    expect(load<u32>(W, 4)).toBe(0x483df7a0);
  });

  it('normals do not depend on where a call starts or ends', () => {
    rng_normal_f32(42, 0, 1, 0, 64, A, SCR);
    for (let first = 0; first < 12; first++) {
      for (let n = 1; n < 20; n++) {
        rng_normal_f32(42, 0, 1, <u32>first, n, B, SCR);
        for (let i = 0; i < n; i++) expect(load<f32>(B + (<usize>i << 2))).toBe(load<f32>(A + (<usize>(first + i) << 2)));
      }
    }
    for (let e = 0; e < 64; e++) expect(normalAt(42, 0, 1, <u32>e)).toBe(load<f32>(A + (<usize>e << 2)));
  });
});

describe('fused step', () => {
  it('matches out = P·clamp(kx·x + km·m) + Q·x + R·m + C·z for every alignment', () => {
    for (let i = 0; i < 40; i++) {
      store<f32>(A + (<usize>i << 2), <f32>(i - 20) * 0.25);
      store<f32>(B + (<usize>i << 2), <f32>(i % 7) * 0.5 - 1.0);
      store<f32>(Z + (<usize>i << 2), <f32>(i % 5) - 2.0);
    }
    for (let off = 0; off < 3; off++) {
      for (let n = 0; n < 37; n++) {
        const o = <usize>off << 2;
        diffusion_step_f32(A + o, B + o, Z + o, O, X0, n, 2.0, -0.5, -1.5, 1.5, 0.25, 0.5, 0.125, 0.75, 0, 0, 0, 0, SCR);
        for (let i = 0; i < n; i++) {
          const x = load<f32>(A + o + (<usize>i << 2));
          const m = load<f32>(B + o + (<usize>i << 2));
          const z = load<f32>(Z + o + (<usize>i << 2));
          let y: f32 = 2.0 * x + -0.5 * m;
          y = y < -1.5 ? -1.5 : y > 1.5 ? 1.5 : y;
          // all values are short dyadic numbers: every step is exact, so both builds agree exactly
          expect(load<f32>(X0 + (<usize>i << 2))).toBe(y);
          expect(load<f32>(O + (<usize>i << 2))).toBe(<f32>0.25 * y + <f32>0.5 * x + <f32>0.125 * m + <f32>0.75 * z);
        }
      }
    }
  });

  it('generated noise equals the generator at the global element index; C = 0 adds none', () => {
    for (let i = 0; i < 40; i++) { store<f32>(A + (<usize>i << 2), 0); store<f32>(B + (<usize>i << 2), 0); }
    for (let first: u32 = 0; first < 5; first++) {
      diffusion_step_f32(A, B, 0, O, 0, 23, 1, 0, -Infinity, Infinity, 0, 0, 0, 1.0, 9, 1, 5, first, SCR);
      for (let i = 0; i < 23; i++) expect(load<f32>(O + (<usize>i << 2))).toBe(normalAt(9, 1, 5, first + <u32>i));
    }
    diffusion_step_f32(A, B, 0, O, 0, 23, 1, 0, -Infinity, Infinity, 1, 0, 0, 0, 9, 1, 5, 0, SCR);
    for (let i = 0; i < 23; i++) expect(load<f32>(O + (<usize>i << 2))).toBe(0);
  });

  it('per-row bounds (thresholding)', () => {
    for (let i = 0; i < 6; i++) { store<f32>(A + (<usize>i << 2), <f32>i - 2.0); store<f32>(B + (<usize>i << 2), 0); }
    store<f32>(W, 1.0); store<f32>(W, 2.0, 4); // s_r
    store<f32>(W, 0.5, 8); store<f32>(W, 0.25, 12); // P / s_r
    diffusion_step_rows_f32(A, B, 0, O, X0, 2, 3, 1, 0, W, W + 8, 0, 0, 0, 0, 0, 0, 0, SCR);
    // row 0: x = −2, −1, 0 clamped to ±1, times 0.5; row 1: x = 1, 2, 3 clamped to ±2, times 0.25
    expect(load<f32>(O)).toBe(-0.5); expect(load<f32>(O, 4)).toBe(-0.5); expect(load<f32>(O, 8)).toBe(0);
    expect(load<f32>(O, 12)).toBe(0.25); expect(load<f32>(O, 16)).toBe(0.5); expect(load<f32>(O, 20)).toBe(0.5);
  });
});

describe('mixture', () => {
  it('one component: ε* = (b/v)(x − aμ), mean = μ + (a s²/v)(x − aμ), trCov = s²b²/v', () => {
    const a = 0.6; const b = 0.8; const s = 0.5;
    store<f64>(W, 0.25); store<f64>(W, -0.5, 8); // μ (d = 2)
    store<f64>(W, s, 16); // std
    store<f64>(W, 0.0, 24); // log weight
    for (let i = 0; i < 6; i++) store<f32>(A + (<usize>i << 2), <f32>i * 0.5 - 1.0);
    mixture_eval_f32(A, 3, 2, W, W + 16, W + 24, 1, a, b, O, X0, Z, SCR);
    const v = a * a * s * s + b * b;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 2; c++) {
        const x = <f64>load<f32>(A + (<usize>(2 * r + c) << 2));
        const mu = load<f64>(W + (<usize>c << 3));
        expect(<f64>load<f32>(O + (<usize>(2 * r + c) << 2))).toBeCloseTo((b / v) * (x - a * mu), 6);
        expect(<f64>load<f32>(X0 + (<usize>(2 * r + c) << 2))).toBeCloseTo(mu + (a * s * s / v) * (x - a * mu), 6);
      }
      expect(load<f64>(Z + (<usize>r << 3))).toBeCloseTo(s * s * b * b / v, 12);
    }
  });
});

describe('energy', () => {
  it('sums of distances (3-4-5 triangles), full and upper-triangle', () => {
    // points (0,0), (3,4), (6,8), (0,4), (3,0), (9,12) as a and as bT
    const pts: StaticArray<f32> = [0, 0, 3, 4, 6, 8, 0, 4, 3, 0, 9, 12];
    for (let i = 0; i < 12; i++) store<f32>(A + (<usize>i << 2), pts[i]);
    for (let j = 0; j < 6; j++) { store<f32>(B + (<usize>j << 2), pts[2 * j]); store<f32>(B + (<usize>(6 + j) << 2), pts[2 * j + 1]); }
    let want: f64 = 0;
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) want += Math.hypot(<f64>pts[2 * i] - <f64>pts[2 * j], <f64>pts[2 * i + 1] - <f64>pts[2 * j + 1]);
    expect(energy_distance_sum_f32(A, 0, 6, B, 6, 2, 1)).toBeCloseTo(want, 5);
    expect(energy_distance_sum_f32(A, 0, 6, B, 6, 2, 0)).toBeCloseTo(2 * want, 5);
    expect(energy_distance_sum_f32(A, 0, 1, B, 6, 2, 0)).toBe(37.0); // from (0,0): 0 + 5 + 10 + 4 + 3 + 15
  });

  it('f64 sums match float64 hypot to 1e-15 (values not representable in f32; pair body and odd tail)', () => {
    // 5 points in 3-D: a row-major at A, the same points transposed at B (ldb = 5).
    const n = 5;
    const d = 3;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        const v: f64 = 0.1 * <f64>(i + 1) + 1e-9 * <f64>(c * 7 + i) - 0.3 * <f64>c;
        store<f64>(A + (<usize>(i * d + c) << 3), v);
        store<f64>(B + (<usize>(c * n + i) << 3), v);
      }
    }
    let upper: f64 = 0;
    let row0: f64 = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s: f64 = 0;
        for (let c = 0; c < d; c++) {
          const diff = load<f64>(A + (<usize>(i * d + c) << 3)) - load<f64>(A + (<usize>(j * d + c) << 3));
          s += diff * diff;
        }
        if (j > i) upper += Math.sqrt(s);
        if (i == 0) row0 += Math.sqrt(s);
      }
    }
    expect(Math.abs(energy_distance_sum_f64(A, 0, n, B, n, d, 1) - upper) <= 1e-15 * upper).toBe(true);
    expect(Math.abs(energy_distance_sum_f64(A, 0, n, B, n, d, 0) - 2 * upper) <= 1e-15 * upper).toBe(true);
    expect(Math.abs(energy_distance_sum_f64(A, 0, 1, B, n, d, 0) - row0) <= 1e-15 * row0).toBe(true);
  });
});
