/**
 * What the engine host needs from a neural runtime: a model pack loaded somewhere (in the app, the
 * LLM worker) that runs the three stages over a catalog and trains its ModelToken head. The LLM worker's
 * protocol (workers/llm-api.ts) is this interface; tests can hand the engine host any implementation.
 */
import type { Catalog } from '../../catalog/types.ts';
import type { ArgumentsResult, ModelResult, PromptResult, StageRequest } from '../engine.ts';
import type { HeadTrainingOptions, HeadTrainingProgress } from './head-training.ts';
import type { PlanningMode } from './hybrid.ts';
import type { PackDtype, PackHead } from './manifest.ts';

export type LlmBackend = 'webgpu' | 'wasm';

export interface LlmWorkerConfig {
  /** URLs of onnxruntime-web's asyncify build, served by the app itself (never a CDN). */
  wasmPaths: { mjs: string; wasm: string };
  /** 'webgpu' tries WebGPU first and falls back to WASM; 'wasm' never tries WebGPU. */
  prefer: LlmBackend;
  /** WASM threads (more than 1 needs cross-origin isolation). */
  numThreads?: number;
  /** Where packs with base_model.hub_id download from (Settings -> "Model hub URL"); default the public hub. */
  hubUrl?: string;
}

export interface LlmLoadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

export interface LlmStatus {
  pack: string;
  backend: LlmBackend;
  dtype: PackDtype;
  /** Set when WebGPU was wanted but WASM runs, saying why (shown to the user). */
  notice: string | null;
  /** Whether the GPU adapter offers shader-f16 (fp16 variants run only then). */
  shaderF16: boolean;
  /** The ModelToken head in use. */
  head: LlmHeadInfo;
}

export interface LlmHeadInfo {
  /** 'pack': the pack's head file; 'trained': trained in this browser (saved in IndexedDB, restored when the pack loads again). */
  source: 'pack' | 'trained' | 'none';
  rows: number;
  dim: number;
  /** Train accuracy the head reached (trained heads only). */
  accuracy: number | null;
  /** When the trained head was saved. */
  saved: number | null;
}

/** Options of a head training run; `restart` drops the kept trainer state instead of resuming it. */
export type LlmHeadTrainingOptions = HeadTrainingOptions & { restart?: boolean };

export type { HeadTrainingProgress };

export interface LlmHeadTrainingReport {
  /** Training pairs (the active catalog's demonstrations), and how many had to be encoded (the rest were cached). */
  pairs: number;
  encoded: number;
  loss: number;
  accuracy: number;
  /** The engine over the new head: its version changes with the head, and so do plan cache keys. */
  engine: LlmEngineInfo;
  status: LlmStatus;
  /** Set when the head is in use but could not be saved (e.g. the storage is full). */
  saveError: string | null;
}

/** The head as a pack holds it: the bytes of `entry.file` and the manifest's "head" entry. */
export interface LlmHeadExport {
  pack: string;
  bytes: Uint8Array;
  entry: PackHead;
}

/** The neural engine the runtime built over its pack and a catalog: what plan cache keys are made of. */
export interface LlmEngineInfo {
  name: string;
  version: string;
  /** Whether stage 2 can use the head over this catalog, or the plan is hybrid (and why). */
  planning: PlanningMode;
  /** How plans name the LLM, e.g. 'LLM "Qwen2.5-0.5B-Instruct" (wasm, q4)'. */
  llmLabel: string;
}

export interface NeuralRuntime {
  configure(config: LlmWorkerConfig): Promise<void>;
  /** Loads a pack (a URL folder with manifest.json); a second call with the same pack reuses it. */
  load(packUrl: string, onProgress?: (p: LlmLoadProgress) => void): Promise<LlmStatus>;
  status(): Promise<LlmStatus | null>;
  /**
   * Builds the neural engine over the loaded pack and this catalog, kept for the stage calls below
   * (the engine host's Planner drives them, so its plan cache and options apply to both engines).
   */
  useCatalog(catalog: Catalog): Promise<LlmEngineInfo>;
  /** Stage 1; `onText` receives the model's reply so far as it is written. */
  writePrompt(request: StageRequest, onText?: (text: string) => void): Promise<PromptResult>;
  /** Stage 2; only `allowedModelIds` compete when given. */
  selectModel(request: StageRequest, prompt: PromptResult, allowedModelIds?: number[]): Promise<ModelResult>;
  /** Stage 3. */
  configureArguments(
    request: StageRequest,
    prompt: PromptResult,
    model: ModelResult,
    seed: number,
  ): Promise<ArgumentsResult>;
  /**
   * Trains the ModelToken head on the active catalog's demonstrations (h computed once per pair with the
   * frozen model and kept, then W_m with AdamW); `cancel()` stops it with its state kept, and a second
   * call resumes. The new head replaces the pack's head and is saved.
   */
  trainHead(
    options: LlmHeadTrainingOptions,
    onProgress?: (p: HeadTrainingProgress) => void,
  ): Promise<LlmHeadTrainingReport>;
  /** Trains only this model's row (added when missing) from its demonstrations; the other rows stay bit-identical. */
  addModelRow(
    modelId: number,
    options: HeadTrainingOptions,
    onProgress?: (p: HeadTrainingProgress) => void,
  ): Promise<LlmHeadTrainingReport>;
  /** The head in use, as the pack's head file and manifest entry. */
  exportHead(): Promise<LlmHeadExport>;
  /** Cancels the running stage / head training, and a pack download (the next load resumes it). */
  cancel(): Promise<void>;
  /** Releases the model (and the GPU device's buffers). */
  unload(): Promise<void>;
}
