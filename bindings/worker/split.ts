/**
 * Split work on a shared memory: the pool's thread stages operands and scratch, each worker runs one
 * piece by pointer. A task is plain data (it crosses the worker boundary by structured clone); each
 * capability declares its task kinds and how a worker runs them (`tasks` in its `index.ts`).
 */

/** One piece of split work; `kind` names the capability's task runner. */
export interface SplitTask {
  kind: string;
}

/** Split [0, total) into at most `parts` contiguous ranges whose starts are multiples of `granule`. */
export function splitRange(total: number, parts: number, granule = 1): Array<[start: number, count: number]> {
  const units = Math.ceil(total / granule);
  const p = Math.max(1, Math.min(parts, units));
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < p; i++) {
    const endUnits = Math.round(((i + 1) * units) / p);
    const end = Math.min(total, endUnits * granule);
    if (end > start) ranges.push([start, end - start]);
    start = end;
  }
  return ranges;
}
