// `npm run demo` / `npm run bench` on a fresh clone: build once if the wasm builds or dist/ are missing.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const needed = ['build/gencore.simd.wasm', 'build/gencore.relaxed.wasm', 'dist/index.node.js'];
if (!needed.every((f) => existsSync(f))) {
  console.log('gencore: building (first run)…');
  execSync('npm run build', { stdio: 'inherit' });
}
