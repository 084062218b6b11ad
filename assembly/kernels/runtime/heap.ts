// The host (bindings/wasm/memory.ts) owns all allocation; it only needs to know where static data ends.

/** First free byte after the module's static data, in bytes. The host allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}
