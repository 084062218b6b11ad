/**
 * `npm run bench adapters`: the onnxruntime adapter's own cost per beam-search step.
 *
 * A 2-layer, d = 128 (4 heads) causal LM written as ONNX by the test model builder runs in
 * onnxruntime-web (wasm execution provider, one thread) under `ortCausalLM`, K = 8 beams, prompt of 8
 * tokens, 31 cached steps. Per step: the time of `session.run`, the time of the whole scorer call, and the
 * adapter's own work (scorer minus `session.run`: feeds, cache reorder, logits copy, checks), with the
 * cache reorder (`gatherRows` over every cache tensor) timed apart; medians over the steps of 5 searches.
 * Target: adapter ≤ 10 % of session.run.
 */
import * as ort from 'onnxruntime-web';
import { init, type BeamBatch, type Gencore } from '../bindings/index.js';
import { performance } from 'node:perf_hooks';
import { ortCausalLM, type OrtSession } from '../bindings/adapters/onnxruntime.js';
import { causalLM } from '../tests/adapters/models.js';
import { printTable, writeResults, type Row } from './lib.js';

const K = 8;
const PROMPT = Array.from({ length: 8 }, (_, i) => (i * 37) % 500);
const MAX_LENGTH = 32;
const SEARCHES = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measureVocab(gc: Gencore, vocab: number): Promise<Row> {
  const lm = causalLM({ vocab, dim: 128, heads: 4, layers: 2, maxPositions: 64, seed: 1 });
  const session = await ort.InferenceSession.create(lm.bytes);
  // Per step: session.run, the whole scorer call, and gatherRows (wall ms).
  const t = { run: 0, scorer: 0, reorder: 0 };
  const steps: Array<typeof t> = [];
  let timing = false;
  const timedSession: OrtSession = {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    run: (async (feeds: never) => {
      const t0 = performance.now();
      const out = await session.run(feeds);
      if (timing) t.run += performance.now() - t0;
      return out;
    }) as OrtSession['run'],
  };
  const timedGc = Object.create(gc, {
    gatherRows: {
      value: (...args: Parameters<Gencore['gatherRows']>) => {
        const t0 = performance.now();
        const out = gc.gatherRows(...args);
        if (timing) t.reorder += performance.now() - t0;
        return out;
      },
    },
  }) as Gencore;
  const scorer = ortCausalLM(timedSession, { prompt: PROMPT, gencore: timedGc });
  // Steady-state steps only (step ≥ 1: one token per row, cache reordered); step 0 runs the prompt.
  const timedScorer = async (b: BeamBatch) => {
    timing = b.step > 0;
    const t0 = performance.now();
    const logits = await scorer(b);
    if (timing) {
      t.scorer = performance.now() - t0;
      steps.push({ ...t });
    }
    Object.assign(t, { run: 0, scorer: 0, reorder: 0 });
    return logits;
  };
  const opts = { beams: K, maxLength: MAX_LENGTH, endToken: vocab - 1, vocabSize: vocab };
  await gc.beamSearch(timedScorer, opts); // warm-up
  steps.length = 0;
  for (let i = 0; i < SEARCHES; i++) await gc.beamSearch(timedScorer, opts);
  scorer.reset();
  await session.release();
  return {
    V: vocab,
    steps: steps.length,
    'session.run ms': median(steps.map((x) => x.run)),
    'adapter ms': median(steps.map((x) => x.scorer - x.run)),
    'of which reorder ms': median(steps.map((x) => x.reorder)),
    'adapter / run %': median(steps.map((x) => (100 * (x.scorer - x.run)) / x.run)),
  };
}

export async function run(): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const gc = await init();
  const rows: Row[] = [];
  for (const vocab of (process.env.VOCAB ? [Number(process.env.VOCAB)] : [1024, 50257])) rows.push(await measureVocab(gc, vocab));
  printTable(`ortCausalLM per beam-search step (2 layers, d = 128, 4 heads, K = ${K}, prompt ${PROMPT.length}, ${MAX_LENGTH - 1} cached steps)`, rows);
  console.log(`wrote ${writeResults('adapters', rows)}`);
}
