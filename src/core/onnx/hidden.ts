/**
 * Exposes a decoder's final hidden state h (the LM head's input) as a graph output, so that a
 * standard export hands h to JavaScript next to the logits (transformers.js returns every output of
 * `forward`). The edit appends an Identity node and a graph output to the GraphProto (repeated fields
 * may be appended at the end of a message), rewrites the graph's length prefix and splices: the
 * weights are copied once, into the one new buffer.
 */
import {
  GRAPH,
  indexOnnxModel,
  MODEL,
  NODE,
  OnnxModelError,
  producerOf,
  TENSOR_TYPE,
  TYPE,
  VALUE_INFO,
  type NodeInfo,
  type OnnxIndex,
} from './model.ts';
import { ProtoWriter, WIRE_LENGTH_DELIMITED } from './protobuf.ts';

/** Ops that compute logits = h · W (with W possibly quantised); h is their first input. */
const LM_HEAD_OPS = new Set(['MatMul', 'Gemm', 'MatMulNBits']);

export interface LmHead {
  node: NodeInfo;
  /** The tensor holding h, the LM head's input. */
  hidden: string;
  /** The LM head's weight input (an initializer, or the output of a dequantising node). */
  weight: string;
}

/** Finds the node computing `logitsName`, looking through a trailing Cast (fp16 exports cast logits to fp32). */
export function findLmHead(index: OnnxIndex, logitsName = 'logits'): LmHead {
  if (!index.outputs.some((o) => o.name === logitsName)) {
    const names = index.outputs.map((o) => o.name).join(', ');
    throw new OnnxModelError(`the graph has no output named "${logitsName}" (its outputs: ${names || 'none'})`);
  }
  let node = producerOf(index, logitsName);
  if (node?.opType === 'Cast' && node.inputs[0]) node = producerOf(index, node.inputs[0]);
  if (!node) throw new OnnxModelError(`no node produces "${logitsName}"`);
  if (!LM_HEAD_OPS.has(node.opType)) {
    throw new OnnxModelError(
      `"${logitsName}" is produced by a ${node.opType} node ("${node.name}"), not by a MatMul/Gemm LM head; ` +
        'export the model with the hidden state as an output instead',
    );
  }
  const [hidden, weight] = node.inputs;
  if (!hidden || !weight) throw new OnnxModelError(`the LM head node "${node.name}" has fewer than two inputs`);
  return { node, hidden, weight };
}

export interface ExposeHiddenResult {
  bytes: Uint8Array;
  /** The new (or existing) output's name. */
  outputName: string;
  lmHead: LmHead;
  /** True when the graph already had the output; `bytes` is then the input, unchanged. */
  alreadyPresent: boolean;
}

export interface ExposeHiddenOptions {
  logitsName?: string;
  outputName?: string;
}

export function exposeHiddenState(model: Uint8Array, options: ExposeHiddenOptions = {}): ExposeHiddenResult {
  const outputName = options.outputName ?? 'last_hidden_state';
  const index = indexOnnxModel(model);
  const lmHead = findLmHead(index, options.logitsName ?? 'logits');
  if (index.outputs.some((o) => o.name === outputName))
    return { bytes: model, outputName, lmHead, alreadyPresent: true };
  const taken = new Set(index.nodes.flatMap((n) => n.outputs));
  if (taken.has(outputName)) throw new OnnxModelError(`a tensor named "${outputName}" already exists in the graph`);
  const logits = index.outputs.find((o) => o.name === (options.logitsName ?? 'logits'));

  const appended = new ProtoWriter()
    .message(GRAPH.node, (n) =>
      n
        .string(NODE.input, lmHead.hidden)
        .string(NODE.output, outputName)
        .string(NODE.name, `expose_${outputName}`)
        .string(NODE.opType, 'Identity'),
    )
    .message(GRAPH.output, (v) => {
      v.string(VALUE_INFO.name, outputName);
      // h has the logits' element type (the LM head multiplies it without a cast in between).
      if (logits?.elemType != null) {
        const elemType = logits.elemType;
        v.message(VALUE_INFO.type, (t) =>
          t.message(TYPE.tensorType, (tt) => tt.varint(TENSOR_TYPE.elemType, elemType)),
        );
      }
    })
    .finish();

  const { graph } = index;
  const graphLength = graph.end - graph.valueStart + appended.length;
  const bytes = new ProtoWriter()
    .raw(model.subarray(0, graph.tagStart))
    .tag(MODEL.graph, WIRE_LENGTH_DELIMITED)
    .varintValue(graphLength)
    .raw(model.subarray(graph.valueStart, graph.end))
    .raw(appended)
    .raw(model.subarray(graph.end))
    .finish();
  return { bytes, outputName, lmHead, alreadyPresent: false };
}
