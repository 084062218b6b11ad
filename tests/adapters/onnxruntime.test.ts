/**
 * gencore/onnxruntime against the real onnxruntime-web (wasm execution provider, run from its package
 * files) with models the tests write: beam search with the KV cache equals a search whose scorer
 * computes the model in float64 from the whole sequence, for a causal LM and an encoder-decoder.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, noiseSchedule, type BeamBatch, type Gencore, type Hypothesis } from '../../bindings/index.js';
import { ortCausalLM, ortDenoiser, type OrtSession } from '../../bindings/adapters/onnxruntime.js';
import { causalLM, encoderDecoder, gaussianEpsModel } from './models.js';
import { FLOAT, INT64, onnxModel } from './onnx-writer.js';

ort.env.wasm.numThreads = 1;

let gc: Gencore;
beforeAll(async () => {
  gc = await init();
});

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes);

/** A scorer computing each row's logits from the whole sequence with a float64 model. */
function referenceScorer(logitsOf: (query: number, tokens: number[]) => Float64Array, V: number, log?: BeamBatch[]) {
  return (b: BeamBatch) => {
    log?.push(b);
    const out = new Float64Array(b.rows * V);
    for (let r = 0; r < b.rows; r++) out.set(logitsOf(b.query[r], Array.from(b.prefixes.subarray(r * b.step, (r + 1) * b.step))), r * V);
    return out;
  };
}

function expectSameHypotheses(got: Hypothesis[][], want: Hypothesis[][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, q) => {
    expect(g.map((h) => Array.from(h.tokens))).toEqual(want[q].map((h) => Array.from(h.tokens)));
    g.forEach((h, i) => expect(h.logProb).toBeCloseTo(want[q][i].logProb, 4));
  });
}

/** Records every tensor a session receives or returns, to check that all are disposed. */
function recording(s: OrtSession) {
  const tensors: ort.Tensor[] = [];
  const wrapped: OrtSession = {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputMetadata: s.inputMetadata,
    run: (async (feeds: Record<string, ort.Tensor>) => {
      tensors.push(...Object.values(feeds));
      const out = await s.run(feeds);
      tensors.push(...(Object.values(out) as ort.Tensor[]));
      return out;
    }) as OrtSession['run'],
  };
  return { wrapped, tensors, live: () => tensors.filter((t) => t.location !== 'none').length };
}

describe('ortCausalLM', () => {
  const V = 13;
  const lm = causalLM({ vocab: V, dim: 16, heads: 2, layers: 2, maxPositions: 16, seed: 11 });
  const prompts = [[1, 5, 2], [7, 3, 9]];
  const search = { beams: 4, maxLength: 6, endToken: 0, queries: 2, vocabSize: V };

  it('beam search with the reordered KV cache equals the float64 model run on whole sequences', async () => {
    const s = await session(lm.bytes);
    const rec = recording(s);
    const log: BeamBatch[] = [];
    const scorer = ortCausalLM(rec.wrapped, { prompt: prompts, gencore: gc });
    const base = gc.memory.bytesInUse;
    const got = (await gc.beamSearch((b) => (log.push(b), scorer(b)), search)) as Hypothesis[][];
    const want = (await gc.beamSearch(referenceScorer((q, p) => lm.logits([...prompts[q], ...p]), V), search)) as Hypothesis[][];
    expectSameHypotheses(got, want);
    // The search really reorders: some step's beams do not extend rows 0, 1, 2, … in order.
    expect(log.some((b) => b.step > 1 && b.parentRow.some((p, r) => p !== r))).toBe(true);
    expect(gc.memory.bytesInUse).toBe(base);
    // Only the last step's cache is alive, until reset().
    expect(rec.live()).toBe(4);
    scorer.reset();
    expect(rec.live()).toBe(0);
  });

  it('one prompt shared by every query, and a trie constraint', async () => {
    const s = await session(lm.bytes);
    const trie = gc.buildTrie([[3, 4, 0], [3, 6, 0], [8, 0], [3, 4, 5, 0], [12, 11, 10, 0]], { endToken: 0 });
    const opts = { beams: 3, maxLength: 5, endToken: 0, constraint: trie };
    const got = await gc.beamSearch(ortCausalLM(s, { prompt: [4, 4], gencore: gc }), opts);
    const want = await gc.beamSearch(referenceScorer((_q, p) => lm.logits([4, 4, ...p]), V), opts);
    expectSameHypotheses([got], [want]);
    trie.dispose();
  });

  it('serves an encoder-decoder: encoder once per search, its output expanded per beam', async () => {
    const ed = encoderDecoder({ vocab: V, dim: 8, heads: 2, seed: 5 });
    const [enc, dec] = await Promise.all([session(ed.encoder), session(ed.decoder)]);
    const sources = [[3, 1, 4, 1], [5, 9, 2, 6]];
    let encoderRuns = 0;
    const countingEncoder: OrtSession = { inputNames: enc.inputNames, outputNames: enc.outputNames, inputMetadata: enc.inputMetadata, run: ((f: never) => (encoderRuns++, enc.run(f))) as OrtSession['run'] };
    const scorer = ortCausalLM(dec, { prompt: [0], encoder: { session: countingEncoder, inputs: sources }, gencore: gc });
    const opts = { beams: 3, maxLength: 5, endToken: 1, queries: 2, vocabSize: V };
    const got = (await gc.beamSearch(scorer, opts)) as Hypothesis[][];
    const want = (await gc.beamSearch(referenceScorer((q, p) => ed.logits(sources[q], [0, ...p]), V), opts)) as Hypothesis[][];
    expectSameHypotheses(got, want);
    expect(encoderRuns).toBe(1);
  });
});

/**
 * A cache-less LM over a table: logits of position t = sqrt(W[token_t]) (summed over the batch when
 * `sumBatch`, which gives one row whatever the batch). Row 1 of W holds a −1: NaN after token 1.
 */
function tableLM(V: number, sumBatch = false): Uint8Array {
  const W = new Float32Array(V * V).fill(0.25);
  W[0 * V + 1] = 4; // token 1 is the clear best after token 0
  W[1 * V + 0] = -1;
  const nodes = [
    { op: 'Gather', inputs: ['W', 'input_ids'], outputs: ['rows'] },
    { op: 'Sqrt', inputs: ['rows'], outputs: [sumBatch ? 'root' : 'logits'] },
  ];
  if (sumBatch) nodes.push({ op: 'ReduceSum', inputs: ['root', 'axes'], outputs: ['logits'] });
  return onnxModel({
    nodes,
    initializers: [{ name: 'W', dims: [V, V], data: W }, { name: 'axes', dims: [1], data: BigInt64Array.of(0n) }],
    inputs: [{ name: 'input_ids', type: INT64, dims: ['batch', 'seq'] }],
    outputs: [{ name: 'logits', type: FLOAT, dims: [sumBatch ? 1 : 'batch', 'seq', V] }],
  });
}

describe('ortCausalLM: bad sessions, bad outputs, failures', () => {
  const V = 13;
  const lm = causalLM({ vocab: V, dim: 8, heads: 2, layers: 1, maxPositions: 4, seed: 3 });

  it('a session without the expected inputs or outputs is a TypeError naming what is missing and what it has', async () => {
    const s = await session(lm.bytes);
    expect(() => ortCausalLM(s, { prompt: [1], inputIds: 'ids' })).toThrow(/ortCausalLM: the session has no input 'ids'; its inputs are 'input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value'/);
    expect(() => ortCausalLM(s, { prompt: [1], logits: 'scores' })).toThrow(/ortCausalLM: the session has no output 'scores'; its outputs are 'logits', 'present.0.key', 'present.0.value'/);
    expect(() => ortCausalLM(s, { prompt: [1], presentKey: 'new.{i}.key' })).toThrow(/no output 'new.0.key'/);
    expect(() => ortCausalLM(s, { prompt: [1], encoder: { session: s, inputs: [1] } })).toThrow(/the session has no output 'last_hidden_state'/);
    expect(() => ortCausalLM({ run: 1 } as never, { prompt: [1] })).toThrow(/ortCausalLM: session must be an onnxruntime InferenceSession/);
    expect(() => ortCausalLM(s, { prompt: [] })).toThrow(/opts.prompt must hold at least one token/);
    expect(() => ortCausalLM(s, { prompt: [[1, 2], [3]] })).toThrow(/opts.prompt\[1\] has 1 tokens but opts.prompt\[0\] has 2/);
    expect(() => ortCausalLM(s, { prompt: [1.5] })).toThrow(RangeError);
    expect(() => ortCausalLM(s, undefined as never)).toThrow(TypeError);
  });

  it('NaN logits and logits of the wrong shape are RangeErrors naming the step (cache-less sessions too)', async () => {
    const opts = { beams: 2, maxLength: 4, endToken: 12 };
    const nan = ortCausalLM(await session(tableLM(V)), { prompt: [0], gencore: gc });
    await expect(gc.beamSearch(nan, opts)).rejects.toThrow(/ortCausalLM: output 'logits' at step 1 is NaN at row 0, column 0/);
    const oneRow = ortCausalLM(await session(tableLM(V, true)), { prompt: [0], gencore: gc });
    await expect(gc.beamSearch(oneRow, opts)).rejects.toThrow(/ortCausalLM: output 'logits' at step 1 has shape \[1, 2, 13\]; expected 2 rows first/);
  });

  it('a runtime failure mid-search rejects with it as cause; every tensor is disposed, wasm memory at baseline', async () => {
    // Positions 0…3 only: the step feeding position 4 makes the runtime fail in its Gather.
    const rec = recording(await session(lm.bytes));
    const scorer = ortCausalLM(rec.wrapped, { prompt: [1, 2], gencore: gc });
    const base = gc.memory.bytesInUse;
    const err = await gc.beamSearch(scorer, { beams: 3, maxLength: 6, endToken: 0, vocabSize: V }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('ortCausalLM: session.run failed at step 3');
    expect(String((err as Error).cause)).toMatch(/out of (data )?bounds|indices/i);
    expect(rec.tensors.length).toBeGreaterThan(0);
    expect(rec.live()).toBe(0);
    expect(gc.memory.bytesInUse).toBe(base);
    // The scorer starts afresh with the next search.
    const short = { beams: V, maxLength: 2, endToken: 4, vocabSize: V };
    const want = await gc.beamSearch(referenceScorer((_q, p) => lm.logits([1, 2, ...p]), V), short);
    expect(want.length).toBeGreaterThan(0);
    expectSameHypotheses([await gc.beamSearch(scorer, short)], [want]);
  });

  it('abort and timeoutMs settle the search while a session.run is pending; the scorer stays usable', async () => {
    const s = await session(lm.bytes);
    let delayMs = 0;
    const slow: OrtSession = {
      inputNames: s.inputNames,
      outputNames: s.outputNames,
      inputMetadata: s.inputMetadata,
      run: (async (f: never) => {
        await new Promise((r) => setTimeout(r, delayMs));
        return s.run(f);
      }) as OrtSession['run'],
    };
    const scorer = ortCausalLM(slow, { prompt: [1], gencore: gc });
    const opts = { beams: 2, maxLength: 3, endToken: 0, vocabSize: V };
    const want = await gc.beamSearch(referenceScorer((_q, p) => lm.logits([1, ...p]), V), opts);
    const base = gc.memory.bytesInUse;
    delayMs = 1500;
    const t0 = Date.now();
    await expect(gc.beamSearch(scorer, { ...opts, timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(gc.beamSearch(scorer, { ...opts, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(gc.memory.bytesInUse).toBe(base);
    delayMs = 0;
    expectSameHypotheses([await gc.beamSearch(scorer, opts)], [want]);
  }, 30_000);
});

describe('ortDenoiser', () => {
  const schedule = noiseSchedule({ kind: 'linear' });
  const mu = Float32Array.of(1.5, -0.5, 0.25);
  const s = 0.7;
  /** E[ε | x_t] for data N(μ, s²·I), float64. */
  const exactEps = (x: ArrayLike<number>, t: number) => {
    const a = schedule.alphasCumprod[t];
    return Array.from(x, (xi, i) => (Math.sqrt(1 - a) * (xi - Math.sqrt(a) * mu[i % 3])) / (a * s * s + 1 - a));
  };

  it('sample() with the ONNX ε-model equals sample() with the closed-form ε in float64', async () => {
    const rec = recording(await session(gaussianEpsModel(mu, s, schedule.alphasCumprod)));
    const den = ortDenoiser(rec.wrapped, { input: 'x', timestep: 't', output: 'eps' });
    expect(den.prediction).toBe('epsilon');
    const x = Float32Array.of(0.3, -1, 2, 0.1, 0.2, -0.3);
    const eps = await den(x, 500, [2, 3]);
    exactEps(x, 500).forEach((e, i) => expect(eps[i]).toBeCloseTo(e, 5));
    const opts = { schedule, steps: 20, sampler: 'ddim' as const, shape: [4, 3] as [number, number], seed: 9 };
    const got = await gc.sample({ ...opts, denoiser: den, prediction: den.prediction });
    const want = await gc.sample({ ...opts, denoiser: (xt: Float32Array, t: number) => Float32Array.from(exactEps(xt, t)) });
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    expect(rec.live()).toBe(0);
  });

  it('refuses a session without the named input or output, and reports a wrong output at its timestep', async () => {
    const sess = await session(gaussianEpsModel(mu, s, schedule.alphasCumprod));
    expect(() => ortDenoiser(sess)).toThrow(/ortDenoiser: the session has no input 'sample', 'timestep'; its inputs are 'x', 't'/);
    expect(() => ortDenoiser(sess, { input: 'x', timestep: 't', output: 'noise' })).toThrow(/no output 'noise'; its outputs are 'eps'/);
    expect(() => ortDenoiser(sess, { input: 'x', timestep: 't', prediction: 'eps' as never })).toThrow(/opts.prediction/);
    const den = ortDenoiser(sess, { input: 'x', timestep: 't' });
    // The model's rows are 3 wide: a 2-wide shape does not fit.
    await expect(den(new Float32Array(4), 10, [2, 2])).rejects.toThrow(/ortDenoiser: session.run failed at timestep 10/);
  });
});
