/**
 * A minimal ONNX model writer for tests: the protobuf wire format of the few ModelProto fields the test
 * graphs need (nodes, float/int64 initializers, typed inputs and outputs with symbolic dims), written
 * by hand so that the tests build their models without a converter. Field numbers follow onnx.proto
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
 */

/** Protobuf writer: varints and length-delimited fields, collected as chunks and joined once. */
class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(v: number | bigint): void {
    const out: number[] = [];
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.push(new Uint8Array(Float32Array.of(v).buffer));
    return this;
  }

  raw(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data.slice());
    return this;
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.raw(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** TensorProto.DataType values used here. */
export const FLOAT = 1;
export const INT64 = 7;

export type Dim = number | string;
export type AttrValue = number | number[] | string | { floats: number[] } | { tensor: Initializer };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface Initializer {
  name: string;
  dims: number[];
  /** float32 data, or int64 data (BigInt64Array). */
  data: Float32Array | BigInt64Array;
}

export interface ValueInfo {
  name: string;
  type: typeof FLOAT | typeof INT64;
  dims: Dim[];
}

export interface Graph {
  nodes: Node[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function tensorProto(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  w.raw(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w;
}

function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer().string(1, name);
  // AttributeProto.type: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7.
  if (typeof v === 'number') return Number.isInteger(v) ? w.int(3, v).int(20, 2) : w.float(2, v).int(20, 1);
  if (typeof v === 'string') return w.string(4, v).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    return w.int(20, 7);
  }
  if ('floats' in v) {
    for (const x of v.floats) w.float(7, x);
    return w.int(20, 6);
  }
  return w.message(5, tensorProto(v.tensor)).int(20, 4);
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, v.type).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

/** The bytes of an ONNX model (IR version 8, default-domain opset 17) holding `graph`. */
export function onnxModel(graph: Graph, name = 'test'): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => {
    const w = new Writer();
    for (const x of n.inputs) w.string(1, x);
    for (const x of n.outputs) w.string(2, x);
    w.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, attribute(k, v));
    g.message(1, w);
  });
  g.string(2, name);
  for (const t of graph.initializers) g.message(5, tensorProto(t));
  for (const v of graph.inputs) g.message(11, valueInfo(v));
  for (const v of graph.outputs) g.message(12, valueInfo(v));
  return new Writer()
    .int(1, 8)
    .string(2, 'gencore-tests')
    .message(7, g)
    .message(8, new Writer().string(1, '').int(2, 17))
    .finish();
}
