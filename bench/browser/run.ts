/**
 * `npm run bench -- --browser [name ...]`: the shared suites (bench/shared/) in headless Chromium — Debian's
 * browser driven by playwright-core, never a downloaded one — on a cross-origin-isolated page served from
 * this repository. The tables print here and go to bench/results/browser-<name>.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { browserSkipReason, launch } from '../../tests/browser/harness.js';
import { REPO_ROOT, startServer } from '../../tests/browser/server.js';
import { printTable, writeResults } from '../lib.js';
import { compileProbe } from '../node-env.js';
import type { SuiteResult } from '../shared/env.js';
import { SHARED_SUITES } from '../shared/suites.js';

/** Bench names that run in the browser. */
export const BROWSER_BENCHES = Object.keys(SHARED_SUITES);

/** Where the page's modules are compiled, at their paths in the repository (served as /build/bench/…, /build/examples/…). */
const BUILD_DIR = path.join(REPO_ROOT, 'build');
const OUT_DIR = path.join(BUILD_DIR, 'bench');
/** The examples' modules the suites import (the city search). */
const EXAMPLE_MODULES = ['examples/lib/city-search.ts', 'examples/lib/misspell.ts'];

/** The probes the suites ask for (`env.probe`), compiled where the page fetches them. */
async function compileProbes(): Promise<void> {
  mkdirSync(path.join(OUT_DIR, 'probes'), { recursive: true });
  await Promise.all(
    [false, true].map(async (relaxed) => {
      writeFileSync(path.join(OUT_DIR, 'probes', `peak.${relaxed ? 'relaxed' : 'simd'}.wasm`), await compileProbe('peak', relaxed));
    }),
  );
}

/**
 * Compile the page, the shared suites and the examples' modules they use to ES modules, one file at a time
 * (their imports are relative or type-only, so no bundling is needed; `npm run typecheck` checks them as
 * part of the project).
 */
function compilePage(): void {
  const sources = [
    ...readdirSync(path.join(REPO_ROOT, 'bench', 'shared')).map((f) => path.join('bench', 'shared', f)),
    path.join('bench', 'browser', 'page.ts'),
    ...EXAMPLE_MODULES,
  ].filter((f) => f.endsWith('.ts'));
  for (const rel of sources) {
    const source = readFileSync(path.join(REPO_ROOT, rel), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, isolatedModules: true },
    });
    const out = path.join(BUILD_DIR, rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
}

export interface BrowserBenchRun {
  name: string;
  result: SuiteResult;
  /** The JSON file written. */
  file: string;
}

/**
 * Run the named suites in one page, one after another; print each table and write its results. Throws
 * when Chromium or dist/ is missing, the page reports an error, or anything is fetched from outside the
 * local server.
 */
export async function runInBrowser(names: string[], quick: boolean): Promise<BrowserBenchRun[]> {
  const reason = browserSkipReason();
  if (reason) throw new Error(`bench --browser: ${reason}`);
  compilePage();
  await compileProbes();
  const server = await startServer({ isolate: true });
  const session = await launch();
  const foreign: string[] = [];
  session.context.on('request', (req) => {
    if (!req.url().startsWith(server.url) && !/^(data|blob):/.test(req.url())) foreign.push(req.url());
  });
  const runs: BrowserBenchRun[] = [];
  try {
    const page = await session.newPage();
    page.on('console', (msg) => {
      if (msg.text().startsWith('[bench] ')) console.log(`  … ${msg.text().slice(8)}`);
    });
    await page.exposeFunction('gencoreBenchLoadavg', () => loadavg());
    await page.goto(new URL('bench/browser/index.html', server.url).href);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    for (const name of names) {
      console.log(`\n=== bench ${name} (browser) ===`);
      const result = await page.evaluate(([n, q]) => window.gencoreBench(n, q), [name, quick] as const);
      for (const t of result.tables) printTable(t.title, t.rows);
      const file = writeResults(`browser-${name}`, result.record, { browser: String(result.record.runtime) });
      console.log(`\nwrote ${file}`);
      runs.push({ name, result, file });
    }
    if (session.errors.length) throw new Error(`bench --browser: the page reported errors:\n${session.errors.join('\n')}`);
    if (foreign.length) throw new Error(`bench --browser: requests outside the local server: ${foreign.join(', ')}`);
    return runs;
  } finally {
    await session.close();
    await server.close();
  }
}
