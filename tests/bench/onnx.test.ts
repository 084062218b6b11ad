/**
 * The bench's hand-encoded ONNX MatMul model (bench/shared/onnx.ts), run by onnxruntime-web's wasm EP in
 * Node, against a float64 matrix product computed here.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { matmulModel } from '../../bench/shared/onnx.js';

function matmulF64(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  return c;
}

describe('matmulModel', () => {
  it.each([
    [1, 1, 1],
    [3, 5, 2],
    [17, 130, 9],
    [64, 200, 300], // dims above 127 take two varint bytes
  ])('C = A·B with m = %i, k = %i, n = %i', async (m, k, n) => {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(matmulModel(m, k, n), { executionProviders: ['wasm'] });
    try {
      expect(session.inputNames).toEqual(['A', 'B']);
      expect(session.outputNames).toEqual(['C']);
      const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
      const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(3 * i));
      const { C } = await session.run({ A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) });
      expect(C.dims).toEqual([m, n]);
      const want = matmulF64(a, b, m, k, n);
      const got = C.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `C[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + k));
    } finally {
      await session.release();
    }
  });
});
