/** The suites that run both in Node and in the browser page, by bench name. */
import { attentionSuite } from './attention.js';
import { citiesSuite } from './cities.js';
import type { Suite } from './env.js';
import { entropySuite } from './entropy.js';
import { gemmSuite } from './gemm.js';

export const SHARED_SUITES: Record<string, Suite> = { gemm: gemmSuite, entropy: entropySuite, attention: attentionSuite, cities: citiesSuite };
