// The playground's ONNX worker: gencore and onnxruntime-web in one module worker. It loads the demo
// letter LM, builds a trie of city names (letters, then the end token) and answers each request with a
// trie-constrained beam search through gencore/onnxruntime's ortCausalLM, timing session.run apart.
import * as ort from 'onnxruntime-web';
import { init } from '../../dist/index.browser.js';
import { ortCausalLM } from '../../dist/onnxruntime.browser.js';

ort.env.wasm.numThreads = 1;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const END = LETTERS.length;

const ready = (async () => {
  const gc = await init();
  const bytes = new Uint8Array(await (await fetch(new URL('./data/letters-lm.onnx', import.meta.url))).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes);
  const rows = (await (await fetch(new URL('./data/cities.json', import.meta.url))).json()).rows;
  const names = [...new Set(rows.map(([name]) => [...name.normalize('NFD').toLowerCase()].filter((c) => LETTERS.includes(c)).join('')).filter((n) => n.length > 0))];
  const trie = gc.buildTrie(names.map((n) => [...Array.from(n, (c) => LETTERS.indexOf(c)), END]), { endToken: END });
  return { gc, session, trie, names: names.length };
})();

self.onmessage = async ({ data: { id, prefix, beams } }) => {
  try {
    const { gc, session, trie, names } = await ready;
    let run = 0;
    const timed = { inputNames: session.inputNames, outputNames: session.outputNames, inputMetadata: session.inputMetadata, run: async (f) => { const t0 = performance.now(); const out = await session.run(f); run += performance.now() - t0; return out; } };
    const prompt = [END, ...Array.from(prefix, (c) => LETTERS.indexOf(c)).filter((t) => t >= 0)];
    const scorer = ortCausalLM(timed, { prompt, gencore: gc });
    let steps = 0;
    const t0 = performance.now();
    const hyps = await gc.beamSearch(scorer, { beams, maxLength: 24, endToken: END, constraint: trie, onProgress: () => void steps++ });
    const total = performance.now() - t0;
    scorer.reset();
    const text = (tokens) => Array.from(tokens.subarray(0, tokens.length - 1), (t) => LETTERS[t]).join('');
    self.postMessage({ id, names, steps, total, run, hyps: hyps.map((h) => ({ name: text(h.tokens), logProb: h.logProb, score: h.score })) });
  } catch (err) {
    self.postMessage({ id, error: `${err?.name ?? 'Error'}: ${err?.message ?? err}` });
  }
};
