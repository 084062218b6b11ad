// as-pect runs the kernel specs in assembly/__tests__ (one per kernel file) with SIMD enabled.
export default {
  include: ['assembly/__tests__/**/*.spec.ts', 'assembly/__tests__/**/*.include.ts'],
  add: ['assembly/__tests__/**/*.include.ts'],
  flags: {
    '--enable': ['simd'],
  },
  disclude: [/node_modules/],
  imports(memory, createImports, instantiateSync, binary) {
    let instance;
    const myImports = {};
    instance = instantiateSync(binary, createImports(myImports));
    return instance;
  },
  outputBinary: false,
};
