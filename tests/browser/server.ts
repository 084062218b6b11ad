/**
 * A tiny static file server for the browser tests and `npm run playground` (node:http, no dependency).
 *
 * - Serves files under `root` (the repository: /dist/, /examples/web/, /node_modules/ …) on 127.0.0.1 at an
 *   ephemeral port unless one is given.
 * - Sends `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` so the
 *   page is cross-origin isolated (SharedArrayBuffer, shared wasm memory); `isolate: false` omits them.
 * - Rewrites bare import specifiers in JavaScript modules (`from 'comlink'`) to /node_modules/ paths, as a
 *   dev server would: browsers resolve only URLs, and module workers ignore import maps.
 * - Serves `x.js` that does not exist but `x.ts` does as that TypeScript module compiled to JavaScript (types
 *   stripped, one file at a time), as a dev server would: the playground imports the examples' shared code.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { access, readFile, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServeOptions {
  /** Directory served at `/`. Default: the repository root. */
  root?: string;
  /** Send COOP/COEP (cross-origin isolation). Default true. */
  isolate?: boolean;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Host to bind. Default 127.0.0.1 (never reachable from other machines). */
  host?: string;
}

export interface StaticServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/` (ends with a slash). */
  url: string;
  /** Whether COOP/COEP are sent. */
  isolated: boolean;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

const BARE_IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"./][^'"]*)\2/g;

/** `/node_modules/...` URL path of a bare specifier (`pkg`, `@scope/pkg`, `pkg/sub/path.js`), or undefined. */
function resolveBare(root: string, specifier: string): string | undefined {
  if (specifier.startsWith('node:') || /^[a-z]+:/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const sub = parts.slice(specifier.startsWith('@') ? 2 : 1).join('/');
  const pkgDir = path.join(root, 'node_modules', name);
  if (sub) return `/node_modules/${name}/${sub}`;
  const pkgFile = path.join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) return undefined;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
    exports?: unknown;
    module?: string;
    browser?: unknown;
    main?: string;
  };
  const pick = (e: unknown): string | undefined => {
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object') {
      const o = e as Record<string, unknown>;
      for (const key of ['browser', 'import', 'module', 'default']) {
        const hit = pick(o[key]);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  const exp = pkg.exports && typeof pkg.exports === 'object' && '.' in pkg.exports ? (pkg.exports as Record<string, unknown>)['.'] : pkg.exports;
  const entry = pick(exp) ?? pkg.module ?? pkg.main ?? 'index.js';
  return `/node_modules/${name}/${entry.replace(/^\.\//, '')}`;
}

function rewriteBareImports(root: string, code: string): string {
  return code.replace(BARE_IMPORT, (whole, lead: string, quote: string, spec: string) => {
    const url = resolveBare(root, spec);
    return url ? `${lead}${quote}${url}${quote}` : whole;
  });
}

/** The TypeScript module `file` (x.ts) as an ES module, types stripped (imports used only as types go too). */
async function compileTypeScript(file: string): Promise<string> {
  const { default: ts } = await import('typescript');
  const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
    fileName: path.basename(file),
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, isolatedModules: true },
  });
  return outputText;
}

/** Whether `file` exists. */
const exists = (file: string) => access(file).then(() => true, () => false);

/** Start serving; close() when done. */
export async function startServer(opts: ServeOptions = {}): Promise<StaticServer> {
  const root = path.resolve(opts.root ?? REPO_ROOT);
  const isolate = opts.isolate ?? true;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (isolate) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request');
    }
    let file = path.join(root, pathname);
    // Never serve outside the root, nor dotfiles (.git, .env …).
    if ((file !== root && !file.startsWith(root + path.sep)) || pathname.split('/').some((seg) => seg.startsWith('.') && seg.length > 0)) {
      return send(403, 'forbidden');
    }
    try {
      const typescript = file.replace(/\.js$/, '.ts');
      if (typescript !== file && !(await exists(file)) && (await exists(typescript))) {
        return send(200, rewriteBareImports(root, await compileTypeScript(typescript)), MIME['.js']);
      }
      const info = await stat(file);
      if (info.isDirectory()) {
        if (!pathname.endsWith('/')) {
          res.writeHead(301, { ...headers, Location: `${pathname}/` });
          return void res.end();
        }
        file = path.join(file, 'index.html');
      }
      const ext = path.extname(file);
      const bytes = await readFile(file);
      const body = ext === '.js' || ext === '.mjs' ? rewriteBareImports(root, bytes.toString('utf8')) : bytes;
      send(200, body, MIME[ext] ?? 'application/octet-stream');
    } catch {
      send(404, `not found: ${pathname}`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    isolated: isolate,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
