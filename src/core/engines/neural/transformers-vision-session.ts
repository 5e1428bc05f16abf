/**
 * A VisionLlmSession over @huggingface/transformers for image-text-to-text models exported as three
 * graphs: onnx/vision_encoder.onnx turns pixel_values into image_features, onnx/embed_tokens.onnx token
 * ids into embeddings, and onnx/decoder_model_merged.onnx runs the decoder from inputs_embeds with a
 * key/value cache. The model's own processor prepares the image (its preprocessor_config.json), and its
 * image token marks where the features go, as in transformers.js's default merge. Two layouts, chosen by
 * config.json's model_type:
 * - LLaVA ("llava" and models laid out the same way): one image, one image token repeated once per
 *   feature row (LlavaProcessor);
 * - Idefics3 ("idefics3", "smolvlm": SmolVLM): the image is cut into tiles plus the global image, the
 *   vision encoder also takes pixel_attention_mask, and each image token becomes the processor's grid of
 *   tile markers and image tokens (./idefics3.ts).
 */
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  RawImage,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { ReferenceImage } from '../../chat.ts';
import type { DecodingState } from './session.ts';
import { throwIfAborted } from './session.ts';
import {
  floats,
  KeyValueCacheDecodingState,
  textModelDimensions,
  tokenIdTensor,
  TransformersSessionBase,
  type LlmDevice,
  type LlmDtype,
  type TextModelConfig,
} from './transformers-session.ts';
import { idefics3FeatureRows, idefics3ImagePrompt, type Idefics3ImageTokens, type ImageGrid } from './idefics3.ts';
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
  model_type?: string;
  image_token_index?: number;
  image_token_id?: number;
  text_config?: TextModelConfig;
}

/** How the processor places an image in the text (see the module comment). */
type ImageLayout = { kind: 'llava' } | ({ kind: 'idefics3' } & Idefics3ImageTokens);

const IDEFICS3_MODEL_TYPES = new Set(['idefics3', 'smolvlm']);

/** What the image processors return that this session reads (Idefics3's adds the mask and, when asked, the grid). */
interface ImageProcessorOutput {
  pixel_values: Tensor;
  pixel_attention_mask?: Tensor;
  rows?: number[][];
  cols?: number[][];
}

/** Idefics3Processor keeps its special tokens as fields and image_seq_len in processor_config.json. */
function idefics3Tokens(processor: Processor): Idefics3ImageTokens {
  const fields = processor as unknown as Partial<
    Record<'image_token' | 'fake_image_token' | 'global_img_token', unknown>
  >;
  const imageSeqLen = (processor.config as { image_seq_len?: unknown } | null)?.image_seq_len;
  const { image_token, fake_image_token, global_img_token } = fields;
  if (
    typeof image_token !== 'string' ||
    typeof fake_image_token !== 'string' ||
    typeof global_img_token !== 'string' ||
    typeof imageSeqLen !== 'number' ||
    !(imageSeqLen > 0)
  ) {
    throw new Error(
      'the Idefics3 model lacks its processor (an Idefics3Processor with image tokens) or image_seq_len (processor_config.json)',
    );
  }
  return { image: image_token, aroundImage: fake_image_token, globalImage: global_img_token, imageSeqLen };
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
    throw new ImageInputError(
      `The reference image could not be read (${image.source.slice(0, 40)}...): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

class VisionDecodingState extends KeyValueCacheDecodingState {
  constructor(
    model: PreTrainedModel,
    hiddenOutput: string,
    private readonly imageTokenId: number,
    private readonly features: ImageFeatures | null,
  ) {
    super(model, hiddenOutput);
  }

  /** Token embeddings with the image features written over the image token positions. */
  protected async tokenInputs(ids: readonly number[]): Promise<Record<string, Tensor>> {
    const embeds = (await this.model.encode_text({ input_ids: tokenIdTensor(ids) })) as Tensor;
    const positions = ids.flatMap((id, i) => (id === this.imageTokenId ? [i] : []));
    if (positions.length === 0) return { inputs_embeds: embeds };
    if (!this.features) throw new ImageInputError('the text holds the image token but no image was given');
    if (positions.length !== this.features.count) {
      throw new ImageInputError(
        `the image takes ${this.features.count} positions but the text holds ${positions.length} image tokens`,
      );
    }
    const width = embeds.dims[2]!;
    const data = floats(embeds);
    positions.forEach((p, row) => data.set(this.features!.rows.subarray(row * width, (row + 1) * width), p * width));
    return { inputs_embeds: new Tensor('float32', data, embeds.dims) };
  }
}

export class TransformersVisionSession extends TransformersSessionBase implements VisionLlmSession {
  readonly imageToken: string;
  private readonly imageTokenId: number;
  private readonly layout: ImageLayout;

  private constructor(
    readonly processor: Processor,
    tokenizer: PreTrainedTokenizer,
    model: PreTrainedModel,
    device: LlmDevice,
    dtype: LlmDtype,
    hiddenOutput: string,
    chatTemplate: string | null,
  ) {
    const config = model.config as unknown as VisionModelConfig;
    const dimensions = textModelDimensions(
      config.text_config,
      'the vision-language model config lacks text_config.vocab_size or text_config.hidden_size',
    );
    // The tokenizer's end-of-turn token ends a reply too: SmolVLM's text_config names <|im_end|>, but its
    // chat turns end with <end_of_utterance> (tokenizer_config.json's eos_token).
    const turnEnd = (tokenizer as { eos_token_id?: unknown }).eos_token_id;
    const eosTokenIds =
      typeof turnEnd === 'number' && !dimensions.eosTokenIds.includes(turnEnd)
        ? [...dimensions.eosTokenIds, turnEnd]
        : dimensions.eosTokenIds;
    super(tokenizer, model, device, dtype, hiddenOutput, chatTemplate, { ...dimensions, eosTokenIds });
    this.layout = IDEFICS3_MODEL_TYPES.has(config.model_type ?? '')
      ? { kind: 'idefics3', ...idefics3Tokens(processor) }
      : { kind: 'llava' };
    const imageTokenId = config.image_token_index ?? config.image_token_id;
    const imageToken =
      this.layout.kind === 'idefics3'
        ? this.layout.image
        : (processor.config as { image_token?: unknown } | null)?.image_token;
    if (imageTokenId === undefined || typeof imageToken !== 'string') {
      throw new Error(
        'the vision-language model lacks image_token_index / image_token_id (config.json) or image_token (processor_config.json)',
      );
    }
    const encoded = tokenizer.encode(imageToken, { add_special_tokens: false });
    if (encoded.length !== 1 || encoded[0] !== imageTokenId) {
      throw new Error(
        `the image token "${imageToken}" does not encode to the config's image token id ${imageTokenId} (got ${encoded.join(', ')})`,
      );
    }
    this.imageToken = imageToken;
    this.imageTokenId = imageTokenId;
  }

  static async load(options: TransformersVisionSessionOptions): Promise<TransformersVisionSession> {
    const progress_callback = options.onProgress;
    const processor = await AutoProcessor.from_pretrained(options.model, { progress_callback });
    if (!processor.tokenizer || !processor.image_processor)
      throw new Error(`the processor of ${options.model} lacks a tokenizer or an image processor`);
    const model = await AutoModelForImageTextToText.from_pretrained(options.model, {
      device: options.device,
      dtype: options.dtype,
      progress_callback,
    });
    if (!('vision_encoder' in model.sessions))
      throw new Error(`${options.model} loaded without a vision encoder (onnx/vision_encoder.onnx)`);
    return new TransformersVisionSession(
      processor,
      processor.tokenizer,
      model,
      options.device,
      options.dtype,
      options.hiddenOutput ?? 'last_hidden_state',
      options.chatTemplate ?? null,
    );
  }

  begin(): DecodingState {
    return new VisionDecodingState(this.model, this.hiddenOutput, this.imageTokenId, null);
  }

  async withImage(image: ReferenceImage, signal?: AbortSignal): Promise<ImageConditionedSession> {
    throwIfAborted(signal);
    const raw = await readImage(image);
    const idefics3 = this.layout.kind === 'idefics3' ? this.layout : null;
    const processed = (await this.processor.image_processor!(
      raw,
      ...(idefics3 ? [{ return_row_col_info: true }] : []),
    )) as ImageProcessorOutput;
    throwIfAborted(signal);
    const { pixel_values, pixel_attention_mask } = processed;
    const output = (await this.model.encode_image({
      pixel_values,
      ...(pixel_attention_mask ? { pixel_attention_mask } : {}),
    })) as Tensor;
    const width = output.dims.at(-1)!;
    if (width !== this.hiddenSize)
      throw new Error(`the vision encoder gives features of width ${width}; the decoder takes ${this.hiddenSize}`);
    const rows = floats(output);
    const features: ImageFeatures = { rows, count: rows.length / width };
    let encode: (text: string) => number[];
    if (idefics3) {
      const grid: ImageGrid = { rows: processed.rows?.[0]?.[0] ?? 0, cols: processed.cols?.[0]?.[0] ?? 0 };
      const expected = idefics3FeatureRows(grid, idefics3.imageSeqLen);
      if (expected !== features.count) {
        throw new ImageInputError(
          `the vision encoder gives ${features.count} feature rows, but the image's ${grid.rows} x ${grid.cols} tiles and global image take ${expected} image tokens (image_seq_len ${idefics3.imageSeqLen})`,
        );
      }
      // The image token stands for the processor's grid of tiles, as Idefics3Processor writes it.
      const imagePrompt = idefics3ImagePrompt(grid, idefics3);
      encode = (text) => this.encode(text.split(this.imageToken).join(imagePrompt));
    } else {
      // The image token stands for all of the image's positions, as LlavaProcessor expands it.
      const imageIds = new Array<number>(features.count).fill(this.imageTokenId);
      encode = (text) => this.encode(text).flatMap((id) => (id === this.imageTokenId ? imageIds : [id]));
    }
    return {
      vocabSize: this.vocabSize,
      hiddenSize: this.hiddenSize,
      eosTokenIds: this.eosTokenIds,
      maxContextTokens: this.maxContextTokens,
      device: this.device,
      dtype: this.dtype,
      imageToken: this.imageToken,
      imageTokenCount: features.count,
      encode,
      decode: (ids) => this.decode(ids),
      applyChatTemplate: (messages, addGenerationPrompt) => this.applyChatTemplate(messages, addGenerationPrompt),
      begin: () => new VisionDecodingState(this.model, this.hiddenOutput, this.imageTokenId, features),
    };
  }
}
