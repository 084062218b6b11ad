/**
 * Timing and table formatting shared by the Node and browser benches: no Node or DOM API, only the
 * global `performance`, so the same module runs in both.
 */

export interface Timing {
  /** Median seconds per call. */
  median: number;
  min: number;
  max: number;
  repeats: number;
}

/**
 * Time `fn` (sync or async): `warmup` untimed calls, then repeats until both `minRepeats` calls and
 * `minSeconds` have passed (capped at `maxRepeats`).
 */
export async function measure(
  fn: () => unknown,
  opts: { warmup?: number; minRepeats?: number; maxRepeats?: number; minSeconds?: number } = {},
): Promise<Timing> {
  const { warmup = 2, minRepeats = 5, maxRepeats = 200, minSeconds = 0.5 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < maxRepeats && (samples.length < minRepeats || performance.now() - start < minSeconds * 1000)) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], min: samples[0], max: samples[samples.length - 1], repeats: samples.length };
}

/**
 * Time several implementations of the same work in interleaved rounds (A B C, A B C, …) and return each
 * one's median: load that comes and goes on a shared machine then hits all of them alike, so their
 * ratios hold. Each sample repeats a call enough times to last ≥ `minSampleSeconds` (default 10 ms).
 */
export async function measureInterleaved<K extends string>(
  fns: Record<K, () => unknown>,
  opts: { rounds?: number; warmup?: number; minSampleSeconds?: number } = {},
): Promise<Record<K, Timing>> {
  const { rounds = 9, warmup = 2, minSampleSeconds = 0.01 } = opts;
  const names = Object.keys(fns) as K[];
  const inner = {} as Record<K, number>;
  for (const name of names) {
    let t = Infinity;
    for (let i = 0; i < Math.max(1, warmup); i++) {
      const t0 = performance.now();
      await fns[name]();
      t = Math.min(t, (performance.now() - t0) / 1000);
    }
    inner[name] = Math.max(1, Math.ceil(minSampleSeconds / Math.max(t, 1e-6)));
  }
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const t0 = performance.now();
      for (let i = 0; i < inner[name]; i++) await fns[name]();
      samples[name].push((performance.now() - t0) / 1000 / inner[name]);
    }
  }
  const out = {} as Record<K, Timing>;
  for (const name of names) {
    const s = samples[name].sort((a, b) => a - b);
    out[name] = { median: s[s.length >> 1], min: s[0], max: s[s.length - 1], repeats: s.length };
  }
  return out;
}

export type Row = Record<string, string | number>;

/** A titled table of rows; the first column labels the row, the others hold numbers. */
export interface Table {
  title: string;
  rows: Row[];
}

/** Format a number for a table: 3 significant digits. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000 && abs < 1e7) return String(Math.round(x));
  if (Number.isInteger(x) && abs < 1e7) return String(x);
  if (abs >= 1e5 || abs < 1e-3) return x.toExponential(digits - 1);
  return x.toPrecision(digits);
}

/** Rows as an aligned text table under a title (one string, lines joined by newlines). */
export function formatTable(title: string, rows: Row[]): string {
  const lines = ['', title];
  if (rows.length === 0) return lines.join('\n');
  const cols = Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => (typeof r[c] === 'number' ? fmt(r[c] as number) : String(r[c] ?? ''))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i])).join('  ');
  lines.push(line(cols), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) lines.push(line(row));
  return lines.join('\n');
}

/** relF(X, Y) = ‖X − Y‖_F / ‖Y‖_F, the attention spec's error metric. */
export function relFro(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    e += (got[i] - want[i]) ** 2;
    n += want[i] ** 2;
  }
  return Math.sqrt(e / n);
}

/** Uniform floats in [−1, 1) from a fixed seed (LCG), so every run and platform sees the same operands. */
export function randomF32(len: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    out[i] = 2 * (s / 4294967296) - 1;
  }
  return out;
}

/** The call forms every suite times: sync and pools of 1 and 2, each returning a new array or filling `out`. */
export type CallForm = 'syncNew' | 'syncOut' | 'pool1New' | 'pool1Out' | 'pool2New' | 'pool2Out';

/**
 * The ratios every suite prints, from each form's rate (higher is faster: GFLOP/s, or 1/ms): pools against
 * the sync call, the load average beside them, and a new result against `out`.
 */
export function poolRatios(rate: (form: CallForm) => number, load1: number): Row {
  return {
    'pool1/sync new': rate('pool1New') / rate('syncNew'),
    'pool1/sync out': rate('pool1Out') / rate('syncOut'),
    'pool2/sync new': rate('pool2New') / rate('syncNew'),
    'pool2/sync out': rate('pool2Out') / rate('syncOut'),
    'load avg 1 min': load1,
    'new/out (sync)': rate('syncNew') / rate('syncOut'),
  };
}
