/**
 * Typing errors for the city example: a seeded misspelling generator (one edit per query), the QWERTY
 * neighbours and sound-alike letters it uses, and the baseline any developer would write instead of a
 * search: Damerau-Levenshtein (optimal string alignment) distance ≤ 2 to every name, ties by population.
 */

/** Lower case without diacritics and with the few letters NFD does not split spelled out ("São" → "sao"). */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı‘’`]/g, (ch) => FOLD_LETTERS[ch]);
}
const FOLD_LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', '‘': "'", '’': "'", '`': "'" };

const KEY_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** Letters next to each letter on a QWERTY keyboard (same row, and the staggered rows above and below). */
export const KEYBOARD_NEIGHBOURS: ReadonlyMap<string, string> = (() => {
  const at = (r: number, c: number) => KEY_ROWS[r]?.[c] ?? '';
  const m = new Map<string, string>();
  KEY_ROWS.forEach((row, r) => {
    for (let c = 0; c < row.length; c++) m.set(row[c], at(r, c - 1) + at(r, c + 1) + at(r - 1, c) + at(r - 1, c + 1) + at(r + 1, c - 1) + at(r + 1, c));
  });
  return m;
})();

/** Spellings that sound alike, both ways round (the generator's phonetic swaps). */
export const SOUND_ALIKES: ReadonlyArray<readonly [string, string]> = [
  ['ph', 'f'], ['c', 'k'], ['ck', 'k'], ['s', 'z'], ['ie', 'ei'], ['y', 'i'], ['v', 'w'], ['ou', 'u'],
  ['qu', 'kw'], ['x', 'ks'], ['j', 'g'], ['oo', 'u'], ['ee', 'i'], ['th', 't'], ['ai', 'ei'], ['sch', 'sh'],
];

/**
 * Unordered pairs of spellings typed for one another, each one edit for `editLookahead`: keyboard
 * neighbours and the sound-alikes of one or two letters a side ("ph" / "f"; "sch" / "sh" is one deletion
 * anyway).
 */
export function similarSpellings(): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [a, near] of KEYBOARD_NEIGHBOURS) for (const b of near) if (a < b) pairs.push([a, b]);
  for (const [a, b] of SOUND_ALIKES) if (a.length <= 2 && b.length <= 2) pairs.push([a, b]);
  return pairs;
}

/** Seeded uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const EDIT_KINDS = ['deletion', 'transposition', 'keyboard', 'doubled', 'phonetic'] as const;
export type EditKind = (typeof EDIT_KINDS)[number];

/** One typing error in the folded name, or null if this kind does not apply to it. */
export function misspell(name: string, kind: EditKind, rand: () => number): string | null {
  const letters = [...name].flatMap((ch, i) => (/[a-z]/.test(ch) ? [i] : []));
  const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const i = pick(letters);
  if (i === undefined) return null;
  let out: string;
  switch (kind) {
    case 'deletion':
      out = name.slice(0, i) + name.slice(i + 1);
      break;
    case 'transposition': {
      const pairs = letters.filter((j) => /[a-z]/.test(name[j + 1] ?? '') && name[j] !== name[j + 1]);
      const j = pick(pairs);
      if (j === undefined) return null;
      out = name.slice(0, j) + name[j + 1] + name[j] + name.slice(j + 2);
      break;
    }
    case 'keyboard':
      out = name.slice(0, i) + pick([...KEYBOARD_NEIGHBOURS.get(name[i])!]) + name.slice(i + 1);
      break;
    case 'doubled':
      out = name.slice(0, i + 1) + name[i] + name.slice(i + 1);
      break;
    case 'phonetic': {
      const options: Array<[number, string, string]> = [];
      for (const [a, b] of SOUND_ALIKES) {
        for (const [from, to] of [[a, b], [b, a]]) {
          for (let at = name.indexOf(from); at >= 0; at = name.indexOf(from, at + 1)) options.push([at, from, to]);
        }
      }
      const o = pick(options);
      if (!o) return null;
      out = name.slice(0, o[0]) + o[2] + name.slice(o[0] + o[1].length);
      break;
    }
  }
  return out !== name && out.trim().length > 0 ? out : null;
}

export interface Misspelling {
  query: string;
  intended: string;
  kind: EditKind;
}

/**
 * `count` misspelt names of cities of at least `minPopulation`, drawn uniformly with a seeded generator,
 * the kinds of error in turn (a kind that does not fit the name moves to the next city).
 */
export function misspellings(cities: ReadonlyArray<{ name: string; population: number }>, count: number, seed: number, minPopulation = 100_000): Misspelling[] {
  const rand = seededRandom(seed);
  const pool = cities.filter((c) => c.population >= minPopulation && /^[a-z' .-]+$/.test(fold(c.name)));
  const out: Misspelling[] = [];
  for (let n = 0; out.length < count && n < 100 * count; n++) {
    const city = pool[Math.floor(rand() * pool.length)];
    const kind = EDIT_KINDS[out.length % EDIT_KINDS.length];
    const query = misspell(fold(city.name), kind, rand);
    if (query !== null) out.push({ query, intended: city.name, kind });
  }
  return out;
}

/** Optimal-string-alignment distance of a and b if it is ≤ max, else max + 1 (rows stop early). */
export function osaDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1);
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1), prev[j] + 1, cur[j - 1] + 1);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return Math.min(prev[b.length], max + 1);
}

/**
 * The baseline: every catalogue name within distance 2 of the folded query, nearest first, then the most
 * populous; the best `numReturn` entry ids.
 */
export function nearestNames(query: string, foldedNames: readonly string[], population: readonly number[], numReturn: number): number[] {
  const q = fold(query);
  const hits: Array<[id: number, d: number]> = [];
  foldedNames.forEach((name, id) => {
    const d = osaDistance(q, name, 2);
    if (d <= 2) hits.push([id, d]);
  });
  hits.sort((x, y) => x[1] - y[1] || population[y[0]] - population[x[0]]);
  return hits.slice(0, numReturn).map(([id]) => id);
}
