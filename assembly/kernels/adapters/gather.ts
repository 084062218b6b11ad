// Row gather for the model adapters: dst row r = src row index[r]. A KV cache reordered by a beam
// step's parent rows, or an encoder output expanded to one row per beam, is one call instead of a
// JavaScript loop over rows.

/**
 * Copy `rows` rows of `rowBytes` bytes: row r of dst (at dst + r·rowBytes) is row index[r] of src.
 * index holds `rows` i32 values, each in [0, rows of src) (checked by the binding); dst must not overlap src.
 */
export function gather_rows(src: usize, rowBytes: usize, index: usize, rows: i32, dst: usize): void {
  for (let r = 0; r < rows; r++) {
    const from = <usize>load<i32>(index + (<usize>r << 2));
    memory.copy(dst + <usize>r * rowBytes, src + from * rowBytes, rowBytes);
  }
}
