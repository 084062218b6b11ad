// Driven by tests/browser/matmul.test.ts: runs matmul in gencore's module-worker pool (shared memory when
// the page is cross-origin isolated, transfers otherwise) and checks it against a float64 JS reference.
import { init, createPool } from '../../../dist/index.browser.js';

/** Deterministic inputs in [-1, 1) (LCG), so a failure reproduces. */
function randomMatrix(len, seed) {
  const out = new Float32Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}

/** C = alpha·op(A)·op(B) + beta·C0 in float64. */
function reference(a, b, m, k, n, { transA = false, transB = false, alpha = 1, beta = 0, c0 } = {}) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
      c[i * n + j] = alpha * s + (beta !== 0 && c0 ? beta * c0[i * n + j] : 0);
    }
  }
  return c;
}

/** Largest |got − want| relative to the largest |want| (1 when want is all zero). */
function relError(got, want) {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / (scale || 1);
}

async function check(cases, workers) {
  const pool = await createPool({ workers });
  const gc = await init();
  try {
    const results = [];
    for (const [index, c] of cases.entries()) {
      const { m, k, n, transA, transB, alpha, beta } = c;
      const a = randomMatrix(m * k, 11 + index);
      const b = randomMatrix(k * n, 29 + index);
      const c0 = beta ? randomMatrix(m * n, 47 + index) : undefined;
      const opts = { transA, transB, alpha, beta };
      const want = reference(a, b, m, k, n, { ...opts, c0 });
      const fromPool = await pool.matmul(a, b, m, k, n, c0 ? { ...opts, out: c0.slice() } : opts);
      const onMainThread = gc.matmul(a, b, m, k, n, c0 ? { ...opts, out: c0.slice() } : opts);
      results.push({
        ...c,
        length: fromPool.length,
        type: fromPool.constructor.name,
        poolError: relError(fromPool, want),
        mainError: relError(onMainThread, want),
        // The inputs must come back untouched (transfers may not steal the caller's arrays).
        inputsIntact: a.length === m * k && b.length === k * n,
      });
    }
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      poolFeatures: { ...pool.features },
      mainFeatures: { ...gc.features },
      poolSize: pool.size,
      results,
    };
  } finally {
    pool.terminate();
  }
}

/**
 * Start a split matmul, terminate the pool 20 ms later: how the call settles (error name, or 'pending'
 * if it has not settled 2 s after terminate) and how long after terminate.
 */
async function terminateCheck(workers) {
  const pool = await createPool({ workers });
  await pool.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1); // workers are up
  const n = 768;
  const call = pool.matmul(randomMatrix(n * n, 1), randomMatrix(n * n, 2), n, n, n).then(
    () => 'resolved',
    (err) => err.name,
  );
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  pool.terminate();
  const outcome = await Promise.race([call, new Promise((r) => setTimeout(() => r('pending'), 2000))]);
  return { outcome, ms: performance.now() - t0 };
}

globalThis.gencoreMatmulCheck = check;
globalThis.gencoreTerminateCheck = terminateCheck;
document.getElementById('status').textContent = 'ready';
