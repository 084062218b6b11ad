/** Dense networks on the GEMM: forward, gradients, Adam (docs/nn.md). */
import { defineCapability } from '../capability.js';
import { nnApi } from './dense.js';

export const nn = defineCapability({ api: nnApi });
