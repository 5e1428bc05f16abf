/**
 * What the neural engine needs from a language model, independent of where it runs: Node hands in
 * a transformers.js session on onnxruntime-node, the browser worker one on WebGPU or WASM.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface StepOutput {
  /** Next-token logits after the last token fed (vocabulary size). */
  logits: Float32Array;
  /** The final hidden state h at that position (the LM head's input), when the model exposes it. */
  hidden: Float32Array | null;
}

/** A growing sequence with its key/value cache: feeding tokens extends it. */
export interface DecodingState {
  readonly length: number;
  feed(ids: readonly number[], signal?: AbortSignal): Promise<StepOutput>;
  dispose(): void;
}

export interface LlmSession {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  /** Token ids that end a reply. */
  readonly eosTokenIds: readonly number[];
  /** Longest sequence the model takes. */
  readonly maxContextTokens: number;
  /** e.g. "cpu", "wasm", "webgpu". */
  readonly device: string;
  /** e.g. "fp32", "q8". */
  readonly dtype: string;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string;
  begin(): DecodingState;
}

export class SessionAbortedError extends Error {
  override name = 'AbortError';
  constructor() {
    super('The model run was cancelled.');
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SessionAbortedError();
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Text that ends generation when it appears in the output (it is cut off). */
  stopStrings?: readonly string[];
  /** Called after each token with the whole text generated so far. */
  onText?: (text: string) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  ids: number[];
  text: string;
  stoppedBy: 'eos' | 'stop-string' | 'length';
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Greedy decoding with the key/value cache. */
export async function generateGreedy(
  session: LlmSession,
  promptIds: readonly number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const state = session.begin();
  const ids: number[] = [];
  try {
    let step = await state.feed(promptIds, options.signal);
    for (let i = 0; i < options.maxNewTokens; i++) {
      throwIfAborted(options.signal);
      const next = argmax(step.logits);
      if (session.eosTokenIds.includes(next)) return { ids, text: session.decode(ids), stoppedBy: 'eos' };
      ids.push(next);
      const text = session.decode(ids);
      options.onText?.(text);
      const stop = options.stopStrings?.map((s) => text.indexOf(s)).filter((at) => at >= 0);
      if (stop && stop.length > 0) return { ids, text: text.slice(0, Math.min(...stop)), stoppedBy: 'stop-string' };
      if (state.length + 1 > session.maxContextTokens) break;
      step = await state.feed([next], options.signal);
    }
    return { ids, text: session.decode(ids), stoppedBy: 'length' };
  } finally {
    state.dispose();
  }
}
