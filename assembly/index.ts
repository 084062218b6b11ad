// Barrel: every kernel family's exports, one line per file in kernels/.
export { heapBase } from './kernels/heap';
export { trapForTest } from './kernels/fault';
export { gemm_f32, gemm_f64, gemm_f32_scratch_bytes, gemm_f64_scratch_bytes } from './kernels/gemm';
export { lu_panel_f64, lu_apply_pivots_f64, lu_trsm_f64, matvec2_f64, bidiag_f64 } from './kernels/lu';
export { trie_sort, trie_dedupe, trie_count, trie_build, trie_validate, trie_child, trie_walk } from './kernels/trie';
export { beam_row_stats_f32, beam_row_stats_f64, beam_gather_f32, beam_gather_f64, beam_renormalize, beam_select_f32, beam_select_f64 } from './kernels/beam';
export { rng_words, rng_normal_f32, rng_scratch_bytes } from './kernels/rng';
export { diffusion_step_f32, diffusion_step_rows_f32, diffusion_scratch_bytes } from './kernels/diffusion';
export { mixture_eval_f32, mixture_scratch_bytes } from './kernels/mixture';
export { energy_distance_sum_f32 } from './kernels/energy';
export { entropy_rows_f32, entropy_rows_f64, entropy_solve_f32, entropy_solve_f64 } from './kernels/entropy';
export { softmax_rows_f32, softmax_exp_f32 } from './kernels/softmax';
export { attention_f32, attention_f32_scratch_bytes, segment_means_f32, conv_skip_f32 } from './kernels/attention';
export { nonfinite_index_f32, nonfinite_index_f64 } from './kernels/scan';
export { gather_rows } from './kernels/adapters/gather';
