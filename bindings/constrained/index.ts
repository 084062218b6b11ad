/** Trie-constrained beam search: tries, substring constraints, beam search, lookaheads (docs/constrained.md). */
import { defineCapability } from '../capability.js';
import { constrainedApi } from './beam.js';
import { poolEditLookahead } from './edit-lookahead.js';
import { parallelBeamSearch, parallelBuildTrie, poolLcsLookahead, poolLoadTrie, poolSubstringConstraint } from './parallel.js';

export const constrained = defineCapability({
  api: constrainedApi,
  parallel: {
    beamSearch: parallelBeamSearch,
    buildTrie: parallelBuildTrie,
    loadTrie: poolLoadTrie,
    substringConstraint: poolSubstringConstraint,
    lcsLookahead: poolLcsLookahead,
    editLookahead: poolEditLookahead,
  },
});
