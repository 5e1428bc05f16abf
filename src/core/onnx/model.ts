/**
 * A read-only index over the bytes of an ONNX ModelProto: the graph's nodes, initializers and
 * outputs as byte spans into the original buffer. Field numbers follow onnx/onnx.proto.
 */
import {
  fields,
  ProtobufError,
  repeatedVarints,
  spanString,
  WIRE_LENGTH_DELIMITED,
  type FieldSpan,
} from './protobuf.ts';

export const MODEL = { graph: 7, opsetImport: 8 } as const;
export const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9, dataLocation: 14 } as const;
export const VALUE_INFO = { name: 1, type: 2 } as const;
export const TYPE = { tensorType: 1 } as const;
export const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
export const OPSET = { domain: 1, version: 2 } as const;

/** TensorProto.DataType values used here. */
export const DATA_TYPE = { FLOAT: 1, INT8: 3, FLOAT16: 10 } as const;

export class OnnxModelError extends Error {
  override name = 'OnnxModelError';
}

export interface NodeInfo {
  span: FieldSpan;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
}

export interface InitializerInfo {
  span: FieldSpan;
  name: string;
  dims: number[];
  dataType: number;
  /** The raw_data field, when the tensor stores its values there. */
  rawData: FieldSpan | null;
  /** float_data spans, when the tensor stores floats there instead. */
  floatData: FieldSpan[];
  external: boolean;
}

export interface ValueInfo {
  span: FieldSpan;
  name: string;
  /** TensorProto.DataType of a tensor value, or null when the type is not a tensor type. */
  elemType: number | null;
}

export interface OnnxIndex {
  bytes: Uint8Array;
  /** The ModelProto.graph field (a single one is required). */
  graph: FieldSpan;
  /** Opset versions by domain ("" is the default ONNX domain). */
  opsets: Map<string, number>;
  nodes: NodeInfo[];
  initializers: Map<string, InitializerInfo>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function readNode(bytes: Uint8Array, span: FieldSpan): NodeInfo {
  const node: NodeInfo = { span, name: '', opType: '', domain: '', inputs: [], outputs: [] };
  for (const f of fields(bytes, span.valueStart, span.end)) {
    if (f.field === NODE.input) node.inputs.push(spanString(bytes, f));
    else if (f.field === NODE.output) node.outputs.push(spanString(bytes, f));
    else if (f.field === NODE.name) node.name = spanString(bytes, f);
    else if (f.field === NODE.opType) node.opType = spanString(bytes, f);
    else if (f.field === NODE.domain) node.domain = spanString(bytes, f);
  }
  return node;
}

function readInitializer(bytes: Uint8Array, span: FieldSpan): InitializerInfo {
  const dimSpans: FieldSpan[] = [];
  const info: InitializerInfo = {
    span,
    name: '',
    dims: [],
    dataType: 0,
    rawData: null,
    floatData: [],
    external: false,
  };
  for (const f of fields(bytes, span.valueStart, span.end)) {
    if (f.field === TENSOR.dims) dimSpans.push(f);
    else if (f.field === TENSOR.dataType) info.dataType = f.varint;
    else if (f.field === TENSOR.name) info.name = spanString(bytes, f);
    else if (f.field === TENSOR.rawData) info.rawData = f;
    else if (f.field === TENSOR.floatData) info.floatData.push(f);
    else if (f.field === TENSOR.dataLocation) info.external = f.varint === 1;
  }
  info.dims = repeatedVarints(bytes, dimSpans);
  return info;
}

function readValueInfo(bytes: Uint8Array, span: FieldSpan): ValueInfo {
  const info: ValueInfo = { span, name: '', elemType: null };
  for (const f of fields(bytes, span.valueStart, span.end)) {
    if (f.field === VALUE_INFO.name) info.name = spanString(bytes, f);
    else if (f.field === VALUE_INFO.type) {
      for (const t of fields(bytes, f.valueStart, f.end)) {
        if (t.field !== TYPE.tensorType) continue;
        for (const e of fields(bytes, t.valueStart, t.end))
          if (e.field === TENSOR_TYPE.elemType) info.elemType = e.varint;
      }
    }
  }
  return info;
}

/** Indexes a ModelProto. Weights are visited by length only; nothing is copied. */
export function indexOnnxModel(bytes: Uint8Array): OnnxIndex {
  let graph: FieldSpan | null = null;
  const opsets = new Map<string, number>();
  try {
    for (const f of fields(bytes)) {
      if (f.field === MODEL.graph && f.wireType === WIRE_LENGTH_DELIMITED) {
        if (graph)
          throw new OnnxModelError('the model has more than one graph field, which this editor does not merge');
        graph = f;
      } else if (f.field === MODEL.opsetImport && f.wireType === WIRE_LENGTH_DELIMITED) {
        let domain = '';
        let version = 0;
        for (const o of fields(bytes, f.valueStart, f.end)) {
          if (o.field === OPSET.domain) domain = spanString(bytes, o);
          else if (o.field === OPSET.version) version = o.varint;
        }
        opsets.set(domain === 'ai.onnx' ? '' : domain, version);
      }
    }
    if (!graph)
      throw new OnnxModelError('not an ONNX model: no graph found (is this file an HTML error page or truncated?)');
    const index: OnnxIndex = { bytes, graph, opsets, nodes: [], initializers: new Map(), inputs: [], outputs: [] };
    for (const f of fields(bytes, graph.valueStart, graph.end)) {
      if (f.wireType !== WIRE_LENGTH_DELIMITED) continue;
      if (f.field === GRAPH.node) index.nodes.push(readNode(bytes, f));
      else if (f.field === GRAPH.initializer) {
        const init = readInitializer(bytes, f);
        index.initializers.set(init.name, init);
      } else if (f.field === GRAPH.input) index.inputs.push(readValueInfo(bytes, f));
      else if (f.field === GRAPH.output) index.outputs.push(readValueInfo(bytes, f));
    }
    return index;
  } catch (err) {
    if (err instanceof ProtobufError) throw new OnnxModelError(`not a readable ONNX model: ${err.message}`);
    throw err;
  }
}

/** The float values of an initializer stored inside the file (float32 raw_data or float_data). */
export function initializerFloats(index: OnnxIndex, name: string): Float32Array {
  const init = index.initializers.get(name);
  if (!init) throw new OnnxModelError(`no initializer named "${name}"`);
  if (init.external) throw new OnnxModelError(`initializer "${name}" is stored in an external data file`);
  if (init.dataType !== DATA_TYPE.FLOAT)
    throw new OnnxModelError(`initializer "${name}" has data type ${init.dataType}, not float32`);
  const count = init.dims.reduce((a, b) => a * b, 1);
  const { bytes } = index;
  if (init.rawData) {
    const len = init.rawData.end - init.rawData.valueStart;
    if (len !== count * 4) throw new OnnxModelError(`initializer "${name}" holds ${len} bytes for ${count} floats`);
    // Copy into an aligned buffer: raw_data offsets are arbitrary.
    return new Float32Array(bytes.slice(init.rawData.valueStart, init.rawData.end).buffer);
  }
  const out = new Float32Array(count);
  let i = 0;
  for (const span of init.floatData) {
    if (span.wireType === WIRE_LENGTH_DELIMITED) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + span.valueStart, span.end - span.valueStart);
      for (let p = 0; p < view.byteLength; p += 4) out[i++] = view.getFloat32(p, true);
    } else {
      out[i++] = new DataView(bytes.buffer, bytes.byteOffset + span.valueStart, 4).getFloat32(0, true);
    }
  }
  if (i !== count) throw new OnnxModelError(`initializer "${name}" holds ${i} floats, its shape says ${count}`);
  return out;
}

/** The node that produces `tensor`, or undefined. */
export function producerOf(index: OnnxIndex, tensor: string): NodeInfo | undefined {
  return index.nodes.find((n) => n.outputs.includes(tensor));
}
