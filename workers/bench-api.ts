/**
 * The bench worker's typed protocol: the one API it exposes through comlink. The Bench page imports
 * only these types; the progress callback travels as a comlink proxy.
 */
import type { BenchReport } from '../src/core/bench/report.ts';
import type { BenchProgress } from '../src/core/bench/run.ts';
import type { CatalogLoadProgress } from '../src/core/catalog/load.ts';
import type { RecordError } from '../src/core/catalog/jsonl.ts';

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
}

export type BenchRunProgress =
  | { phase: 'reading'; file: string }
  | CatalogLoadProgress
  | { phase: 'building'; engine: string }
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
}

export interface BenchWorkerApi {
  /** Names of the engines a run may ask for. */
  engines(): string[];
  run(request: BenchRunRequest, onProgress: (progress: BenchRunProgress) => void): Promise<BenchRunOutcome>;
  /** Stops the running benchmark; its promise rejects with an AbortError. */
  cancel(): void;
}
