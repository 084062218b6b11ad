/**
 * Downstream consumers: the package as users get it. `npm pack` the built package, install the tarball
XX and into a tiny Vite app with no configuration,
 * build the Vite app (no warnings about node: modules may appear), and run both — the Vite app in Chromium,
 * with and without cross-origin isolation. Everything happens in a temporary directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launch } from '../browser/harness.js';
import { REPO_ROOT, startServer } from '../browser/server.js';

const run = promisify(execFile);

/**
 * The user's npm, not node_modules/.bin/npm (an npm 6 that @as-pect/cli's dependency tree installs and that
 * `npx` / `npm run` put first on PATH): the npm running this script when there is one, else the first
 * `npm` on PATH outside any node_modules.
 */
function findNpm(): { file: string; prefix: string[] } {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli) && !cli.startsWith(path.join(REPO_ROOT, 'node_modules'))) return { file: process.execPath, prefix: [cli] };
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const file = path.join(dir, process.platform === 'win32' ? 'npm.cmd' : 'npm');
    if (existsSync(file)) return { file, prefix: [] };
  }
  throw new Error('consumer tests: no npm found on PATH');
}

/** The environment minus npm's per-invocation variables (npm_command, npm_lifecycle_* …), keeping the user's cache and config. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry']);
  const env: NodeJS.ProcessEnv = { npm_config_update_notifier: 'false' };
  for (const [key, value] of Object.entries(process.env)) if (!key.toLowerCase().startsWith('npm_') || keep.has(key.toLowerCase())) env[key] = value;
  return env;
}

const distMissing = ['dist/index.browser.js', 'dist/index.node.js', 'dist/types/index.d.ts'].filter((f) => !existsSync(path.join(REPO_ROOT, f)));
const skip = distMissing.length ? `dist/ is not built (missing ${distMissing.join(', ')}; run npm run build)` : undefined;
if (skip) console.log(`[consumer tests skipped] ${skip}`);
const browserSkip = skip ? undefined : browserSkipReason();
if (browserSkip) console.log(`[consumer tests] the Vite app will be built but not run: ${browserSkip}`);

// The consumers' check: C = A·B for deterministic inputs against a float64 reference computed in the
// consumer itself (plain JS, independent of gencore). Shared verbatim by the Node script and the Vite app.
const CHECK = `
function lcg(len, seed) {
  const out = new Float32Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; out[i] = x / 2 ** 31 - 1; }
  return out;
}
function reference(a, b, m, k, n) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j]; c[i * n + j] = s; }
  return c;
}
function relError(got, want) {
  let e = 0, s = 0;
  for (let i = 0; i < want.length; i++) { e = Math.max(e, Math.abs(got[i] - want[i])); s = Math.max(s, Math.abs(want[i])); }
  return e / (s || 1);
}
export async function check({ init, createPool }) {
  const [m, k, n] = [67, 129, 91];
  const a = lcg(m * k, 1), b = lcg(k * n, 2);
  const want = reference(a, b, m, k, n);
  const gc = await init();
  const pool = await createPool({ workers: 2 });
  try {
    const sync = gc.matmul(a, b, m, k, n);
    const pooled = await pool.matmul(a, b, m, k, n);
    // A split-sized product (row blocks over both workers).
    const big = 160, A = lcg(big * big, 3), B = lcg(big * big, 4);
    const split = await pool.matmul(A, B, big, big, big);
    return {
      build: gc.features.build,
      shared: pool.features.sharedMemory,
      syncError: relError(sync, want),
      poolError: relError(pooled, want),
      splitError: relError(split, reference(A, B, big, big, big)),
      length: pooled.length,
    };
  } finally {
    pool.terminate();
  }
}
`;

/** Code blocks of the README: ```js blocks run in Node, ```js browser blocks in the Vite app. */
function guideSnippets(kind: 'js' | 'js browser'): string[] {
  const guide = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  return [...guide.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1].trim() === kind).map((m) => m[2]);
}

interface CheckResult {
  build: string;
  shared: boolean;
  syncError: number;
  poolError: number;
  splitError: number;
  length: number;
}

function expectCorrect(r: CheckResult): void {
  expect(r.length).toBe(67 * 91);
  expect(r.syncError).toBeLessThan(1e-5);
  expect(r.poolError).toBeLessThan(1e-5);
  expect(r.splitError).toBeLessThan(1e-5);
}

async function npm(args: string[], cwd: string): Promise<string> {
  try {
    const npmBin = findNpm();
    const { stdout, stderr } = await run(npmBin.file, [...npmBin.prefix, ...args], { cwd, env: npmEnv() });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const hint = /ENOTCACHED/.test(`${e.stderr}`) ? ' (offline install: run `npm ci` in the repository first so npm’s cache holds the dependencies)' : '';
    throw new Error(`npm ${args.join(' ')} failed${hint}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

describe.skipIf(skip)('downstream consumers of the packed package', () => {
  let dir: string;
  let tarball: string;
  let comlinkTarball: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gencore-consumers-'));
    // --ignore-scripts: pack the dist/ that was just built instead of rebuilding it (the `prepare` script).
    const out = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], REPO_ROOT);
    const [info] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(dir, info.filename);
    // gencore's one dependency, packed from the version the lockfile installed: an offline install then needs
    // no registry metadata, which `npm ci` (resolving from the lockfile) does not leave in npm's cache.
    const dep = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir, path.join(REPO_ROOT, 'node_modules', 'comlink')], REPO_ROOT);
    comlinkTarball = path.join(dir, (JSON.parse(dep.slice(dep.indexOf('['))) as Array<{ filename: string }>)[0].filename);
    writeFileSync(path.join(dir, 'files.json'), JSON.stringify(info.files.map((f) => f.path)));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function installInto(name: string, files: Record<string, string>): Promise<string> {
    const app = path.join(dir, name);
    mkdirSync(app, { recursive: true });
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
      writeFileSync(path.join(app, file), text);
    }
    await npm(['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, comlinkTarball], app);
    return app;
  }

  it('packs the built bundles, wasm builds and types, and no sources', async () => {
    const files = JSON.parse(readFileSync(path.join(dir, 'files.json'), 'utf8')) as string[];
    for (const f of [
      'package.json',
      'dist/index.browser.js',
      'dist/index.node.js',
      'dist/worker.browser.js',
      'dist/worker.node.js',
      'dist/gencore.simd.wasm',
      'dist/gencore.relaxed.wasm',
      'dist/gencore.simd.shared.wasm',
      'dist/gencore.relaxed.shared.wasm',
      'dist/types/index.d.ts',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(assembly|bindings|tests|bench|examples|scripts|build)\//.test(f))).toEqual([]);
  });

  it('packs no stale build chunks (every packed .js is reachable from an entry point)', () => {
    const files = new Set((JSON.parse(readFileSync(path.join(dir, 'files.json'), 'utf8')) as string[]).filter((f) => /^dist\/[^/]+\.js$/.test(f)));
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file) || !files.has(file)) return;
      reached.add(file);
      const code = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"]\.\/([^'"]+\.js)['"]|new URL\(\s*['"]\.\/([^'"]+\.js)['"]/g)) visit(`dist/${m[1] ?? m[2]}`);
    };
    const entries = ['index', 'worker', 'onnxruntime', 'tfjs', 'transformers'].flatMap((name) => [`dist/${name}.node.js`, `dist/${name}.browser.js`]);
    for (const entry of entries) visit(entry);
    expect([...files].filter((f) => !reached.has(f))).toEqual([]);
  });

  it('works from a plain Node ESM script (import from "gencore")', async () => {
    const app = await installInto('node-consumer', {
      'check.mjs': CHECK,
      'index.mjs': `import * as gencore from 'gencore';\nimport { check } from './check.mjs';\nconsole.log(JSON.stringify(await check(gencore)));\n`,
    });
    const { stdout } = await run(process.execPath, ['index.mjs'], { cwd: app });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as CheckResult;
    expect(r.shared).toBe(true); // Node always shares the pool's memory
    expectCorrect(r);
  }, 60_000);

  it('runs every Node snippet of the README', async () => {
    const snippets = guideSnippets('js');
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    const app = await installInto('guide-snippets', Object.fromEntries(snippets.map((code, i) => [`snippet-${i + 1}.mjs`, code])));
    for (let i = 1; i <= snippets.length; i++) {
      const ran = await run(process.execPath, [`snippet-${i}.mjs`], { cwd: app }).catch((e: { stdout: string; stderr: string }) => {
        throw new Error(`guide snippet ${i} failed:\n${snippets[i - 1]}\n--- output ---\n${e.stdout}\n${e.stderr}`);
      });
      expect(ran.stdout.length, `snippet ${i} prints its results`).toBeGreaterThan(0);
    }
  }, 90_000);

  /** Type-check `code` as a strict TypeScript consumer of the packed package; returns tsc's output. */
  async function typecheck(name: string, code: string): Promise<string> {
    const app = await installInto(name, {
      'index.ts': code,
      'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['ES2022', 'DOM'] }, files: ['index.ts'] }),
    });
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    return result.stdout;
  }

  it('type-checks a TypeScript consumer against the packed declarations', async () => {
    const out = await typecheck(
      'ts-consumer',
      [
        "import { init, createPool, noiseSchedule, type Gencore, type Pool, type Hypothesis } from 'gencore';",
        'const gc: Gencore = await init();',
        'const c: Float32Array = gc.matmul(new Float32Array(4), new Float32Array(4), 2, 2, 2);',
        'const c64: Float64Array = gc.matmul(new Float64Array(4), new Float64Array(4), 2, 2, 2);',
        'const h: number = gc.entropy(c, 2, 2, { fromLogits: true })[0];',
        'const trie = gc.buildTrie([[1, 2], [1, 3]], { endToken: 0 });',
        'const hyps: Hypothesis[] = await gc.beamSearch(() => new Float32Array(4), { constraint: trie, beams: 2, maxLength: 3, endToken: 0 });',
        "const x: Float32Array = await gc.sample({ sampler: 'ddim', schedule: noiseSchedule({ kind: 'linear' }), steps: 10, shape: [4, 2], seed: 1, denoiser: (v) => v });",
        'const pool: Pool = await createPool({ workers: 1 });',
        'const d = await pool.matmul(c, c, 2, 2, 2);',
        'console.log(c64.length, h, hyps.length, x.length, d.length, pool.features.sharedMemory);',
        'pool.terminate();',
      ].join('\n'),
    );
    expect(out).toBe('');
  }, 60_000);

  it('keeps the input array type through the pool (await pool.matmul(f32…) is a Float32Array)', async () => {
    const out = await typecheck(
      'ts-pool-generics',
      [
        "import { createPool } from 'gencore';",
        'const pool = await createPool({ workers: 1 });',
        'const f32: Float32Array = await pool.matmul(new Float32Array(4), new Float32Array(4), 2, 2, 2);',
        'const f64: Float64Array = await pool.matmul(new Float64Array(4), new Float64Array(4), 2, 2, 2);',
        'console.log(f32.length + f64.length);',
        'pool.terminate();',
      ].join('\n'),
    );
    expect(out).toBe('');
  }, 60_000);

  it('bundles into a zero-config Vite app without node: warnings, and runs in Chromium', async () => {
    expect(guideSnippets('js browser')).toHaveLength(1);
    const app = await installInto('vite-consumer', {
      'check.js': CHECK,
      'index.html':
        '<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>gencore + vite</title></head>\n' +
        '<body><pre id="out">running…</pre><script type="module" src="./main.js"></script></body></html>\n',
      // The module guide's browser snippet, bundled and run after the check.
      'snippet.js': guideSnippets('js browser')[0] ?? '',
      'main.js': [
        "import * as gencore from 'gencore';",
        "import { check } from './check.js';",
        "const out = document.getElementById('out');",
        "check(gencore).then(async (r) => { await import('./snippet.js'); return r; }).then(",
        "  (r) => { out.textContent = JSON.stringify(r); document.body.dataset.done = 'ok'; },",
        "  (e) => { out.textContent = String(e && e.stack || e); document.body.dataset.done = 'error'; },",
        ');',
      ].join('\n'),
    });
    // Vite 7 from the repository's node_modules (vitest's own dependency), run in the consumer's directory.
    const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const built = await run(process.execPath, [vite, 'build', '--logLevel', 'info'], { cwd: app, env: { ...process.env, NO_COLOR: '1' } }).catch(
      (e: { stdout: string; stderr: string }) => {
        throw new Error(`vite build failed:\n${e.stdout}\n${e.stderr}`);
      },
    );
    const log = built.stdout + built.stderr;
    expect(log).not.toMatch(/node:|externalized for browser compatibility|has been externalized/i);
    const assets = readdirSync(path.join(app, 'dist', 'assets'));
    expect(assets.filter((f) => f.endsWith('.wasm')).length, assets.join(', ')).toBeGreaterThanOrEqual(2);
    expect(assets.some((f) => f.startsWith('worker.browser') && f.endsWith('.js')), assets.join(', ')).toBe(true);

    if (browserSkip) return;
    const session = await launch();
    try {
      for (const isolate of [true, false]) {
        const server = await startServer({ root: path.join(app, 'dist'), isolate });
        try {
          const page = await session.context.newPage();
          await page.goto(server.url);
          await page.waitForFunction(() => document.body.dataset.done !== undefined, null, { timeout: 30_000 });
          const text = (await page.locator('#out').textContent()) ?? '';
          expect(await page.evaluate(() => document.body.dataset.done), text).toBe('ok');
          const r = JSON.parse(text) as CheckResult;
          expect(r.shared).toBe(isolate);
          expect(r.build).toBe('relaxed');
          expectCorrect(r);
          await page.close();
        } finally {
          await server.close();
        }
      }
      expect(session.errors).toEqual([]);
    } finally {
      await session.close();
    }
  }, 120_000);
});
