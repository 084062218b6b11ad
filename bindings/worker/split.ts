/**
 * Split work on a shared memory: the pool's thread stages operands and scratch, each worker runs one
 * piece by pointer. A task is plain data (it crosses the worker boundary by structured clone).
 */
import type { WasmInstance } from '../wasm/load.js';
import { gemmRows, type MatmulPlan } from '../linalg/linalg.js';
import type { FloatArray } from '../wasm/memory.js';
import { runAttentionItems, runNystromItems, type AttentionDims, type AttentionPtrs, type NystromDims, type NystromStage, type NystromWorkspace, type RowItem } from '../attention/attention.js';
import { entropySolveRows, type EntropySolvePlan, type EntropySolvePtrs } from '../entropy/entropy.js';

export type GemmTask = {
  kind: 'gemm';
  plan: Pick<MatmulPlan<FloatArray>, 'm' | 'k' | 'n' | 'transA' | 'transB' | 'alpha' | 'beta' | 'f64'>;
  ptrs: { a: number; b: number; c: number; scratch: number };
  i0: number;
  rows: number;
};

export type EntropySolveTask = {
  kind: 'entropySolve';
  plan: Pick<EntropySolvePlan, 'cols' | 'f64' | 'fromLogits' | 'tol' | 'maxIter' | 'method'>;
  ptrs: EntropySolvePtrs;
  r0: number;
  rows: number;
  scratch: number;
};

/** Exact attention rows (spec/attention.md §4): items are [head, r0, rows]. */
export type AttentionTask = { kind: 'attention'; dims: AttentionDims; ptrs: AttentionPtrs; items: RowItem[]; scratch: number };

/** One stage of Nyström attention over heads / row blocks (bindings/worker/parallel/attention.ts). */
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

export type SplitTask = GemmTask | EntropySolveTask | AttentionTask | NystromTask;

/** Run one task on an instance bound to the shared memory. */
export function runSplitTask(inst: WasmInstance, task: SplitTask): void {
  switch (task.kind) {
    case 'gemm':
      gemmRows(inst, task.plan, task.ptrs, task.i0, task.rows);
      return;
    case 'entropySolve':
      entropySolveRows(inst, task.plan, task.ptrs, task.r0, task.rows, task.scratch);
      return;
    case 'attention':
      runAttentionItems(inst, task.dims, task.ptrs, task.items, task.scratch);
      return;
    case 'nystrom':
      runNystromItems(inst, task.stage, task.dims, task.ptrs, task.conv, task.workspaces, task.items, task.scratch);
      return;
  }
}

/** Split [0, total) into at most `parts` contiguous ranges whose starts are multiples of `granule`. */
export function splitRange(total: number, parts: number, granule = 1): Array<[start: number, count: number]> {
  const units = Math.ceil(total / granule);
  const p = Math.max(1, Math.min(parts, units));
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < p; i++) {
    const endUnits = Math.round(((i + 1) * units) / p);
    const end = Math.min(total, endUnits * granule);
    if (end > start) ranges.push([start, end - start]);
    start = end;
  }
  return ranges;
}
