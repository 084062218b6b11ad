/**
 * gencore/onnxruntime in real Chromium (dist/): an ONNX causal LM written by the test runs in
 * onnxruntime-web inside a module worker next to gencore, and under gencore's worker pool with the scorer
 * on the page; both searches equal a search computed in Node from the float64 model without a cache.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { init, type BeamBatch, type Hypothesis } from '../../bindings/index.js';
import { causalLM } from '../adapters/models.js';
import { skipBrowserTests } from './harness.js';
import { useBrowser } from './use-browser.js';
import { REPO_ROOT } from './server.js';

const skip = skipBrowserTests(import.meta.filename) ?? (existsSync(path.join(REPO_ROOT, 'dist/onnxruntime.browser.js')) ? undefined : 'dist/onnxruntime.browser.js is not built');

type Plain = Array<Array<{ tokens: number[]; logProb: number }>>;

describe.skipIf(skip)('ortCausalLM in Chromium', () => {
  const browser = useBrowser();

  it('in a module worker with gencore, and under the pool, equals the float64 model without a cache', async () => {
    const V = 11;
    const lm = causalLM({ vocab: V, dim: 16, heads: 2, layers: 2, maxPositions: 16, seed: 17 });
    const prompt = [[1, 4], [6, 2]];
    const opts = { beams: 3, maxLength: 5, endToken: 0, queries: 2, vocabSize: V };
    const gc = await init();
    const reference = (b: BeamBatch) => {
      const out = new Float64Array(b.rows * V);
      for (let r = 0; r < b.rows; r++) out.set(lm.logits([...prompt[b.query[r]], ...b.prefixes.subarray(r * b.step, (r + 1) * b.step)]), r * V);
      return out;
    };
    const want = (await gc.beamSearch(reference, opts)) as Hypothesis[][];

    const page = await browser.session.context.newPage();
    await page.goto(new URL('tests/browser/pages/adapters.html', browser.servers.plain.url).href);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const result = (await page.evaluate(
      ([bytes, p, o]) => (globalThis as unknown as { gencoreAdapterCheck: (...a: unknown[]) => Promise<unknown> }).gencoreAdapterCheck(bytes, p, o),
      [Array.from(lm.bytes), prompt, opts] as const,
    )) as { inWorker: { hyps?: Plain; memoryAtBaseline?: boolean; error?: string }; pooled: Plain };

    expect(result.inWorker.error).toBeUndefined();
    expect(result.inWorker.memoryAtBaseline).toBe(true);
    for (const got of [result.inWorker.hyps!, result.pooled]) {
      got.forEach((hyps, q) => {
        expect(hyps.map((h) => h.tokens)).toEqual(want[q].map((h) => Array.from(h.tokens)));
        hyps.forEach((h, i) => expect(h.logProb).toBeCloseTo(want[q][i].logProb, 4));
      });
    }
    expect(browser.session.errors).toEqual([]);
    await page.close();
  }, 180_000);
});
