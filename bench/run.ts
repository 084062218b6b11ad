/**
 * `npm run bench [name ...]`: run the named benches (default: all) in this process, one after another.
 * Each bench prints its table and writes bench/results/<name>.json.
 */
const BENCHES = ['gemm', 'beam', 'repetition', 'entropy', 'diffusion', 'attention', 'nn', 'adapters'] as const;

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !(BENCHES as readonly string[]).includes(n));
if (unknown.length) {
  console.error(`bench: unknown bench ${unknown.join(', ')}; available: ${BENCHES.join(', ')}`);
  process.exit(2);
}
for (const name of asked.length ? asked : BENCHES) {
  console.log(`\n=== bench ${name} ===`);
  const mod = (await import(`./${name}.ts`)) as { run(): Promise<void> };
  await mod.run();
}
process.exit(0);
