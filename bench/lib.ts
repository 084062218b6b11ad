/**
 * Node side of the bench harness: printing tables to the terminal and writing the JSON record. Timing and
 * formatting live in bench/shared/timing.ts, which the browser bench runs too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, type Row } from './shared/timing.js';

export { fmt, measure, measureInterleaved, relFro, type Row, type Timing } from './shared/timing.js';

/** Print rows as an aligned text table under a title. */
export function printTable(title: string, rows: Row[]): void {
  console.log(formatTable(title, rows));
}

/** Where results go: bench/results/, or the directory in GENCORE_BENCH_RESULTS (tests write elsewhere). */
function resultsDir(): string {
  return process.env.GENCORE_BENCH_RESULTS ?? fileURLToPath(new URL('./results/', import.meta.url));
}

/**
 * Write `<results>/<name>.json` with the machine's description, `about` (e.g. the browser's version) and
 * `data`; returns the file's path.
 */
export function writeResults(name: string, data: unknown, about: Record<string, string> = {}): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const record = { name, date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, ...about, data };
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}
