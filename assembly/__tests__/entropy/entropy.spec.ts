// Spec for kernels/entropy.ts and the exp it uses (expNonPositiveF32x4, inline/exp.ts): small cases with exact answers (uniform rows,
// one-hot rows, clamps, invalid rows, tie counting across SIMD lanes and tails), a two-entry solve
// checked against the closed-form entropy, and the f32 exp against the float64 exp on a grid.
import { entropy_rows_f32, entropy_rows_f64, entropy_solve_f32, entropy_solve_f64 } from '../../kernels/entropy/entropy';
import { expNonPositiveF32x4 } from '../../inline/exp';

const ARENA_BYTES: i32 = 1 << 16;
const arena = memory.data(ARENA_BYTES, 16);
// Layout (bytes): x 0 | out 4096 | per-row results 8192.. | scratch 12288 | log table 16384
const X = arena;
const OUT = arena + 4096;
const TARGETS = arena + 8192;
const GAMMA0 = arena + 8448;
const GAMMA = arena + 8704;
const H = arena + 8960;
const ITERS = arena + 9216;
const STATUS = arena + 9472;
const SCRATCH = arena + 12288;
const LOGS = arena + 16384;

function setRow<T>(vals: StaticArray<f64>): i32 {
  for (let i = 0; i < vals.length; i++) store<T>(X + (<usize>i << alignof<T>()), <T>vals[i]);
  for (let i = 0; i <= vals.length; i++) store<f64>(LOGS + (<usize>i << 3), Math.log(<f64>i));
  return vals.length;
}

/** Solve one row; returns its status. */
function solve<T>(vals: StaticArray<f64>, fromLogits: i32, target: f64, tol: f64, method: i32): u8 {
  const n = setRow<T>(vals);
  store<f64>(TARGETS, target);
  store<f64>(GAMMA0, 1.0);
  if (sizeof<T>() == 4) entropy_solve_f32(X, 1, n, fromLogits, TARGETS, GAMMA0, tol, 30, method, OUT, GAMMA, H, ITERS, STATUS, SCRATCH, LOGS);
  else entropy_solve_f64(X, 1, n, fromLogits, TARGETS, GAMMA0, tol, 30, method, OUT, GAMMA, H, ITERS, STATUS, SCRATCH, LOGS);
  return load<u8>(STATUS);
}

function outAt<T>(i: i32): f64 {
  return <f64>load<T>(OUT + (<usize>i << alignof<T>()));
}

function entropyOf<T>(vals: StaticArray<f64>, fromLogits: i32): f64 {
  const n = setRow<T>(vals);
  if (sizeof<T>() == 4) entropy_rows_f32(X, 1, n, fromLogits, H, SCRATCH);
  else entropy_rows_f64(X, 1, n, fromLogits, H, SCRATCH);
  return load<f64>(H);
}

describe('entropy_rows', () => {
  it('gives log n for uniform rows in both forms, f64 and f32, across SIMD tails', () => {
    expect<f64>(entropyOf<f64>([2, 2, 2, 2, 2], 1)).toBe(Math.log(5));
    expect<f64>(entropyOf<f64>([0.2, 0.2, 0.2, 0.2, 0.2], 0)).toBeCloseTo(Math.log(5), 14);
    expect<f64>(entropyOf<f32>([-1, -1, -1, -1, -1, -1, -1], 1)).toBe(Math.log(7));
    expect<f64>(entropyOf<f32>([3, 0, 3, 0, 3, 0, 3], 0)).toBeCloseTo(Math.log(4), 6);
  });

  it('masks −∞ and zeros, and gives NaN for invalid rows', () => {
    expect<f64>(entropyOf<f64>([0, -Infinity, 0, -Infinity], 1)).toBe(Math.log(2));
    expect<bool>(isNaN(entropyOf<f64>([0.5, NaN, 0.5], 0))).toBe(true);
    expect<bool>(isNaN(entropyOf<f32>([0.5, -0.5, 1], 0))).toBe(true);
    expect<bool>(isNaN(entropyOf<f32>([1, Infinity, 0], 1))).toBe(true);
    expect<bool>(isNaN(entropyOf<f64>([-Infinity, -Infinity, -Infinity], 1))).toBe(true);
    expect<bool>(isNaN(entropyOf<f64>([0, 0], 0))).toBe(true);
  });
});

describe('entropy_solve', () => {
  it('classifies degenerate, clamped and invalid rows with the spec outputs', () => {
    // One-hot: Degenerate, γ = 1, the row itself.
    expect<u8>(solve<f64>([0, 0, 1, 0, 0], 0, 0.5, 1e-6, 0)).toBe(3);
    expect<f64>(load<f64>(GAMMA)).toBe(1.0);
    expect<f64>(outAt<f64>(2)).toBe(1.0);
    expect<f64>(outAt<f64>(0)).toBe(0.0);
    // H* = log m exactly → ClampedHigh, uniform on the support (zeros stay zero).
    expect<u8>(solve<f32>([0.5, 0, 0.3, 0.2, 0, 0.1], 0, Math.log(4), 1e-4, 0)).toBe(1);
    expect<f64>(load<f64>(GAMMA)).toBe(0.0);
    expect<f64>(outAt<f32>(0)).toBe(<f64><f32>0.25);
    expect<f64>(outAt<f32>(1)).toBe(0.0);
    // Ties at the max in different lanes and in the tail: k = 3, H* = log 3 → ClampedLow.
    expect<u8>(solve<f32>([5, 1, 2, 5, 0, 1, 2, 3, 5], 1, Math.log(3), 1e-4, 0)).toBe(2);
    expect<f64>(load<f64>(GAMMA)).toBe(Infinity);
    expect<f64>(load<f64>(H)).toBe(Math.log(3));
    expect<f64>(outAt<f32>(8)).toBe(<f64><f32>(1.0 / 3.0));
    expect<f64>(outAt<f32>(7)).toBe(0.0);
    expect<u8>(solve<f64>([5, 1, 2, 5, 0, 1, 2, 3, 5], 1, Math.log(3) + 0.01, 1e-9, 0)).toBe(0);
    // Invalid: NaN everywhere, zero passes.
    expect<u8>(solve<f64>([1, NaN, 0], 1, 0.5, 1e-6, 0)).toBe(5);
    expect<bool>(isNaN(outAt<f64>(0))).toBe(true);
    expect<i32>(load<i32>(ITERS)).toBe(0);
  });

  it('solves a two-entry row to the closed-form entropy', () => {
    // p = (0.8, 0.2): p̃ = (σ, 1 − σ) with σ = 0.8^γ / (0.8^γ + 0.2^γ).
    for (let method = 0; method < 2; method++) {
      expect<u8>(solve<f64>([0.8, 0.2], 0, 0.3, 1e-12, method)).toBe(0);
      const g = load<f64>(GAMMA);
      const s = Math.pow(0.8, g) / (Math.pow(0.8, g) + Math.pow(0.2, g));
      const h = -s * Math.log(s) - (1 - s) * Math.log(1 - s);
      expect<bool>(abs(h - 0.3) <= 1e-12).toBe(true);
      expect<bool>(abs(outAt<f64>(0) - s) <= 1e-12).toBe(true);
    }
  });
});

/** e^x through the kernel's exp, with x read from memory: Binaryen's optimizer folds relaxed_madd on
 *  constant operands as a + b·c instead of a·b + c, so constant inputs would test the folder, not the engine. */
function expLane(x: f32): f32 {
  store<f32>(SCRATCH, x);
  return f32x4.extract_lane(expNonPositiveF32x4(f32x4.splat(load<f32>(SCRATCH))), 0);
}

describe('expNonPositiveF32x4', () => {
  it('is within 1e-6 relative of the f64 exp on [−87.3, 0], exactly 1 at 0 and 0 below the normal range', () => {
    let worst: f64 = 0;
    for (let i = 0; i <= 87300; i++) {
      const x = <f32>(-<f64>i * 0.001);
      const y = <f64>expLane(x);
      const e = Math.exp(<f64>x);
      worst = max(worst, abs(y - e) / e);
    }
    expect<bool>(worst <= 1e-6).toBe(true);
    expect<f32>(expLane(0)).toBe(1);
    expect<f32>(expLane(-87.5)).toBe(0);
    expect<f32>(expLane(-Infinity)).toBe(0);
  });
});
