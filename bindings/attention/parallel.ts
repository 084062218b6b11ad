/**
 * Pool side of exact and Nyström attention: heads and query-row blocks are split across workers.
 *
 * With a shared memory the pool's thread stages q, k, v, the mask and every workspace once, and workers get
 * pointers, whatever the worker count (a call too small to split is one group of rows, run by the least
 * busy worker). Exact attention is one round (rows of all heads, flattened, in contiguous ranges). Nyström runs
 * four rounds: per head landmarks + A + pinv; rows of W = B·v; per head W' = Z·W; output rows F·W' (+ conv).
 * Rows are independent and keys go in a fixed order, so the result is bit-identical to the sync call of the
 * same build. Without a shared memory, heads (or, for one head of exact attention, query rows) are sent to
 * workers as sub-arrays, and an unsplit call is a generic call.
 */
import {
  attentionScratchBytes,
  checkAllFinite,
  nystromWorkspaceAt,
  nystromWorkspaceLayout,
  planAttention,
  planNystrom,
  stageAttention,
  type AttentionDims,
  type AttentionOptions,
  type AttentionPtrs,
  type NystromDims,
  type NystromOptions,
  type NystromStage,
  type NystromWorkspace,
  type RowItem,
} from './attention.js';
import type { WorkerPool } from '../worker/pool.js';
import { splitRange } from '../worker/split.js';

/** Exact attention rows (docs/attention.md §4): items are [head, r0, rows]. */
export type AttentionTask = { kind: 'attention'; dims: AttentionDims; ptrs: AttentionPtrs; items: RowItem[]; scratch: number };

/** One stage of Nyström attention over heads / row blocks. */
export type NystromTask = {
  kind: 'nystrom';
  stage: NystromStage;
  dims: NystromDims;
  ptrs: AttentionPtrs;
  conv: number;
  workspaces: NystromWorkspace[];
  items: RowItem[];
  scratch: number;
};

/** Calls below this many multiply-adds run whole in one worker: splitting would cost more than it saves. */
const SPLIT_MIN_MACS = 1 << 22;

/** Split the rows of `heads` heads of `rows` rows each into at most `parts` lists of [head, r0, count]. */
export function rowItems(heads: number, rows: number, parts: number, granule: number): RowItem[][] {
  return splitRange(heads * rows, parts, granule).map(([start, count]) => {
    const items: RowItem[] = [];
    let at = start;
    const end = start + count;
    while (at < end) {
      const h = Math.floor(at / rows);
      const r0 = at - h * rows;
      const take = Math.min(rows - r0, end - at);
      items.push([h, r0, take]);
      at += take;
    }
    return items;
  });
}

/** Heads split into at most `parts` groups, as items [head, 0, 0]. */
function headItems(heads: number, parts: number): RowItem[][] {
  return splitRange(heads, parts).map(([h0, count]) => Array.from({ length: count }, (_, i): RowItem => [h0 + i, 0, 0]));
}

function attentionDims(p: AttentionDims): AttentionDims {
  return { n: p.n, nk: p.nk, d: p.d, dv: p.dv, heads: p.heads, scale: p.scale, maskPerHead: p.maskPerHead, bq: p.bq, bk: p.bk };
}

export async function parallelAttention(pool: WorkerPool, q: Float32Array, k: Float32Array, v: Float32Array, opts: AttentionOptions): Promise<Float32Array> {
  const p = planAttention(q, k, v, opts);
  if (p.n === 0) return p.out ?? new Float32Array(0);
  const workers = p.heads * p.n * p.nk * (p.d + p.dv) < SPLIT_MIN_MACS ? 1 : pool.size;
  const len = p.heads * p.n * p.dv;
  if (pool.host) {
    return pool.runShared((host, scope) => {
      const groups = rowItems(p.heads, p.n, workers, p.bq);
      const scratchBytes = attentionScratchBytes(host, p);
      const ptrs = stageAttention(host, scope, p, 'attention', groups.length * scratchBytes);
      const dims = attentionDims(p);
      const tasks: AttentionTask[] = groups.map((items) => ({ kind: 'attention', dims, ptrs, items, scratch: scope.alloc(scratchBytes, 'attention scratch') }));
      return async () => {
        await pool.splitShared(tasks);
        return scope.copyOut(Float32Array, ptrs.out, len, p.out);
      };
    });
  }
  if (workers < 2) return (await pool.call('attention', [q, k, v, opts])) as Float32Array;
  // No shared memory: whole heads per worker, or query-row blocks of a single head. Inputs are checked
  // here so an error names the caller's index, not one in a worker's slice.
  checkAllFinite('attention', [['q', q], ['k', k], ['v', v]]);
  const { n, nk, d, dv, heads } = p;
  const base = { nk, d, dv, scale: p.scale, blockQueries: p.bq, blockKeys: p.bk };
  const out = p.out ?? new Float32Array(len);
  const slots = pool.pick(pool.size);
  const maskFor = (h0: number, hc: number) =>
    p.keyMask === undefined ? undefined : p.maskPerHead ? p.keyMask.subarray(h0 * nk, (h0 + hc) * nk) : p.keyMask;
  if (heads >= 2) {
    const groups = splitRange(heads, pool.size);
    const parts = await Promise.all(
      groups.map(([h0, hc], w) =>
        pool.call('attention', [
          q.slice(h0 * n * d, (h0 + hc) * n * d), k.slice(h0 * nk * d, (h0 + hc) * nk * d), v.slice(h0 * nk * dv, (h0 + hc) * nk * dv),
          { ...base, n, heads: hc, keyMask: maskFor(h0, hc)?.slice() },
        ], slots[w]) as Promise<Float32Array>,
      ),
    );
    groups.forEach(([h0], w) => out.set(parts[w], h0 * n * dv));
    return out;
  }
  const blocks = splitRange(n, pool.size, p.bq);
  const parts = await Promise.all(
    blocks.map(([r0, rows], w) =>
      pool.call('attention', [q.slice(r0 * d, (r0 + rows) * d), k, v, { ...base, n: rows, heads: 1, keyMask: p.keyMask }], slots[w]) as Promise<Float32Array>,
    ),
  );
  blocks.forEach(([r0], w) => out.set(parts[w], r0 * dv));
  return out;
}

export async function parallelNystromAttention(pool: WorkerPool, q: Float32Array, k: Float32Array, v: Float32Array, opts: NystromOptions): Promise<Float32Array> {
  const p = planNystrom(q, k, v, opts);
  if (p.n === 0) return p.out ?? new Float32Array(0);
  const workers = p.heads * p.n * (p.exact ? p.n : 2 * p.m) * (p.d + p.dv) < SPLIT_MIN_MACS ? 1 : pool.size;
  const { n, d, dv, heads } = p;
  const len = heads * n * dv;
  if (pool.host) {
    return pool.runShared((host, scope) => {
      const outputGroups = rowItems(heads, n, workers, p.bq);
      const scratchBytes = attentionScratchBytes(host, p);
      const layout = p.exact ? undefined : nystromWorkspaceLayout(host, p);
      const extra = outputGroups.length * scratchBytes + heads * (layout?.bytes ?? 0) + (p.convKernel?.byteLength ?? 0);
      const ptrs = stageAttention(host, scope, p, 'nystromAttention', extra);
      const conv = p.convKernel ? scope.copyIn(p.convKernel, 'nystromAttention: convKernel') : 0;
      const scratch = outputGroups.map(() => scope.alloc(scratchBytes, 'attention scratch'));
      const workspaces: NystromWorkspace[] = layout
        ? Array.from({ length: heads }, () => nystromWorkspaceAt(layout.offsets, scope.alloc(layout.bytes, 'nystrom workspace')))
        : [];
      const dims: NystromDims = { ...attentionDims(p), m: p.m, iterations: p.iterations, exact: p.exact, kc: p.kc };
      const round = (stage: NystromStage, groups: RowItem[][]) =>
        pool.splitShared(groups.map((items, w): NystromTask => ({ kind: 'nystrom', stage, dims, ptrs, conv, workspaces, items, scratch: scratch[w] })));
      return async () => {
        if (!p.exact) {
          await round('prepare', headItems(heads, outputGroups.length));
          await round('values', rowItems(heads, p.m, outputGroups.length, 8));
          await round('mix', headItems(heads, outputGroups.length));
        }
        await round('output', outputGroups);
        return scope.copyOut(Float32Array, ptrs.out, len, p.out);
      };
    });
  }
  // No shared memory: whole heads per worker (a single head runs in one worker).
  if (workers < 2 || heads < 2) return (await pool.call('nystromAttention', [q, k, v, opts])) as Float32Array;
  checkAllFinite('nystromAttention', [['q', q], ['k', k], ['v', v]]);
  const out = p.out ?? new Float32Array(len);
  const slots = pool.pick(pool.size);
  const groups = splitRange(heads, pool.size);
  const parts = await Promise.all(
    groups.map(([h0, hc], w) =>
      pool.call('nystromAttention', [
        q.slice(h0 * n * d, (h0 + hc) * n * d), k.slice(h0 * n * d, (h0 + hc) * n * d), v.slice(h0 * n * dv, (h0 + hc) * n * dv),
        {
          n, d, dv, heads: hc, landmarks: p.m, pinvIterations: p.iterations, scale: p.scale,
          keyMask: p.keyMask === undefined ? undefined : p.maskPerHead ? p.keyMask.slice(h0 * n, (h0 + hc) * n) : p.keyMask,
          convKernel: p.convKernel?.slice(h0 * p.kc, (h0 + hc) * p.kc),
        },
      ], slots[w]) as Promise<Float32Array>,
    ),
  );
  groups.forEach(([h0], w) => out.set(parts[w], h0 * n * dv));
  return out;
}

