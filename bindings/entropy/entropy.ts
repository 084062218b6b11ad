/**
 * Entropy module: entropy of probability / logit rows, entropy normalisation (the exponent γ, or the
 * temperature 1/γ, that gives each row a target entropy), Su's entropy-invariant attention scale, and
 * top-k / nucleus filters with the consistent (end-token) option. Semantics: docs/entropy.md.
 *
 * The solves run in the wasm kernel (kernels/entropy.ts): one call solves a chunk of rows, each row with
 * a prep pass and one exp pass per Newton step. The filters are selection work and run in TypeScript
 * (select.ts, shared with decodeTransform).
 */
import type { WasmInstance } from '../wasm/load.js';
import type { FloatArray, Scope } from '../wasm/memory.js';
import {
  checkBool,
  checkEnum,
  checkFloatArray,
  checkInt,
  checkNumber,
  checkOptions,
  checkProduct,
  checkSameType,
  overlaps,
  show,
} from '../shared/validate.js';
import { selectKept, type KeepRule } from './select.js';

/** Per-row status codes of `entropyNormalize` / `temperatureForEntropy` (docs/entropy.md §3.2). */
export const EntropyStatus = {
  /** A pass met |H − H*| ≤ tol. */
  Ok: 0,
  /** H* ≥ log m: γ = 0 (T = +∞), the output is uniform on the support. */
  ClampedHigh: 1,
  /** H* ≤ log k: γ = +∞ (T = 0), the output is uniform on the argmax set. */
  ClampedLow: 2,
  /** All supported entries are equal (one-hot, constant logits): γ = 1, output 1/m on the support. */
  Degenerate: 3,
  /** tol not met within maxIter passes (or the bracket collapsed, or a 'su' update left β > 0): best γ. */
  MaxIter: 4,
  /** NaN, +Infinity, a negative probability, or an empty support: γ, output and entropy are NaN. */
  Invalid: 5,
} as const;
export type EntropyStatusCode = (typeof EntropyStatus)[keyof typeof EntropyStatus];

export interface EntropyOptions {
  /** The entries are logits (−Infinity masks an entry) instead of probabilities. Default false. */
  fromLogits?: boolean;
}

export interface EntropySolveOptions {
  /** Stop when |H − H*| ≤ tol (nats). Default 1e-6 for Float64Array input, 1e-4 for Float32Array. */
  tol?: number;
  /** Maximum moment passes per row (integer ≥ 1). Default 30. */
  maxIter?: number;
  /** `'safeguarded'` (default, docs/entropy.md §3.3) or `'su'`, the plain iteration of Su's post (docs/entropy.md §3.4). */
  method?: 'safeguarded' | 'su';
}

export interface EntropyNormalizeOptions<T extends FloatArray = FloatArray> extends EntropySolveOptions, EntropyOptions {
  /**
   * Warm start γ0: a finite number > 0 for every row, or a Float64Array(rows) in which an entry that is
   * not a finite positive number is read as 1 (so the previous call's `gamma` can be passed back). Default 1.
   */
  initialGamma?: number | Float64Array;
  /** rows×cols buffer of x's type for the output rows; may be `x` itself. */
  out?: T;
}

export interface EntropyNormalizeResult<T extends FloatArray = FloatArray> {
  /** rows×cols: p̃ = p^γ / Σ p^γ (= softmax(γ·z) for logits) per row; 0 outside the support. */
  out: T;
  /** γ per row (inverse temperature); 0 ClampedHigh, +Infinity ClampedLow, 1 Degenerate, NaN Invalid. */
  gamma: Float64Array;
  /** Entropy (nats) of the output row as the solver evaluated it. */
  entropy: Float64Array;
  /** Moment passes used per row (0 for rows that need none). */
  iterations: Int32Array;
  /** `EntropyStatus` code per row. */
  status: Uint8Array;
}

export interface TemperatureOptions extends EntropySolveOptions {
  /** Warm start T0 (γ0 = 1/T0): a finite number > 0, or a Float64Array(rows) (bad entries → T0 = 1). */
  initialTemperature?: number | Float64Array;
}

export interface TemperatureResult {
  /** T = 1/γ per row: +Infinity ClampedHigh, 0 ClampedLow, 1 Degenerate, NaN Invalid. */
  temperature: Float64Array;
  status: Uint8Array;
  iterations: Int32Array;
  /** Entropy (nats) of softmax(logits / T) as the solver evaluated it. */
  entropy: Float64Array;
}

export interface FilterOptions<T extends FloatArray = FloatArray> {
  /** Keep the end token as well (V′ = V ∪ {endToken}); needs `endToken`. Default false. */
  consistent?: boolean;
  /** Index of the end token in [0, cols) (decodeTransform's `eosIndex`); used only with `consistent`. */
  endToken?: number;
  /** rows×cols buffer of the input's type; may be `logits` itself. */
  out?: T;
}

// ---------------------------------------------------------------------------------------------------
// Plans: checked arguments, reused by the pool for row blocks.

/** A checked entropyNormalize / temperatureForEntropy call. */
export interface EntropySolvePlan<T extends FloatArray = FloatArray> {
  x: T;
  rows: number;
  cols: number;
  f64: boolean;
  fromLogits: boolean;
  /** Target entropy per row (nats). */
  targets: Float64Array;
  /** γ0 per row, every entry finite and > 0. */
  gamma0: Float64Array;
  tol: number;
  maxIter: number;
  /** 0 = safeguarded, 1 = su. */
  method: 0 | 1;
  /** Whether output rows are produced (entropyNormalize) or not (temperatureForEntropy). */
  wantOut: boolean;
  out: T | undefined;
}

function checkRowsCols(fn: string, name: string, x: unknown, rows: unknown, cols: unknown): FloatArray {
  const arr = checkFloatArray(fn, name, x);
  checkInt(fn, 'rows', rows);
  checkInt(fn, 'cols', cols);
  checkProduct(fn, 'rows*cols', rows as number, cols as number);
  checkFloatArray(fn, name, arr, (rows as number) * (cols as number), 'rows*cols');
  return arr;
}

function checkTargets(fn: string, targetH: unknown, rows: number): Float64Array {
  if (typeof targetH === 'number') {
    if (!Number.isFinite(targetH)) throw new RangeError(`${fn}: targetH must be finite, got ${targetH}`);
    return new Float64Array(rows).fill(targetH);
  }
  if (!(targetH instanceof Float64Array)) {
    throw new TypeError(`${fn}: targetH must be a number or a Float64Array of length rows, got ${show(targetH)}`);
  }
  if (targetH.length !== rows) throw new RangeError(`${fn}: targetH.length ${targetH.length} does not match rows = ${rows}`);
  for (let i = 0; i < rows; i++) {
    if (!Number.isFinite(targetH[i])) throw new RangeError(`${fn}: targetH[${i}] is ${targetH[i]}; targets must be finite`);
  }
  return targetH.slice();
}

/** Warm starts: a number must be finite and > 0; an array's bad entries are read as 1. */
function checkWarmStart(fn: string, name: string, v: unknown, rows: number, invert: boolean): Float64Array {
  const g0 = new Float64Array(rows);
  if (v === undefined) return g0.fill(1);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !(v > 0)) throw new RangeError(`${fn}: ${name} must be a finite number > 0, got ${v}`);
    const g = invert ? 1 / v : v;
    if (!Number.isFinite(g)) throw new RangeError(`${fn}: ${name} ${v} is too small: 1/${name} overflows`);
    return g0.fill(g);
  }
  if (!(v instanceof Float64Array)) {
    throw new TypeError(`${fn}: ${name} must be a number or a Float64Array of length rows, got ${show(v)}`);
  }
  if (v.length !== rows) throw new RangeError(`${fn}: ${name}.length ${v.length} does not match rows = ${rows}`);
  for (let i = 0; i < rows; i++) {
    const g = invert ? 1 / v[i] : v[i];
    g0[i] = Number.isFinite(g) && g > 0 && Number.isFinite(v[i]) ? g : 1;
  }
  return g0;
}

function checkOut<T extends FloatArray>(fn: string, out: unknown, like: T, length: number): T | undefined {
  if (out === undefined) return undefined;
  checkFloatArray(fn, 'opts.out', out, length, 'rows*cols');
  checkSameType(fn, [['x', like], ['opts.out', out as FloatArray]]);
  return out as T;
}

/** Most rows one entropy solve can take (see planEntropySolve). */
const MAX_SOLVE_ROWS = 2 ** 27;

/**
 * Validate an entropyNormalize (`logitsOnly` false) or temperatureForEntropy (`logitsOnly` true) call.
 * Throws TypeError / RangeError naming the parameter and value (docs/entropy.md §1); nothing about the rows' values
 * is thrown — bad rows get status Invalid.
 */
export function planEntropySolve<T extends FloatArray>(
  fn: string,
  x: T,
  rows: number,
  cols: number,
  targetH: number | Float64Array,
  opts: (EntropyNormalizeOptions<T> & TemperatureOptions) | undefined,
  logitsOnly: boolean,
): EntropySolvePlan<T> {
  checkRowsCols(fn, logitsOnly ? 'logits' : 'x', x, rows, cols);
  // With cols = 0 no input bounds rows; a solve keeps 29 bytes of wasm state per row, so more rows than
  // 2^27 (3.6 GiB) can never run: refuse them before the per-row arrays below are built.
  checkInt(fn, 'rows', rows, 0, MAX_SOLVE_ROWS);
  const o = checkOptions(fn, opts);
  const targets = checkTargets(fn, targetH, rows);
  const f64 = x instanceof Float64Array;
  const tol = o.tol === undefined ? (f64 ? 1e-6 : 1e-4) : checkNumber(fn, 'opts.tol', o.tol, 0);
  const maxIter = o.maxIter === undefined ? 30 : checkInt(fn, 'opts.maxIter', o.maxIter, 1);
  const method = o.method === undefined ? 'safeguarded' : checkEnum(fn, 'opts.method', o.method, ['safeguarded', 'su'] as const);
  let fromLogits = true;
  let gamma0: Float64Array;
  let out: T | undefined;
  if (logitsOnly) {
    gamma0 = checkWarmStart(fn, 'opts.initialTemperature', o.initialTemperature, rows, true);
  } else {
    fromLogits = o.fromLogits === undefined ? false : checkBool(fn, 'opts.fromLogits', o.fromLogits);
    gamma0 = checkWarmStart(fn, 'opts.initialGamma', o.initialGamma, rows, false);
    out = checkOut(fn, o.out, x, rows * cols);
  }
  return { x, rows, cols, f64, fromLogits, targets, gamma0, tol, maxIter, method: method === 'su' ? 1 : 0, wantOut: !logitsOnly, out };
}

// ---------------------------------------------------------------------------------------------------
// Staging and kernel calls.

/** Math.log(i) for i = 0 … n, grown on demand and kept: the clamps compare targets with these exact values. */
let logTable = new Float64Array(0);
function logsUpTo(n: number): Float64Array {
  if (logTable.length <= n) {
    const next = new Float64Array(Math.max(n + 1, Math.min(2 * logTable.length, 1 << 22)));
    next.set(logTable);
    for (let i = logTable.length; i < next.length; i++) next[i] = Math.log(i);
    logTable = next;
  }
  return logTable.subarray(0, n + 1);
}

/** Pointers of a staged solve (byte addresses). */
export interface EntropySolvePtrs {
  x: number;
  targets: number;
  gamma0: number;
  /** 0 when no output rows are wanted. */
  out: number;
  gamma: number;
  entropy: number;
  iterations: number;
  status: number;
  logTable: number;
}

/** Bytes of scratch one chunk of a solve needs (one row of the input type). */
export function entropyScratchBytes(p: { cols: number; f64: boolean }): number {
  return p.cols * (p.f64 ? 8 : 4);
}

/** Copy a planned solve's inputs into `scope` and allocate its outputs (plus `extraBytes` the caller needs). */
export function stageEntropySolve(scope: Scope, p: EntropySolvePlan, extraBytes: number): EntropySolvePtrs {
  scope.pin(p.x, p.out);
  const bytes = p.f64 ? 8 : 4;
  const n = p.rows * p.cols;
  const xBytes = scope.resident(p.x) ? 0 : n * bytes;
  scope.mem.checkFits('entropyNormalize', xBytes + (p.wantOut ? n * bytes : 0) + p.rows * 29 + (p.cols + 1) * 8 + extraBytes + 256);
  const x = scope.copyIn(p.x, 'x');
  const targets = scope.copyIn(p.targets, 'targetH');
  const gamma0 = scope.copyIn(p.gamma0, 'initialGamma');
  const logTablePtr = scope.copyIn(logsUpTo(p.cols), 'log table');
  return {
    x,
    targets,
    gamma0,
    out: p.wantOut ? scope.resultPtr(p.out === p.x ? undefined : p.out, n * bytes, 'out') : 0,
    gamma: scope.alloc(p.rows * 8, 'gamma'),
    entropy: scope.alloc(p.rows * 8, 'entropy'),
    iterations: scope.alloc(p.rows * 4, 'iterations'),
    status: scope.alloc(p.rows, 'status'),
    logTable: logTablePtr,
  };
}

/** Solve rows [r0, r0 + rows) of a staged call; `scratch` holds entropyScratchBytes(p). */
export function entropySolveRows(
  inst: WasmInstance,
  p: Pick<EntropySolvePlan, 'cols' | 'f64' | 'fromLogits' | 'tol' | 'maxIter' | 'method'>,
  ptrs: EntropySolvePtrs,
  r0: number,
  rows: number,
  scratch: number,
): void {
  const rowOffset = r0 * p.cols * (p.f64 ? 8 : 4);
  inst.run('entropyNormalize', (k) =>
    k[p.f64 ? 'entropy_solve_f64' : 'entropy_solve_f32'](
      ptrs.x + rowOffset, rows, p.cols, +p.fromLogits, ptrs.targets + r0 * 8, ptrs.gamma0 + r0 * 8, p.tol, p.maxIter, p.method,
      ptrs.out ? ptrs.out + rowOffset : 0, ptrs.gamma + r0 * 8, ptrs.entropy + r0 * 8, ptrs.iterations + r0 * 4, ptrs.status + r0,
      scratch, ptrs.logTable,
    ),
  );
}

/** Copy the per-row results (and the output rows) of a finished solve out of wasm memory. */
export function collectEntropySolve<T extends FloatArray>(scope: Scope, p: EntropySolvePlan<T>, ptrs: EntropySolvePtrs) {
  const ctor = (p.f64 ? Float64Array : Float32Array) as unknown as new (buf: ArrayBufferLike, off: number, len: number) => T;
  return {
    out: p.wantOut ? scope.copyOut(ctor as never, ptrs.out, p.rows * p.cols, p.out) as T : undefined,
    gamma: scope.copyOut(Float64Array, ptrs.gamma, p.rows),
    entropy: scope.copyOut(Float64Array, ptrs.entropy, p.rows),
    iterations: scope.copyOut(Int32Array, ptrs.iterations, p.rows),
    status: scope.copyOut(Uint8Array, ptrs.status, p.rows),
  };
}

/** Shape a collected solve as the public result of entropyNormalize or temperatureForEntropy. */
export function entropySolveResult<T extends FloatArray>(
  p: EntropySolvePlan<T>,
  r: ReturnType<typeof collectEntropySolve<T>>,
): EntropyNormalizeResult<T> | TemperatureResult {
  if (p.wantOut) return { out: r.out as T, gamma: r.gamma, entropy: r.entropy, iterations: r.iterations, status: r.status };
  const temperature = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) temperature[i] = 1 / r.gamma[i];
  return { temperature, status: r.status, iterations: r.iterations, entropy: r.entropy };
}

/** Run a planned solve whole on one instance. */
export function runEntropySolve<T extends FloatArray>(inst: WasmInstance, p: EntropySolvePlan<T>): EntropyNormalizeResult<T> | TemperatureResult {
  return inst.mem.scoped((scope) => {
    const ptrs = stageEntropySolve(scope, p, entropyScratchBytes(p));
    const scratch = scope.alloc(entropyScratchBytes(p), 'entropy scratch');
    if (p.rows > 0) entropySolveRows(inst, p, ptrs, 0, p.rows, scratch);
    return entropySolveResult(p, collectEntropySolve(scope, p, ptrs));
  });
}

// ---------------------------------------------------------------------------------------------------
// Filters (TypeScript: which entries are kept is decided in select.ts).

interface FilterPlan<T extends FloatArray> {
  logits: T;
  rows: number;
  cols: number;
  endToken: number;
  out: T | undefined;
}

function planFilter<T extends FloatArray>(fn: string, logits: T, rows: number, cols: number, opts: FilterOptions<T> | undefined): FilterPlan<T> {
  checkRowsCols(fn, 'logits', logits, rows, cols);
  const o = checkOptions(fn, opts);
  const consistent = o.consistent === undefined ? false : checkBool(fn, 'opts.consistent', o.consistent);
  let endToken = -1;
  if (consistent) {
    if (o.endToken === undefined) throw new RangeError(`${fn}: opts.consistent needs opts.endToken, an integer in [0, cols)`);
    if (typeof o.endToken !== 'number') throw new TypeError(`${fn}: opts.endToken must be a number, got ${show(o.endToken)}`);
    if (!Number.isInteger(o.endToken) || o.endToken < 0 || o.endToken >= cols) {
      throw new RangeError(`${fn}: opts.endToken must be an integer in [0, ${cols}) for cols = ${cols}, got ${o.endToken}`);
    }
    endToken = o.endToken;
  }
  let out: T | undefined;
  if (o.out !== undefined) {
    out = checkFloatArray(fn, 'opts.out', o.out, rows * cols, 'rows*cols') as T;
    checkSameType(fn, [['logits', logits], ['opts.out', out]]);
    if (out !== logits && overlaps(out, logits) && !(out.buffer === logits.buffer && out.byteOffset === logits.byteOffset)) {
      throw new RangeError(`${fn}: opts.out must be logits itself or not overlap it`);
    }
  }
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    if (z !== z || z === Infinity) {
      throw new RangeError(`${fn}: logits[row ${Math.floor(i / cols)}, column ${i % cols}] is ${z}; logits must be finite or -Infinity`);
    }
  }
  return { logits, rows, cols, endToken, out };
}

/** Run a planned filter: kept entries copied, the others −∞ (docs/entropy.md §6). */
function runFilter<T extends FloatArray>(p: FilterPlan<T>, rule: KeepRule): T {
  const { logits, rows, cols } = p;
  const dst = p.out ?? (new (logits.constructor as { new (n: number): T })(rows * cols));
  const keep = new Uint8Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    selectKept(logits, base, cols, 'logits', rule, keep);
    for (let j = 0; j < cols; j++) dst[base + j] = keep[j] ? logits[base + j] : -Infinity;
  }
  return dst;
}

// ---------------------------------------------------------------------------------------------------
// Plain export.

/**
 * Su's entropy-invariant attention scale λ = log_trainLength(n) / √d (docs/entropy.md §5): pass it to
 * `gc.attention` as `scale` so that attention entropy stays roughly independent of the number of keys.
 *
 * @param n - number of keys attended, finite ≥ 1.
 * @param d - head dimension, finite > 0.
 * @param opts.trainLength - sequence length the model was trained at, finite > 1. Default 512.
 * @returns exactly 1/√d at n = trainLength, 0 at n = 1.
 * @throws TypeError for non-numbers; RangeError for values out of range.
 */
export function entropyInvariantScale(n: number, d: number, opts?: { trainLength?: number }): number {
  const fn = 'entropyInvariantScale';
  checkNumber(fn, 'n', n, 1);
  checkNumber(fn, 'd', d);
  if (!(d > 0)) throw new RangeError(`${fn}: d must be > 0, got ${d}`);
  const o = checkOptions(fn, opts);
  const trainLength = o.trainLength === undefined ? 512 : checkNumber(fn, 'opts.trainLength', o.trainLength);
  if (!(trainLength > 1)) throw new RangeError(`${fn}: opts.trainLength must be > 1, got ${trainLength}`);
  return Math.log(n) / Math.log(trainLength) / Math.sqrt(d);
}

// ---------------------------------------------------------------------------------------------------

export function entropyApi(inst: WasmInstance) {
  return {
    /**
     * Entropy in nats of each row: H = −Σ q log q with q = p/Σp (probabilities, zeros outside the
     * support) or softmax(z) (logits, −Infinity masked). Invalid rows (NaN, +Infinity, a negative
     * probability, an empty support) give NaN.
     *
     * @param x - rows×cols row-major Float32Array or Float64Array.
     * @param opts.fromLogits - entries are logits. Default false (probabilities, need not sum to 1).
     * @returns Float64Array(rows).
     */
    entropy(x: FloatArray, rows: number, cols: number, opts?: EntropyOptions): Float64Array {
      const fn = 'entropy';
      checkRowsCols(fn, 'x', x, rows, cols);
      const o = checkOptions(fn, opts);
      const fromLogits = o.fromLogits === undefined ? false : checkBool(fn, 'opts.fromLogits', o.fromLogits);
      const f64 = x instanceof Float64Array;
      return inst.mem.scoped((scope) => {
        scope.pin(x);
        const bytes = f64 ? 8 : 4;
        scope.mem.checkFits(fn, (scope.resident(x) ? 0 : x.length * bytes) + rows * 8 + cols * bytes + 64);
        const px = scope.copyIn(x, 'x');
        const h = scope.alloc(rows * 8, 'entropy');
        const scratch = scope.alloc(cols * bytes, 'entropy scratch');
        if (rows > 0) inst.run(fn, (k) => k[f64 ? 'entropy_rows_f64' : 'entropy_rows_f32'](px, rows, cols, +fromLogits, h, scratch));
        return scope.copyOut(Float64Array, h, rows);
      });
    },

    /**
     * Entropy normalisation (docs/entropy.md §3): per row, p̃ = p^γ / Σ p^γ (softmax(γ·z) for logits) with γ > 0
     * chosen so that H(p̃) = targetH. Order of entries is kept, zeros / −Infinity stay excluded. Rows whose
     * target is out of reach are clamped (status ClampedHigh / ClampedLow), one-hot or constant rows are
     * Degenerate, bad rows Invalid — never thrown.
     *
     * @param x - rows×cols row-major Float32Array or Float64Array (probabilities, or logits with fromLogits).
     * @param targetH - target entropy in nats: one finite number, or a Float64Array(rows).
     * @param opts - fromLogits, tol (nats; default 1e-6 f64 / 1e-4 f32), maxIter (30), method
     *   ('safeguarded' | 'su'), initialGamma (warm start), out (may be x).
     * @throws TypeError / RangeError for bad arguments (sizes, non-finite targets, tol, maxIter, method, out).
     */
    entropyNormalize<T extends FloatArray>(
      x: T,
      rows: number,
      cols: number,
      targetH: number | Float64Array,
      opts?: EntropyNormalizeOptions<T>,
    ): EntropyNormalizeResult<T> {
      const p = planEntropySolve('entropyNormalize', x, rows, cols, targetH, opts, false);
      return runEntropySolve(inst, p) as EntropyNormalizeResult<T>;
    },

    /**
     * The temperature T = 1/γ per row that gives softmax(logits / T) the entropy targetH (docs/entropy.md §4): the
     * same solve as entropyNormalize on logits, without the output rows.
     *
     * @param logits - rows×cols row-major Float32Array or Float64Array; −Infinity masks an entry.
     * @param targetH - target entropy in nats: a finite number or a Float64Array(rows).
     * @param opts - tol, maxIter, method, initialTemperature (warm start).
     */
    temperatureForEntropy(
      logits: FloatArray,
      rows: number,
      cols: number,
      targetH: number | Float64Array,
      opts?: TemperatureOptions,
    ): TemperatureResult {
      const p = planEntropySolve('temperatureForEntropy', logits, rows, cols, targetH, opts, true);
      return runEntropySolve(inst, p) as TemperatureResult;
    },

    /**
     * Top-k filter (docs/entropy.md §6): per row, keep the first k finite entries in the order by value
     * descending, ties to the lower index (exactly k when the row has that many); all others become
     * −Infinity. Nothing is renormalised.
     *
     * @param logits - rows×cols Float32Array or Float64Array; NaN / +Infinity throw (row and column named).
     * @param k - integer ≥ 1.
     * @param opts.consistent - also keep opts.endToken (copied as is, not counted toward k).
     * @returns logits of the input's type (opts.out, which may be logits, when given).
     */
    topKFilter<T extends FloatArray>(logits: T, rows: number, cols: number, k: number, opts?: FilterOptions<T>): T {
      const fn = 'topKFilter';
      checkInt(fn, 'k', k, 1);
      const p = planFilter(fn, logits, rows, cols, opts);
      return runFilter(p, { kind: 'topK', k, endToken: p.endToken });
    },

    /**
     * Nucleus (top-p) filter (docs/entropy.md §6): with q = softmax over the finite entries (float64), keep
     * the shortest prefix of the order (value descending, ties to the lower index) whose mass reaches
     * p − 1e-9; all others become −Infinity. p = 1 keeps every finite entry.
     *
     * @param p - in (0, 1].
     * @param opts.consistent - also keep opts.endToken (copied as is, not counted toward p).
     */
    nucleusFilter<T extends FloatArray>(logits: T, rows: number, cols: number, p: number, opts?: FilterOptions<T>): T {
      const fn = 'nucleusFilter';
      checkNumber(fn, 'p', p);
      if (!(p > 0 && p <= 1)) throw new RangeError(`nucleusFilter: p must be in (0, 1], got ${p}`);
      const plan = planFilter(fn, logits, rows, cols, opts);
      return runFilter(plan, { kind: 'nucleus', p, endToken: plan.endToken });
    },
  };
}
