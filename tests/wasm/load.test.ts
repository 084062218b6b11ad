import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { init } from '../../bindings/index.js';
import type { WasmInstance } from '../../bindings/wasm/load.js';

const instanceOf = (gc: object) => (gc as { _instance: WasmInstance })._instance;

describe('init', () => {
  afterEach(() => vi.restoreAllMocks());

  it('picks the relaxed build when the runtime has relaxed SIMD, plain when asked', async () => {
    const auto = await init();
    expect(auto.features.relaxedSimdAvailable).toBe(true); // Node 20 with the V8 flag set by the loader
    expect(auto.features.build).toBe('relaxed');
    expect((await init({ simd: 'plain' })).features.build).toBe('plain');
    expect((await init({ simd: 'relaxed' })).features.build).toBe('relaxed');
  });

  it('refuses a runtime without WebAssembly SIMD with a clear error', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    await expect(init()).rejects.toThrow(/gencore needs WebAssembly SIMD/);
  });

  it("refuses simd: 'relaxed' when relaxed SIMD is missing, and falls back to plain on 'auto'", async () => {
    const real = WebAssembly.validate;
    // Accept the plain-SIMD probe only: the relaxed probe contains the relaxed_madd opcode (0xfd 0x85 0x02).
    vi.spyOn(WebAssembly, 'validate').mockImplementation((bytes) => {
      const u8 = new Uint8Array(ArrayBuffer.isView(bytes) ? bytes.buffer : (bytes as ArrayBuffer));
      for (let i = 0; i + 2 < u8.length; i++) if (u8[i] === 0xfd && u8[i + 1] === 0x85 && u8[i + 2] === 0x02) return false;
      return real(bytes);
    });
    await expect(init({ simd: 'relaxed' })).rejects.toThrow(/does not support relaxed SIMD/);
    const gc = await init();
    expect(gc.features).toMatchObject({ build: 'plain', relaxedSimdAvailable: false });
    expect(Array.from(gc.matmul(new Float32Array([2]), new Float32Array([3]), 1, 1, 1))).toEqual([6]);
  });

  it('validates its options', async () => {
    await expect(init({ simd: 'fast' as 'auto' })).rejects.toThrow(RangeError);
    await expect(init({ wasm: 42 as unknown as string })).rejects.toThrow(TypeError);
  });

  it('accepts the wasm binary as bytes or as a URL', async () => {
    const url = new URL('../../build/gencore.simd.wasm', import.meta.url);
    const fromBytes = await init({ simd: 'plain', wasm: readFileSync(url) });
    const fromUrl = await init({ simd: 'plain', wasm: url });
    for (const gc of [fromBytes, fromUrl]) {
      expect(Array.from(gc.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1))).toEqual([11]);
    }
  });
});

describe('a wasm trap', () => {
  it('reaches the caller as a named KernelFaultError, never as a RuntimeError, and the instance is replaced', async () => {
    const gc = await init();
    const inst = instanceOf(gc);
    const oldMemory = gc.memory;
    let err: unknown;
    try {
      inst.run('trapForTest', (k) => k.trapForTest());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('KernelFaultError');
    expect(err).not.toBeInstanceOf(WebAssembly.RuntimeError);
    expect((err as Error).message).not.toMatch(/unreachable|RuntimeError/);
    expect(gc.memory).not.toBe(oldMemory);
    expect(gc.memory.bytesInUse).toBe(0);
    const c = gc.matmul(new Float32Array(9).fill(1), new Float32Array(9).fill(2), 3, 3, 3);
    expect(Array.from(c)).toEqual(new Array(9).fill(6));
  });
});
