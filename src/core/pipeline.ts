/**
 * Runs the three stages in order over an Engine: the prompt, then the model given the prompt, then the
 * arguments given prompt and model. Emits an event per stage as it arrives and honours an AbortSignal
 * between and inside stages.
 */
import { inputTypeOf, mergeTurns, validateChatInput, type ChatInput, type InputType } from './chat.ts';
import type { ArgumentsResult, Engine, ModelResult, PromptResult, StageName, StageRequest } from './engines/engine.ts';
import { hashString, seedFromText } from './hash.ts';
import { validateArguments, type GenerationPlan } from './plan.ts';

export interface StageTiming {
  stage: StageName;
  ms: number;
}

export interface PlanResult {
  plan: GenerationPlan;
  engine: { name: string; version: string };
  /** Which engine ran each stage, when the engine combines several (hybrid planning). */
  stage_engines?: Readonly<Record<StageName, string>>;
  input_type: InputType;
  prompt: PromptResult;
  model: ModelResult;
  arguments: ArgumentsResult;
  timings: StageTiming[];
  total_ms: number;
}

export type PipelineEvent =
  | { type: 'stage-start'; stage: StageName }
  | { type: 'prompt'; result: PromptResult; ms: number }
  | { type: 'model'; result: ModelResult; ms: number }
  | { type: 'arguments'; result: ArgumentsResult; ms: number };

export interface PipelineOptions {
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  allowedModelIds?: ReadonlySet<number>;
  /** Fixed seed; by default the seed is derived from the input so the same chat gives the same plan. */
  seed?: number;
}

export class PipelineAbortedError extends Error {
  override name = 'AbortError';
  constructor() {
    super('The request was cancelled.');
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new PipelineAbortedError();
}

/** The normalised text of a chat: what decides the seed and the cache key. */
export function normaliseInput(input: ChatInput): string {
  const messages = input.messages.map((m) => m.trim().replace(/\s+/g, ' '));
  return JSON.stringify({ messages, images: input.images.map((i) => hashString(i.source)) });
}

export function planCacheKey(
  input: ChatInput,
  engine: { name: string; version: string },
  catalogVersion: string,
  options: object,
): string {
  return hashString(JSON.stringify([normaliseInput(input), engine.name, engine.version, catalogVersion, options]));
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function runPipeline(
  engine: Engine,
  rawInput: ChatInput,
  options: PipelineOptions = {},
): Promise<PlanResult> {
  const { signal, onEvent } = options;
  const input = validateChatInput(rawInput);
  const request: StageRequest = {
    input,
    merged: mergeTurns(input.messages),
    ...(options.allowedModelIds ? { allowedModelIds: options.allowedModelIds } : {}),
  };
  const seed = options.seed ?? seedFromText(normaliseInput(input));
  const timings: StageTiming[] = [];
  const started = now();

  throwIfAborted(signal);
  onEvent?.({ type: 'stage-start', stage: 'prompt' });
  let t = now();
  const prompt = await engine.writePrompt(request, signal);
  timings.push({ stage: 'prompt', ms: now() - t });
  onEvent?.({ type: 'prompt', result: prompt, ms: timings[0]!.ms });

  throwIfAborted(signal);
  onEvent?.({ type: 'stage-start', stage: 'model' });
  t = now();
  const selectOptions = options.allowedModelIds ? { allowedModelIds: options.allowedModelIds } : {};
  const model = await engine.selectModel(request, prompt, selectOptions, signal);
  timings.push({ stage: 'model', ms: now() - t });
  onEvent?.({ type: 'model', result: model, ms: timings[1]!.ms });

  throwIfAborted(signal);
  onEvent?.({ type: 'stage-start', stage: 'arguments' });
  t = now();
  const args = await engine.configureArguments(request, prompt, model, seed, signal);
  timings.push({ stage: 'arguments', ms: now() - t });
  const problems = validateArguments(args.arguments);
  if (problems.length > 0) {
    // An engine must repair its own output; reaching here is a bug in the engine, not bad user input.
    throw new Error(`engine ${engine.name} produced invalid arguments: ${problems.map((p) => p.message).join('; ')}`);
  }
  onEvent?.({ type: 'arguments', result: args, ms: timings[2]!.ms });

  return {
    plan: {
      prompt: args.prompt ?? prompt.prompt,
      negative_prompt: prompt.negative_prompt,
      model: model.model,
      ...(args.base_checkpoint ? { base_checkpoint: args.base_checkpoint } : {}),
      arguments: args.arguments,
    },
    engine: { name: engine.name, version: engine.version },
    ...(engine.stageEngines ? { stage_engines: engine.stageEngines } : {}),
    input_type: inputTypeOf(input),
    prompt,
    model,
    arguments: args,
    timings,
    total_ms: now() - started,
  };
}
