/**
 * The engine worker's typed protocol: the one API class it exposes through comlink. The app imports
 * only these types; callbacks travel as comlink proxies.
 */
import type { ChatInput } from '../src/core/chat.ts';
import type { CatalogLoadProgress } from '../src/core/catalog/load.ts';
import type { RecordError } from '../src/core/catalog/jsonl.ts';
import type { PipelineEvent } from '../src/core/pipeline.ts';
import type { PlannedModel } from '../src/core/plan.ts';
import type { InstalledMatch } from '../src/core/endpoints/installed.ts';
import type { InstalledModel } from '../src/core/endpoints/types.ts';
import type { CatalogSummary, PlanOutcome, PlanRequestOptions } from '../src/core/planner.ts';
import type { HeadTrainingProgress, LlmBackend, LlmHeadExport, LlmHeadTrainingOptions, LlmLoadProgress, LlmStatus } from './llm-api.ts';

export type { CatalogSummary, HeadTrainingProgress, LlmBackend, LlmHeadExport, LlmHeadTrainingOptions, LlmLoadProgress, LlmStatus, PlanOutcome, PlanRequestOptions };

/** What a head training run reached, and the engine status with the new head in use. */
export interface HeadTrainingOutcome {
  pairs: number;
  encoded: number;
  loss: number;
  accuracy: number;
  status: EngineStatus;
  /** Set when the head is in use but could not be saved in IndexedDB. */
  saveError: string | null;
}

/**
 * Which engine plans: the embedded default engine (no weights), or the neural engine over a model pack
 * (a folder URL with manifest.json) run by the LLM worker, on WebGPU when available ('webgpu') or WASM only.
 */
export type EngineChoice = { kind: 'embedded' } | { kind: 'neural'; packUrl: string; backend: LlmBackend };

/** Stage 1's reply as the neural engine writes it, split into the two prompts. */
export interface PromptDraft {
  prompt: string;
  negative_prompt: string;
}

/** A JSONL file as the user handed it: picked from disk or fetched from a URL. */
export type CatalogFileSource = { kind: 'file'; file: Blob; name: string } | { kind: 'url'; url: string };

export interface CatalogImportRequest {
  catalog: CatalogFileSource;
  demonstrations?: CatalogFileSource;
  /** A label shown in Settings. */
  label: string;
  /** Largest download accepted from a URL, in MB (default DEFAULT_CATALOG_FETCH_LIMITS.maxMB). */
  maxMB?: number;
}

export type ImportProgress =
  | { phase: 'reading'; file: string; bytes: number; total: number | null }
  | CatalogLoadProgress
  | { phase: 'indexing' }
  | { phase: 'saving' };

export interface CatalogImportReport {
  id: string;
  summary: CatalogSummary;
  /** Lines that were skipped, with file, line and field. */
  errors: RecordError[];
  ms: number;
  /** JS heap growth during the import where the browser reports it (Chromium), else null. */
  heapBytes: number | null;
}

export interface StoredCatalog {
  id: string;
  label: string;
  models: number;
  demonstrations: number;
  imported: number;
  active: boolean;
}

export interface EngineStatus {
  engine: { name: string; version: string };
  catalog: CatalogSummary;
  catalogId: string;
  /** Said when something failed and a fallback was used. */
  notice: string | null;
  /** The engine the user chose (the running one differs when a pack could not be loaded). */
  choice: EngineChoice;
  /** The neural pack's runtime (backend, dtype, a WebGPU-to-WASM notice) while the neural engine plans. */
  llm: LlmStatus | null;
  /** Said when the neural engine was chosen but the embedded engine plans instead, and why. */
  engineNotice: string | null;
}

export interface EngineWorkerApi {
  /**
   * Loads the active catalog (an import, else the built-in starter) and builds the chosen engine;
   * a neural pack's download progress goes to `onProgress`.
   */
  init(onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus>;
  /** Chooses the engine (saved in IndexedDB settings); a pack that cannot be loaded leaves the embedded engine planning. */
  setEngine(choice: EngineChoice, onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus>;
  /** `onPromptDraft` receives stage 1's text while the neural engine writes it. */
  plan(
    requestId: string,
    input: ChatInput,
    options: PlanRequestOptions,
    onEvent: (event: PipelineEvent) => void,
    onPromptDraft?: (draft: PromptDraft) => void,
  ): Promise<PlanOutcome>;
  /** Cancels a running plan; its promise rejects with an AbortError. */
  cancel(requestId: string): void;
  importCatalog(request: CatalogImportRequest, onProgress: (progress: ImportProgress) => void): Promise<CatalogImportReport>;
  /** Stops the running import (download, reading or indexing); it rejects with a 'cancelled' message and nothing is stored. */
  cancelImport(): void;
  listCatalogs(): Promise<StoredCatalog[]>;
  useCatalog(id: string): Promise<EngineStatus>;
  deleteCatalog(id: string): Promise<void>;
  /** "Only models on my server": which catalog models the endpoint's installed models are. */
  matchInstalled(installed: InstalledModel[]): Promise<InstalledMatch>;
  /**
   * Trains the neural pack's ModelToken head on the active catalog's demonstrations (resuming a
   * cancelled run unless `restart`); the new head plans from then on and is saved for the pack.
   */
  trainHead(options: LlmHeadTrainingOptions, onProgress?: (progress: HeadTrainingProgress) => void): Promise<HeadTrainingOutcome>;
  /** Trains only one model's row (added when missing) from its demonstrations. */
  addModelRow(modelId: number, onProgress?: (progress: HeadTrainingProgress) => void): Promise<HeadTrainingOutcome>;
  /** Stops a head training run; its state is kept and the next trainHead resumes it. */
  cancelTraining(): Promise<void>;
  /** The neural pack's head in use, as a head file and its manifest entry. */
  exportHead(): Promise<LlmHeadExport>;
  /** The plan form of a catalog model, for the plan editor's model choice. */
  describeModel(id: number): Promise<PlannedModel | null>;
}

export const STARTER_CATALOG_ID = 'starter';
