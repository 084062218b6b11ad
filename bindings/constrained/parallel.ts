/**
 * Pool side of constrained decoding. A trie in one instance's wasm memory cannot cross to a worker, so:
 *
 * - `pool.beamSearch(scorer, { constraint, transform, … })` sends the constraint's serialized bytes
 *   (`serialize()` of a TokenTrie or SubstringConstraint; raw bytes pass as they are); the worker loads
 *   them into its own memory for the search (validate + copy, no rebuild) and frees them afterwards. Node
 *   ids are identical there, so batches and results equal `gc.beamSearch`'s bit for bit. The scorer,
 *   `transform` and `onProgress` stay in the caller's thread as Comlink proxies; a transform's in-place
 *   edits are sent back as its return value.
 * - `pool.buildTrie` builds in a worker and returns a buffer-backed TokenTrie (its bytes live in the
 *   caller's JS heap; every read method works, and `serialize()` is a copy). `pool.loadTrie` validates
 *   bytes into such a trie; `pool.substringConstraint` and `pool.lcsLookahead` run in the caller's thread
 *   (plain JS). All of them can be passed to `pool.beamSearch` or to any `gc.beamSearch`.
 */
import type { BeamSearchOptions, Hypothesis, Scorer, Transform, TransformContext } from './beam.js';
import { lcsLookahead, type LcsLookaheadOptions } from './lookahead.js';
import { TokenTrie, trieFromBuffer, type TrieOptions } from './trie.js';
import { SubstringConstraint, makeSubstringConstraint } from './substring.js';
import type { WorkerPool } from '../worker/pool.js';

export async function parallelBeamSearch(pool: WorkerPool, scorer: Scorer, opts: BeamSearchOptions): Promise<Hypothesis[] | Hypothesis[][]> {
  if (opts === null || typeof opts !== 'object') return (await pool.call('beamSearch', [scorer, opts])) as Hypothesis[];
  const wire: Record<string, unknown> = { ...opts };
  const c = opts.constraint;
  if (c instanceof TokenTrie || c instanceof SubstringConstraint) wire.constraint = c.serialize();
  const t = opts.transform;
  if (typeof t === 'function') {
    wire.transform = async (ctx: TransformContext) => {
      const returned = await t(ctx);
      return returned ?? ctx.scores;
    };
  }
  return (await pool.call('beamSearch', [scorer, wire])) as Hypothesis[] | Hypothesis[][];
}

export async function parallelBuildTrie(pool: WorkerPool, sequences: Iterable<ArrayLike<number>>, opts?: TrieOptions): Promise<TokenTrie> {
  // A generator or other iterable cannot be cloned: materialise it as an array of arrays first.
  const seqs = Array.isArray(sequences) ? sequences : sequences !== null && typeof sequences === 'object' && Symbol.iterator in sequences ? [...sequences] : sequences;
  let bytes: ArrayBuffer;
  try {
    bytes = (await pool.call('buildTrieBuffer', [seqs, opts])) as ArrayBuffer;
  } catch (err) {
    // The worker's validation names its own method; the caller called buildTrie.
    if (err instanceof Error && err.message.startsWith('buildTrieBuffer:')) err.message = 'buildTrie:' + err.message.slice('buildTrieBuffer:'.length);
    throw err;
  }
  return trieFromBuffer(bytes, 'buildTrie');
}

// Constraints and transforms a pool hands out live on the caller's thread (a buffer-backed trie, a
// substring constraint, a lookahead): nothing to send to a worker.
export const poolLoadTrie = async (_pool: WorkerPool, buffer: ArrayBuffer | ArrayBufferView) => trieFromBuffer(buffer, 'loadTrie');
export const poolSubstringConstraint = async (_pool: WorkerPool, passages: ArrayLike<number>[], opts: { endToken: number }) =>
  makeSubstringConstraint(passages, opts);
export const poolLcsLookahead = async (_pool: WorkerPool, trie: TokenTrie, question: ArrayLike<number>, opts?: LcsLookaheadOptions): Promise<Transform> =>
  lcsLookahead(trie, question, opts);
