// Two bundles of the same bindings: Node (worker_threads, fs) and browser (Web Workers, fetch).
// The browser bundle swaps bindings/wasm/platform.ts for platform.browser.ts, so no `node:` import
// reaches it. The wasm builds are copied next to the bundles and found with `new URL(..., import.meta.url)`.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const WASM = readdirSync('build').filter((f) => /^gencore\.(simd|relaxed)(\.shared)?\.wasm$/.test(f));

/** Point the wasm URLs at dist/ and, for the browser, use the browser platform module. */
function gencoreAssets(target) {
  return {
    name: 'gencore-assets',
    resolveId(source, importer) {
      if (target === 'browser' && importer && source.endsWith('/platform.js')) {
        if (path.resolve(path.dirname(importer), source) === path.resolve('bindings/wasm/platform.js')) {
          return path.resolve('bindings/wasm/platform.browser.ts');
        }
      }
      return null;
    },
    transform(code, id) {
      if (!id.endsWith(path.join('bindings', 'wasm', 'load.ts'))) return null;
      return { code: code.replaceAll("'../../build/gencore.", "'./gencore."), map: null };
    },
    generateBundle() {
      if (target !== 'node') return; // emit the wasm files once
      for (const file of WASM) this.emitFile({ type: 'asset', fileName: file, source: readFileSync(path.join('build', file)) });
    },
  };
}

// The browser bundle carries comlink, so dist/ runs from any static server without an import map.
// The model runtimes of the adapter entry points are optional peer dependencies: never bundled.
const RUNTIMES = ['onnxruntime-web', /^@tensorflow\//, '@huggingface/transformers'];
const externalFor = (target) => (target === 'node' ? [/^node:/, 'comlink', /^comlink\//, ...RUNTIMES] : [/^node:/, ...RUNTIMES]);
const ts = () => typescript({ tsconfig: './tsconfig.json', compilerOptions: { noEmit: false, declaration: false }, include: ['bindings/**/*.ts'] });

export default ['node', 'browser'].map((target) => ({
  input: {
    [`index.${target}`]: 'bindings/index.ts',
    [`worker.${target}`]: 'bindings/worker/worker.ts',
    [`onnxruntime.${target}`]: 'bindings/adapters/onnxruntime.ts',
    [`tfjs.${target}`]: 'bindings/adapters/tfjs.ts',
    [`transformers.${target}`]: 'bindings/adapters/transformers.ts',
  },
  output: { dir: 'dist', format: 'es', chunkFileNames: `[name].${target}-[hash].js`, sourcemap: true },
  external: externalFor(target),
  plugins: [gencoreAssets(target), ts(), ...(target === 'browser' ? [nodeResolve({ browser: true })] : [])],
}));
