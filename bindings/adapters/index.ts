/** Runtime adapters' wasm side: the row gather that reorders KV caches and expands encoder outputs (docs/adapters.md). */
import { defineCapability } from '../capability.js';
import { gatherApi } from './gather.js';

export const adapters = defineCapability({ api: gatherApi });
