/**
 * Dense networks (multilayer perceptrons with SiLU between layers) on gencore's GEMM: forward pass,
 * mean-squared-error gradients by backpropagation, and Adam. Definitions and conventions: docs/nn.md.
 *
 * A network is plain data, `{ sizes, params }`: layer l maps sizes[l] → sizes[l + 1] features, and
 * `params` holds, per layer, W_l (sizes[l] × sizes[l + 1], row-major) followed by b_l (sizes[l + 1]).
 * Every call stages the parameters and the batch in one memory scope and frees it before returning, so
 * the wasm heap is back to its baseline after each call; the matrix products run on the f32 GEMM, the
 * elementwise parts (bias, SiLU and its derivative, bias gradients, Adam) in kernels/nn/dense.ts.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { Scope } from '../wasm/memory.js';
import { checkStagedFinite, gemmAt, gemmScratchBytes } from '../linalg/linalg.js';
import { threefry2x32, uniformOfWord, seedKey } from '../diffusion/rng.js';
import { checkF32, checkInt, checkNumber, checkOptions, checkProduct, show } from '../shared/validate.js';

/** A dense network: layer sizes and the flat f32 parameters (per layer: W row-major, then b). */
export interface DenseNetwork {
  /** Feature counts [input, hidden…, output]; at least two entries, each an integer ≥ 1. */
  sizes: number[];
  /** Σ_l sizes[l]·sizes[l+1] + sizes[l+1] values. */
  params: Float32Array;
}

/** Adam's hyperparameters (Kingma & Ba, arXiv 1412.6980). */
export interface AdamOptions {
  /** Step size α > 0. Default 1e-3. */
  learningRate?: number;
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  beta2?: number;
  /** ε > 0 added to √v̂. Default 1e-8. */
  epsilon?: number;
}

/** Adam's state for one network: the moment averages and the number of steps taken. */
export interface AdamState extends Required<AdamOptions> {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

/** Offsets of W_l and b_l inside `params`, and the total count. */
export function denseLayout(sizes: readonly number[]): { weights: number[]; biases: number[]; count: number } {
  const weights: number[] = [];
  const biases: number[] = [];
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    weights.push(at);
    at += sizes[l] * sizes[l + 1];
    biases.push(at);
    at += sizes[l + 1];
  }
  return { weights, biases, count: at };
}

function checkSizes(fn: string, sizes: unknown): number[] {
  if (!Array.isArray(sizes) || sizes.length < 2) throw new TypeError(`${fn}: sizes must be an array of at least 2 layer sizes, got ${show(sizes)}`);
  sizes.forEach((s, i) => checkInt(fn, `sizes[${i}]`, s, 1, 1 << 20));
  return sizes;
}

/** Check a network argument; returns its layout. */
function checkNetwork(fn: string, net: unknown): ReturnType<typeof denseLayout> {
  if (net === null || typeof net !== 'object') throw new TypeError(`${fn}: net must be a { sizes, params } object, got ${show(net)}`);
  const { sizes, params } = net as DenseNetwork;
  const layout = denseLayout(checkSizes(fn, sizes));
  checkF32(fn, 'net.params', params, layout.count, `the parameter count of sizes [${sizes.join(', ')}]`);
  return layout;
}

/**
 * A new dense network with Glorot-uniform weights (U(±√(6/(fan_in + fan_out)))) drawn from the seed's
 * Threefry stream, and zero biases. Deterministic: the same sizes and seed give the same bytes.
 *
 * @param opts.sizes - [input, hidden…, output] feature counts, integers ≥ 1.
 * @param opts.seed - integer in [0, 2^53) or bigint < 2^64.
 * @throws TypeError / RangeError for bad sizes or seed.
 */
export function denseNetwork(opts: { sizes: number[]; seed: number | bigint }): DenseNetwork {
  const fn = 'denseNetwork';
  const { sizes: rawSizes, seed } = checkOptions(fn, opts);
  const sizes = checkSizes(fn, rawSizes).slice();
  const [k0, k1] = seedKey(fn, 'opts.seed', seed);
  const layout = denseLayout(sizes);
  const params = new Float32Array(layout.count);
  for (let l = 0; l + 1 < sizes.length; l++) {
    const limit = Math.sqrt(6 / (sizes[l] + sizes[l + 1]));
    const n = sizes[l] * sizes[l + 1];
    for (let i = 0; i < n; i++) {
      // Counter (element, layer): every weight has its own word, independent of the other layers' sizes.
      const [w] = threefry2x32(k0, k1, i, l);
      params[layout.weights[l] + i] = (2 * uniformOfWord(w) - 1) * limit;
    }
  }
  return { sizes, params };
}

/** Adam's hyperparameters from `o` (defaults filled in), checked; `name` prefixes the messages. */
function checkAdamOptions(fn: string, name: string, o: AdamOptions): Required<AdamOptions> {
  return {
    learningRate: checkNumber(fn, `${name}.learningRate`, o.learningRate ?? 1e-3, Number.MIN_VALUE),
    beta1: checkNumber(fn, `${name}.beta1`, o.beta1 ?? 0.9, 0, 1 - Number.EPSILON),
    beta2: checkNumber(fn, `${name}.beta2`, o.beta2 ?? 0.999, 0, 1 - Number.EPSILON),
    epsilon: checkNumber(fn, `${name}.epsilon`, o.epsilon ?? 1e-8, Number.MIN_VALUE),
  };
}

/** Fresh Adam state (zero moments, step 0) for `net`. */
export function adamState(net: DenseNetwork, opts?: AdamOptions): AdamState {
  const fn = 'adamState';
  const { count } = checkNetwork(fn, net);
  return { ...checkAdamOptions(fn, 'opts', checkOptions(fn, opts)), m: new Float32Array(count), v: new Float32Array(count), step: 0 };
}

/** Pointers of one staged forward pass: per layer the pre-activation z_l and the activation a_l. */
interface Activations {
  input: number;
  z: number[];
  a: number[];
}

/** A copy of `arr` in `scope`, also when `arr` already lives in wasm memory (for buffers a kernel updates). */
function privateCopy(scope: Scope, arr: Float32Array, what: string): number {
  const ptr = scope.alloc(arr.byteLength, what);
  scope.mem.f32(ptr, arr.length).set(arr);
  return ptr;
}

/**
 * Stage a network and a batch, with GEMM scratch for every product of a forward and backward pass.
 * `ownParams`: the parameters get a private copy (the caller's array must not change).
 */
function stage(inst: WasmInstance, scope: Scope, fn: string, net: DenseNetwork, x: Float32Array, rows: number, ownParams = false) {
  const widest = Math.max(...net.sizes);
  const scratch = scope.alloc(gemmScratchBytes(inst, false, Math.max(rows, widest), Math.max(rows, widest), widest), 'scratch');
  const params = ownParams ? privateCopy(scope, net.params, 'net.params') : scope.copyIn(net.params, 'net.params');
  const input = scope.copyIn(x, 'x');
  checkStagedFinite(inst, scope, fn, 'net.params', net.params, params);
  checkStagedFinite(inst, scope, fn, 'x', x, input);
  return { scratch, params, input };
}

/** z_l = a_{l−1}·W_l + b_l, a_l = SiLU(z_l) (the last layer: a = z). */
function forwardAt(inst: WasmInstance, scope: Scope, fn: string, sizes: number[], params: number, input: number, rows: number, scratch: number): Activations {
  const { weights, biases } = denseLayout(sizes);
  const acts: Activations = { input, z: [], a: [] };
  let prev = input;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    const last = l + 2 === sizes.length;
    const z = scope.alloc(rows * nOut * 4, 'activations');
    const a = last ? z : scope.alloc(rows * nOut * 4, 'activations');
    inst.run(fn, (k) => {
      gemmAt(k, { f64: false, m: rows, k: nIn, n: nOut, a: prev, lda: nIn, b: params + weights[l] * 4, ldb: nOut, c: z, ldc: nOut, scratch }); // z = a·W
      k.dense_bias_act_f32(z, a, params + biases[l] * 4, rows, nOut, last ? 0 : 1);
    });
    acts.z.push(z);
    acts.a.push(a);
    prev = a;
  }
  return acts;
}

/**
 * Backpropagate `outGrad` = ∂L/∂output (rows × sizes[last], consumed) through a staged forward pass;
 * writes ∂L/∂params (the layout of `params`) at `grad`.
 */
function backwardAt(inst: WasmInstance, scope: Scope, fn: string, sizes: number[], params: number, acts: Activations, outGrad: number, rows: number, grad: number, scratch: number): void {
  const { weights, biases } = denseLayout(sizes);
  let g = outGrad;
  for (let l = sizes.length - 2; l >= 0; l--) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    const prev = l === 0 ? acts.input : acts.a[l - 1];
    const gPrev = l === 0 ? 0 : scope.alloc(rows * nIn * 4, 'gradients');
    inst.run(fn, (k) => {
      // ∂W_l = a_{l−1}ᵀ·g, ∂b_l = column sums of g, ∂a_{l−1} = g·W_lᵀ, ∂z_{l−1} = ∂a_{l−1} ⊙ SiLU'(z_{l−1}).
      gemmAt(k, { f64: false, transA: true, m: nIn, k: rows, n: nOut, a: prev, lda: nIn, b: g, ldb: nOut, c: grad + weights[l] * 4, ldc: nOut, scratch }); // dW = aᵀ·g
      k.dense_column_sums_f32(g, rows, nOut, grad + biases[l] * 4);
      if (l > 0) {
        gemmAt(k, { f64: false, transB: true, m: rows, k: nOut, n: nIn, a: g, lda: nOut, b: params + weights[l] * 4, ldb: nOut, c: gPrev, ldc: nIn, scratch }); // g' = g·Wᵀ
        k.dense_silu_grad_f32(gPrev, acts.z[l - 1], rows * nIn);
      }
    });
    g = gPrev;
  }
}

/**
 * Mean squared error L = Σ (y − target)² / (rows·d) of the staged output; overwrites the output with
 * ∂L/∂y = 2(y − target)/(rows·d) and returns L (accumulated in float64).
 */
function mseAt(inst: WasmInstance, scope: Scope, fn: string, out: number, pinnedTarget: Float32Array): number {
  const target = scope.view(pinnedTarget);
  const y = inst.mem.f32(out, target.length);
  const scale = 2 / target.length;
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const diff = y[i] - target[i];
    sum += diff * diff;
    y[i] = scale * diff;
  }
  const loss = sum / target.length;
  if (!Number.isFinite(loss)) throw new RangeError(`${fn}: the loss is ${loss}; the network's output overflowed`);
  return loss;
}

function checkBatch(fn: string, net: DenseNetwork, x: unknown, rows: unknown, target?: unknown): { x: Float32Array; rows: number; target?: Float32Array } {
  const r = checkInt(fn, 'rows', rows, 1);
  const nIn = net.sizes[0];
  const nOut = net.sizes[net.sizes.length - 1];
  checkProduct(fn, 'rows·width', r, Math.max(...net.sizes));
  const xs = checkF32(fn, 'x', x, r * nIn, `rows·sizes[0] = ${r}·${nIn}`);
  if (target === undefined) return { x: xs, rows: r };
  const t = checkF32(fn, 'target', target, r * nOut, `rows·sizes[last] = ${r}·${nOut}`);
  for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i])) throw new RangeError(`${fn}: target[${i}] is ${t[i]}; values must be finite`);
  return { x: xs, rows: r, target: t };
}

export function nnApi(inst: WasmInstance) {
  return {
    /**
     * The network's output for a batch: rows × sizes[last] values, row-major.
     *
     * @param net - `{ sizes, params }` (see `denseNetwork`).
     * @param x - rows × sizes[0] inputs, row-major Float32Array, finite.
     * @param rows - batch size, integer ≥ 1.
     * @throws TypeError / RangeError for a malformed network, a wrong length or non-finite values.
     */
    denseForward(net: DenseNetwork, x: Float32Array, rows: number): Float32Array {
      const fn = 'denseForward';
      checkNetwork(fn, net);
      const b = checkBatch(fn, net, x, rows);
      return inst.mem.scoped((scope) => {
        scope.pin(net.params, b.x, b.target);
        const s = stage(inst, scope, fn, net, b.x, b.rows);
        const acts = forwardAt(inst, scope, fn, net.sizes, s.params, s.input, b.rows, s.scratch);
        return scope.copyOut(Float32Array, acts.a[acts.a.length - 1], b.rows * net.sizes[net.sizes.length - 1]);
      });
    },

    /**
     * The mean squared error L = Σ (net(x) − target)² / (rows·sizes[last]) and its gradient with respect
     * to `net.params` (same layout), by backpropagation.
     *
     * @param target - rows × sizes[last] finite values.
     * @returns `{ loss, gradient }`; loss accumulated in float64, gradient in f32.
     */
    denseMseGradient(net: DenseNetwork, x: Float32Array, target: Float32Array, rows: number): { loss: number; gradient: Float32Array } {
      const fn = 'denseMseGradient';
      const { count } = checkNetwork(fn, net);
      const b = checkBatch(fn, net, x, rows, target);
      return inst.mem.scoped((scope) => {
        scope.pin(net.params, b.x, b.target);
        const s = stage(inst, scope, fn, net, b.x, b.rows);
        const grad = scope.alloc(count * 4, 'gradient');
        const acts = forwardAt(inst, scope, fn, net.sizes, s.params, s.input, b.rows, s.scratch);
        const out = acts.a[acts.a.length - 1];
        const loss = mseAt(inst, scope, fn, out, b.target!);
        backwardAt(inst, scope, fn, net.sizes, s.params, acts, out, b.rows, grad, s.scratch);
        return { loss, gradient: scope.copyOut(Float32Array, grad, count) };
      });
    },

    /**
     * One Adam step on the mean squared error of a batch: L and ∂L/∂params as `denseMseGradient`, then
     * the Adam update. The arguments are not modified (so the call works the same through a pool).
     *
     * @param adam - state from `adamState(net, opts)` or from the previous step.
     * @returns `{ loss, net, adam }`: L before the update, the updated network and Adam state (new arrays).
     * @throws RangeError when the loss is not finite.
     */
    denseTrainStep(net: DenseNetwork, adam: AdamState, x: Float32Array, target: Float32Array, rows: number): { loss: number; net: DenseNetwork; adam: AdamState } {
      const fn = 'denseTrainStep';
      const { count } = checkNetwork(fn, net);
      if (adam === null || typeof adam !== 'object') throw new TypeError(`${fn}: adam must be an adamState() object, got ${show(adam)}`);
      const hyper = checkAdamOptions(fn, 'adam', adam);
      checkF32(fn, 'adam.m', adam.m, count, 'the parameter count');
      checkF32(fn, 'adam.v', adam.v, count, 'the parameter count');
      checkInt(fn, 'adam.step', adam.step, 0, Number.MAX_SAFE_INTEGER);
      const b = checkBatch(fn, net, x, rows, target);
      return inst.mem.scoped((scope) => {
        scope.pin(net.params, b.x, b.target);
        const s = stage(inst, scope, fn, net, b.x, b.rows, true);
        const grad = scope.alloc(count * 4, 'gradient');
        const m = privateCopy(scope, adam.m, 'adam.m');
        const v = privateCopy(scope, adam.v, 'adam.v');
        const acts = forwardAt(inst, scope, fn, net.sizes, s.params, s.input, b.rows, s.scratch);
        const out = acts.a[acts.a.length - 1];
        const loss = mseAt(inst, scope, fn, out, b.target!);
        backwardAt(inst, scope, fn, net.sizes, s.params, acts, out, b.rows, grad, s.scratch);
        const step = adam.step + 1;
        const c1 = 1 / (1 - hyper.beta1 ** step);
        const c2 = 1 / (1 - hyper.beta2 ** step);
        inst.run(fn, (k) => k.adam_f32(s.params, grad, m, v, count, hyper.learningRate, hyper.beta1, hyper.beta2, hyper.epsilon, c1, c2));
        const [params, mNew, vNew] = [s.params, m, v].map((ptr) => scope.copyOut(Float32Array, ptr, count));
        return { loss, net: { sizes: net.sizes.slice(), params }, adam: { ...hyper, m: mNew, v: vNew, step } };
      });
    },
  };
}
