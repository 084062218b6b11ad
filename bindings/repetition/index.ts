/** Repetition analysis of decoders (docs/repetition.md). */
import { defineCapability } from '../capability.js';
import { repetitionApi } from './repetition.js';

export const repetition = defineCapability({ api: repetitionApi });
