/**
 * Example 6: repetition analysis of decoders (docs/repetition.md).
 * Run: npx tsx examples/06-repetition.ts
 *
 * A decoder is modelled as a bigram chain P (P[i][j] = probability that token j follows token i).
 * Su's repetition rate R = Σ_L tr(M^L) with M = P∘P sums the probability of every loop w1…wL being
 * followed by itself again; R = ∞ exactly when the chain has a deterministic loop. This example first
 * works through a 3-token chain by hand, then analyses a bigram model of real mail (SpamAssassin)
 * under greedy, top-k, nucleus and temperature decoding.
 */
import { init } from '../bindings/index.js';
import { analyseDecoder, decoders, greedyLoops, spamAssassinBigrams } from './tour/repetition.js';
import { printTable } from '../bench/lib.js';

const gc = await init();

// --- 1. A small chain by hand -------------------------------------------------------------------
// Tokens: 0 = "the", 1 = "cat", 2 = <eos>. Rows are next-token distributions.
const P = Float64Array.from([
  0.5, 0.3, 0.2, // after "the"
  0.1, 0.6, 0.3, // after "cat"
  0.4, 0.4, 0.2, // row of <eos>: not read when eosIndex = 2
]);
const r = gc.repetition(P, 3, { eosIndex: 2 });
console.log(`R = ${r.R.toFixed(6)} (finite: ${r.finite}), ρ(M) = ${r.rhoM.toFixed(6)} ∈ [${r.rhoMBracket.map((v) => v.toFixed(6)).join(', ')}]`);
console.log('probability mass of length-k repetitions tr(M^k):', Array.from(r.traces, (t) => t.toExponential(3)).join(' '));
console.log('bounds:', r.lowerBounds, r.upperBounds);
console.log(`Fu et al.'s ARP = ${r.arp.value.toFixed(6)} ≤ Theorem 1 bound ${r.arp.thm1Bound.toFixed(6)} ≤ Cor. 1.1 ${r.arp.cor11.toFixed(6)}`);

// Greedy decoding turns each row into a one-hot: "the → the" is a deterministic loop, so R = ∞.
const greedy = gc.decodeTransform(P, 3, 3, { kind: 'greedy' });
const g = gc.repetition(greedy, 3, { eosIndex: 2 });
console.log(`greedy: R = ${g.R}, deterministic loops (token indices): ${g.cycles.map((c) => `[${c.join(' → ')}]`).join(', ')}`);

// Termination: the chance of ever emitting <eos> and the expected length, from every start token.
const t = gc.terminationStats(P, 3, 2);
console.log(`P(stop) = ${Array.from(t.absorbProb).join(', ')}; E[length] = ${Array.from(t.expectedLength, (x) => x.toFixed(3)).join(', ')}`);
const tg = gc.terminationStats(greedy, 3, 2);
console.log(`greedy: P(stop) = ${Array.from(tg.absorbProb).join(', ')}; greedy loops from tokens: ${Array.from(tg.greedy.loops).join(', ')}`);

// A consistent top-1 (Welleck et al.) keeps <eos> in every row, so decoding stops with probability 1.
const consistent = gc.decodeTransform(P, 3, 3, { kind: 'topK', k: 1, consistent: true, eosIndex: 2 });
const tc = gc.terminationStats(consistent, 3, 2);
console.log(`consistent top-1: almost surely stops: ${tc.almostSure}, E[length] = ${Array.from(tc.expectedLength, (x) => x.toFixed(3)).join(', ')}`);

// Bad input is refused before any work, with the row, column and value in the message.
try {
  gc.repetition(Float64Array.of(0.9, 0.2, 0.5, 0.5), 2);
} catch (err) {
  console.log(`${(err as Error).name}: ${(err as Error).message}`);
}

// --- 2. A bigram model of real mail ------------------------------------------------------------
const chain = spamAssassinBigrams(300, 800);
console.log(`\nSpamAssassin: ${chain.messages} messages, ${chain.tokens} BPE tokens; chain over ${chain.n} states`);
printTable(
  'Decoders compared (K = 8 series terms)',
  decoders(chain.eos).map(([name, spec]) => analyseDecoder(gc, chain, name, spec, 8).row),
);
console.log('\nGreedy loops:');
for (const line of greedyLoops(gc, chain, 5)) console.log(`  ${line}`);

// One round of Fu et al.'s rebalanced encoding: merge the pairs whose smoothed probability exceeds 0.5.
const merge = gc.highInflowPairs(chain.counts, chain.n, { threshold: 0.5 });
console.log(`\n${merge.pairs.length / 2} high-probability pairs to merge; max smoothed probability ${merge.maxProb.toFixed(3)}`);
