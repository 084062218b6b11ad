// Barrel: every kernel family's exports, one line per file in kernels/.
export { heapBase } from './kernels/heap';
export { gemm_f32, gemm_f64, gemm_f32_scratch_bytes, gemm_f64_scratch_bytes } from './kernels/gemm';
