/**
 * gencore/transformers against the real transformers.js 4.x: the test writes a local model folder
 * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx — the causal LM of models.ts) and
 * loads it with remote models disabled. Beam search through the model's own forward and cache equals a
 * search over the float64 model without a cache.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type BeamBatch, type Gencore, type Hypothesis } from '../../bindings/index.js';
import { constrainedGenerate, transformersScorer } from '../../bindings/adapters/transformers.js';
import { causalLM } from './models.js';

const WORDS = ['<eos>', 'the', 'cat', 'dog', 'sat', 'on', 'mat', 'a', 'big', 'red', 'ran', 'far', 'home'];
const V = WORDS.length;
const lm = causalLM({ vocab: V, dim: 16, heads: 2, layers: 2, maxPositions: 32, seed: 29 });

let dir: string;
let gc: Gencore;
let model: PreTrainedModel;
let tokenizer: PreTrainedTokenizer;

beforeAll(async () => {
  gc = await init();
  dir = mkdtempSync(path.join(tmpdir(), 'gencore-transformers-'));
  const folder = path.join(dir, 'tiny-lm');
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  writeFileSync(path.join(folder, 'onnx', 'model.onnx'), lm.bytes);
  writeFileSync(
    path.join(folder, 'config.json'),
    JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_head: 2, n_layer: 2, n_embd: 16, n_positions: 32, vocab_size: V, bos_token_id: 0, eos_token_id: 0 }),
  );
  writeFileSync(
    path.join(folder, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: 0, content: '<eos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: null,
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordLevel', vocab: Object.fromEntries(WORDS.map((w, i) => [w, i])), unk_token: '<eos>' },
    }),
  );
  writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<eos>', bos_token: '<eos>', unk_token: '<eos>', model_max_length: 32 }));
  env.allowRemoteModels = false;
  env.localModelPath = dir;
  model = await AutoModelForCausalLM.from_pretrained('tiny-lm', { dtype: 'fp32' });
  tokenizer = await AutoTokenizer.from_pretrained('tiny-lm');
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const reference = (promptIds: number[]) => (b: BeamBatch) => {
  const out = new Float64Array(b.rows * V);
  for (let r = 0; r < b.rows; r++) out.set(lm.logits([...promptIds, ...b.prefixes.subarray(r * b.step, (r + 1) * b.step)]), r * V);
  return out;
};

describe('transformersScorer', () => {
  it('beam search through the model forward and its reordered cache equals the float64 model', async () => {
    const promptIds = tokenizer.encode('the big');
    expect(promptIds).toEqual([1, 8]);
    const opts = { beams: 4, maxLength: 5, endToken: 0, vocabSize: V };
    const base = gc.memory.bytesInUse;
    const scorer = transformersScorer(model, { prompt: promptIds, gencore: gc });
    const got = await gc.beamSearch(scorer, opts);
    scorer.reset();
    const want = await gc.beamSearch(reference(promptIds), opts);
    expect(got.map((h) => Array.from(h.tokens))).toEqual(want.map((h) => Array.from(h.tokens)));
    got.forEach((h, i) => expect(h.logProb).toBeCloseTo(want[i].logProb, 4));
    expect(gc.memory.bytesInUse).toBe(base);
    expect(() => transformersScorer({} as never, { prompt: [1] })).toThrow(/transformersScorer: model must be a transformers.js model with a forward method/);
  });

  it('constrainedGenerate ranks the passages as the constrained search over the float64 model does', async () => {
    const passages = ['the cat sat', 'the dog ran far', 'a red mat', 'home', 'the cat ran home'];
    const got = await constrainedGenerate(model, tokenizer, { prompt: 'a big dog', passages, beams: 3, maxLength: 6, gencore: gc });
    const promptIds = tokenizer.encode('a big dog');
    const trie = gc.buildTrie(passages.map((p) => [...tokenizer.encode(p, { add_special_tokens: false }), 0]), { endToken: 0 });
    const want = (await gc.beamSearch(reference(promptIds), { beams: 3, maxLength: 6, endToken: 0, constraint: trie })) as Hypothesis[];
    trie.dispose();
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => {
      expect(Array.from(g.tokens)).toEqual(Array.from(want[i].tokens));
      expect(g.text).toBe(passages.find((p) => tokenizer.encode(p, { add_special_tokens: false }).join() === Array.from(want[i].tokens).slice(0, -1).join()));
      expect(g.logProb).toBeCloseTo(want[i].logProb, 4);
    });
  });
});
