// Driven by tests/browser/adapters.test.ts: the same ONNX causal LM searched with ortCausalLM (1) inside a
// module worker that runs gencore and onnxruntime-web, (2) with gencore's worker pool running the search
// and the scorer (onnxruntime-web) on this page's thread.
import * as ort from 'onnxruntime-web';
import { createPool } from '../../../dist/index.browser.js';
import { ortCausalLM } from '../../../dist/onnxruntime.browser.js';

ort.env.wasm.numThreads = 1;

const plain = (hyps) => hyps.map((q) => q.map((h) => ({ tokens: Array.from(h.tokens), logProb: h.logProb })));

globalThis.gencoreAdapterCheck = async (modelBytes, prompt, opts) => {
  const bytes = Uint8Array.from(modelBytes);
  const worker = new Worker(new URL('./adapters-worker.js', import.meta.url), { type: 'module' });
  const inWorker = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.onerror = (e) => resolve({ error: e.message });
    worker.postMessage({ bytes, prompt, opts });
  });
  worker.terminate();
  const pool = await createPool({ workers: 1 });
  try {
    const session = await ort.InferenceSession.create(bytes);
    const scorer = ortCausalLM(session, { prompt });
    const pooled = plain(await pool.beamSearch(scorer, opts));
    scorer.reset();
    return { inWorker, pooled };
  } finally {
    pool.terminate();
  }
};
document.getElementById('status').textContent = 'ready';
