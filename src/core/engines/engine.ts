/**
 * The engine interface behind the three stages. Each stage returns its output together with the
 * evidence that explains it, so the UI (and educators) can show how the choice was made.
 */
import type { ChatInput, MergedRequest } from '../chat.ts';
import type { GenerationArguments, PlannedModel } from '../plan.ts';
import type { ParsedRequest } from '../request/parse.ts';

export type StageName = 'prompt' | 'model' | 'arguments';

export interface StageRequest {
  input: ChatInput;
  merged: MergedRequest;
  /** When set, only these catalog model ids may be used (chosen model and a LoRA's base checkpoint). */
  allowedModelIds?: ReadonlySet<number>;
}

/** A demonstration cited as evidence. */
export interface DemonstrationRef {
  model_id: number;
  model_name: string;
  image_id: number;
  prompt: string;
  /** Similarity to the request in [0, 1] as the engine measured it. */
  similarity: number;
}

export interface PromptResult {
  prompt: string;
  negative_prompt: string;
  evidence: {
    /** Demonstrations whose vocabulary the prompt drew on. */
    neighbours: DemonstrationRef[];
    /** Words of the user's request the prompt keeps. */
    kept_terms: string[];
    /** Style, quality and trigger terms the engine added, with where each came from. */
    added_terms: { term: string; from: string }[];
    notes: string[];
    /**
     * The person's request as the prompt keeps it: their phrases, what they asked to leave out, and what
     * later turns replaced (src/core/request). Absent for engines that do not parse the request.
     */
    request?: ParsedRequest;
  };
}

export interface ModelCandidate {
  model_id: number;
  name: string;
  type: PlannedModel['type'];
  base_model: string;
  /** Normalised score: the top-k scores sum to 1. */
  score: number;
  reasons: string[];
}

/** How a request asks for a niche model: by its name, its trigger words, its technique or its concept. */
export type AskedBy = 'name' | 'trigger' | 'technique' | 'concept';

export interface ModelResult {
  model: PlannedModel;
  evidence: {
    method: string;
    /** The best candidates, best first (5 unless the catalog is smaller). */
    candidates: ModelCandidate[];
    /** Models allowed to compete (all, or those installed on the endpoint). */
    competing: number;
    /** How the request asked for the chosen model, with the request's words that did it; absent when it did not. */
    asked?: { by: AskedBy; terms: string[] };
    /** Model names the person gave ("use the Foobar LoRA") that no model of the catalog has. */
    unnamed?: string[];
    notes: string[];
  };
}

export type ArgumentName = 'sampler' | 'steps' | 'cfg_scale' | 'width' | 'height' | 'seed';

export type ArgumentOrigin =
  | 'nearest-demonstration'
  | 'model-habit'
  | 'base-model-prior'
  | 'request-shape'
  | 'default'
  | 'seed'
  | 'model-output';

export interface ArgumentSource {
  origin: ArgumentOrigin;
  detail: string;
}

/**
 * Stage 3 fits the plan to the chosen model: its arguments, and where the model needs them its trigger
 * words in the prompt and (for a LoRA) the checkpoint it runs on. Re-running stage 3 for another model
 * (Edit plan) therefore updates all of these together.
 */
export interface ArgumentsResult {
  arguments: GenerationArguments;
  /** The final prompt when stage 3 changed stage 1's (the chosen model's trigger words); absent: unchanged. */
  prompt?: string;
  /** For a LoRA: the checkpoint it runs on. */
  base_checkpoint?: PlannedModel;
  evidence: {
    sources: Record<ArgumentName, ArgumentSource>;
    demonstrations: DemonstrationRef[];
    notes: string[];
  };
}

export interface SelectOptions {
  /** When set, only these catalog model ids compete (e.g. the models installed on the endpoint). */
  allowedModelIds?: ReadonlySet<number>;
}

export interface Engine {
  /** Stable name used in reports and cache keys. */
  readonly name: string;
  /** Changes whenever the engine's behaviour changes; part of the plan cache key. */
  readonly version: string;
  /** Which engine ran each stage, in words, when an engine combines several (hybrid planning). */
  readonly stageEngines?: Readonly<Record<StageName, string>>;
  writePrompt(request: StageRequest, signal?: AbortSignal): Promise<PromptResult>;
  selectModel(
    request: StageRequest,
    prompt: PromptResult,
    options: SelectOptions,
    signal?: AbortSignal,
  ): Promise<ModelResult>;
  configureArguments(
    request: StageRequest,
    prompt: PromptResult,
    model: ModelResult,
    seed: number,
    signal?: AbortSignal,
  ): Promise<ArgumentsResult>;
}
