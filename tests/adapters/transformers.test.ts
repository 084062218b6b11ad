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
import { constrainedGenerate, entropyLogitsProcessor, nucleusLogitsProcessor, topKLogitsProcessor, transformersScorer } from '../../bindings/adapters/transformers.js';
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

describe('logits processors for generate()', () => {
  /** Entropy (nats) of softmax(z) in float64. */
  const entropyOf = (z: ArrayLike<number>) => {
    const m = Math.max(...Array.from(z));
    const e = Array.from(z, (v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return -e.reduce((h, v) => (v > 0 ? h + (v / s) * Math.log(v / s) : h), 0);
  };

  it('entropy normalisation, top-k and nucleus rewrite [batch, V] logits in place', async () => {
    const { Tensor } = await import('@huggingface/transformers');
    const z = Float32Array.from([2, 1, 0.5, -1, 0, 3, -2, 1.5, 0.25, -0.5, 1, 2.5, -3, 0, 0.75, -1.25]);
    const logits = () => new Tensor('float32', z.slice(), [2, 8]);
    const ent = entropyLogitsProcessor(gc, { target: 1.2 });
    const e = ent([[0n], [0n]], logits()).data as Float32Array;
    for (const r of [0, 1]) expect(entropyOf(e.subarray(r * 8, r * 8 + 8))).toBeCloseTo(1.2, 3);
    // Keep the 3 largest of each row (values differ, so exactly 3), and the end token 7 with `consistent`.
    const k = topKLogitsProcessor(gc, { k: 3, consistent: true, endToken: 7 })([[0n], [0n]], logits()).data as Float32Array;
    for (const r of [0, 1]) {
      const row = Array.from(z.subarray(r * 8, r * 8 + 8));
      const third = [...row].sort((a, b) => b - a)[2];
      row.forEach((v, i) => expect(k[r * 8 + i]).toBe(v >= third || i === 7 ? v : -Infinity));
    }
    // Nucleus p = 0.5: keep the largest entries until the mass of the larger ones reaches 0.5.
    const n = nucleusLogitsProcessor(gc, { p: 0.5 })([[0n], [0n]], logits()).data as Float32Array;
    for (const r of [0, 1]) {
      const row = Array.from(z.subarray(r * 8, r * 8 + 8));
      const m = Math.max(...row);
      const q = row.map((v) => Math.exp(v - m));
      const s = q.reduce((a, b) => a + b, 0);
      row.forEach((v, i) => {
        const larger = row.reduce((acc, w, j) => (w > v ? acc + q[j] / s : acc), 0);
        expect(n[r * 8 + i]).toBe(v === m || larger < 0.5 - 1e-9 ? v : -Infinity);
      });
    }
    expect(() => topKLogitsProcessor(gc, { k: 0 })).toThrow(/topKLogitsProcessor: opts.k must be an integer ≥ 1/);
    expect(() => nucleusLogitsProcessor(gc, { p: 1.5 })).toThrow(/opts.p must be in \(0, 1\]/);
    expect(() => entropyLogitsProcessor({} as never, { target: 1 })).toThrow(/gc must be the result of gencore's init/);
  });

  it('top-k with k = 1 slots into sampling generate(): the samples are the float64 greedy path', async () => {
    const promptIds = tokenizer.encode('the cat');
    const out = (await model.generate({
      input_ids: new (await import('@huggingface/transformers')).Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]),
      max_new_tokens: 4,
      do_sample: true,
      top_k: 0,
      logits_processor: [topKLogitsProcessor(gc, { k: 1 })] as never,
    })) as { tolist(): bigint[][] };
    const generated = out.tolist()[0].slice(promptIds.length).map(Number);
    const greedy: number[] = [];
    for (let i = 0; i < generated.length; i++) {
      const z = lm.logits([...promptIds, ...greedy]);
      greedy.push(z.indexOf(Math.max(...z)));
      if (greedy[i] === 0) break;
    }
    expect(generated).toEqual(greedy);
  });
});
