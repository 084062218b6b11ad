// Write the playground's demo ONNX model: `npx tsx scripts/demo-model.ts` → examples/web/data/letters-lm.onnx.
// A 2-layer causal LM with a KV cache over 27 tokens (a–z and the end of a name), random weights (seed 2024),
// built by the same writer the adapter tests use.
import { writeFileSync } from 'node:fs';
import { causalLM } from '../tests/adapters/models.js';

const lm = causalLM({ vocab: 27, dim: 32, heads: 4, layers: 2, maxPositions: 64, seed: 2024, logitScale: 2 });
const file = new URL('../examples/web/data/letters-lm.onnx', import.meta.url);
writeFileSync(file, lm.bytes);
console.log(`wrote examples/web/data/letters-lm.onnx (${lm.bytes.length} bytes)`);
