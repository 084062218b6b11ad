/**
 * Shared setup of the browser tests: Debian's Chromium driven by playwright-core (never a downloaded
 * browser), the static server, and the one-line skip reason when Chromium or dist/ is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, startServer, type StaticServer } from './server.js';

/** Debian's package (`apt-get install -y chromium`); GENCORE_CHROMIUM overrides it. */
export const CHROMIUM = process.env.GENCORE_CHROMIUM ?? '/usr/bin/chromium';

const DIST_FILES = ['dist/index.browser.js', 'dist/worker.browser.js', 'dist/gencore.simd.wasm', 'dist/gencore.simd.shared.wasm'];

/** Why the browser tests cannot run here (printed once), or undefined when they can. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  const missing = DIST_FILES.filter((f) => !existsSync(path.join(REPO_ROOT, f)));
  if (missing.length) return `dist/ is not built (missing ${missing.join(', ')}; run npm run build)`;
  return undefined;
}

/** Skip reason, logged once per test file so a skipped run says why in one line. */
export function skipBrowserTests(file: string): string | undefined {
  const reason = browserSkipReason();
  if (reason) console.log(`[browser tests skipped] ${path.basename(file)}: ${reason}`);
  return reason;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  context: BrowserContext;
  /** Pages' console errors and uncaught exceptions, for assertions and failure messages. */
  errors: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Launch Chromium with a fresh profile directory (removed on close). */
export async function launch(): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'gencore-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // Failed loads are reported below with their URL.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) errors.push(`HTTP ${res.status()} ${res.url()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    async newPage() {
      const existing = context.pages().find((p) => p.url() === 'about:blank');
      return existing ?? (await context.newPage());
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Both servers the tests need: cross-origin isolated and not. */
export async function startServers(): Promise<{ isolated: StaticServer; plain: StaticServer; close(): Promise<void> }> {
  const isolated = await startServer({ isolate: true });
  const plain = await startServer({ isolate: false });
  return { isolated, plain, close: async () => void (await Promise.all([isolated.close(), plain.close()])) };
}

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'tests', 'browser', 'screenshots');

/** Path of a screenshot file (directory created on demand). */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}

/** One event-loop task of the page's renderer main thread, from a Chromium trace. */
export interface MainThreadTask {
  /** Start, in microseconds of the trace clock. */
  ts: number;
  /** Wall-clock duration (ms): includes time the OS gave the CPU to other threads. */
  wallMs: number;
  /** CPU time the main thread spent in the task (ms): the work the page put on it. */
  cpuMs: number;
}

/**
 * Record the renderer main thread's tasks (Chromium's `RunTask` trace events, which carry both wall and
 * thread-CPU durations) while `fn` runs.
 */
export async function traceMainThread(session: BrowserSession, page: Page, fn: () => Promise<void>): Promise<MainThreadTask[]> {
  const cdp = await session.context.newCDPSession(page);
  const events: Array<{ ph: string; name: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { name?: string } }> = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as typeof events)));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['toplevel', 'disabled-by-default-devtools.timeline', '__metadata'], recordMode: 'recordContinuously' },
    transferMode: 'ReportEvents',
  });
  try {
    await fn();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  const mains = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return events
    .filter((e) => e.ph === 'X' && e.name === 'RunTask' && mains.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ ts: e.ts, wallMs: (e.dur ?? 0) / 1000, cpuMs: (e.tdur ?? e.dur ?? 0) / 1000 }));
}

export type { Browser, Page };
