/**
 * A VisionLlmSession over @huggingface/transformers for LLaVA-style packs (model_type "llava" and the
 * other image-text-to-text models laid out the same way): onnx/vision_encoder.onnx turns pixel_values
 * into image_features, onnx/embed_tokens.onnx token ids into embeddings, and
 * onnx/decoder_model_merged.onnx runs the decoder from inputs_embeds with a key/value cache. The
 * model's own processor prepares the image (its preprocessor_config.json), and its image token marks
 * where the features go, as in transformers.js's default merge.
 */
import { AutoModelForImageTextToText, AutoProcessor, RawImage, Tensor, type PreTrainedModel, type PreTrainedTokenizer, type Processor, type ProgressInfo } from '@huggingface/transformers';
import type { ReferenceImage } from '../../chat.ts';
import type { ChatMessage, DecodingState, StepOutput } from './session.ts';
import { throwIfAborted } from './session.ts';
import { lastRow, type LlmDevice, type LlmDtype } from './transformers-session.ts';
import { ImageInputError, type ImageConditionedSession, type VisionLlmSession } from './vision-session.ts';

export interface TransformersVisionSessionOptions {
  /** A model id or directory under env.localModelPath (or a URL prefix in the browser). */
  model: string;
  device: LlmDevice;
  dtype: LlmDtype;
  /** The decoder's graph output holding h (default "last_hidden_state"). */
  hiddenOutput?: string;
  chatTemplate?: string | null;
  onProgress?: (info: ProgressInfo) => void;
}

interface VisionModelConfig {
  image_token_index?: number;
  image_token_id?: number;
  text_config?: { vocab_size?: number; hidden_size?: number; max_position_embeddings?: number; eos_token_id?: number | number[] };
}

interface ImageFeatures {
  /** [count, hidden] rows, one per image position. */
  rows: Float32Array;
  count: number;
}

async function readImage(image: ReferenceImage): Promise<RawImage> {
  try {
    // transformers.js reads plain strings as file paths in Node; a data: URL is fetched (Node and browsers decode it).
    if (image.source.startsWith('data:')) return await RawImage.fromBlob(await (await fetch(image.source)).blob());
    return await RawImage.read(image.source);
  } catch (err) {
    throw new ImageInputError(`The reference image could not be read (${image.source.slice(0, 40)}...): ${err instanceof Error ? err.message : String(err)}`);
  }
}

class VisionDecodingState implements DecodingState {
  length = 0;
  private past: Record<string, Tensor> = {};

  constructor(
    private readonly model: PreTrainedModel,
    private readonly hiddenOutput: string,
    private readonly imageTokenId: number,
    private readonly features: ImageFeatures | null,
  ) {}

  /** Token embeddings with the image features written over the image token positions. */
  private async embed(ids: readonly number[]): Promise<Tensor> {
    const input_ids = new Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]);
    const embeds = (await this.model.encode_text({ input_ids })) as Tensor;
    const positions = ids.flatMap((id, i) => (id === this.imageTokenId ? [i] : []));
    if (positions.length === 0) return embeds;
    if (!this.features) throw new ImageInputError('the text holds the image token but no image was given');
    if (positions.length !== this.features.count) {
      throw new ImageInputError(`the image takes ${this.features.count} positions but the text holds ${positions.length} image tokens`);
    }
    const width = embeds.dims[2]!;
    const data = embeds.type === 'float32' ? (embeds.data as Float32Array) : (embeds.to('float32').data as Float32Array);
    positions.forEach((p, row) => data.set(this.features!.rows.subarray(row * width, (row + 1) * width), p * width));
    return new Tensor('float32', data, embeds.dims);
  }

  async feed(ids: readonly number[], signal?: AbortSignal): Promise<StepOutput> {
    throwIfAborted(signal);
    if (ids.length === 0) throw new Error('feed() needs at least one token');
    const n = ids.length;
    const total = this.length + n;
    const outputs = (await this.model.forward({
      inputs_embeds: await this.embed(ids),
      attention_mask: new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(this.length + i)), [1, n]),
      past_key_values: this.length === 0 ? null : this.past,
    })) as Record<string, Tensor>;
    const previous = Object.values(this.past);
    this.past = {};
    for (const [name, tensor] of Object.entries(outputs)) {
      if (name.startsWith('present')) this.past[name.replace('present', 'past_key_values')] = tensor;
    }
    for (const t of previous) t.dispose();
    this.length = total;
    const logits = outputs.logits;
    if (!logits) throw new Error('the model returned no "logits" output');
    const hidden = outputs[this.hiddenOutput];
    return { logits: lastRow(logits), hidden: hidden ? lastRow(hidden) : null };
  }

  dispose(): void {
    for (const t of Object.values(this.past)) t.dispose();
    this.past = {};
  }
}

export class TransformersVisionSession implements VisionLlmSession {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly eosTokenIds: readonly number[];
  readonly maxContextTokens: number;
  readonly imageToken: string;
  private readonly imageTokenId: number;

  private constructor(
    readonly processor: Processor,
    readonly tokenizer: PreTrainedTokenizer,
    readonly model: PreTrainedModel,
    readonly device: LlmDevice,
    readonly dtype: LlmDtype,
    private readonly hiddenOutput: string,
    private readonly chatTemplate: string | null,
  ) {
    const config = model.config as unknown as VisionModelConfig;
    const text = config.text_config;
    if (!text?.vocab_size || !text.hidden_size) throw new Error('the vision-language model config lacks text_config.vocab_size or text_config.hidden_size');
    this.vocabSize = text.vocab_size;
    this.hiddenSize = text.hidden_size;
    const eos = text.eos_token_id ?? [];
    this.eosTokenIds = Array.isArray(eos) ? eos : [eos];
    this.maxContextTokens = text.max_position_embeddings ?? 2048;
    const imageTokenId = config.image_token_index ?? config.image_token_id;
    const imageToken = (processor.config as { image_token?: unknown } | null)?.image_token;
    if (imageTokenId === undefined || typeof imageToken !== 'string') {
      throw new Error('the vision-language model lacks image_token_index (config.json) or image_token (processor_config.json)');
    }
    const encoded = tokenizer.encode(imageToken, { add_special_tokens: false });
    if (encoded.length !== 1 || encoded[0] !== imageTokenId) {
      throw new Error(`the image token "${imageToken}" does not encode to image_token_index ${imageTokenId} (got ${encoded.join(', ')})`);
    }
    this.imageToken = imageToken;
    this.imageTokenId = imageTokenId;
  }

  static async load(options: TransformersVisionSessionOptions): Promise<TransformersVisionSession> {
    const progress_callback = options.onProgress;
    const processor = await AutoProcessor.from_pretrained(options.model, { progress_callback });
    if (!processor.tokenizer || !processor.image_processor) throw new Error(`the processor of ${options.model} lacks a tokenizer or an image processor`);
    const model = await AutoModelForImageTextToText.from_pretrained(options.model, { device: options.device, dtype: options.dtype, progress_callback });
    if (!('vision_encoder' in model.sessions)) throw new Error(`${options.model} loaded without a vision encoder (onnx/vision_encoder.onnx)`);
    return new TransformersVisionSession(processor, processor.tokenizer, model, options.device, options.dtype, options.hiddenOutput ?? 'last_hidden_state', options.chatTemplate ?? null);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[]): string {
    // The tokenizer refuses an empty list; a reply that ends at its first token is empty text.
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: false });
  }

  applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    const text = this.tokenizer.apply_chat_template(
      messages.map((m) => ({ role: m.role, content: m.content })),
      { tokenize: false, add_generation_prompt: addGenerationPrompt, ...(this.chatTemplate ? { chat_template: this.chatTemplate } : {}) },
    );
    if (typeof text !== 'string') throw new Error('the chat template did not render to text');
    return text;
  }

  begin(): DecodingState {
    return new VisionDecodingState(this.model, this.hiddenOutput, this.imageTokenId, null);
  }

  async withImage(image: ReferenceImage, signal?: AbortSignal): Promise<ImageConditionedSession> {
    throwIfAborted(signal);
    const raw = await readImage(image);
    const { pixel_values } = await this.processor.image_processor!(raw);
    throwIfAborted(signal);
    const output = (await this.model.encode_image({ pixel_values })) as Tensor;
    const width = output.dims.at(-1)!;
    if (width !== this.hiddenSize) throw new Error(`the vision encoder gives features of width ${width}; the decoder takes ${this.hiddenSize}`);
    const rows = output.type === 'float32' ? (output.data as Float32Array) : (output.to('float32').data as Float32Array);
    const features: ImageFeatures = { rows, count: rows.length / width };
    const base = this;
    const imageIds = new Array<number>(features.count).fill(this.imageTokenId);
    return {
      vocabSize: base.vocabSize,
      hiddenSize: base.hiddenSize,
      eosTokenIds: base.eosTokenIds,
      maxContextTokens: base.maxContextTokens,
      device: base.device,
      dtype: base.dtype,
      imageToken: base.imageToken,
      imageTokenCount: features.count,
      // The image token stands for all of the image's positions, as LlavaProcessor expands it.
      encode: (text) => base.encode(text).flatMap((id) => (id === base.imageTokenId ? imageIds : [id])),
      decode: (ids) => base.decode(ids),
      applyChatTemplate: (messages, addGenerationPrompt) => base.applyChatTemplate(messages, addGenerationPrompt),
      begin: () => new VisionDecodingState(base.model, base.hiddenOutput, base.imageTokenId, features),
    };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
