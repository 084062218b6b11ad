/**
 * The substring constraint (docs/constrained.md §2): outputs restricted to `x + [E]`, x a contiguous
 * substring of one passage, as a generalized suffix automaton in plain JS data (no wasm memory).
 */
import { checkInt, checkOptions, show } from '../shared/validate.js';
import { checkEndToken, checkTokens } from './trie.js';

const SUBSTRING_MAGIC = 0x41534347; // 'GCSA'

/**
 * Outputs restricted to `x + [E]`, x a contiguous substring of one passage (docs/constrained.md §2). State ids are
 * those of a generalized suffix automaton (< 2n states, root 0); `allowed(state)` lists the tokens that
 * extend x inside some passage plus E, ascending. Plain JS data (no wasm memory).
 */
export class SubstringConstraint {
  readonly endToken: number;
  /** Number of automaton states (root 0). */
  readonly numStates: number;
  /** Number of passages. */
  readonly numPassages: number;
  /** CSR transitions: state s has tokens[offsets[s] … offsets[s+1]) (ascending) leading to targets[…]. */
  readonly offsets: Int32Array;
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  #disposed = false;

  /** @internal Use `gc.substringConstraint`. */
  constructor(endToken: number, numPassages: number, offsets: Int32Array, tokens: Int32Array, targets: Int32Array) {
    this.endToken = endToken;
    this.numPassages = numPassages;
    this.numStates = offsets.length - 1;
    this.offsets = offsets;
    this.tokens = tokens;
    this.targets = targets;
  }

  #alive(what: string): void {
    if (this.#disposed) throw new TypeError(`SubstringConstraint.${what}: the constraint was disposed`);
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Allowed next tokens after reaching `state`: the automaton's transitions and E, ascending. */
  allowed(state: number): Int32Array {
    this.#alive('allowed');
    checkInt('SubstringConstraint.allowed', 'state', state, 0, this.numStates - 1);
    const a = this.offsets[state];
    const b = this.offsets[state + 1];
    const out = new Int32Array(b - a + 1);
    let k = 0;
    let placed = false;
    for (let j = a; j < b; j++) {
      if (!placed && this.endToken < this.tokens[j]) {
        out[k++] = this.endToken;
        placed = true;
      }
      out[k++] = this.tokens[j];
    }
    if (!placed) out[k] = this.endToken;
    return out;
  }

  /** State after `token` from `state` (not E), or −1 if x·token is no passage substring. */
  next(state: number, token: number): number {
    this.#alive('next');
    let a = this.offsets[state];
    let b = this.offsets[state + 1];
    while (a < b) {
      const mid = (a + b) >>> 1;
      const t = this.tokens[mid];
      if (t === token) return this.targets[mid];
      if (t < token) a = mid + 1;
      else b = mid;
    }
    return -1;
  }

  /** State reached by `prefix`, or −1 if it is not a substring of a passage. */
  walk(prefix: ArrayLike<number>): number {
    this.#alive('walk');
    checkTokens('SubstringConstraint.walk', 'prefix', prefix);
    let s = 0;
    for (let i = 0; i < prefix.length && s >= 0; i++) s = this.next(s, prefix[i]);
    return s;
  }

  /** Largest token that can be allowed (E included). */
  maxToken(): number {
    let m = this.endToken;
    for (let i = 0; i < this.tokens.length; i++) if (this.tokens[i] > m) m = this.tokens[i];
    return m;
  }

  /** One ArrayBuffer: 'GCSA', u32 version 1, i32 endToken, S, T, P, then offsets, tokens, targets. */
  serialize(): ArrayBuffer {
    this.#alive('serialize');
    const s = this.numStates;
    const t = this.tokens.length;
    const out = new ArrayBuffer(24 + 4 * (s + 1 + 2 * t));
    const dv = new DataView(out);
    dv.setUint32(0, SUBSTRING_MAGIC, true);
    dv.setUint32(4, 1, true);
    dv.setInt32(8, this.endToken, true);
    dv.setInt32(12, s, true);
    dv.setInt32(16, t, true);
    dv.setInt32(20, this.numPassages, true);
    const body = new Int32Array(out, 24);
    body.set(this.offsets, 0);
    body.set(this.tokens, s + 1);
    body.set(this.targets, s + 1 + t);
    return out;
  }

  /** Drop the constraint (it holds no wasm memory); later use throws a TypeError. */
  dispose(): void {
    this.#disposed = true;
  }
}

/** Restore a serialized substring constraint (checks sizes and ranges). */
export function substringFromBuffer(buffer: ArrayBuffer | ArrayBufferView, fn = 'beamSearch'): SubstringConstraint {
  const bytes = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24 || dv.getUint32(0, true) !== SUBSTRING_MAGIC || dv.getUint32(4, true) !== 1) {
    throw new RangeError(`${fn}: not a serialized substring constraint`);
  }
  const e = dv.getInt32(8, true);
  const s = dv.getInt32(12, true);
  const t = dv.getInt32(16, true);
  const p = dv.getInt32(20, true);
  if (e < 0 || s < 1 || t < 0 || p < 0 || bytes.byteLength !== 24 + 4 * (s + 1 + 2 * t)) {
    throw new RangeError(`${fn}: corrupt substring constraint header`);
  }
  const body = new Int32Array(bytes.slice(24).buffer);
  const offsets = body.slice(0, s + 1);
  const tokens = body.slice(s + 1, s + 1 + t);
  const targets = body.slice(s + 1 + t);
  if (offsets[0] !== 0 || offsets[s] !== t) throw new RangeError(`${fn}: corrupt substring constraint offsets`);
  for (let i = 0; i < s; i++) {
    if (offsets[i + 1] < offsets[i]) throw new RangeError(`${fn}: corrupt substring constraint offsets`);
    for (let j = offsets[i]; j < offsets[i + 1]; j++) {
      if (tokens[j] < 0 || (j > offsets[i] && tokens[j] <= tokens[j - 1]) || targets[j] < 0 || targets[j] >= s || tokens[j] === e) {
        throw new RangeError(`${fn}: corrupt substring constraint transitions (state ${i})`);
      }
    }
  }
  return new SubstringConstraint(e, p, offsets, tokens, targets);
}

/** Generalized suffix automaton over the passages, frozen into sorted CSR. */
function buildSuffixAutomaton(passages: ArrayLike<number>[], endToken: number): SubstringConstraint {
  const next: Array<Map<number, number>> = [new Map()];
  const link: number[] = [-1];
  const len: number[] = [0];
  const newState = (l: number, lk: number, copyFrom?: Map<number, number>): number => {
    next.push(copyFrom ? new Map(copyFrom) : new Map());
    link.push(lk);
    len.push(l);
    return next.length - 1;
  };
  const extend = (last: number, c: number): number => {
    const existing = next[last].get(c);
    if (existing !== undefined) {
      // The extension is already a substring (shared by an earlier passage): split if needed.
      const q = existing;
      if (len[last] + 1 === len[q]) return q;
      const clone = newState(len[last] + 1, link[q], next[q]);
      let p = last;
      while (p !== -1 && next[p].get(c) === q) {
        next[p].set(c, clone);
        p = link[p];
      }
      link[q] = clone;
      return clone;
    }
    const cur = newState(len[last] + 1, 0);
    let p = last;
    while (p !== -1 && !next[p].has(c)) {
      next[p].set(c, cur);
      p = link[p];
    }
    if (p !== -1) {
      const q = next[p].get(c)!;
      if (len[p] + 1 === len[q]) link[cur] = q;
      else {
        const clone = newState(len[p] + 1, link[q], next[q]);
        while (p !== -1 && next[p].get(c) === q) {
          next[p].set(c, clone);
          p = link[p];
        }
        link[q] = clone;
        link[cur] = clone;
      }
    }
    return cur;
  };
  for (const passage of passages) {
    let last = 0;
    for (let i = 0; i < passage.length; i++) last = extend(last, passage[i]);
  }
  const s = next.length;
  const offsets = new Int32Array(s + 1);
  for (let i = 0; i < s; i++) offsets[i + 1] = offsets[i] + next[i].size;
  const tokens = new Int32Array(offsets[s]);
  const targets = new Int32Array(offsets[s]);
  for (let i = 0; i < s; i++) {
    const entries = [...next[i].entries()].sort((x, y) => x[0] - y[0]);
    let j = offsets[i];
    for (const [t, target] of entries) {
      tokens[j] = t;
      targets[j++] = target;
    }
  }
  return new SubstringConstraint(endToken, passages.length, offsets, tokens, targets);
}

/** Validate passages and build the substring constraint (no wasm needed). */
export function makeSubstringConstraint(passages: ArrayLike<number>[], opts: { endToken: number }): SubstringConstraint {
  const fn = 'substringConstraint';
  if (!Array.isArray(passages)) throw new TypeError(`${fn}: passages must be an array of token arrays, got ${show(passages)}`);
  const o = checkOptions(fn, opts);
  if (o.endToken === undefined) throw new TypeError(`${fn}: opts.endToken is required`);
  const e = checkEndToken(fn, o.endToken, false);
  passages.forEach((p, k) => {
    checkTokens(fn, `passages[${k}]`, p);
    for (let i = 0; i < p.length; i++) {
      if (p[i] === e) throw new RangeError(`${fn}: passages[${k}][${i}] is the end token ${e}; passages must not contain it`);
    }
  });
  return buildSuffixAutomaton(passages, e);
}

