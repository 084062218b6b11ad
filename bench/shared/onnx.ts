/**
 * The one ONNX model the bench needs, C = MatMul(A, B) in f32, written as protobuf bytes by hand: only the
 * messages and fields of onnx.proto that a MatMul graph uses (ModelProto, OperatorSetIdProto, GraphProto,
 * NodeProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto.Dimension). No model file, no converter.
 */

/** Protobuf wire types used here. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** ONNX TensorProto.DataType.FLOAT. */
const ONNX_FLOAT = 1;

/** Bytes of one protobuf message, built field by field. */
class Message {
  private readonly bytes: number[] = [];

  private varint(value: number): void {
    // Non-negative integers below 2^53; 7 bits per byte, low group first.
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.varint(value);
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.varint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Message): this {
    return this.bytesField(field, value.toBytes());
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** ValueInfoProto of an f32 tensor: name, then type.tensor_type { elem_type, shape { dim* } }. */
function tensorInfo(name: string, dims: number[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, new Message().int(1, d)); // Dimension.dim_value
  const tensorType = new Message().int(1, ONNX_FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/**
 * An ONNX model computing C (m×n) = A (m×k) · B (k×n), inputs named `A`, `B`, output `C`
 * (IR version 8, default domain opset 13).
 */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const node = new Message().string(1, 'A').string(1, 'B').string(2, 'C').string(3, 'matmul').string(4, 'MatMul');
  const graph = new Message()
    .message(1, node)
    .string(2, 'gencore-bench-matmul')
    .message(11, tensorInfo('A', [m, k]))
    .message(11, tensorInfo('B', [k, n]))
    .message(12, tensorInfo('C', [m, n]));
  const opset = new Message().string(1, '').int(2, 13);
  return new Message().int(1, 8).string(2, 'gencore-bench').message(7, graph).message(8, opset).toBytes();
}
