// Compile the AssemblyScript kernels into the release builds (asconfig.json targets), two at a time.
import { spawn } from 'node:child_process';
import { writeKernelTypes } from './kernel-types.js';

const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['simd', 'relaxed', 'simd-shared', 'relaxed-shared'];

function build(target) {
  return new Promise((resolve, reject) => {
    // The plain-SIMD build also writes the compiler's typings of the exports (same for every build).
    const typings = target === 'simd' ? ['--bindings', 'raw'] : [];
    const child = spawn(process.execPath, ['node_modules/assemblyscript/bin/asc.js', 'assembly/index.ts', '--target', target, ...typings], { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`asc --target ${target} failed (exit ${code})`))));
  });
}

const queue = [...targets];
const worker = async () => {
  while (queue.length) await build(queue.shift());
};
const t0 = Date.now();
await Promise.all([worker(), worker()]);
if (targets.includes('simd')) writeKernelTypes('build/gencore.simd.d.ts', 'bindings/wasm/kernels.ts');
console.log(`wasm: built ${targets.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
