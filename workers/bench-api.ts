/**
 * The bench worker's typed protocol: the one API it exposes through comlink. The Bench page imports
 * only these types; the progress callback travels as a comlink proxy.
 */
import type { BenchReport } from '../src/core/bench/report.ts';
import type { BenchProgress } from '../src/core/bench/run.ts';
import type { CatalogLoadProgress } from '../src/core/catalog/load.ts';
import type { RecordError } from '../src/core/catalog/jsonl.ts';
import type { PackDtype } from '../src/core/engines/neural/manifest.ts';
import type { LlmBackend, LlmHeadInfo, LlmLoadProgress } from './llm-api.ts';

export type { BenchReport };

/** A JSONL file the user picked. */
export interface BenchFile {
  name: string;
  file: Blob;
}

export interface BenchRunRequest {
  catalog: BenchFile;
  demonstrations?: BenchFile;
  items: BenchFile;
  /** Engine names, e.g. ["baseline", "default"]. */
  engines: string[];
  /** Run only the first N items. */
  limit?: number;
  /**
   * BERTScore against the gold prompts with a BERT-family ONNX model served by the app: the URL of its
   * folder (config.json, tokenizer.json, onnx/model.onnx), e.g. "/models/bert-base-uncased".
   */
  bert?: { modelUrl: string; idf: boolean };
  /**
   * The model pack the neural engine runs (the one chosen in Settings → Engine), needed when `engines`
   * names "neural": its folder URL and the backend to try first.
   */
  /** `hubUrl`: the Model hub URL for packs with base_model.hub_id (absent: the public hub). */
  neuralPack?: { url: string; prefer: LlmBackend; hubUrl?: string };
}

/** How the neural engine ran in a benchmark: its pack, runtime and head. */
export interface BenchNeuralRuntime {
  pack: string;
  backend: LlmBackend;
  dtype: PackDtype;
  /** Why WASM ran although WebGPU was wanted. */
  notice: string | null;
  head: LlmHeadInfo['source'];
}

export type BenchRunProgress =
  | { phase: 'reading'; file: string }
  | CatalogLoadProgress
  | { phase: 'building'; engine: string }
  | ({ phase: 'pack' } & LlmLoadProgress)
  | { phase: 'bert'; model: string }
  | ({ phase: 'running' } & BenchProgress);

export interface BenchRunOutcome {
  report: BenchReport;
  /** The Markdown tables the CLI prints. */
  tables: { metrics: string; perArgument: string };
  /** One JSON line per item and engine, as the CLI writes them. */
  predictionsJsonl: string;
  /** Catalog lines that were skipped, with file, line and field. */
  catalogErrors: RecordError[];
  /** Items run and in the file. */
  itemsRun: number;
  itemsInFile: number;
  ms: number;
  /** Set when the neural engine ran. */
  neural: BenchNeuralRuntime | null;
}

export interface BenchWorkerApi {
  run(request: BenchRunRequest, onProgress: (progress: BenchRunProgress) => void): Promise<BenchRunOutcome>;
  /** Stops the running benchmark; its promise rejects with an AbortError. */
  cancel(): void;
}
