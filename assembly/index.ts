// Barrel: every kernel family's exports, one line per file in kernels/.
export { heapBase } from './kernels/runtime/heap';
export { trapForTest } from './kernels/runtime/fault';
export { gemm_f32, gemm_f64, gemm_f32_scratch_bytes, gemm_f64_scratch_bytes } from './kernels/linalg/gemm';
export { lu_panel_f64, lu_apply_pivots_f64, lu_trsm_f64, matvec2_f64, bidiag_f64 } from './kernels/linalg/lu';
export { trie_sort, trie_dedupe, trie_count, trie_build, trie_validate, trie_child, trie_walk } from './kernels/constrained/trie';
export { beam_row_stats_f32, beam_row_stats_f64, beam_gather_f32, beam_gather_f64, beam_renormalize, beam_select_f32, beam_select_f64 } from './kernels/constrained/beam';
export { rng_words, rng_normal_f32, rng_scratch_bytes } from './kernels/diffusion/rng';
export { diffusion_step_f32, diffusion_step_rows_f32, diffusion_scratch_bytes } from './kernels/diffusion/diffusion';
export { mixture_eval_f32, mixture_scratch_bytes } from './kernels/diffusion/mixture';
export { energy_distance_sum_f32, energy_distance_sum_f64 } from './kernels/diffusion/energy';
export { entropy_rows_f32, entropy_rows_f64, entropy_solve_f32, entropy_solve_f64 } from './kernels/entropy/entropy';
export { softmax_rows_f32, softmax_exp_f32 } from './kernels/attention/softmax';
export { attention_f32, attention_f32_scratch_bytes, segment_means_f32, conv_skip_f32 } from './kernels/attention/attention';
export { nonfinite_index_f32, nonfinite_index_f64 } from './kernels/linalg/scan';
export { dense_bias_act_f32, dense_silu_grad_f32, dense_column_sums_f32, adam_f32 } from './kernels/nn/dense';
export { edit_lookahead_step } from './kernels/constrained/edit';
export { gather_rows } from './kernels/adapters/gather';
