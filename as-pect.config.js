// as-pect runs the kernel specs in assembly/__tests__ (one per kernel file); compiler options are in
// as-pect.asconfig.json (SIMD on, as-pect's own runtime and transform).
export default {
  entries: ['assembly/__tests__/**/*.spec.ts'],
  include: ['assembly/__tests__/**/*.include.ts'],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
