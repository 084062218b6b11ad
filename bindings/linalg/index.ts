/** Linear algebra: `matmul` (blocked SIMD GEMM), `pinv`, `solve` (docs/linalg.md). */
import { defineCapability } from '../capability.js';
import { gemmRows, linalgApi } from './linalg.js';
import { parallelMatmul, type GemmTask } from './parallel.js';

export const linalg = defineCapability({
  api: linalgApi,
  parallel: { matmul: parallelMatmul },
  tasks: { gemm: (inst, task: GemmTask) => gemmRows(inst, task.plan, task.ptrs, task.i0, task.rows) },
});
