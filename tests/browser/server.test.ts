/**
 * The static server behind the browser tests and `npm run playground` (runs without a browser): isolation
 * headers on and off, MIME types the browser insists on (application/wasm for streaming compilation,
 * JavaScript for module scripts and workers), bare-import rewriting, and no escape from the root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from './server.js';

let root: string;
let isolated: StaticServer;
let plain: StaticServer;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'gencore-server-'));
  mkdirSync(path.join(root, 'node_modules', 'dep', 'dist'), { recursive: true });
  mkdirSync(path.join(root, 'node_modules', '@scope', 'pkg'), { recursive: true });
  mkdirSync(path.join(root, 'app'), { recursive: true });
  mkdirSync(path.join(root, '.secret'), { recursive: true });
  writeFileSync(path.join(root, 'node_modules', 'dep', 'package.json'), JSON.stringify({ name: 'dep', main: 'dist/dep.cjs', module: 'dist/dep.mjs' }));
  writeFileSync(path.join(root, 'node_modules', 'dep', 'dist', 'dep.mjs'), 'export const dep = 1;\n');
  writeFileSync(
    path.join(root, 'node_modules', '@scope', 'pkg', 'package.json'),
    JSON.stringify({ name: '@scope/pkg', exports: { '.': { import: './esm/index.js', require: './cjs/index.js' } } }),
  );
  writeFileSync(
    path.join(root, 'app', 'main.js'),
    "import { dep } from 'dep';\nimport * as s from \"@scope/pkg\";\nimport './local.js';\nconst lazy = () => import('dep/dist/dep.mjs');\nimport fs from 'node:fs';\n",
  );
  writeFileSync(path.join(root, 'app', 'shared.ts'), "import type { Dep } from 'dep';\nimport { dep } from 'dep';\nexport const twice = (x: number): Dep => 2 * x * dep;\n");
  writeFileSync(path.join(root, 'app', 'index.html'), '<!doctype html><title>t</title>\n');
  writeFileSync(path.join(root, 'app', 'k.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(path.join(root, '.secret', 'key'), 'no');
  isolated = await startServer({ root });
  plain = await startServer({ root, isolate: false });
});

afterAll(async () => {
  await isolated?.close();
  await plain?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** GET without URL normalisation (so `..` reaches the server as sent). */
function get(base: string, rawPath: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static server', () => {
  it('listens on 127.0.0.1 at an ephemeral port', () => {
    expect(isolated.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(isolated.url).not.toBe(plain.url);
  });

  it('sends COOP/COEP when isolating, and not otherwise', async () => {
    const on = await get(isolated.url, '/app/index.html');
    expect(on.status).toBe(200);
    expect(on.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(on.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const off = await get(plain.url, '/app/index.html');
    expect(off.status).toBe(200);
    expect(off.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(off.headers['cross-origin-embedder-policy']).toBeUndefined();
  });

  it('serves the MIME types browsers require', async () => {
    expect((await get(isolated.url, '/app/k.wasm')).headers['content-type']).toBe('application/wasm');
    expect((await get(isolated.url, '/app/main.js')).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get(isolated.url, '/node_modules/dep/dist/dep.mjs')).headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get(isolated.url, '/app/')).headers['content-type']).toMatch(/^text\/html/);
  });

  it('rewrites bare imports to /node_modules/ and leaves relative and node: imports alone', async () => {
    const { body } = await get(isolated.url, '/app/main.js');
    expect(body).toContain("from '/node_modules/dep/dist/dep.mjs'");
    expect(body).toContain('from "/node_modules/@scope/pkg/esm/index.js"');
    expect(body).toContain("import './local.js'");
    expect(body).toContain("import('/node_modules/dep/dist/dep.mjs')");
    expect(body).toContain("from 'node:fs'");
  });

  it('serves x.js from x.ts when only the TypeScript exists: types stripped, bare imports rewritten', async () => {
    const res = await get(isolated.url, '/app/shared.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toContain("import { dep } from '/node_modules/dep/dist/dep.mjs'");
    expect(res.body).toContain('export const twice = (x) => 2 * x * dep;');
    expect(res.body).not.toContain('Dep');
    // The TypeScript itself is served as it is; a .js that exists wins over a .ts beside it.
    expect((await get(isolated.url, '/app/shared.ts')).body).toContain('x: number');
    expect((await get(isolated.url, '/app/main.js')).body).toContain("import './local.js'");
  });

  it('redirects a directory without a slash and 404s a missing file', async () => {
    const dir = await get(isolated.url, '/app');
    expect(dir.status).toBe(301);
    expect(dir.headers.location).toBe('/app/');
    expect((await get(isolated.url, '/app/missing.js')).status).toBe(404);
  });

  it('never serves outside its root, nor dotfiles', async () => {
    const outside = path.basename(root);
    for (const p of [`/../${outside}/app/index.html`, '/..%2f..%2fetc%2fpasswd', '/app/../../etc/passwd']) {
      const res = await get(isolated.url, p);
      expect([403, 404], p).toContain(res.status);
      expect(res.body).not.toContain('root:');
    }
    expect((await get(isolated.url, '/.secret/key')).status).toBe(403);
  });
});
