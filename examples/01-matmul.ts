/**
 * Example 1: matrix multiplication with gencore, on the calling thread and in a worker pool.
 * Run: npx tsx examples/01-matmul.ts
 */
import { init, createPool } from '../bindings/index.js';

const gc = await init();
console.log(`wasm build: ${gc.features.build} SIMD`);

// A is 2×3, B is 3×2, both row-major.
const a = new Float32Array([1, 2, 3, 4, 5, 6]);
const b = new Float32Array([7, 8, 9, 10, 11, 12]);
console.log('A·B =', gc.matmul(a, b, 2, 3, 2)); // [58, 64, 139, 154]

// Transposes and scaling: with transA, `a` is read as Aᵀ (3×2); with transB, `b` (stored 3×2) is read as
// its transpose (2×3); the 3×3 result is 0.5·Aᵀ·Bᵀ.
console.log('0.5·Aᵀ·Bᵀ =', gc.matmul(a, b, 3, 2, 3, { transA: true, transB: true, alpha: 0.5 }));

// Accumulate into an existing C: C ← A·B + 2·C (beta needs `out`, the C being updated).
const c = new Float32Array([1, 1, 1, 1]);
gc.matmul(a, b, 2, 3, 2, { beta: 2, out: c });
console.log('A·B + 2·C =', c); // [60, 66, 141, 156]

// Float64 works the same way; the result has the input's type.
console.log('f64:', gc.matmul(new Float64Array([0.1, 0.2]), new Float64Array([3, 4]), 1, 2, 1));

// Bad input is refused before any wasm call, with the parameter and the value in the message.
try {
  gc.matmul(a, b, 2, 2, 2);
} catch (err) {
  console.log(`${(err as Error).name}: ${(err as Error).message}`);
}

// The same call in a pool of workers: big products are split by row blocks across them.
const pool = await createPool({ workers: 2 });
const n = 512;
const big = new Float32Array(n * n).map(() => Math.random());
await pool.matmul(big, big, n, n, n); // the first call also waits for the workers to start
const t0 = performance.now();
const product = await pool.matmul(big, big, n, n, n);
console.log(`pool of ${pool.size}: ${n}×${n} product in ${(performance.now() - t0).toFixed(1)} ms, C[0] = ${product[0].toFixed(3)}`);
pool.terminate();
