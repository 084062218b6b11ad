/**
 * The built package (dist/) in a Node process of its own: a pool started from `node --input-type=module
 * -e …`, a worker that cannot start, and a process that ends once terminate() has settled its calls.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const DIST = pathToFileURL(path.resolve(fileURLToPath(import.meta.url), '../../../dist/index.node.js')).href;

/** Run `code` as `node [flags] --input-type=module -e code`; returns exit code, stdout and stderr. */
async function node(code: string, flags: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...flags, '--input-type=module', '-e', code], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the pool in a process of its own (dist/)', () => {
  it('works from `node --input-type=module -e` (workers do not inherit flags about the main input)', async () => {
    const r = await node(`
      import { createPool } from '${DIST}';
      const pool = await createPool({ workers: 2 });
      const c = await pool.matmul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), 2, 2, 2);
      console.log(Array.from(c).join(','));
      pool.terminate();
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('19,22,43,50');
    expect(r.code).toBe(0);
  });

  it('a worker that cannot start says why, without claiming it was replaced', async () => {
    // A preloaded module that throws in worker threads only.
    const preload = `data:text/javascript,import { isMainThread } from "node:worker_threads"; if (!isMainThread) throw new Error("workers are not allowed here");`;
    const r = await node(
      `
      import { createPool } from '${DIST}';
      const pool = await createPool({ workers: 1 });
      for (let i = 0; i < 2; i++) {
        const err = await pool.entropy(new Float32Array([1]), 1, 1).catch((e) => e);
        console.log(err.name + ': ' + err.message);
      }
      pool.terminate();
    `,
      ['--import', preload],
    );
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatch(/^WorkerCrashedError: gencore pool: worker 0 could not start: .*workers are not allowed here/);
      expect(line).not.toMatch(/replaced/);
    }
    expect(r.code).toBe(0);
  });

  it('terminate() settles in-flight split calls at once and the process then ends normally', async () => {
    const r = await node(`
      import { createPool, noiseSchedule } from '${DIST}';
      const pool = await createPool({ workers: 2 });
      await pool.entropy(new Float32Array([1]), 1, 1);
      const n = 1024;
      const slow = (x) => new Promise((r) => setTimeout(() => r(x), 60_000).unref()); // keeps nothing alive
      const calls = [
        pool.matmul(new Float32Array(n * n).fill(1), new Float32Array(n * n).fill(1), n, n, n),
        pool.entropyNormalize(new Float32Array(4096 * 256).fill(1), 4096, 256, 2, { fromLogits: true }),
        pool.sample({ sampler: 'ddim', schedule: noiseSchedule({ kind: 'linear' }), steps: 10, shape: [8192, 2], seed: 1, denoiser: slow }),
      ];
      await new Promise((r) => setTimeout(r, 20));
      pool.terminate();
      const settled = await Promise.allSettled(calls);
      console.log(settled.map((s) => s.reason?.name).join(','));
    `);
    expect(r.stdout.trim()).toBe('WorkerCrashedError,WorkerCrashedError,WorkerCrashedError');
    expect(r.code).toBe(0);
  });
});
