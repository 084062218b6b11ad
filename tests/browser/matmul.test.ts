/**
 * The built package (dist/) in real Chromium: matmul in gencore's module-worker pool, over one shared
 * wasm memory when the page is cross-origin isolated (COOP/COEP) and with transferred buffers when it is
 * not, checked against a float64 reference computed in the page.
 */
import { describe, expect, it } from 'vitest';
import { skipBrowserTests, type Page } from './harness.js';
import { useBrowser } from './use-browser.js';

const skip = skipBrowserTests(import.meta.filename);

interface CheckResult {
  crossOriginIsolated: boolean;
  poolFeatures: { build: string; relaxedSimdAvailable: boolean; sharedMemory: boolean };
  mainFeatures: { build: string; relaxedSimdAvailable: boolean; sharedMemory: boolean };
  poolSize: number;
  results: Array<{ m: number; k: number; n: number; length: number; type: string; poolError: number; mainError: number; inputsIntact: boolean }>;
}

// Small, odd and split-sized (≥ 64³ multiply-adds: row blocks across both workers) cases.
const CASES = [
  { m: 0, k: 5, n: 3 },
  { m: 1, k: 1, n: 1 },
  { m: 7, k: 13, n: 5 },
  { m: 130, k: 257, n: 129 },
  { m: 200, k: 96, n: 150, transA: true, transB: true, alpha: 0.5, beta: -2 },
];

describe.skipIf(skip)('matmul in Chromium module workers (dist/)', () => {
  const browser = useBrowser();

  async function run(base: string): Promise<{ page: Page; result: CheckResult; workerUrls: string[] }> {
    const page = await browser.session.context.newPage();
    const workerUrls: string[] = [];
    page.on('worker', (w) => workerUrls.push(new URL(w.url()).pathname));
    await page.goto(new URL('tests/browser/pages/matmul.html', base).href);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    const result = (await page.evaluate(
      (cases) => (globalThis as unknown as { gencoreMatmulCheck: (c: unknown, w: number) => Promise<unknown> }).gencoreMatmulCheck(cases, 2),
      CASES,
    )) as CheckResult;
    return { page, result, workerUrls };
  }

  function expectCorrect(result: CheckResult): void {
    expect(result.results).toHaveLength(CASES.length);
    for (const r of result.results) {
      expect(r.length, `${r.m}×${r.k}×${r.n}`).toBe(r.m * r.n);
      expect(r.type).toBe('Float32Array');
      expect(r.poolError, `pool ${r.m}×${r.k}×${r.n}`).toBeLessThan(1e-5);
      expect(r.mainError, `main thread ${r.m}×${r.k}×${r.n}`).toBeLessThan(1e-5);
      expect(r.inputsIntact).toBe(true);
    }
  }

  it('shares one wasm memory with the workers when cross-origin isolated, and multiplies correctly', async () => {
    const { page, result, workerUrls } = await run(browser.servers.isolated.url);
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.poolFeatures.sharedMemory).toBe(true);
    expect(result.poolSize).toBe(2);
    // Chromium runs relaxed SIMD, so auto picks the relaxed build.
    expect(result.poolFeatures.relaxedSimdAvailable).toBe(true);
    expect(result.poolFeatures.build).toBe('relaxed');
    expectCorrect(result);
    // The pool's workers are module workers loading the packaged worker entry.
    expect(workerUrls).toEqual(['/dist/worker.browser.js', '/dist/worker.browser.js']);
    expect(browser.session.errors).toEqual([]);
    await page.close();
  });

  for (const isolated of [true, false]) {
    it(`terminate() rejects an in-flight split matmul with WorkerCrashedError at once (cross-origin isolated: ${isolated})`, async () => {
      const page = await browser.session.context.newPage();
      await page.goto(new URL('tests/browser/pages/matmul.html', (isolated ? browser.servers.isolated : browser.servers.plain).url).href);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      const { outcome, ms } = (await page.evaluate(() =>
        (globalThis as unknown as { gencoreTerminateCheck: (w: number) => Promise<unknown> }).gencoreTerminateCheck(2),
      )) as { outcome: string; ms: number };
      expect(outcome).toBe('WorkerCrashedError');
      expect(ms).toBeLessThan(500);
      expect(browser.session.errors).toEqual([]);
      await page.close();
    });
  }

  it('falls back to transferred buffers without cross-origin isolation, with the same results', async () => {
    const { page, result } = await run(browser.servers.plain.url);
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.poolFeatures.sharedMemory).toBe(false);
    expectCorrect(result);
    expect(browser.session.errors).toEqual([]);
    await page.close();
  });
});
