/** decodeTransform()'s decoding rules: validation of a DecodeSpec and T(p) on one row (docs/repetition.md §3). */
import { checkBool, checkEnum, checkInt, show } from '../shared/validate.js';
import { selectKept, type KeepRule } from '../entropy/select.js';
import { checkIndex, checkUnitInterval } from './chain.js';

export type Rule =
  | { kind: 'greedy' }
  | KeepRule
  | { kind: 'temperature'; t: number }
  | { kind: 'lengthPenalty'; beta: number; eos: number };

const KINDS = ['greedy', 'topK', 'nucleus', 'temperature', 'lengthPenalty'] as const;

export function checkDecodeSpec(fn: string, spec: unknown, cols: number): Rule {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`${fn}: spec must be an object, got ${show(spec)}`);
  }
  const s = spec as Record<string, unknown>;
  if (typeof s.kind !== 'string') throw new TypeError(`${fn}: spec.kind must be a string, got ${show(s.kind)}`);
  const kind = checkEnum(fn, 'spec.kind', s.kind, KINDS);
  const consistentEos = (): number => {
    const consistent = s.consistent === undefined ? false : checkBool(fn, 'spec.consistent', s.consistent);
    if (!consistent) return -1;
    if (s.eosIndex === undefined) throw new RangeError(`${fn}: spec.consistent needs spec.eosIndex in [0, cols) = [0, ${cols})`);
    return checkIndex(fn, 'spec.eosIndex', s.eosIndex, cols, 'cols');
  };
  switch (kind) {
    case 'greedy':
      return { kind };
    case 'topK':
      return { kind, k: checkInt(fn, 'spec.k', s.k, 1), endToken: consistentEos() };
    case 'nucleus':
      return { kind, p: checkUnitInterval(fn, 'spec.p', s.p), endToken: consistentEos() };
    case 'temperature': {
      if (typeof s.t !== 'number') throw new TypeError(`${fn}: spec.t must be a number, got ${show(s.t)}`);
      if (!(Number.isFinite(s.t) && s.t > 0)) throw new RangeError(`${fn}: spec.t must be finite and > 0, got ${s.t}`);
      return { kind, t: s.t };
    }
    case 'lengthPenalty': {
      if (typeof s.beta !== 'number') throw new TypeError(`${fn}: spec.beta must be a number, got ${show(s.beta)}`);
      if (!Number.isFinite(s.beta)) throw new RangeError(`${fn}: spec.beta must be finite, got ${s.beta}`);
      if (s.eosIndex === undefined) throw new RangeError(`${fn}: lengthPenalty needs spec.eosIndex in [0, cols) = [0, ${cols})`);
      return { kind, beta: s.beta, eos: checkIndex(fn, 'spec.eosIndex', s.eosIndex, cols, 'cols') };
    }
  }
}

/** Write T(row) into res (float64). `keep` is scratch of the row's length. */
export function transformRow(row: Float64Array, res: Float64Array, keep: Uint8Array, rule: Rule): void {
  const cols = row.length;
  res.fill(0);
  let pMax = 0;
  for (let j = 0; j < cols; j++) if (row[j] > pMax) pMax = row[j];
  if (pMax === 0) return;
  switch (rule.kind) {
    case 'greedy': {
      let best = 0;
      for (let j = 1; j < cols; j++) if (row[j] > row[best]) best = j;
      res[best] = 1;
      return;
    }
    case 'topK':
    case 'nucleus': {
      // The kept tokens (docs/entropy.md §6), renormalised.
      selectKept(row, 0, cols, 'probabilities', rule, keep);
      let s = 0;
      for (let j = 0; j < cols; j++) if (keep[j]) s += row[j];
      for (let j = 0; j < cols; j++) if (keep[j]) res[j] = row[j] / s;
      return;
    }
    case 'temperature': {
      const lnMax = Math.log(pMax);
      let s = 0;
      for (let j = 0; j < cols; j++) {
        if (row[j] > 0) {
          res[j] = Math.exp((Math.log(row[j]) - lnMax) / rule.t);
          s += res[j];
        }
      }
      for (let j = 0; j < cols; j++) res[j] /= s;
      return;
    }
    case 'lengthPenalty': {
      const bonus = Math.exp(rule.beta);
      let s = 0;
      for (let j = 0; j < cols; j++) {
        res[j] = j === rule.eos ? bonus * row[j] : row[j];
        s += res[j];
      }
      for (let j = 0; j < cols; j++) res[j] /= s;
      return;
    }
  }
}
