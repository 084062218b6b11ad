// A module worker running gencore and onnxruntime-web together: beam search with ortCausalLM, the model
// and the search in this worker, off the page's main thread.
import * as ort from 'onnxruntime-web';
import { init } from '../../../dist/index.browser.js';
import { ortCausalLM } from '../../../dist/onnxruntime.browser.js';

ort.env.wasm.numThreads = 1;

self.onmessage = async ({ data: { bytes, prompt, opts } }) => {
  try {
    const gc = await init();
    const session = await ort.InferenceSession.create(bytes);
    const base = gc.memory.bytesInUse;
    const scorer = ortCausalLM(session, { prompt, gencore: gc });
    const hyps = await gc.beamSearch(scorer, opts);
    scorer.reset();
    self.postMessage({ hyps: hyps.map((q) => q.map((h) => ({ tokens: Array.from(h.tokens), logProb: h.logProb }))), memoryAtBaseline: gc.memory.bytesInUse === base });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
