/**
 * A TokenEmbedder over a local BERT-family ONNX model in transformers.js (Optimum layout: config.json,
 * tokenizer.json, onnx/model.onnx with a last_hidden_state output). Nothing is fetched from the hub:
 * the caller names where the model lies (a folder in Node, a served path in the browser).
 */
import { AutoModel, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import type { TokenEmbedder, TokenEmbeddings } from './bertscore.ts';

export interface BertEmbedderOptions {
  /** Folder (Node) or URL path (browser) holding the model folders, e.g. "test/fixtures/". */
  localModelPath: string;
  /** Name of the model's folder under localModelPath, e.g. "bert-tiny". */
  modelId: string;
  /** 'cpu' in Node; 'wasm' or 'webgpu' in a browser. */
  device: 'cpu' | 'wasm' | 'webgpu';
}

export class BertModelError extends Error {
  override name = 'BertModelError';
}

export async function loadBertEmbedder(options: BertEmbedderOptions): Promise<TokenEmbedder> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = options.localModelPath.endsWith('/') ? options.localModelPath : options.localModelPath + '/';
  let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  let model: Awaited<ReturnType<typeof AutoModel.from_pretrained>>;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(options.modelId);
    model = await AutoModel.from_pretrained(options.modelId, { device: options.device, dtype: 'fp32' });
  } catch (e) {
    throw new BertModelError(
      `could not load a BERT model "${options.modelId}" from ${env.localModelPath} (expects config.json, tokenizer.json and onnx/model.onnx): ${(e as Error).message}`,
    );
  }
  const special = new Set(tokenizer.all_special_ids);
  const maxLength = Number(tokenizer.model_max_length);
  const truncation =
    Number.isFinite(maxLength) && maxLength > 0 && maxLength < 1e6 ? { truncation: true, max_length: maxLength } : {};
  return {
    name: options.modelId,
    async embed(text: string): Promise<TokenEmbeddings> {
      const inputs = tokenizer(text, truncation);
      const outputs: Record<string, unknown> = await model(inputs);
      const hidden = outputs['last_hidden_state'];
      if (!(hidden instanceof Tensor) || hidden.dims.length !== 3) {
        throw new BertModelError(`model "${options.modelId}" has no last_hidden_state output [batch, tokens, hidden]`);
      }
      const [, tokens, size] = hidden.dims as [number, number, number];
      const data = hidden.data as Float32Array;
      const ids = Array.from(inputs.input_ids.data as BigInt64Array, (v) => Number(v));
      const vectors = Array.from({ length: tokens }, (_, t) => data.slice(t * size, (t + 1) * size));
      return { ids, vectors, special: ids.map((id) => special.has(id)) };
    },
  };
}
