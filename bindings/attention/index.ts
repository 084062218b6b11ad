/** Attention: exact softmax attention and Nyström attention (docs/attention.md). */
import { defineCapability } from '../capability.js';
import { attentionApi, runAttentionItems, runNystromItems } from './attention.js';
import { parallelAttention, parallelNystromAttention, type AttentionTask, type NystromTask } from './parallel.js';

export const attention = defineCapability({
  api: attentionApi,
  parallel: { attention: parallelAttention, nystromAttention: parallelNystromAttention },
  tasks: {
    attention: (inst, t: AttentionTask) => runAttentionItems(inst, t.dims, t.ptrs, t.items, t.scratch),
    nystrom: (inst, t: NystromTask) => runNystromItems(inst, t.stage, t.dims, t.ptrs, t.conv, t.workspaces, t.items, t.scratch),
  },
});
