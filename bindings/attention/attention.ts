/**
 * Attention: exact softmax attention (fused, blockwise online softmax; the n×nk scores are never stored)
 * and Nyström attention (segment-mean landmarks, three softmax kernels, the iterative pinv, evaluated as
 * F·(Z·(B·v))). Semantics: docs/attention.md §4–§5. Everything is f32.
 *
 * The pointer-level pieces (`attentionRowsAt`, `nystrom*At`) are shared with the worker pool, which runs
 * them on a shared memory over heads and row blocks (bindings/worker/parallel/attention.ts).
 */
import type { WasmInstance } from '../wasm/load.js';
import type { Scope } from '../wasm/memory.js';
import { checkStagedFinite, gemmAt, gemmScratchBytes, pinvAt, pinvScratchBytes, PINV_MAX_ITERATIONS } from '../linalg/linalg.js';
import {
  checkF32,
  checkFinite,
  checkInt,
  checkNoOverlap,
  checkNumber,
  checkOptions,
  checkProduct,
  checkTyped,
} from '../shared/validate.js';

/** Default query rows per block: with 128 keys the score tile is 32·128·4 B = 16 KiB (L1). */
export const DEFAULT_BLOCK_QUERIES = 32;
/** Default keys per block. */
export const DEFAULT_BLOCK_KEYS = 128;

export interface AttentionOptions {
  /** Query rows per head (integer ≥ 0). */
  n: number;
  /** Query/key feature size (integer ≥ 1). */
  d: number;
  /** Value feature size (integer ≥ 1). Default d. */
  dv?: number;
  /** Keys per head (integer ≥ 0). Default n. */
  nk?: number;
  /** Independent heads (integer ≥ 1). Default 1. */
  heads?: number;
  /** Logit scale (finite). Default 1/√d. */
  scale?: number;
  /** Nonzero = attend. Length nk (shared by all heads) or heads·nk (per head). */
  keyMask?: Uint8Array;
  /** heads×n×dv result buffer; must not overlap q, k, v or keyMask. */
  out?: Float32Array;
  /** Tuning: query rows per block (integer in [1, 1024], default 32). Changes results only by rounding. */
  blockQueries?: number;
  /** Tuning: keys per block (integer in [1, 4096], default 128). Changes results only by rounding. */
  blockKeys?: number;
}

export interface NystromOptions {
  /** Tokens per head (integer ≥ 0); q, k are heads×n×d, v heads×n×dv. */
  n: number;
  /** Query/key feature size (integer ≥ 1). */
  d: number;
  /** Value feature size (integer ≥ 1). Default d. */
  dv?: number;
  /** Independent heads (integer ≥ 1). Default 1. */
  heads?: number;
  /** Number of landmarks m (integer ≥ 1). Default 64. m ≥ n gives exact attention (§5.1). */
  landmarks?: number;
  /** Steps of the iterative pinv (integer in [0, 100]). Default 6. */
  pinvIterations?: number;
  /** Nonzero = attend / μ = 1. Length n (all heads) or heads·n. */
  keyMask?: Uint8Array;
  /** Depthwise-conv skip weights, heads×kc with kc odd (Float32Array). Default: no conv term. */
  convKernel?: Float32Array;
  /** Logit scale (finite). Default 1/√d. */
  scale?: number;
  /** heads×n×dv result buffer; must not overlap the inputs. */
  out?: Float32Array;
}

/** Sizes of a checked attention call: plain data, so a pool task can carry it. */
export interface AttentionDims {
  n: number;
  nk: number;
  d: number;
  dv: number;
  heads: number;
  scale: number;
  /** The key mask has one row per head (else one row shared by all heads, or no mask). */
  maskPerHead: boolean;
  bq: number;
  bk: number;
}

export interface AttentionPlan extends AttentionDims {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  keyMask: Uint8Array | undefined;
  out: Float32Array | undefined;
}

export interface NystromDims extends AttentionDims {
  /** Landmarks m (the plan's `exact` is true when m ≥ n). */
  m: number;
  iterations: number;
  exact: boolean;
  /** Conv kernel width (0 = no conv term). */
  kc: number;
}

export interface NystromPlan extends NystromDims {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  keyMask: Uint8Array | undefined;
  convKernel: Float32Array | undefined;
  out: Float32Array | undefined;
}

/** Pointers (bytes) of one call's arrays in wasm memory; `mask` and `conv` are 0 when absent. */
export interface AttentionPtrs {
  q: number;
  k: number;
  v: number;
  mask: number;
  out: number;
}

function checkMask(fn: string, mask: unknown, keys: number, heads: number, keysName: string): { keyMask: Uint8Array | undefined; perHead: boolean } {
  if (mask === undefined) return { keyMask: undefined, perHead: false };
  const m = checkTyped(fn, 'opts.keyMask', mask, Uint8Array);
  if (m.length === keys) return { keyMask: m, perHead: false };
  if (m.length === heads * keys) return { keyMask: m, perHead: heads > 1 };
  throw new RangeError(`${fn}: opts.keyMask.length ${m.length} matches neither ${keysName} = ${keys} nor heads*${keysName} = ${heads * keys}`);
}

function checkOut(fn: string, out: unknown, len: number, inputs: Array<[string, Float32Array | Uint8Array | undefined]>): Float32Array | undefined {
  if (out === undefined) return undefined;
  const o = checkF32(fn, 'opts.out', out, len, 'heads*n*dv');
  checkNoOverlap(fn, 'opts.out', o, inputs.filter((x): x is [string, Float32Array | Uint8Array] => x[1] !== undefined));
  return o;
}

/** Checks both attention planners share: q, k, v are Float32Arrays and opts gives n, d (and dv). */
function checkQkvOptions<O extends { n: number; d: number; dv?: number }>(
  fn: string,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  opts: O,
): { o: Partial<O>; n: number; d: number; dv: number } {
  checkF32(fn, 'q', q);
  checkF32(fn, 'k', k);
  checkF32(fn, 'v', v);
  if (opts === undefined) throw new TypeError(`${fn}: opts is required (it carries n and d), got undefined`);
  const o = checkOptions(fn, opts);
  const n = checkInt(fn, 'opts.n', o.n);
  const d = checkInt(fn, 'opts.d', o.d, 1);
  const dv = o.dv === undefined ? d : checkInt(fn, 'opts.dv', o.dv, 1);
  return { o, n, d, dv };
}

/** Validate `attention` arguments (TypeError / RangeError naming the parameter and value). */
export function planAttention(q: Float32Array, k: Float32Array, v: Float32Array, opts: AttentionOptions): AttentionPlan {
  const fn = 'attention';
  const { o, n, d, dv } = checkQkvOptions(fn, q, k, v, opts);
  const nk = o.nk === undefined ? n : checkInt(fn, 'opts.nk', o.nk);
  const heads = o.heads === undefined ? 1 : checkInt(fn, 'opts.heads', o.heads, 1);
  const scale = o.scale === undefined ? 1 / Math.sqrt(d) : checkNumber(fn, 'opts.scale', o.scale);
  const bq = o.blockQueries === undefined ? DEFAULT_BLOCK_QUERIES : checkInt(fn, 'opts.blockQueries', o.blockQueries, 1, 1024);
  const bk = o.blockKeys === undefined ? DEFAULT_BLOCK_KEYS : checkInt(fn, 'opts.blockKeys', o.blockKeys, 1, 4096);
  checkProduct(fn, 'heads*n*d', heads, n, d);
  checkProduct(fn, 'heads*nk*d', heads, nk, d);
  checkProduct(fn, 'heads*nk*dv', heads, nk, dv);
  checkProduct(fn, 'heads*n*dv', heads, n, dv);
  checkF32(fn, 'q', q, heads * n * d, 'heads*n*d');
  checkF32(fn, 'k', k, heads * nk * d, 'heads*nk*d');
  checkF32(fn, 'v', v, heads * nk * dv, 'heads*nk*dv');
  const { keyMask, perHead } = checkMask(fn, o.keyMask, nk, heads, 'nk');
  const out = checkOut(fn, o.out, heads * n * dv, [['q', q], ['k', k], ['v', v], ['opts.keyMask', keyMask]]);
  // Finiteness of q, k, v is checked by stageAttention on the staged copies (a SIMD scan, ~30× faster
  // than a JS loop over large inputs), before any kernel computes; n = 0 stages nothing, so check here.
  if (n === 0) checkAllFinite(fn, [['q', q], ['k', k], ['v', v]]);
  return { q, k, v, keyMask, out, n, nk, d, dv, heads, scale, maskPerHead: perHead, bq, bk };
}

/** Validate `nystromAttention` arguments. */
export function planNystrom(q: Float32Array, k: Float32Array, v: Float32Array, opts: NystromOptions): NystromPlan {
  const fn = 'nystromAttention';
  const { o, n, d, dv } = checkQkvOptions(fn, q, k, v, opts);
  const heads = o.heads === undefined ? 1 : checkInt(fn, 'opts.heads', o.heads, 1);
  const m = o.landmarks === undefined ? 64 : checkInt(fn, 'opts.landmarks', o.landmarks, 1);
  const iterations = o.pinvIterations === undefined ? 6 : checkInt(fn, 'opts.pinvIterations', o.pinvIterations, 0, PINV_MAX_ITERATIONS);
  const scale = o.scale === undefined ? 1 / Math.sqrt(d) : checkNumber(fn, 'opts.scale', o.scale);
  checkProduct(fn, 'heads*n*d', heads, n, d);
  checkProduct(fn, 'heads*n*dv', heads, n, dv);
  checkF32(fn, 'q', q, heads * n * d, 'heads*n*d');
  checkF32(fn, 'k', k, heads * n * d, 'heads*n*d');
  checkF32(fn, 'v', v, heads * n * dv, 'heads*n*dv');
  const { keyMask, perHead } = checkMask(fn, o.keyMask, n, heads, 'n');
  let convKernel: Float32Array | undefined;
  let kc = 0;
  if (o.convKernel !== undefined) {
    convKernel = checkF32(fn, 'opts.convKernel', o.convKernel);
    kc = convKernel.length / heads;
    if (!Number.isInteger(kc) || kc % 2 !== 1) {
      throw new RangeError(`${fn}: opts.convKernel.length ${convKernel.length} must be heads*kc with kc odd (heads = ${heads})`);
    }
    checkFinite(fn, 'opts.convKernel', convKernel);
  }
  const out = checkOut(fn, o.out, heads * n * dv, [['q', q], ['k', k], ['v', v], ['opts.keyMask', keyMask], ['opts.convKernel', convKernel]]);
  // q, k, v: checked on the staged copies by stageAttention (see planAttention).
  return {
    q, k, v, keyMask, convKernel, out, n, nk: n, d, dv, heads, scale, maskPerHead: perHead,
    bq: DEFAULT_BLOCK_QUERIES, bk: DEFAULT_BLOCK_KEYS, m, iterations, exact: m >= n, kc,
  };
}

/** Bytes of scratch one `attentionRowsAt` caller needs (independent of n and nk). */
export function attentionScratchBytes(inst: WasmInstance, p: Pick<AttentionDims, 'd' | 'dv' | 'bq' | 'bk'>): number {
  return inst.kernels.attention_f32_scratch_bytes(p.d, p.dv, p.bq, p.bk);
}

/** Mask pointer of head `h` (0 = no mask). */
function maskOf(p: AttentionDims, mask: number, h: number, keys: number): number {
  return mask === 0 ? 0 : mask + (p.maskPerHead ? h * keys : 0);
}

/** Exact attention of head `h`, query rows [r0, r0 + rows), on pointers; `scratch` from attentionScratchBytes. */
export function attentionRowsAt(inst: WasmInstance, p: AttentionDims, ptrs: AttentionPtrs, h: number, r0: number, rows: number, scratch: number): void {
  const { n, nk, d, dv } = p;
  inst.run('attention', (kern) =>
    kern.attention_f32(
      ptrs.q + h * n * d * 4, ptrs.k + h * nk * d * 4, ptrs.v + h * nk * dv * 4, maskOf(p, ptrs.mask, h, nk),
      ptrs.out + h * n * dv * 4, r0, rows, nk, d, dv, p.scale, p.bq, p.bk, scratch,
    ),
  );
}

/** Per-head work buffers of Nyström attention (byte pointers). */
export interface NystromWorkspace {
  /** Landmark queries Q̃ and keys K̃, m×d. */
  ql: number;
  kl: number;
  /** A = softmax(scale·Q̃K̃ᵀ), then Z = pinv(A), m×m. */
  a: number;
  z: number;
  /** W = B·v and W' = Z·W, m×dv. */
  w: number;
  w2: number;
  /** Scratch for the pinv and for the small GEMMs. */
  pinvScratch: number;
  gemmScratch: number;
}

/** Bytes of one Nyström workspace, as [offsets relative to its base, total]. */
export function nystromWorkspaceLayout(inst: WasmInstance, p: Pick<NystromDims, 'm' | 'd' | 'dv'>): { offsets: NystromWorkspace; bytes: number } {
  const { m, d, dv } = p;
  const up = (x: number) => Math.ceil(x / 16) * 16;
  let at = 0;
  const take = (bytes: number) => {
    const off = at;
    at += up(bytes);
    return off;
  };
  const offsets: NystromWorkspace = {
    ql: take(m * d * 4),
    kl: take(m * d * 4),
    a: take(m * m * 4),
    z: take(m * m * 4),
    w: take(m * dv * 4),
    w2: take(m * dv * 4),
    pinvScratch: take(pinvScratchBytes(inst, false, m, m)),
    gemmScratch: take(Math.max(gemmScratchBytes(inst, false, m, d, m), gemmScratchBytes(inst, false, m, m, dv))),
  };
  return { offsets, bytes: at };
}

/** A workspace at `base` (16-byte aligned). */
export function nystromWorkspaceAt(offsets: NystromWorkspace, base: number): NystromWorkspace {
  const ws = { ...offsets };
  for (const key of Object.keys(ws) as Array<keyof NystromWorkspace>) ws[key] += base;
  return ws;
}

/** Nyström step 1–5 up to Z for head `h`: landmarks Q̃, K̃, A = softmax(scale·Q̃K̃ᵀ), Z = pinv(A). */
export function nystromPrepareAt(inst: WasmInstance, p: NystromDims, ptrs: AttentionPtrs, h: number, ws: NystromWorkspace): void {
  const { n, d, m } = p;
  const mask = maskOf(p, ptrs.mask, h, n);
  inst.run('nystromAttention', (kern) => {
    kern.segment_means_f32(ptrs.q + h * n * d * 4, mask, n, d, m, ws.ql);
    kern.segment_means_f32(ptrs.k + h * n * d * 4, mask, n, d, m, ws.kl);
    gemmAt(kern, { f64: false, transB: true, m, k: d, n: m, alpha: p.scale, a: ws.ql, lda: d, b: ws.kl, ldb: d, c: ws.a, ldc: m, scratch: ws.gemmScratch });
    kern.softmax_rows_f32(ws.a, m, m, m);
  });
  pinvAt(inst, false, ws.a, m, m, p.iterations, ws.z, ws.pinvScratch);
}

/** Rows [r0, r0 + rows) of W = B·v for head `h`: attention of the landmark queries over the (masked) keys. */
export function nystromValuesAt(inst: WasmInstance, p: NystromDims, ptrs: AttentionPtrs, h: number, ws: NystromWorkspace, r0: number, rows: number, scratch: number): void {
  const { n, d, dv } = p;
  inst.run('nystromAttention', (kern) =>
    kern.attention_f32(ws.ql, ptrs.k + h * n * d * 4, ptrs.v + h * n * dv * 4, maskOf(p, ptrs.mask, h, n), ws.w, r0, rows, n, d, dv, p.scale, p.bq, p.bk, scratch),
  );
}

/** W' = Z·W (m×dv). */
export function nystromMixAt(inst: WasmInstance, p: NystromDims, ws: NystromWorkspace): void {
  const { m, dv } = p;
  inst.run('nystromAttention', (kern) => gemmAt(kern, { f64: false, m, k: m, n: dv, a: ws.z, lda: m, b: ws.w, ldb: dv, c: ws.w2, ldc: dv, scratch: ws.gemmScratch }));
}

/**
 * Output rows [r0, r0 + rows) of head `h`: F·W' (attention of the queries over the landmark keys with
 * values W', unmasked), or exact attention when m ≥ n; plus the conv term when `conv` ≠ 0.
 */
export function nystromOutputAt(
  inst: WasmInstance, p: NystromDims, ptrs: AttentionPtrs, conv: number, h: number, ws: NystromWorkspace | undefined,
  r0: number, rows: number, scratch: number,
): void {
  const { n, d, dv, m } = p;
  if (p.exact || ws === undefined) attentionRowsAt(inst, p, ptrs, h, r0, rows, scratch);
  else {
    inst.run('nystromAttention', (kern) =>
      kern.attention_f32(ptrs.q + h * n * d * 4, ws.kl, ws.w2, 0, ptrs.out + h * n * dv * 4, r0, rows, m, d, dv, p.scale, p.bq, p.bk, scratch),
    );
  }
  if (conv !== 0) {
    inst.run('nystromAttention', (kern) =>
      kern.conv_skip_f32(ptrs.v + h * n * dv * 4, maskOf(p, ptrs.mask, h, n), conv + h * p.kc * 4, p.kc, ptrs.out + h * n * dv * 4, n, dv, r0, rows),
    );
  }
}

/** Finiteness of arrays on the host (JS loop): the standard RangeError naming the parameter and index. */
export function checkAllFinite(fn: string, arrays: Array<[string, Float32Array]>): void {
  for (const [name, arr] of arrays) checkFinite(fn, name, arr);
}

/**
 * Stage an attention call's inputs in `scope` (zero-copy for arrays already in wasm memory) and check
 * that q, k, v are finite (a read-only scan; RangeError naming the parameter and index) before any
 * kernel computes on them. `convKernel` is only pinned here; the caller copies it in.
 */
export function stageAttention(
  inst: WasmInstance,
  scope: Scope,
  p: { q: Float32Array; k: Float32Array; v: Float32Array; keyMask: Uint8Array | undefined; convKernel?: Float32Array; out: Float32Array | undefined; heads: number; n: number; dv: number },
  fn: string,
  extraBytes: number,
): AttentionPtrs {
  scope.pin(p.q, p.k, p.v, p.keyMask, p.convKernel, p.out);
  const size = (a: Float32Array | Uint8Array | undefined) => (a === undefined || scope.resident(a) ? 0 : a.byteLength);
  const outBytes = p.heads * p.n * p.dv * 4;
  scope.mem.checkFits(fn, size(p.q) + size(p.k) + size(p.v) + size(p.keyMask) + (p.out && scope.resident(p.out) ? 0 : outBytes) + extraBytes);
  const q = scope.copyIn(p.q, `${fn}: q`);
  const k = scope.copyIn(p.k, `${fn}: k`);
  const v = scope.copyIn(p.v, `${fn}: v`);
  checkStagedFinite(inst, scope, fn, 'q', p.q, q);
  checkStagedFinite(inst, scope, fn, 'k', p.k, k);
  checkStagedFinite(inst, scope, fn, 'v', p.v, v);
  const mask = p.keyMask ? scope.copyIn(p.keyMask, `${fn}: keyMask`) : 0;
  const out = scope.resultPtr(p.out, outBytes, `${fn}: out`);
  return { q, k, v, mask, out };
}

export function attentionApi(inst: WasmInstance) {
  return {
    /**
     * Exact softmax attention, per head: out[i, :] = Σ_j softmax_j(scale·q_i·k_j)·v_j over the unmasked
     * keys, computed blockwise with an online softmax (never more than a 32×128 tile of the n×nk scores;
     * extra memory O(block), independent of n and nk). Numerically stable for logits of any size.
     *
     * @param q - queries, heads×n×d row-major Float32Array, finite.
     * @param k - keys, heads×nk×d, finite.
     * @param v - values, heads×nk×dv, finite.
     * @param opts - sizes `n`, `d` (required), `dv` (default d), `nk` (default n), `heads` (default 1);
     *   `scale` (default 1/√d); `keyMask` (Uint8Array, nonzero = attend, length nk or heads·nk; a masked
     *   key gets weight exactly 0, a row with no unmasked key is zeros); `out`; tuning `blockQueries`,
     *   `blockKeys` (results change only by rounding).
     * @returns heads×n×dv, `opts.out` or a new Float32Array.
     * @throws TypeError for wrong kinds (non-Float32Array inputs, non-number sizes, missing opts);
     *   RangeError for inconsistent lengths, bad sizes or mask length, non-finite values, or `out` overlap.
     */
    attention(q: Float32Array, k: Float32Array, v: Float32Array, opts: AttentionOptions): Float32Array {
      const p = planAttention(q, k, v, opts);
      const len = p.heads * p.n * p.dv;
      if (p.n === 0) return p.out ?? new Float32Array(0);
      const scratchBytes = attentionScratchBytes(inst, p);
      return inst.mem.scoped((scope) => {
        const ptrs = stageAttention(inst, scope, p, 'attention', scratchBytes);
        const scratch = scope.alloc(scratchBytes, 'attention scratch');
        for (let h = 0; h < p.heads; h++) attentionRowsAt(inst, p, ptrs, h, 0, p.n, scratch);
        return scope.copyOut(Float32Array, ptrs.out, len, p.out);
      });
    },

    /**
     * Nyström attention (Xiong et al. 2021), per head: segment-mean landmarks Q̃, K̃ (m contiguous
     * segments; masked tokens count as zeros), F = softmax(scale·qK̃ᵀ), A = softmax(scale·Q̃K̃ᵀ),
     * B = softmax over unmasked keys of scale·Q̃kᵀ, Z = pinv(A) with `pinvIterations` steps, and
     * out = F·(Z·(B·v)) + conv(μ⊙v). F and B are never stored. m ≥ n gives exact attention (+ conv).
     * Not causal. See docs/attention.md §5.
     *
     * @param q - queries, heads×n×d row-major Float32Array, finite.
     * @param k - keys, heads×n×d, finite.
     * @param v - values, heads×n×dv, finite.
     * @param opts - `n`, `d` (required), `dv` (default d), `heads` (default 1), `landmarks` m (default 64),
     *   `pinvIterations` (default 6), `keyMask` (length n or heads·n), `convKernel` (heads×kc, kc odd),
     *   `scale` (default 1/√d), `out`.
     * @returns heads×n×dv, `opts.out` or a new Float32Array.
     * @throws TypeError for wrong kinds; RangeError for inconsistent lengths, landmarks < 1, iterations
     *   outside [0, 100], a bad mask or conv kernel length, non-finite values, or `out` overlap.
     */
    nystromAttention(q: Float32Array, k: Float32Array, v: Float32Array, opts: NystromOptions): Float32Array {
      const p = planNystrom(q, k, v, opts);
      const len = p.heads * p.n * p.dv;
      if (p.n === 0) return p.out ?? new Float32Array(0);
      const scratchBytes = attentionScratchBytes(inst, p);
      const layout = p.exact ? undefined : nystromWorkspaceLayout(inst, p);
      const convBytes = p.convKernel ? p.convKernel.byteLength : 0;
      return inst.mem.scoped((scope) => {
        const ptrs = stageAttention(inst, scope, p, 'nystromAttention', scratchBytes + (layout?.bytes ?? 0) + convBytes);
        const conv = p.convKernel ? scope.copyIn(p.convKernel, 'nystromAttention: convKernel') : 0;
        const scratch = scope.alloc(scratchBytes, 'attention scratch');
        const ws = layout ? nystromWorkspaceAt(layout.offsets, scope.alloc(layout.bytes, 'nystrom workspace')) : undefined;
        for (let h = 0; h < p.heads; h++) {
          if (ws) {
            nystromPrepareAt(inst, p, ptrs, h, ws);
            nystromValuesAt(inst, p, ptrs, h, ws, 0, p.m, scratch);
            nystromMixAt(inst, p, ws);
          }
          nystromOutputAt(inst, p, ptrs, conv, h, ws, 0, p.n, scratch);
        }
        return scope.copyOut(Float32Array, ptrs.out, len, p.out);
      });
    },
  };
}


// --- pieces of split work (bindings/worker/split.ts runs them in workers on a shared memory) ---

/** A head and a range of its rows: [head, first row, row count]. */
export type RowItem = [head: number, r0: number, rows: number];

/** Exact attention on each item's rows. */
export function runAttentionItems(inst: WasmInstance, dims: AttentionDims, ptrs: AttentionPtrs, items: RowItem[], scratch: number): void {
  for (const [h, r0, rows] of items) attentionRowsAt(inst, dims, ptrs, h, r0, rows, scratch);
}

/** The four Nyström stages, each over items (prepare / mix use only the head of an item). */
export type NystromStage = 'prepare' | 'values' | 'mix' | 'output';

/** Run one Nyström stage on each item; `workspaces[h]` is head h's workspace (unused when exact). */
export function runNystromItems(
  inst: WasmInstance, stage: NystromStage, dims: NystromDims, ptrs: AttentionPtrs, conv: number,
  workspaces: NystromWorkspace[], items: RowItem[], scratch: number,
): void {
  for (const [h, r0, rows] of items) {
    const ws = workspaces[h];
    if (stage === 'prepare') nystromPrepareAt(inst, dims, ptrs, h, ws);
    else if (stage === 'values') nystromValuesAt(inst, dims, ptrs, h, ws, r0, rows, scratch);
    else if (stage === 'mix') nystromMixAt(inst, dims, ws);
    else nystromOutputAt(inst, dims, ptrs, conv, h, ws, r0, rows, scratch);
  }
}
