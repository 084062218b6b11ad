/**
 * §6 Unified diffusion sampling (docs/diffusion.md): the deterministic-degradation rules and token
 * masking, pure JS (the masking uniforms come from the JS Threefry twin, exact).
 */
import type { FloatArray } from '../wasm/memory.js';
import { awaitCallback, checkTimeoutMs, stepYielder } from '../shared/callbacks.js';
import { throwIfAborted } from '../shared/errors.js';
import { checkEnum, checkFinite, checkFloatArray, checkFunction, checkInt, checkOptions, checkProduct, checkSignal, checkTyped, show } from '../shared/validate.js';
import { checkCallbackResult, checkShape, checkValues, report, type DiffusionProgress } from './checks.js';
import { seedKey, STREAM, threefry2x32, uniformOfWord } from './rng.js';

export interface UdmDeterministicOptions {
  kind: 'deterministic';
  xT: Float32Array;
  shape: [number, number];
  /** Decreasing timesteps > 0; the final target is 0 (F_0 = identity). */
  timesteps: ArrayLike<number>;
  /** F_t(x0): the deterministic degradation at t, for rows of x0. */
  degrade: (x0: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** x̂0 from x_t. */
  predictX0: (xt: Float32Array, t: number, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** `'improved'` (default): x_s = x_t + F_s(x̂0) − F_t(x̂0); `'naive'`: x_s = F_s(x̂0). */
  rule?: 'improved' | 'naive';
  signal?: AbortSignal;
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each predictX0 / degrade call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
}

export interface UdmMaskingOptions {
  kind: 'masking';
  /** Rows. */
  n: number;
  /** Tokens per row. */
  len: number;
  vocab: number;
  maskId: number;
  /** p(x0 | tokens) per position: n·len·vocab values (sync or async). */
  probs: (tokens: Int32Array, shape: [number, number]) => FloatArray | Promise<FloatArray>;
  /** Starting tokens (n·len); default all maskId. */
  tokens?: Int32Array;
  /** Positions unmasked per step and row. Default 1. */
  perStep?: number;
  /** `'improved'` (default) or `'baseline'`. */
  rule?: 'improved' | 'baseline';
  seed: number | bigint;
  signal?: AbortSignal;
  onProgress?: (p: DiffusionProgress) => void;
  /**
   * Milliseconds each probs call may take to settle (finite, > 0); past it the call rejects with a
   * TimeoutError and frees its memory. Default: no limit. An abort rejects a pending call at once.
   */
  timeoutMs?: number;
}

export interface UdmMaskStepOptions {
  n: number;
  len: number;
  vocab: number;
  maskId: number;
  perStep?: number;
  rule?: 'improved' | 'baseline';
  seed?: number | bigint;
  step?: number;
  /** Explicit uniforms instead of seed + step: select u and token v per position (n·len each). */
  uniforms?: { select: ArrayLike<number>; token: ArrayLike<number> };
  out?: Int32Array;
}

function maskStepJs(
  tokens: Int32Array,
  probs: ArrayLike<number>,
  o: { n: number; len: number; vocab: number; maskId: number; perStep: number; rule: 'improved' | 'baseline' },
  uniform: (row: number, j: number) => [number, number],
  fn: string,
  out: Int32Array,
): Int32Array {
  const { n, len, vocab, maskId, perStep, rule } = o;
  if (out !== tokens) out.set(tokens);
  const c = new Float64Array(vocab);
  const u = new Float64Array(len);
  const v = new Float64Array(len);
  const draw = (r: number, j: number): number => {
    const base = (r * len + j) * vocab;
    let acc = 0;
    let lastPos = -1;
    for (let i = 0; i < vocab; i++) {
      const p = i === maskId ? 0 : probs[base + i];
      if (!(p >= 0) || p === Infinity) throw new RangeError(`${fn}: probs[${base + i}] is ${p}; probabilities must be finite and ≥ 0`);
      acc += p;
      c[i] = acc;
      if (p > 0) lastPos = i;
    }
    if (lastPos < 0) throw new RangeError(`${fn}: row ${r}, position ${j} has no probability outside maskId ${maskId}`);
    const target = v[j] * acc;
    for (let i = 0; i < vocab; i++) if (c[i] > target) return i;
    return lastPos;
  };
  const order = (idx: number[]) => idx.sort((p, q) => (u[p] !== u[q] ? u[p] - u[q] : p - q));
  for (let r = 0; r < n; r++) {
    const masked: number[] = [];
    for (let j = 0; j < len; j++) {
      [u[j], v[j]] = uniform(r, j);
      if (tokens[r * len + j] === maskId) masked.push(j);
    }
    const m = masked.length;
    if (m === 0) continue;
    const k = Math.min(perStep, m);
    if (rule === 'improved') {
      for (const j of order(masked).slice(0, k)) out[r * len + j] = draw(r, j);
    } else {
      for (const j of masked) out[r * len + j] = draw(r, j);
      const all = order(Array.from({ length: len }, (_, j) => j));
      for (const j of all.slice(0, m - k)) out[r * len + j] = maskId;
    }
  }
  return out;
}

/** gc.udmMaskStep and gc.sampleUDM (no wasm: the same methods on every instance). */
export function udmApi() {
  return {
    /**
     * One masking-UDM step (docs/diffusion.md §6) on n rows of len tokens: improved rule fills the
     * k' = min(perStep, m) masked positions with the smallest select-uniform u; baseline fills all masked
     * positions, then re-masks the m − k' positions with the smallest u. Uniforms from `seed` + `step`
     * (counter (row·len + j, 0x40000000 | step)) or given explicitly.
     *
     * @param tokens - n·len Int32Array.
     * @param probs - n·len·vocab probabilities p(x0 | tokens) (the maskId entry is ignored).
     */
    udmMaskStep(tokens: Int32Array, probs: FloatArray, opts: UdmMaskStepOptions): Int32Array {
      const fn = 'udmMaskStep';
      const o = checkOptions(fn, opts);
      if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
      const n = checkInt(fn, 'opts.n', o.n, 1);
      const len = checkInt(fn, 'opts.len', o.len, 1);
      const vocab = checkInt(fn, 'opts.vocab', o.vocab, 2);
      const maskId = checkInt(fn, 'opts.maskId', o.maskId, 0, vocab - 1);
      const perStep = o.perStep === undefined ? 1 : checkInt(fn, 'opts.perStep', o.perStep, 1);
      const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'baseline'] as const);
      checkTyped(fn, 'tokens', tokens, Int32Array, n * len, 'n*len');
      checkFloatArray(fn, 'probs', probs, checkProduct(fn, 'n*len*vocab', n, len, vocab), 'n*len*vocab');
      for (let i = 0; i < tokens.length; i++) if (tokens[i] < 0 || tokens[i] >= vocab) throw new RangeError(`${fn}: tokens[${i}] = ${tokens[i]} is outside [0, vocab = ${vocab})`);
      const out = o.out === undefined ? new Int32Array(n * len) : checkTyped(fn, 'opts.out', o.out, Int32Array, n * len, 'n*len');
      let uniform: (r: number, j: number) => [number, number];
      if (o.uniforms !== undefined) {
        const u = checkOptions(fn, o.uniforms, 'opts.uniforms');
        const sel = u.select as ArrayLike<number>;
        const tok = u.token as ArrayLike<number>;
        if (!sel || sel.length !== n * len) throw new RangeError(`${fn}: opts.uniforms.select must hold n*len = ${n * len} values`);
        if (!tok || tok.length !== n * len) throw new RangeError(`${fn}: opts.uniforms.token must hold n*len = ${n * len} values`);
        uniform = (r, j) => [sel[r * len + j], tok[r * len + j]];
      } else {
        if (o.seed === undefined) throw new TypeError(`${fn}: pass opts.seed (+ opts.step) or opts.uniforms`);
        const [k0, k1] = seedKey(fn, 'opts.seed', o.seed);
        const step = o.step === undefined ? 0 : checkInt(fn, 'opts.step', o.step, 0, 0x3fffffff);
        uniform = (r, j) => {
          const [w0, w1] = threefry2x32(k0, k1, (r * len + j) >>> 0, STREAM.mask(step));
          return [uniformOfWord(w0), uniformOfWord(w1)];
        };
      }
      return maskStepJs(tokens, probs, { n, len, vocab, maskId, perStep, rule }, uniform, fn, out);
    },

    /**
     * Unified diffusion sampling (docs/diffusion.md §6) for a deterministic degradation F_t or for token
     * masking.
     *
     * - `{ kind: 'deterministic', xT, shape, timesteps, degrade, predictX0, rule }` → Float32Array:
     *   'improved' x_s = x_t + F_s(x̂0) − F_t(x̂0), 'naive' x_s = F_s(x̂0); F_0 = identity.
     * - `{ kind: 'masking', n, len, vocab, maskId, probs, tokens?, perStep, rule, seed }` → Int32Array:
     *   udmMaskStep repeated (step k = 0, 1, …) until no position is masked.
     * Callbacks may be async; AbortSignal, onProgress and `timeoutMs` (per callback call) as in gc.sample.
     */
    async sampleUDM(opts: UdmDeterministicOptions | UdmMaskingOptions): Promise<Float32Array | Int32Array> {
      const fn = 'sampleUDM';
      const o = checkOptions(fn, opts) as Partial<Omit<UdmDeterministicOptions, 'kind' | 'rule'>> &
        Partial<Omit<UdmMaskingOptions, 'kind' | 'rule'>> & { kind?: string; rule?: string };
      if (opts === undefined) throw new TypeError(`${fn}: opts must be an object, got undefined`);
      const kind = checkEnum(fn, 'opts.kind', o.kind, ['deterministic', 'masking'] as const);
      const signal = checkSignal(fn, o.signal);
      const onProgress = checkFunction<(p: DiffusionProgress) => void>(fn, 'opts.onProgress', o.onProgress, true);
      const timeoutMs = checkTimeoutMs(fn, 'opts.timeoutMs', o.timeoutMs);
      if (kind === 'deterministic') {
        const [batch, dim] = checkShape(fn, o.shape);
        const n = batch * dim;
        const xT = checkTyped(fn, 'opts.xT', o.xT, Float32Array, n, 'batch*dim');
        checkFinite(fn, 'opts.xT', xT);
        const tsIn = o.timesteps;
        if (!tsIn || typeof (tsIn as ArrayLike<number>).length !== 'number') throw new TypeError(`${fn}: opts.timesteps must be an array of integers, got ${show(tsIn)}`);
        const ts = Array.from(tsIn as ArrayLike<number>);
        if (ts.length < 1) throw new RangeError(`${fn}: opts.timesteps is empty`);
        ts.forEach((t, i) => {
          checkInt(fn, `opts.timesteps[${i}]`, t, 1);
          if (i > 0 && !(t < ts[i - 1])) throw new RangeError(`${fn}: opts.timesteps must decrease; timesteps[${i}] = ${t} follows ${ts[i - 1]}`);
        });
        const degrade = checkFunction<UdmDeterministicOptions['degrade']>(fn, 'opts.degrade', o.degrade)!;
        const predictX0 = checkFunction<UdmDeterministicOptions['predictX0']>(fn, 'opts.predictX0', o.predictX0)!;
        const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'naive'] as const);
        const shape: [number, number] = [batch, dim];
        const call = async (f: Function, what: string, arg: Float32Array, t: number) => {
          const r: unknown = await awaitCallback(f(arg.slice(), t, shape), { fn, what, signal, timeoutMs });
          return checkCallbackResult(fn, what, r, n, t);
        };
        const x = xT.slice();
        const between = stepYielder(fn, signal);
        for (let i = 0; i < ts.length; i++) {
          await between();
          const t = ts[i];
          const s = i + 1 < ts.length ? ts[i + 1] : 0;
          const x0 = Float32Array.from(await call(predictX0, 'opts.predictX0', x, t));
          throwIfAborted(signal, fn);
          // A copy: the next callback may grow gc.memory, detaching a result that lives there.
          const Fs = s === 0 ? x0 : Float32Array.from(await call(degrade, 'opts.degrade', x0, s));
          if (rule === 'naive') x.set(Fs);
          else {
            const Ft = await call(degrade, 'opts.degrade', x0, t);
            for (let e = 0; e < n; e++) x[e] = x[e] + Fs[e] - Ft[e];
          }
          throwIfAborted(signal, fn);
          await report(onProgress, { step: i + 1, steps: ts.length, t }, fn, signal);
        }
        return x;
      }
      const n = checkInt(fn, 'opts.n', o.n, 1);
      const len = checkInt(fn, 'opts.len', o.len, 1);
      const vocab = checkInt(fn, 'opts.vocab', o.vocab, 2);
      const maskId = checkInt(fn, 'opts.maskId', o.maskId, 0, vocab - 1);
      const perStep = o.perStep === undefined ? 1 : checkInt(fn, 'opts.perStep', o.perStep, 1);
      const rule = o.rule === undefined ? 'improved' : checkEnum(fn, 'opts.rule', o.rule, ['improved', 'baseline'] as const);
      const probs = checkFunction<UdmMaskingOptions['probs']>(fn, 'opts.probs', o.probs)!;
      const [k0, k1] = seedKey(fn, 'opts.seed', o.seed);
      const total = checkProduct(fn, 'n*len*vocab', n, len, vocab);
      let tokens: Int32Array;
      if (o.tokens !== undefined) {
        tokens = checkTyped(fn, 'opts.tokens', o.tokens, Int32Array, n * len, 'n*len').slice();
        for (let i = 0; i < tokens.length; i++) if (tokens[i] < 0 || tokens[i] >= vocab) throw new RangeError(`${fn}: opts.tokens[${i}] = ${tokens[i]} is outside [0, vocab = ${vocab})`);
      } else tokens = new Int32Array(checkValues(fn, 'opts.n*opts.len', n * len)).fill(maskId);
      const countMasked = () => tokens.reduce((s, v) => s + (v === maskId ? 1 : 0), 0);
      // Each step unmasks at least one position in every row that has any, so len steps suffice.
      const maxSteps = Math.ceil(len / perStep);
      throwIfAborted(signal, fn); // also when nothing is masked
      const between = stepYielder(fn, signal);
      for (let k = 0; countMasked() > 0; k++) {
        await between();
        const p: unknown = await awaitCallback(probs(tokens.slice(), [n, len]), { fn, what: 'opts.probs', signal, timeoutMs });
        if (!(p instanceof Float32Array) && !(p instanceof Float64Array)) throw new TypeError(`${fn}: opts.probs must return a Float32Array or Float64Array, got ${show(p)}`);
        if (p.length !== total) throw new RangeError(`${fn}: opts.probs returned ${p.length} values; expected n*len*vocab = ${total}`);
        throwIfAborted(signal, fn);
        const step = k;
        tokens = maskStepJs(tokens, p, { n, len, vocab, maskId, perStep, rule }, (r, j) => {
          const [w0, w1] = threefry2x32(k0, k1, (r * len + j) >>> 0, STREAM.mask(step));
          return [uniformOfWord(w0), uniformOfWord(w1)];
        }, fn, new Int32Array(n * len));
        await report(onProgress, { step: k + 1, steps: maxSteps, t: k }, fn, signal);
      }
      return tokens;
    },
  };
}
