/**
 * The engine worker's typed protocol: the one API it exposes through comlink (the core EngineHost).
 * The app imports only these types; callbacks travel as comlink proxies.
 */
import type { EngineHostApi } from '../src/core/engine-host.ts';

export type { CatalogLoadProgress } from '../src/core/catalog/load.ts';
export type { CatalogFileSource, CatalogImportRequest, ImportProgress } from '../src/core/catalog/import.ts';
export type {
  CatalogImportReport,
  CatalogStartProgress,
  EngineChoice,
  EngineStatus,
  HeadTrainingOutcome,
  PlanEvent,
  PromptDraft,
  StoredCatalog,
} from '../src/core/engine-host.ts';
export type { CatalogSummary, PlanOutcome, PlanRequestOptions } from '../src/core/planner.ts';
export type { ComparedPlan } from '../src/core/compare.ts';
export type { Refit } from '../src/core/whatif.ts';
export type {
  HeadTrainingProgress,
  LlmBackend,
  LlmHeadExport,
  LlmHeadTrainingOptions,
  LlmLoadProgress,
  LlmStatus,
} from './llm-api.ts';

export type EngineWorkerApi = EngineHostApi;
