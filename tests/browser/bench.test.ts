/**
 * The browser bench (`npm run bench -- --browser`) in quick mode, as CI runs it: every shared suite runs in
 * headless Chromium and produces its tables, with a finite number in every numeric cell, printed in the
 * terminal and written as JSON. Speed is not asserted here; the bench itself reports it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInBrowser, type BrowserBenchRun } from '../../bench/browser/run.js';
import { skipBrowserTests } from './harness.js';

const skip = skipBrowserTests(import.meta.filename);

/** Columns each table must have, by title prefix. */
const EXPECTED: Record<string, { titles: RegExp[]; columns: string[][] }> = {
  gemm: {
    titles: [/^f32 GEMM n×n×n, GFLOP\/s/, /^f32 GEMM ratios/, /^f32 GEMM by build, .* peak probe/, /^Where a pool\(1\) f32 GEMM call goes/],
    columns: [
      ['n', 'sync new', 'sync out', 'pool(1) new', 'pool(1) out', 'pool(2) new', 'pool(2) out', 'load avg 1 min', 'tfjs-wasm', 'onnxruntime-web'],
      ['n', 'pool1/sync new', 'pool1/sync out', 'pool2/sync new', 'pool2/sync out', 'load avg 1 min', 'new/out (sync)', 'gencore/tfjs', 'gencore/onnxruntime'],
      ['n', 'plain build', 'relaxed build', 'relaxed/plain', 'plain/its peak', 'relaxed/its peak'],
      ['n', 'component', 'ms', 'share of pool(1) out'],
    ],
  },
  entropy: {
    titles: [/^entropyNormalize \d+ × \d+ f32 logits/, /^entropyNormalize ratios/],
    columns: [
      ['impl', 'ms median', 'speed vs sync out'],
      ['pool1/sync new', 'pool1/sync out', 'pool2/sync new', 'pool2/sync out', 'load avg 1 min', 'new/out (sync)', 'gencore/JS (sync new)'],
    ],
  },
  attention: {
    titles: [/^exact attention, one head/, /^exact attention ratios/],
    columns: [
      ['impl', 'ms median', 'GFLOP/s', 'speed vs sync out'],
      ['pool1/sync new', 'pool1/sync out', 'pool2/sync new', 'pool2/sync out', 'load avg 1 min', 'new/out (sync)', 'gencore/tfjs (sync out)'],
    ],
  },
  cities: {
    titles: [/^As-you-type city search, ms per keystroke: \d+ misspelt names typed character by character/],
    columns: [['impl', 'median ms', 'p95 ms', 'max ms', '≤ 16 ms %', 'top-1 % (whole name)', 'load avg 1 min']],
  },
};

describe.skipIf(skip)('browser bench, quick mode (GENCORE_BENCH_QUICK=1)', () => {
  let resultsDir: string;
  let runs: BrowserBenchRun[];
  let printed = '';

  beforeAll(async () => {
    resultsDir = mkdtempSync(path.join(tmpdir(), 'gencore-bench-'));
    vi.stubEnv('GENCORE_BENCH_RESULTS', resultsDir);
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void (printed += args.join(' ') + '\n'));
    try {
      runs = await runInBrowser(Object.keys(EXPECTED), true);
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
    }
  }, 300_000);

  afterAll(() => {
    if (resultsDir) rmSync(resultsDir, { recursive: true, force: true });
  });

  it('runs every shared suite', () => {
    expect(runs.map((r) => r.name)).toEqual(Object.keys(EXPECTED));
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: every table, with its columns and a finite number in every numeric cell, printed`, () => {
      const { tables } = runs.find((r) => r.name === name)!.result;
      expect(tables).toHaveLength(expected.titles.length);
      tables.forEach((table, i) => {
        expect(table.title).toMatch(expected.titles[i]);
        expect(printed).toContain(table.title);
        expect(table.rows.length).toBeGreaterThan(0);
        for (const row of table.rows) {
          expect(Object.keys(row)).toEqual(expected.columns[i]);
          for (const [column, cell] of Object.entries(row)) {
            if (typeof cell === 'number') expect(Number.isFinite(cell), `${table.title} / ${column}: ${cell}`).toBe(true);
            else expect(cell.length, `${table.title} / ${column}: a label`).toBeGreaterThan(0);
          }
          expect(Object.values(row).some((cell) => typeof cell === 'number')).toBe(true);
        }
      });
    });

    it(`${name}: writes browser-${name}.json from Chromium`, () => {
      const file = path.join(resultsDir, `browser-${name}.json`);
      expect(runs.find((r) => r.name === name)!.file).toBe(file);
      const record = JSON.parse(readFileSync(file, 'utf8'));
      expect(record.name).toBe(`browser-${name}`);
      expect(record.browser).toMatch(/^Chromium \d+/);
      expect(record.data.quick).toBe(true);
    });
  }

  it('cities: gencore (this thread and a pool) and the baseline time the same keystrokes in one run', () => {
    const { result } = runs.find((r) => r.name === 'cities')!;
    expect(result.tables[0].rows.map((row) => row.impl)).toEqual(['gencore, this thread (the panel)', 'gencore, pool of 1 worker', 'baseline: edit distance ≤ 2 + population']);
    const record = result.record as { keystrokes: number; ms: Record<'sync' | 'pool' | 'baseline', number[]> };
    expect(record.keystrokes).toBeGreaterThan(0);
    for (const way of ['sync', 'pool', 'baseline'] as const) expect(record.ms[way], way).toHaveLength(record.keystrokes);
  });
});
