/**
 * Weight-only int8 quantisation of an ONNX decoder: every MatMul whose weight is a float32 2-D
 * initializer gets int8 weights with one scale per output channel (symmetric, zero point 0, round
 * half to even) and a DequantizeLinear node in front; activations stay float. onnxruntime runs the
 * result on every backend (DequantizeLinear with `axis` is opset 13), and transformers.js loads it as
 * `dtype: 'q8'` when saved as onnx/model_quantized.onnx.
 */
import {
  DATA_TYPE,
  GRAPH,
  indexOnnxModel,
  initializerFloats,
  MODEL,
  NODE,
  OnnxModelError,
  TENSOR,
} from '../../src/core/onnx/model.ts';
import { ProtoWriter, WIRE_LENGTH_DELIMITED } from '../../src/core/onnx/protobuf.ts';

const ATTRIBUTE = { name: 1, i: 3, type: 20 } as const;
const ATTRIBUTE_TYPE_INT = 2;

/** Rounds to the nearest integer, ties to even (as numpy and torch do). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

export interface QuantizedWeight {
  name: string;
  rows: number;
  columns: number;
}

export interface QuantizeResult {
  bytes: Uint8Array;
  weights: QuantizedWeight[];
}

/** Quantises a [rows, columns] row-major float matrix per column: q in [-127, 127], w ≈ q · scale[column]. */
export function quantizePerColumn(
  values: Float32Array,
  rows: number,
  columns: number,
): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) scale[c] = Math.max(scale[c]!, Math.abs(values[r * columns + c]!));
  }
  for (let c = 0; c < columns; c++) scale[c] = scale[c] === 0 ? 1 : Math.fround(scale[c]! / 127);
  const q = new Int8Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      q[i] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(values[i]! / scale[c]!))));
    }
  }
  return { q, scale };
}

function floatBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function tensor(w: ProtoWriter, name: string, dims: number[], dataType: number, raw: Uint8Array): void {
  for (const d of dims) w.varint(TENSOR.dims, d);
  w.varint(TENSOR.dataType, dataType).string(TENSOR.name, name).bytes(TENSOR.rawData, raw);
}

export function quantizeMatMulWeightsInt8(model: Uint8Array): QuantizeResult {
  const index = indexOnnxModel(model);
  const opset = index.opsets.get('') ?? 0;
  if (opset < 13)
    throw new OnnxModelError(`per-channel DequantizeLinear needs opset 13 or later; the model imports opset ${opset}`);
  const targets = new Map<string, QuantizedWeight>();
  for (const node of index.nodes) {
    const weight = node.inputs[1];
    if (node.opType !== 'MatMul' || node.domain !== '' || !weight || targets.has(weight)) continue;
    const init = index.initializers.get(weight);
    if (!init || init.dataType !== DATA_TYPE.FLOAT || init.dims.length !== 2 || init.external) continue;
    targets.set(weight, { name: weight, rows: init.dims[0]!, columns: init.dims[1]! });
  }
  if (targets.size === 0) throw new OnnxModelError('no MatMul with a float32 2-D weight initializer to quantise');

  const graph = new ProtoWriter();
  // Dequantising nodes first, so the node list stays in topological order.
  for (const t of targets.values()) {
    graph.message(GRAPH.node, (n) =>
      n
        .string(NODE.input, `${t.name}_quantized`)
        .string(NODE.input, `${t.name}_scale`)
        .string(NODE.input, `${t.name}_zero_point`)
        .string(NODE.output, t.name)
        .string(NODE.name, `dequantize_${t.name}`)
        .string(NODE.opType, 'DequantizeLinear')
        .message(NODE.attribute, (a) =>
          a.string(ATTRIBUTE.name, 'axis').varint(ATTRIBUTE.i, 1).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE_INT),
        ),
    );
  }
  const { bytes } = index;
  const replaced = new Set([...targets.keys()].map((name) => index.initializers.get(name)!.span.tagStart));
  let copyFrom = index.graph.valueStart;
  // Copy the graph's fields in runs, leaving out the float initializers being replaced.
  for (const init of index.initializers.values()) {
    if (!replaced.has(init.span.tagStart)) continue;
    graph.raw(bytes.subarray(copyFrom, init.span.tagStart));
    copyFrom = init.span.end;
  }
  graph.raw(bytes.subarray(copyFrom, index.graph.end));
  for (const t of targets.values()) {
    const { q, scale } = quantizePerColumn(initializerFloats(index, t.name), t.rows, t.columns);
    graph.message(GRAPH.initializer, (w) =>
      tensor(w, `${t.name}_quantized`, [t.rows, t.columns], DATA_TYPE.INT8, new Uint8Array(q.buffer)),
    );
    graph.message(GRAPH.initializer, (w) =>
      tensor(w, `${t.name}_scale`, [t.columns], DATA_TYPE.FLOAT, floatBytes(scale)),
    );
    graph.message(GRAPH.initializer, (w) =>
      tensor(w, `${t.name}_zero_point`, [t.columns], DATA_TYPE.INT8, new Uint8Array(t.columns)),
    );
  }
  const graphBytes = graph.finish();
  const out = new ProtoWriter()
    .raw(bytes.subarray(0, index.graph.tagStart))
    .tag(MODEL.graph, WIRE_LENGTH_DELIMITED)
    .varintValue(graphBytes.length)
    .raw(graphBytes)
    .raw(bytes.subarray(index.graph.end))
    .finish();
  return { bytes: out, weights: [...targets.values()] };
}
