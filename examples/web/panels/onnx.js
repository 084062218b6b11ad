// Bring your own model: an ONNX language model (onnxruntime-web) in a module worker, searched by gencore's
// trie-constrained beam search through gencore/onnxruntime. The model is a small random-weight letter LM
// (examples/web/data/letters-lm.onnx, written by scripts/demo-model.ts); the trie holds the city names,
// so every answer is a real city, ranked by the model.
import { el, Panel } from '../lib/ui.js';
import { fmt, hbars } from '../lib/draw.js';

export const id = 'onnx';

export function mount(parent) {
  const panel = new Panel(parent, {
    id,
    title: 'Bring your own model',
    subtitle: 'onnxruntime-web in a worker',
    what: 'A 2-layer causal LM in ONNX runs in onnxruntime-web inside a module worker, next to gencore. gencore.beamSearch drives it through ortCausalLM: one session.run per step for all beams, the KV cache reordered by the beams’ parents in wasm, the answers constrained to the trie of city names. Type a prompt (letters), pick the beam width.',
  });
  if (typeof Worker === 'undefined') {
    panel.unavailable('Web Workers');
    return { panel };
  }
  const prefix = el('input', { id: 'onnx-prompt', type: 'text', value: 'san', size: 10 });
  const beams = el('select', { id: 'onnx-beams' }, ...[2, 4, 8, 16].map((k) => el('option', { value: k, selected: k === 8 }, `K = ${k}`)));
  panel.controls.append(el('label', {}, 'prompt ', prefix), beams);
  panel.addRunButtons((ctx) => task(ctx), { label: 'Search' });
  const chart = el('canvas', { class: 'plot', id: 'onnx-chart' });
  panel.body.append(chart);
  const result = {};
  const worker = new Worker(new URL('../onnx-worker.js', import.meta.url), { type: 'module' });
  let next = 0;

  function task({ signal }) {
    const request = ++next;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        worker.removeEventListener('message', onMessage);
        const err = new Error('onnx: aborted');
        err.name = 'AbortError';
        reject(err);
      };
      const onMessage = ({ data }) => {
        if (data.id !== request) return;
        worker.removeEventListener('message', onMessage);
        signal.removeEventListener('abort', onAbort);
        if (data.error) return reject(new Error(data.error));
        Object.assign(result, data);
        hbars(chart, { values: data.hyps.map((h) => Math.exp(h.score)), labels: data.hyps.map((h) => h.name), caption: 'exp(score) of each answer (score = log p / length)' });
        const adapter = data.total - data.run;
        resolve(`${data.hyps.length} answers from ${data.names} city names in ${data.steps} steps, ${fmt(data.total, 3)} ms: session.run ${fmt(data.run, 3)} ms, gencore (search + adapter) ${fmt(adapter, 3)} ms`);
      };
      worker.addEventListener('message', onMessage);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ id: request, prefix: prefix.value.toLowerCase(), beams: Number(beams.value) });
    });
  }

  prefix.addEventListener('change', () => void panel.run(task));
  beams.addEventListener('change', () => void panel.run(task));
  void panel.run(task);
  return { panel, result };
}
