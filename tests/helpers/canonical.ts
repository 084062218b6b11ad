/** Canonical bytes of a result, for "bit-identical" comparisons across the sync API and pools. */

/** Typed arrays as hex, numbers as their float64 bits, arrays and plain objects recursively (keys sorted). */
export function canonical(v: unknown): string {
  if (ArrayBuffer.isView(v)) {
    const u8 = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return `${v.constructor.name}:${Buffer.from(u8).toString('hex')}`;
  }
  if (typeof v === 'number') return `n:${Buffer.from(new Float64Array([v]).buffer).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${k}=${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return String(v);
}
