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

export type { CatalogSummary, PlanOutcome, PlanRequestOptions };

/** A JSONL file as the user handed it: picked from disk or fetched from a URL. */
export type CatalogFileSource = { kind: 'file'; file: Blob; name: string } | { kind: 'url'; url: string };

export interface CatalogImportRequest {
  catalog: CatalogFileSource;
  demonstrations?: CatalogFileSource;
  /** A label shown in Settings. */
  label: string;
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
}

export interface EngineWorkerApi {
  /** Loads the active catalog (an import, else the built-in starter) and builds the engine. */
  init(): Promise<EngineStatus>;
  plan(requestId: string, input: ChatInput, options: PlanRequestOptions, onEvent: (event: PipelineEvent) => void): Promise<PlanOutcome>;
  /** Cancels a running plan; its promise rejects with an AbortError. */
  cancel(requestId: string): void;
  importCatalog(request: CatalogImportRequest, onProgress: (progress: ImportProgress) => void): Promise<CatalogImportReport>;
  listCatalogs(): Promise<StoredCatalog[]>;
  useCatalog(id: string): Promise<EngineStatus>;
  deleteCatalog(id: string): Promise<void>;
  /** "Only models on my server": which catalog models the endpoint's installed models are. */
  matchInstalled(installed: InstalledModel[]): Promise<InstalledMatch>;
  /** The plan form of a catalog model, for the plan editor's model choice. */
  describeModel(id: number): Promise<PlannedModel | null>;
}

export const STARTER_CATALOG_ID = 'starter';
