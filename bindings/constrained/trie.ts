/**
 * The immutable CSR token trie (docs/constrained.md §1) and the trie factories of one instance
 * (`buildTrie`, `buildTrieBuffer`, `loadTrie`).
 *
 * A `TokenTrie` lives in one place: in an instance's wasm memory (built by `gc.buildTrie` or loaded by
 * `gc.loadTrie`), where the beam-search kernels read it by pointer, or in a plain ArrayBuffer holding its
 * serialized bytes (what a worker pool hands back, since wasm memory cannot cross threads). Both answer
 * the same read methods; a buffer-backed trie is copied into an instance's memory when a search uses it.
 */
import type { WasmInstance } from '../wasm/load.js';
import type { WasmMemory } from '../wasm/memory.js';
import { checkInt, checkOptions, show } from '../shared/validate.js';

/** Largest token id + 1: tokens and end tokens are integers in [0, 2^31 − 1). */
export const TOKEN_LIMIT = 2 ** 31 - 1;

export interface TrieOptions {
  /**
   * Appended to every sequence whose last token differs (never twice); integer in [0, 2^31 − 1).
   * Without it, an entry that is a proper prefix of another ends at a node that also has children.
   */
  endToken?: number;
}

/** The six Int32 sections of a trie, in serialization order. */
export interface TrieArrays {
  /** Token on the edge into each node (root −1); N. */
  label: Int32Array;
  /** Children of n are childStart[n] … childStart[n+1]−1; N + 1. */
  childStart: Int32Array;
  /** Entries whose path starts with node n's path are lo[n] … hi[n]−1; N each. */
  lo: Int32Array;
  hi: Int32Array;
  /** Node where each entry ends; M. */
  entryNode: Int32Array;
  /** Entry of each input sequence; I. */
  inputToEntry: Int32Array;
}

const MAGIC = 0x52544347; // 'GCTR' little-endian
const HEADER = 32;
const VERSION = 1;

/** Serialized size in bytes: 32 + 4·(4N + 1 + M + I), rounded up to 8. */
export function trieByteLength(numNodes: number, numEntries: number, numInputs: number): number {
  return Math.ceil((HEADER + 4 * (4 * numNodes + 1 + numEntries + numInputs)) / 8) * 8;
}

/** Element offsets of the sections inside the body (after the header). */
function sectionOffsets(n: number, m: number): { label: number; childStart: number; lo: number; hi: number; entryNode: number; inputToEntry: number } {
  return { label: 0, childStart: n, lo: 2 * n + 1, hi: 3 * n + 1, entryNode: 4 * n + 1, inputToEntry: 4 * n + 1 + m };
}

interface WasmHome {
  kind: 'wasm';
  inst: WasmInstance;
  /** The memory owner at creation: a trap resets the instance and loses the trie with it. */
  mem: WasmMemory;
  /** Byte address of the body (the six sections, contiguous). */
  ptr: number;
}
interface BufferHome {
  kind: 'buffer';
  /** The serialized bytes (header included). */
  bytes: ArrayBuffer;
}

/**
 * An immutable token trie: nodes in BFS order (root 0), children contiguous and ascending by token,
 * entries (distinct sequences) in lexicographic order. See docs/constrained.md §1.
 */
export class TokenTrie {
  /** Number of nodes N, root included. */
  readonly numNodes: number;
  /** Number of distinct entries M. */
  readonly numEntries: number;
  /** Number of input sequences I (duplicates included). */
  readonly numInputs: number;
  /** Length of the longest entry, in tokens (end token included). */
  readonly maxDepth: number;
  /** Largest number of nodes at one depth ≥ 1 (K ≥ maxWidth makes beam search exhaustive). */
  readonly maxWidth: number;
  /** The end token given to `buildTrie`, or −1. */
  readonly endToken: number;
  #home: WasmHome | BufferHome | null;
  #maxLabel = -2;

  /** @internal Use `gc.buildTrie` / `gc.loadTrie`. */
  constructor(home: WasmHome | BufferHome, header: { n: number; m: number; i: number; maxDepth: number; maxWidth: number; endToken: number }) {
    this.#home = home;
    this.numNodes = header.n;
    this.numEntries = header.m;
    this.numInputs = header.i;
    this.maxDepth = header.maxDepth;
    this.maxWidth = header.maxWidth;
    this.endToken = header.endToken;
  }

  /** Where the trie lives: `'wasm'` (an instance's memory) or `'buffer'` (serialized bytes in JS). */
  get residence(): 'wasm' | 'buffer' {
    return this.#alive('residence').kind;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#home === null;
  }

  #alive(what: string): WasmHome | BufferHome {
    const home = this.#home;
    if (home === null) throw new TypeError(`TokenTrie.${what}: the trie was disposed`);
    if (home.kind === 'wasm' && home.inst.mem !== home.mem) {
      throw new TypeError(`TokenTrie.${what}: the trie was lost when its wasm instance was reset after a kernel fault`);
    }
    return home;
  }

  /** @internal The instance and body address, when the trie lives in wasm memory. */
  wasmHome(what: string): { inst: WasmInstance; ptr: number } | null {
    const home = this.#alive(what);
    return home.kind === 'wasm' ? { inst: home.inst, ptr: home.ptr } : null;
  }

  /** @internal Byte addresses of the sections in wasm memory (wasm-resident tries only). */
  pointers(what: string): { label: number; childStart: number; lo: number; hi: number; entryNode: number; inputToEntry: number } {
    const home = this.#alive(what);
    if (home.kind !== 'wasm') throw new TypeError(`TokenTrie.${what}: the trie is not in wasm memory`);
    const off = sectionOffsets(this.numNodes, this.numEntries);
    const p = home.ptr;
    return {
      label: p + 4 * off.label,
      childStart: p + 4 * off.childStart,
      lo: p + 4 * off.lo,
      hi: p + 4 * off.hi,
      entryNode: p + 4 * off.entryNode,
      inputToEntry: p + 4 * off.inputToEntry,
    };
  }

  /**
   * Views of the six sections. For a wasm-resident trie they are views into wasm memory, valid until
   * the next allocation that grows it: use them at once, never keep them.
   */
  arrays(): TrieArrays {
    const home = this.#alive('arrays');
    const n = this.numNodes;
    const m = this.numEntries;
    const off = sectionOffsets(n, m);
    const buf = home.kind === 'wasm' ? home.inst.mem.buffer : home.bytes;
    const base = home.kind === 'wasm' ? home.ptr : HEADER;
    const v = (o: number, len: number) => new Int32Array(buf, base + 4 * o, len);
    return {
      label: v(off.label, n),
      childStart: v(off.childStart, n + 1),
      lo: v(off.lo, n),
      hi: v(off.hi, n),
      entryNode: v(off.entryNode, m),
      inputToEntry: v(off.inputToEntry, this.numInputs),
    };
  }

  #node(what: string, node: unknown): number {
    return checkInt(`TokenTrie.${what}`, 'node', node, 0, this.numNodes - 1);
  }

  /** Child of `node` along `token`, or −1 (binary search over the sorted sibling labels). */
  child(node: number, token: number): number {
    this.#node('child', node);
    if (typeof token !== 'number') throw new TypeError(`TokenTrie.child: token must be a number, got ${show(token)}`);
    if (!Number.isInteger(token) || token < 0 || token >= TOKEN_LIMIT) return -1;
    const home = this.#alive('child');
    if (home.kind === 'wasm') {
      const p = this.pointers('child');
      return home.inst.run('TokenTrie.child', (k) => k.trie_child(p.label, p.childStart, node, token));
    }
    const { label, childStart } = this.arrays();
    return childOf(label, childStart, node, token);
  }

  /** Node reached from the root by `prefix`, or −1; `walk([])` = 0. */
  walk(prefix: ArrayLike<number>): number {
    this.#alive('walk');
    checkTokens('TokenTrie.walk', 'prefix', prefix);
    const { label, childStart } = this.arrays();
    let node = 0;
    for (let i = 0; i < prefix.length && node >= 0; i++) {
      const t = prefix[i];
      node = t >= TOKEN_LIMIT ? -1 : childOf(label, childStart, node, t);
    }
    return node;
  }

  /** Tokens of `node`'s children, ascending (a new array). */
  children(node: number): Int32Array {
    this.#node('children', node);
    const { label, childStart } = this.arrays();
    return label.slice(childStart[node], childStart[node + 1]);
  }

  /** True when an entry ends at `node`. */
  isTerminal(node: number): boolean {
    this.#node('isTerminal', node);
    const { lo, hi, entryNode } = this.arrays();
    return lo[node] < hi[node] && entryNode[lo[node]] === node;
  }

  /** `[lo, hi]`: the entries whose path starts with `node`'s path are lo … hi−1. */
  entryRange(node: number): [number, number] {
    this.#node('entryRange', node);
    const { lo, hi } = this.arrays();
    return [lo[node], hi[node]];
  }

  /** Entry of input sequence `i`. */
  inputToEntry(i: number): number {
    checkInt('TokenTrie.inputToEntry', 'i', i, 0, this.numInputs - 1);
    return this.arrays().inputToEntry[i];
  }

  /** Node where entry `id` ends. */
  entryNode(id: number): number {
    checkInt('TokenTrie.entryNode', 'id', id, 0, this.numEntries - 1);
    return this.arrays().entryNode[id];
  }

  /** Tokens of entry `id` (end token included): descends from the root to the child whose range holds id. */
  entry(id: number): Int32Array {
    if (this.numEntries === 0) throw new RangeError(`TokenTrie.entry: the trie has no entries, got id ${String(id)}`);
    checkInt('TokenTrie.entry', 'id', id, 0, this.numEntries - 1);
    return entryTokens(this.arrays(), id, this.maxDepth);
  }

  /** Largest token in the trie (−1 if empty). */
  maxToken(): number {
    if (this.#maxLabel === -2) {
      const { label } = this.arrays();
      let m = -1;
      for (let i = 1; i < label.length; i++) if (label[i] > m) m = label[i];
      this.#maxLabel = m;
    }
    return this.#maxLabel;
  }

  /** One little-endian ArrayBuffer (docs/constrained.md §1 "Serialization"); `gc.loadTrie` restores it without rebuilding. */
  serialize(): ArrayBuffer {
    const home = this.#alive('serialize');
    const size = trieByteLength(this.numNodes, this.numEntries, this.numInputs);
    if (home.kind === 'buffer') return home.bytes.slice(0);
    const out = new ArrayBuffer(size);
    const dv = new DataView(out);
    dv.setUint32(0, MAGIC, true);
    dv.setUint32(4, VERSION, true);
    dv.setInt32(8, this.numNodes, true);
    dv.setInt32(12, this.numEntries, true);
    dv.setInt32(16, this.numInputs, true);
    dv.setInt32(20, this.maxDepth, true);
    dv.setInt32(24, this.endToken, true);
    dv.setUint32(28, 0, true);
    const body = 4 * (4 * this.numNodes + 1 + this.numEntries + this.numInputs);
    new Uint8Array(out, HEADER, body).set(new Uint8Array(home.inst.mem.buffer, home.ptr, body));
    return out;
  }

  /** Free the trie's memory. Idempotent; any later use throws a TypeError. */
  dispose(): void {
    const home = this.#home;
    this.#home = null;
    if (home?.kind === 'wasm' && home.inst.mem === home.mem) home.mem.free(home.ptr);
  }
}

/** Child of `node` labelled `token` in JS (binary search), or −1. */
export function childOf(label: Int32Array, childStart: Int32Array, node: number, token: number): number {
  let a = childStart[node];
  let b = childStart[node + 1];
  while (a < b) {
    const mid = (a + b) >>> 1;
    const t = label[mid];
    if (t === token) return mid;
    if (t < token) a = mid + 1;
    else b = mid;
  }
  return -1;
}

/** Tokens of entry `id`, by descending from the root into the child whose [lo, hi) holds id. */
export function entryTokens(a: Pick<TrieArrays, 'label' | 'childStart' | 'lo' | 'hi' | 'entryNode'>, id: number, maxDepth: number): Int32Array {
  const target = a.entryNode[id];
  const out: number[] = [];
  let node = 0;
  while (node !== target && out.length <= maxDepth) {
    // Children ascend by token, so their entry ranges ascend too: binary search on lo.
    let lo = a.childStart[node];
    let hi = a.childStart[node + 1] - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (a.lo[mid] <= id) lo = mid;
      else hi = mid - 1;
    }
    if (lo > hi || a.lo[lo] > id || a.hi[lo] <= id) break;
    node = lo;
    out.push(a.label[node]);
  }
  return Int32Array.from(out);
}

/** Every element an integer token in [0, 2^31 − 1). */
export function checkTokens(fn: string, name: string, seq: unknown): ArrayLike<number> {
  if (seq === null || typeof seq !== 'object' || typeof (seq as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${fn}: ${name} must be an array of token ids, got ${show(seq)}`);
  }
  const s = seq as ArrayLike<number>;
  for (let i = 0; i < s.length; i++) {
    const t = s[i];
    if (typeof t !== 'number') throw new TypeError(`${fn}: ${name}[${i}] must be a number, got ${show(t)}`);
    if (!Number.isInteger(t) || t < 0 || t >= TOKEN_LIMIT) {
      throw new RangeError(`${fn}: ${name}[${i}] is ${t}; tokens must be integers in [0, 2^31 − 1)`);
    }
  }
  return s;
}

export function checkEndToken(fn: string, v: unknown, optional: boolean): number {
  if (v === undefined && optional) return -1;
  return checkInt(fn, 'opts.endToken', v, 0, TOKEN_LIMIT - 1);
}

/** Flattened input: tokens, starts (count+1), with the end token appended. */
function flatten(fn: string, sequences: Iterable<ArrayLike<number>>, endToken: number): { tokens: Int32Array; starts: Int32Array; count: number; total: number; maxDepth: number; maxToken: number } {
  if (sequences === null || typeof sequences !== 'object' || typeof (sequences as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${fn}: sequences must be an iterable of token arrays, got ${show(sequences)}`);
  }
  let tokens = new Int32Array(1024);
  let starts = new Int32Array(256);
  let total = 0;
  let count = 0;
  let maxDepth = 0;
  let maxToken = endToken;
  for (const seq of sequences) {
    const name = `sequences[${count}]`;
    if (seq === null || typeof seq !== 'object' || typeof (seq as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`${fn}: ${name} must be an array of token ids, got ${show(seq)}`);
    }
    const len = seq.length;
    const needEnd = endToken >= 0 && (len === 0 || seq[len - 1] !== endToken);
    const full = len + (needEnd ? 1 : 0);
    if (full === 0) throw new RangeError(`${fn}: ${name} is empty (an entry needs at least one token)`);
    if (total + full > TOKEN_LIMIT - 1) throw new RangeError(`${fn}: more than 2^31 − 2 tokens in total`);
    if (total + full > tokens.length) {
      const grown = new Int32Array(Math.max(tokens.length * 2, total + full));
      grown.set(tokens.subarray(0, total));
      tokens = grown;
    }
    if (count + 2 > starts.length) {
      const grown = new Int32Array(starts.length * 2);
      grown.set(starts.subarray(0, count + 1));
      starts = grown;
    }
    if (seq instanceof Int32Array) {
      for (let i = 0; i < len; i++) {
        const t = seq[i];
        if (t < 0 || t === TOKEN_LIMIT) throw new RangeError(`${fn}: ${name}[${i}] is ${t}; tokens must be integers in [0, 2^31 − 1)`);
        if (t > maxToken) maxToken = t;
      }
      tokens.set(seq, total);
    } else {
      for (let i = 0; i < len; i++) {
        const t = seq[i];
        if (typeof t !== 'number') throw new TypeError(`${fn}: ${name}[${i}] must be a number, got ${show(t)}`);
        if (!Number.isInteger(t) || t < 0 || t >= TOKEN_LIMIT) {
          throw new RangeError(`${fn}: ${name}[${i}] is ${t}; tokens must be integers in [0, 2^31 − 1)`);
        }
        if (t > maxToken) maxToken = t;
        tokens[total + i] = t;
      }
    }
    if (needEnd) tokens[total + len] = endToken;
    total += full;
    if (full > maxDepth) maxDepth = full;
    count++;
    starts[count] = total;
  }
  return { tokens: tokens.subarray(0, total), starts: starts.subarray(0, count + 1), count, total, maxDepth, maxToken };
}

/** maxWidth from the BFS levels: level d+1 is childStart[first of level d] … childStart[end of level d]. */
function widthOf(childStart: Int32Array, numNodes: number): { maxWidth: number; depth: number } {
  let a = 0;
  let b = 1;
  let depth = 0;
  let maxWidth = 0;
  while (b < numNodes || a < b) {
    const na = childStart[a];
    const nb = childStart[b];
    if (nb <= na) break;
    depth++;
    maxWidth = Math.max(maxWidth, nb - na);
    a = na;
    b = nb;
  }
  return { maxWidth, depth };
}

const VALIDATION_ERRORS: Record<number, (where: number) => string> = {
  1: () => 'childStart[0] must be 1 and childStart[N] must be N',
  2: (w) => `childStart must ascend, with node ${w}'s children after it`,
  3: (w) => `labels must be non-negative and strictly ascending among siblings, root −1 (node ${w})`,
  4: (w) => `node ${w} violates 0 ≤ lo ≤ hi ≤ M`,
  5: (w) => `entryNode[${w}] is out of range`,
  6: (w) => `inputToEntry[${w}] is out of range`,
};

/** The same invariants as the wasm `trie_validate`, in JS (for buffer-backed tries). Returns [code, where]. */
function validateArrays(a: TrieArrays, n: number, m: number): [number, number] {
  if (a.childStart[0] !== 1 || a.childStart[n] !== n) return [1, 0];
  if (a.label[0] !== -1) return [3, 0];
  for (let v = 0; v < n; v++) {
    const s = a.childStart[v];
    const e = a.childStart[v + 1];
    if (s <= v || e < s || e > n) return [2, v];
    let prev = -1;
    for (let c = s; c < e; c++) {
      if (a.label[c] <= prev) return [3, c];
      prev = a.label[c];
    }
    if (a.lo[v] < 0 || a.lo[v] > a.hi[v] || a.hi[v] > m) return [4, v];
  }
  for (let i = 0; i < m; i++) if (a.entryNode[i] < 0 || a.entryNode[i] >= n) return [5, i];
  for (let i = 0; i < a.inputToEntry.length; i++) if (a.inputToEntry[i] < 0 || a.inputToEntry[i] >= m) return [6, i];
  return [0, 0];
}

function validationError(fn: string, code: number, where: number): RangeError {
  return new RangeError(`${fn}: corrupt trie: ${VALIDATION_ERRORS[code]?.(where) ?? `invariant ${code} violated`}`);
}

/** Parse and check a serialized header; returns sizes. */
function readHeader(fn: string, buffer: unknown): { bytes: Uint8Array; n: number; m: number; i: number; maxDepth: number; endToken: number } {
  let bytes: Uint8Array;
  if (buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) bytes = new Uint8Array(buffer);
  else if (ArrayBuffer.isView(buffer)) bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  else throw new TypeError(`${fn}: buffer must be an ArrayBuffer or a typed array, got ${show(buffer)}`);
  if (bytes.byteLength < HEADER) throw new RangeError(`${fn}: buffer has ${bytes.byteLength} bytes, fewer than the 32-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new RangeError(`${fn}: not a serialized trie (magic is not "GCTR")`);
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw new RangeError(`${fn}: unsupported trie version ${version} (expected ${VERSION})`);
  const n = dv.getInt32(8, true);
  const m = dv.getInt32(12, true);
  const i = dv.getInt32(16, true);
  const maxDepth = dv.getInt32(20, true);
  const endToken = dv.getInt32(24, true);
  if (n < 1 || m < 0 || i < 0 || maxDepth < 0 || endToken < -1 || endToken >= TOKEN_LIMIT || dv.getUint32(28, true) !== 0) {
    throw new RangeError(`${fn}: corrupt header (N ${n}, M ${m}, I ${i}, maxDepth ${maxDepth}, endToken ${endToken})`);
  }
  const size = trieByteLength(n, m, i);
  if (bytes.byteLength !== size) {
    throw new RangeError(`${fn}: buffer has ${bytes.byteLength} bytes but N ${n}, M ${m}, I ${i} need exactly ${size}`);
  }
  return { bytes, n, m, i, maxDepth, endToken };
}

/**
 * A trie over serialized bytes kept in JS (no wasm memory): the form a worker pool returns. Validated
 * like `loadTrie`.
 */
export function trieFromBuffer(buffer: ArrayBuffer | ArrayBufferView, fn = 'loadTrie'): TokenTrie {
  const h = readHeader(fn, buffer);
  const bytes = h.bytes.slice().buffer;
  const trie = new TokenTrie({ kind: 'buffer', bytes }, { n: h.n, m: h.m, i: h.i, maxDepth: h.maxDepth, maxWidth: 0, endToken: h.endToken });
  const a = trie.arrays();
  const [code, where] = validateArrays(a, h.n, h.m);
  if (code !== 0) throw validationError(fn, code, where);
  const { maxWidth, depth } = widthOf(a.childStart, h.n);
  if (depth !== h.maxDepth) throw new RangeError(`${fn}: corrupt trie: header maxDepth ${h.maxDepth} but the trie is ${depth} deep`);
  return new TokenTrie({ kind: 'buffer', bytes }, { n: h.n, m: h.m, i: h.i, maxDepth: h.maxDepth, maxWidth, endToken: h.endToken });
}

export function trieApi(inst: WasmInstance) {
  /** Build into wasm memory; `fn` is the public name errors carry. */
  function build(fn: string, sequences: Iterable<ArrayLike<number>>, opts?: TrieOptions): TokenTrie {
    const o = checkOptions(fn, opts);
    const endToken = checkEndToken(fn, o.endToken, true);
    const flat = flatten(fn, sequences, endToken);
    const { count, total } = flat;
    const mem = inst.mem;
    return mem.scoped((scope) => {
      const tokens = scope.copyIn(flat.tokens.length ? flat.tokens : new Int32Array(1), 'tokens');
      const starts = scope.copyIn(flat.starts, 'starts');
      const perm = scope.alloc(4 * count, 'perm');
      const scratch = scope.alloc(32 * count, 'sort scratch');
      const inputToEntry = scope.alloc(4 * count, 'inputToEntry');
      const entryTokensP = scope.alloc(4 * total, 'entry tokens');
      const entryStarts = scope.alloc(4 * (count + 1), 'entry starts');
      // Key width per token: as many leading tokens per 64-bit sort key as the largest token allows.
      const bits = flat.maxToken + 1 < 2 ** 16 ? 16 : flat.maxToken + 1 < 2 ** 21 ? 21 : 32;
      const m = inst.run(fn, (k) => {
        k.trie_sort(tokens, starts, count, bits, perm, scratch, scratch);
        return k.trie_dedupe(tokens, starts, count, perm, scratch, inputToEntry, entryTokensP, entryStarts);
      });
      const n = inst.run(fn, (k) => k.trie_count(entryTokensP, entryStarts, m));
      const body = 4 * (4 * n + 1 + m + count);
      const ptr = inst.mem.alloc(body, 'trie');
      try {
        const off = sectionOffsets(n, m);
        const maxWidth = inst.run(fn, (k) =>
          k.trie_build(entryTokensP, entryStarts, m, ptr + 4 * off.label, ptr + 4 * off.childStart, ptr + 4 * off.lo, ptr + 4 * off.hi, ptr + 4 * off.entryNode),
        );
        inst.mem.u8(ptr + 4 * off.inputToEntry, 4 * count).set(inst.mem.u8(inputToEntry, 4 * count));
        return new TokenTrie({ kind: 'wasm', inst, mem: inst.mem, ptr }, { n, m, i: count, maxDepth: flat.maxDepth, maxWidth, endToken });
      } catch (err) {
        if (inst.mem === mem) inst.mem.free(ptr);
        throw err;
      }
    });
  }

  return {
    /**
     * Build an immutable token trie in wasm memory (docs/constrained.md §1): sequences sorted
     * lexicographically (numeric, a proper prefix first), duplicates merged into one entry, nodes in BFS
     * order with ascending children. Memory: 16 bytes per node + 4 per entry + 4 per input; free it with
     * `dispose()`.
     *
     * @param sequences - token sequences (arrays or typed arrays of integers in [0, 2^31 − 1)).
     * @param opts.endToken - appended to every sequence not already ending with it.
     * @throws TypeError for non-arrays / non-numbers; RangeError for non-integer or out-of-range tokens, a
     *   sequence empty after appending, or a trie beyond the wasm memory limit.
     */
    buildTrie(sequences: Iterable<ArrayLike<number>>, opts?: TrieOptions): TokenTrie {
      return build('buildTrie', sequences, opts);
    },

    /**
     * Build a trie and return only its serialized bytes (what `serialize()` would give), freeing the
     * wasm memory at once. A worker pool uses it to build off the calling thread.
     * @throws as `buildTrie` (messages name `buildTrieBuffer`).
     */
    buildTrieBuffer(sequences: Iterable<ArrayLike<number>>, opts?: TrieOptions): ArrayBuffer {
      const trie = build('buildTrieBuffer', sequences, opts);
      try {
        return trie.serialize();
      } finally {
        trie.dispose();
      }
    },

    /**
     * Restore a trie from `serialize()`'s bytes into wasm memory without rebuilding: the header and every
     * structural invariant are checked (in wasm), then the sections are copied.
     * @throws TypeError if `buffer` is not bytes; RangeError for a corrupt or truncated buffer, or one
     *   beyond the wasm memory limit.
     */
    loadTrie(buffer: ArrayBuffer | ArrayBufferView): TokenTrie {
      const fn = 'loadTrie';
      const h = readHeader(fn, buffer);
      const bodyBytes = h.bytes.byteLength - HEADER;
      const used = 4 * (4 * h.n + 1 + h.m + h.i);
      const mem = inst.mem;
      return mem.scoped((scope) => {
        // Bytes living in wasm memory are read through their pin: the trie's block may grow the memory.
        scope.pin(h.bytes);
        const ptr = mem.alloc(used, 'trie');
        try {
          mem.u8(ptr, used).set(scope.view(h.bytes).subarray(HEADER, HEADER + Math.min(used, bodyBytes)));
          const off = sectionOffsets(h.n, h.m);
          const where = mem.alloc(16, 'where');
          let code: number;
          try {
            code = inst.run(fn, (k) =>
              k.trie_validate(
                ptr + 4 * off.label, ptr + 4 * off.childStart, ptr + 4 * off.lo, ptr + 4 * off.hi, ptr + 4 * off.entryNode, ptr + 4 * off.inputToEntry,
                h.n, h.m, h.i, where,
              ),
            );
            if (code !== 0) throw validationError(fn, code, mem.i32(where, 1)[0]);
          } finally {
            if (inst.mem === mem) mem.free(where);
          }
          const { maxWidth, depth } = widthOf(mem.i32(ptr + 4 * off.childStart, h.n + 1), h.n);
          if (depth !== h.maxDepth) throw new RangeError(`${fn}: corrupt trie: header maxDepth ${h.maxDepth} but the trie is ${depth} deep`);
          return new TokenTrie({ kind: 'wasm', inst, mem, ptr }, { n: h.n, m: h.m, i: h.i, maxDepth: h.maxDepth, maxWidth, endToken: h.endToken });
        } catch (err) {
          if (inst.mem === mem) mem.free(ptr);
          throw err;
        }
      });
    },
  };
}
