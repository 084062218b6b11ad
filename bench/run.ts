/**
 * `npm run bench [name ...]`: run the named benches (default: all) in this process, one after another.
 * Each bench prints its table and writes bench/results/<name>.json.
 * `npm run bench -- --browser [name ...]` (or `npm run bench:browser`): the shared suites in headless
 * Chromium instead, writing bench/results/browser-<name>.json.
 * GENCORE_BENCH_QUICK=1: small sizes and 1–2 rounds (a smoke run, not a measurement).
 */
const BENCHES = ['gemm', 'beam', 'repetition', 'entropy', 'diffusion', 'attention', 'nn', 'adapters', 'pipeline'] as const;

const args = process.argv.slice(2);
const browser = args.includes('--browser');
const asked = args.filter((a) => a !== '--browser');
if (browser) {
  const { BROWSER_BENCHES, runInBrowser } = await import('./browser/run.js');
  const { QUICK } = await import('./node-env.js');
  const unknown = asked.filter((n) => !BROWSER_BENCHES.includes(n));
  if (unknown.length) {
    console.error(`bench --browser: no browser bench ${unknown.join(', ')}; available: ${BROWSER_BENCHES.join(', ')}`);
    process.exit(2);
  }
  await runInBrowser(asked.length ? asked : BROWSER_BENCHES, QUICK);
  process.exit(0);
}
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
