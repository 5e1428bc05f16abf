/**
 * An LlmSession over @huggingface/transformers (onnxruntime-node in Node, onnxruntime-web in the
 * browser). The caller configures `env` (local paths, fetch, WASM files) before loading.
 */
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type ProgressInfo,
} from '@huggingface/transformers';
import type { ChatMessage, DecodingState, LlmSession, StepOutput } from './session.ts';
import { throwIfAborted } from './session.ts';

export type LlmDevice = 'cpu' | 'wasm' | 'webgpu';
export type LlmDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';

export interface TransformersSessionOptions {
  /** A model id or directory under env.localModelPath (or a URL prefix in the browser). */
  model: string;
  device: LlmDevice;
  dtype: LlmDtype;
  /** The graph output holding h (default "last_hidden_state"); absent output means h is not available. */
  hiddenOutput?: string;
  /** Base name of the ONNX file in onnx/ when not "model" (e.g. a copy with the hidden output added). */
  modelFileName?: string;
  /** Replaces the tokenizer's chat template when set. */
  chatTemplate?: string | null;
  onProgress?: (info: ProgressInfo) => void;
}

/** The text decoder's sizes, as config.json gives them (a vision-language model nests them in text_config). */
export interface TextModelConfig {
  vocab_size?: number;
  hidden_size?: number;
  max_position_embeddings?: number;
  eos_token_id?: number | number[];
}

export interface TextModelDimensions {
  vocabSize: number;
  hiddenSize: number;
  eosTokenIds: readonly number[];
  maxContextTokens: number;
}

/** Reads the decoder's sizes; `missingMessage` names where the config should have given them. */
export function textModelDimensions(config: TextModelConfig | undefined, missingMessage: string): TextModelDimensions {
  if (!config?.vocab_size || !config.hidden_size) throw new Error(missingMessage);
  const eos = config.eos_token_id ?? [];
  return {
    vocabSize: config.vocab_size,
    hiddenSize: config.hidden_size,
    eosTokenIds: Array.isArray(eos) ? eos : [eos],
    maxContextTokens: config.max_position_embeddings ?? 2048,
  };
}

export function floats(tensor: Tensor): Float32Array {
  const t = tensor.type === 'float32' ? tensor : tensor.to('float32');
  return t.data as Float32Array;
}

export function lastRow(tensor: Tensor): Float32Array {
  const dims = tensor.dims;
  const width = dims[dims.length - 1]!;
  const rows = dims[dims.length - 2]!;
  return floats(tensor).slice((rows - 1) * width, rows * width);
}

export function tokenIdTensor(ids: readonly number[]): Tensor {
  return new Tensor(
    'int64',
    BigInt64Array.from(ids, (i) => BigInt(i)),
    [1, ids.length],
  );
}

/**
 * Runs the decoder over fed tokens, carrying its key/value cache from one feed to the next. Subclasses
 * say how the tokens enter the model (token ids, or embeddings made from them).
 */
export abstract class KeyValueCacheDecodingState implements DecodingState {
  length = 0;
  private past: Record<string, Tensor> = {};

  constructor(
    protected readonly model: PreTrainedModel,
    private readonly hiddenOutput: string,
  ) {}

  /** The model inputs carrying `ids` (e.g. input_ids or inputs_embeds). */
  protected abstract tokenInputs(ids: readonly number[]): Promise<Record<string, Tensor>>;

  async feed(ids: readonly number[], signal?: AbortSignal): Promise<StepOutput> {
    throwIfAborted(signal);
    if (ids.length === 0) throw new Error('feed() needs at least one token');
    const n = ids.length;
    const total = this.length + n;
    const outputs = (await this.model.forward({
      ...(await this.tokenInputs(ids)),
      attention_mask: new Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => BigInt(this.length + i)),
        [1, n],
      ),
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

class TransformersDecodingState extends KeyValueCacheDecodingState {
  protected tokenInputs(ids: readonly number[]): Promise<Record<string, Tensor>> {
    return Promise.resolve({ input_ids: tokenIdTensor(ids) });
  }
}

/**
 * What text-only and vision-language sessions share: the decoder's sizes, text in and out of the
 * pack's tokenizer (with its chat template, or the pack's replacement) and disposal.
 */
export abstract class TransformersSessionBase {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly eosTokenIds: readonly number[];
  readonly maxContextTokens: number;

  protected constructor(
    readonly tokenizer: PreTrainedTokenizer,
    readonly model: PreTrainedModel,
    readonly device: LlmDevice,
    readonly dtype: LlmDtype,
    protected readonly hiddenOutput: string,
    /** Replaces the tokenizer's chat template when set. */
    private readonly chatTemplate: string | null,
    dimensions: TextModelDimensions,
  ) {
    this.vocabSize = dimensions.vocabSize;
    this.hiddenSize = dimensions.hiddenSize;
    this.eosTokenIds = dimensions.eosTokenIds;
    this.maxContextTokens = dimensions.maxContextTokens;
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
      {
        tokenize: false,
        add_generation_prompt: addGenerationPrompt,
        ...(this.chatTemplate ? { chat_template: this.chatTemplate } : {}),
      },
    );
    if (typeof text !== 'string') throw new Error('the chat template did not render to text');
    return text;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

export class TransformersLlmSession extends TransformersSessionBase implements LlmSession {
  private constructor(
    tokenizer: PreTrainedTokenizer,
    model: PreTrainedModel,
    device: LlmDevice,
    dtype: LlmDtype,
    hiddenOutput: string,
    chatTemplate: string | null,
  ) {
    super(
      tokenizer,
      model,
      device,
      dtype,
      hiddenOutput,
      chatTemplate,
      textModelDimensions(
        model.config as unknown as TextModelConfig,
        'the model config lacks vocab_size or hidden_size',
      ),
    );
  }

  static async load(options: TransformersSessionOptions): Promise<TransformersLlmSession> {
    const progress_callback = options.onProgress;
    const tokenizer = await AutoTokenizer.from_pretrained(options.model, { progress_callback });
    const model = await AutoModelForCausalLM.from_pretrained(options.model, {
      device: options.device,
      dtype: options.dtype,
      progress_callback,
      ...(options.modelFileName ? { model_file_name: options.modelFileName } : {}),
    });
    return new TransformersLlmSession(
      tokenizer,
      model,
      options.device,
      options.dtype,
      options.hiddenOutput ?? 'last_hidden_state',
      options.chatTemplate ?? null,
    );
  }

  begin(): DecodingState {
    return new TransformersDecodingState(this.model, this.hiddenOutput);
  }
}
