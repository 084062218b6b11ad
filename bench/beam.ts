/**
 * `npm run bench beam`: the token trie and the beam step, against plain-JS peers measured in the same run.
 *
 * 1. Trie build for 1M synthetic entries (Zipf-distributed GPT-2 token ids, 2–9 tokens + end token):
 *    gencore's CSR build vs a JS Map-of-Maps trie; bytes per node, serialized size; loading the
 *    serialized trie (validate + copy) vs building it.
 * 2. Beam step cost excluding the scorer (V = 50 257, K = 8, 20 steps, float32 logits, GENRE/HF mode with
 *    the full-vocabulary log-softmax): gencore vs a plain-JS implementation of the same algorithm
 *    (same candidate order, bounded top-K, float64). Both runs must return identical hypotheses. A
 *    trie-constrained search over the 1M-entry trie is timed the same way.
 */
import { init, type BeamBatch, type Hypothesis, type TokenTrie } from '../bindings/index.js';
import { fmt, measure, printTable, writeResults } from './lib.js';
import { mulberry32 } from './shared/random.js';

const V = 50257;
const END = 50256;
const K = 8;
const STEPS = 20;

/** n entries of 2–9 tokens; token ranks Zipf(1.1) over the vocabulary, so prefixes are shared as in real names. */
function syntheticEntries(n: number, seed: number): Int32Array[] {
  const r = mulberry32(seed);
  // Inverse CDF of a Zipf law by table lookup.
  const ranks = 50000;
  const cdf = new Float64Array(ranks);
  let s = 0;
  for (let i = 0; i < ranks; i++) cdf[i] = s += 1 / Math.pow(i + 1, 1.1);
  const draw = () => {
    const u = r() * s;
    let lo = 0;
    let hi = ranks - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = 2 + Math.floor(r() * 8);
    const seq = new Int32Array(len);
    for (let j = 0; j < len; j++) seq[j] = draw();
    out.push(seq);
  }
  return out;
}

/** The JS peer: a trie of nested Maps, end marked by the end token's key. */
function mapTrie(seqs: Int32Array[], endToken: number): { root: Map<number, unknown>; nodes: number } {
  const root = new Map<number, unknown>();
  let nodes = 1;
  for (const seq of seqs) {
    let node = root;
    const len = seq.length;
    for (let i = 0; i <= len; i++) {
      const t = i < len ? seq[i] : endToken;
      if (i === len && len > 0 && seq[len - 1] === endToken) break;
      let next = node.get(t) as Map<number, unknown> | undefined;
      if (!next) {
        next = new Map();
        node.set(t, next);
        nodes++;
      }
      node = next;
    }
  }
  return { root, nodes };
}

// ---------------------------------------------------------------- the plain-JS beam search

interface JsTrie {
  label: Int32Array;
  childStart: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  entryNode: Int32Array;
}

/**
 * The canonical algorithm (docs/constrained.md §3.3, GENRE/HF mode, no transform) in plain JS, written for speed:
 * per-row max and log-sum-exp with Math.exp, bounded insertion into the top-K overall and top-K
 * continuing lists in (row, token) order, float64 throughout.
 */
function jsBeamSearch(scorer: (b: { step: number; rows: number; prefixes: Int32Array }) => Float32Array, trie: JsTrie | null, opts: { beams: number; maxLength: number; endToken: number }) {
  const Kb = opts.beams;
  let beams: Array<{ prefix: Int32Array; logProb: number; node: number }> = [{ prefix: new Int32Array(0), logProb: 0, node: 0 }];
  const pool: Array<{ tokens: Int32Array; logProb: number; score: number }> = [];
  let scorerTime = 0;
  for (let step = 0; step < opts.maxLength && beams.length; step++) {
    const rows = beams.length;
    const prefixes = new Int32Array(rows * step);
    beams.forEach((b, r) => prefixes.set(b.prefix, r * step));
    const t0 = performance.now();
    const logits = scorer({ step, rows, prefixes });
    scorerTime += performance.now() - t0;
    const vocab = logits.length / rows;
    const allV: number[] = [], allR: number[] = [], allT: number[] = [], allF: number[] = [];
    const conV: number[] = [], conR: number[] = [], conT: number[] = [];
    const insert = (vs: number[], rs: number[], ts: number[], v: number, r: number, t: number, fs?: number[], f = 0) => {
      let pos = vs.length;
      while (pos > 0 && vs[pos - 1] < v) pos--;
      if (pos >= Kb) return;
      vs.splice(pos, 0, v);
      rs.splice(pos, 0, r);
      ts.splice(pos, 0, t);
      fs?.splice(pos, 0, f);
      if (vs.length > Kb) {
        vs.pop();
        rs.pop();
        ts.pop();
        fs?.pop();
      }
    };
    for (let r = 0; r < rows; r++) {
      const base = r * vocab;
      let m = -Infinity;
      for (let i = 0; i < vocab; i++) {
        const x = logits[base + i];
        if (x > m && x - x === 0) m = x;
      }
      let s = 0;
      for (let i = 0; i < vocab; i++) {
        const x = logits[base + i];
        if (x - x === 0) s += Math.exp(x - m);
      }
      const ls = Math.log(s);
      const b = beams[r];
      const a0 = trie ? trie.childStart[b.node] : 0;
      const a1 = trie ? trie.childStart[b.node + 1] : vocab;
      for (let j = a0; j < a1; j++) {
        const tok = trie ? trie.label[j] : j;
        const v = b.logProb + ((logits[base + tok] - m) - ls);
        const thr = conV.length === Kb ? conV[Kb - 1] : -Infinity;
        if (!(v > thr) || v - v !== 0) continue;
        let finishes: boolean;
        let continues: boolean;
        if (trie) {
          finishes = trie.lo[j] < trie.hi[j] && trie.entryNode[trie.lo[j]] === j;
          continues = trie.childStart[j + 1] > trie.childStart[j];
        } else {
          finishes = tok === opts.endToken;
          continues = !finishes;
        }
        const thrAll = allV.length === Kb ? allV[Kb - 1] : -Infinity;
        if (v > thrAll) insert(allV, allR, allT, v, r, tok, allF, (finishes ? 1 : 0) | (trie ? j << 1 : 0));
        if (continues) insert(conV, conR, conT, v, r, trie ? j : tok);
      }
    }
    for (let i = 0; i < allV.length; i++) {
      if (!(allF[i] & 1)) continue;
      const p = beams[allR[i]].prefix;
      const tokens = new Int32Array(p.length + 1);
      tokens.set(p);
      tokens[p.length] = allT[i];
      pool.push({ tokens, logProb: allV[i], score: allV[i] / tokens.length });
    }
    beams = conV.map((v, i) => {
      const p = beams[conR[i]].prefix;
      const prefix = new Int32Array(p.length + 1);
      prefix.set(p);
      prefix[p.length] = trie ? trie.label[conT[i]] : conT[i];
      return { prefix, logProb: v, node: trie ? conT[i] : 0 };
    });
  }
  pool.sort((a, b) => b.score - a.score);
  return { pool: pool.slice(0, Kb), scorerTime };
}

/** A scorer whose cost is negligible and measured: random float32 logits precomputed per step. */
function tableScorer(steps: number, seed: number) {
  const r = mulberry32(seed);
  const tables: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const t = new Float32Array(K * V);
    for (let i = 0; i < t.length; i++) t[i] = 6 * r() - 3 + (i % V === END ? -4 : 0);
    tables.push(t);
  }
  let time = 0;
  const fn = (b: { step: number; rows: number }) => {
    const t0 = performance.now();
    const out = tables[b.step].subarray(0, b.rows * V);
    time += performance.now() - t0;
    return out;
  };
  return { fn, get time() { return time; }, reset() { time = 0; } };
}

function sameHyps(a: Array<{ tokens: Int32Array; logProb: number }>, b: Array<{ tokens: Int32Array; logProb: number }>): boolean {
  return a.length === b.length && a.every((h, i) => h.tokens.join() === b[i].tokens.join() && Math.abs(h.logProb - b[i].logProb) < 1e-9);
}

export async function run(): Promise<void> {
  const gc = await init();
  const quick = process.env.GENCORE_QUICK === '1';
  const N_ENTRIES = quick ? 100_000 : 1_000_000;

  // ---------------------------------------------------------------- 1. trie
  const seqs = syntheticEntries(N_ENTRIES, 1);
  let trie: TokenTrie | undefined;
  const build = await measure(() => {
    trie?.dispose();
    trie = gc.buildTrie(seqs, { endToken: END });
  }, { warmup: 1, minRepeats: 3, maxRepeats: 5, minSeconds: 0 });
  const t = trie!;
  let nodesMap = 0;
  const heap0 = process.memoryUsage().heapUsed;
  let keep: unknown;
  // One timed build after one warm-up: a Map-of-Maps build of 1M entries takes seconds.
  const buildMap = await measure(() => {
    keep = undefined;
    const m = mapTrie(seqs, END);
    nodesMap = m.nodes;
    keep = m.root;
  }, { warmup: 1, minRepeats: 1, maxRepeats: 1, minSeconds: 0 });
  (globalThis as { gc?: () => void }).gc?.();
  const mapHeapBytes = Math.max(0, process.memoryUsage().heapUsed - heap0);
  keep = undefined;
  const bytes = t.serialize();
  let loaded: TokenTrie | undefined;
  const load = await measure(() => {
    loaded?.dispose();
    loaded = gc.loadTrie(bytes);
  }, { warmup: 1, minRepeats: 10, maxRepeats: 30, minSeconds: 0.5 });
  loaded!.dispose();
  if (nodesMap !== t.numNodes) throw new Error(`bench: Map-of-Maps has ${nodesMap} nodes, gencore ${t.numNodes}`);
  const nodeBytes = 16 * t.numNodes + 4; // label, childStart, lo, hi
  const trieBytes = 4 * (4 * t.numNodes + 1 + t.numEntries + t.numInputs);
  const trieRows = [
    { what: 'gencore buildTrie (CSR, wasm)', 'time s': build.median, 'nodes': t.numNodes, 'bytes/node (node arrays)': nodeBytes / t.numNodes, 'bytes/node (all)': trieBytes / t.numNodes, 'ratio vs Map-of-Maps': buildMap.median / build.median },
    { what: 'JS Map-of-Maps trie', 'time s': buildMap.median, 'nodes': nodesMap, 'bytes/node (node arrays)': '', 'bytes/node (all)': mapHeapBytes ? mapHeapBytes / nodesMap : 'n/a', 'ratio vs Map-of-Maps': 1 },
    { what: 'gencore loadTrie (validate + copy)', 'time s': load.median, 'nodes': t.numNodes, 'bytes/node (node arrays)': '', 'bytes/node (all)': '', 'ratio vs Map-of-Maps': buildMap.median / load.median },
  ];
  printTable(`Trie of ${N_ENTRIES.toLocaleString('en')} synthetic entries (${t.numEntries.toLocaleString('en')} distinct; serialized ${fmt(bytes.byteLength / 2 ** 20)} MiB)`, trieRows);
  console.log(
    `load is ${fmt(build.median / load.median)}× faster than build by medians, ${fmt(build.min / load.min)}× by best times (target ≥ 20×); ` +
      `build ${fmt(buildMap.median / build.median)}× faster than Map-of-Maps (target ≥ 3×); ${(nodeBytes / t.numNodes).toFixed(6)} B/node in the node arrays ` +
      `(16 + 4/N; target ≤ 16), ${fmt(trieBytes / t.numNodes)} B/node with the entry and input maps`,
  );

  // ---------------------------------------------------------------- 2. beam step
  const scorer = tableScorer(STEPS, 7);
  const opts = { beams: K, maxLength: STEPS, endToken: END, lengthPenalty: 1 };
  let gcResult: Hypothesis[] = [];
  let gcScorer = 0;
  const gcBeam = await measure(async () => {
    scorer.reset();
    gcResult = (await gc.beamSearch(scorer.fn as (b: BeamBatch) => Float32Array, opts)) as Hypothesis[];
    gcScorer = scorer.time;
  }, { warmup: 2, minRepeats: 5, maxRepeats: 20, minSeconds: 1 });
  let jsResult: ReturnType<typeof jsBeamSearch>['pool'] = [];
  let jsScorer = 0;
  const jsBeam = await measure(() => {
    const r = jsBeamSearch(scorer.fn, null, opts);
    jsResult = r.pool;
    jsScorer = r.scorerTime;
  }, { warmup: 1, minRepeats: 3, maxRepeats: 10, minSeconds: 1 });
  const gcStep = (gcBeam.median - gcScorer / 1000) / STEPS;
  const jsStep = (jsBeam.median - jsScorer / 1000) / STEPS;
  const gcStepMin = (gcBeam.min - gcScorer / 1000) / STEPS;
  const jsStepMin = (jsBeam.min - jsScorer / 1000) / STEPS;
  const sameUnconstrained = sameHyps(gcResult, jsResult);

  // Trie-constrained (GENRE mode) over the 1M-entry trie: entries are ≤ 10 tokens, so fewer steps.
  const a = t.arrays();
  const jsTrie: JsTrie = { label: a.label.slice(), childStart: a.childStart.slice(), lo: a.lo.slice(), hi: a.hi.slice(), entryNode: a.entryNode.slice() };
  let gcSteps = 0;
  let gcTrieResult: Hypothesis[] = [];
  const gcTrie = await measure(async () => {
    scorer.reset();
    gcSteps = 0;
    gcTrieResult = (await gc.beamSearch(scorer.fn as (b: BeamBatch) => Float32Array, { ...opts, constraint: t, onProgress: () => gcSteps++ })) as Hypothesis[];
    gcScorer = scorer.time;
  }, { warmup: 2, minRepeats: 5, maxRepeats: 20, minSeconds: 1 });
  let jsTrieResult: ReturnType<typeof jsBeamSearch>['pool'] = [];
  const jsTrieRun = await measure(() => {
    const r = jsBeamSearch(scorer.fn, jsTrie, opts);
    jsTrieResult = r.pool;
    jsScorer = r.scorerTime;
  }, { warmup: 1, minRepeats: 3, maxRepeats: 10, minSeconds: 1 });
  const gcTrieStep = (gcTrie.median - gcScorer / 1000) / gcSteps;
  const jsTrieStep = (jsTrieRun.median - jsScorer / 1000) / gcSteps;
  const sameTrie = sameHyps(gcTrieResult, jsTrieResult);

  const stepRows = [
    { search: `unconstrained, ${STEPS} steps`, 'gencore ms/step': gcStep * 1e3, 'plain JS ms/step': jsStep * 1e3, speedup: jsStep / gcStep, 'same result': String(sameUnconstrained) },
    { search: `1M-entry trie, ${gcSteps} steps`, 'gencore ms/step': gcTrieStep * 1e3, 'plain JS ms/step': jsTrieStep * 1e3, speedup: jsTrieStep / gcTrieStep, 'same result': String(sameTrie) },
  ];
  printTable(`Beam step excluding the scorer (V = ${V}, K = ${K}, float32 logits, full log-softmax)`, stepRows);
  console.log(`beam step ${fmt(jsStep / gcStep)}× the plain-JS implementation by medians, ${fmt(jsStepMin / gcStepMin)}× by best runs (target ≥ 5×)`);
  t.dispose();

  writeResults('beam', {
    trie: {
      entries: N_ENTRIES, distinct: t.numEntries, nodes: t.numNodes, buildSeconds: build.median, mapOfMapsSeconds: buildMap.median, loadSeconds: load.median,
      bytesPerNodeNodeArrays: nodeBytes / t.numNodes, bytesPerNodeAll: trieBytes / t.numNodes, serializedBytes: bytes.byteLength, mapOfMapsHeapBytes: mapHeapBytes,
      buildSpeedupVsMap: buildMap.median / build.median, loadSpeedupVsBuild: build.median / load.median, loadSpeedupVsBuildBest: build.min / load.min,
    },
    beamStep: {
      V, K, steps: STEPS, gencoreMsPerStep: gcStep * 1e3, plainJsMsPerStep: jsStep * 1e3, speedup: jsStep / gcStep, speedupBestRuns: jsStepMin / gcStepMin, identical: sameUnconstrained,
      trie: { steps: gcSteps, gencoreMsPerStep: gcTrieStep * 1e3, plainJsMsPerStep: jsTrieStep * 1e3, speedup: jsTrieStep / gcTrieStep, identical: sameTrie },
    },
  });
}
