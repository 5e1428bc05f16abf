/**
 * Runs engines side by side on the same items through the real pipeline (the stages, argument
 * validation and timings the app uses), scores every prediction, and builds the report. I/O stays with
 * the caller: items and catalog come in, predictions go out through a callback and the return value.
 */
import type { Catalog } from '../catalog/types.ts';
import type { Engine } from '../engines/engine.ts';
import type { BertScorer } from '../metrics/bertscore.ts';
import { PipelineAbortedError, runPipeline, type PlanResult } from '../pipeline.ts';
import type { BenchItem } from './items.ts';
import { engineReport, METRIC_DEFINITIONS, type BenchReport } from './report.ts';
import { scorePrediction, type ItemScore, type Prediction } from './score.ts';

export interface BenchEngine {
  engine: Engine;
  /** Time it took to build the engine, reported beside its latency. */
  setupMs: number;
}

export interface BenchProgress {
  /** Item-engine runs finished so far, out of `total` (items × engines). */
  done: number;
  total: number;
  engine: string;
  itemId: string;
}

export interface RunBenchOptions {
  items: readonly BenchItem[];
  itemsFile: string;
  catalog: Catalog;
  engines: readonly BenchEngine[];
  bert?: BertScorer;
  signal?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  /** Each prediction as soon as it is scored (to stream the predictions file). */
  onPrediction?: (prediction: Prediction, score: ItemScore) => void;
}

export interface BenchResult {
  report: BenchReport;
  predictions: Prediction[];
  scores: ItemScore[];
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const round = (ms: number) => Math.round(ms * 100) / 100;

export function predictionFromPlan(itemId: string, result: PlanResult): Prediction {
  const { plan } = result;
  return {
    id: itemId,
    engine: result.engine.name,
    prompt: plan.prompt,
    negative_prompt: plan.negative_prompt,
    model_id: plan.model.id,
    base_checkpoint: plan.base_checkpoint?.id ?? null,
    arguments: {
      sampler: plan.arguments.sampler,
      steps: plan.arguments.steps,
      cfg_scale: plan.arguments.cfg_scale,
      width: plan.arguments.width,
      height: plan.arguments.height,
    },
    top5: result.model.evidence.candidates.slice(0, 5).map((c) => ({ model_id: c.model_id, score: c.score })),
    latency_ms: round(result.total_ms),
  };
}

export async function runBench(options: RunBenchOptions): Promise<BenchResult> {
  const { items, engines, bert, signal } = options;
  const names = engines.map((e) => e.engine.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`engine "${duplicate}" is listed twice`);
  const predictions: Prediction[] = [];
  const scores: ItemScore[] = [];
  const total = items.length * engines.length;
  let done = 0;
  // Item-major order: every engine sees an item before the next one, so a partial run stays comparable.
  for (const item of items) {
    for (const { engine } of engines) {
      if (signal?.aborted) throw new PipelineAbortedError();
      const started = now();
      let prediction: Prediction;
      try {
        prediction = predictionFromPlan(item.id, await runPipeline(engine, item.input, signal ? { signal } : {}));
      } catch (e) {
        if (e instanceof PipelineAbortedError || signal?.aborted) throw e;
        prediction = {
          id: item.id,
          engine: engine.name,
          prompt: '',
          negative_prompt: '',
          model_id: null,
          arguments: null,
          top5: [],
          latency_ms: round(now() - started),
          error: e instanceof Error ? e.message : String(e),
        };
      }
      const score = await scorePrediction(item, prediction, bert);
      predictions.push(prediction);
      scores.push(score);
      options.onPrediction?.(prediction, score);
      done++;
      options.onProgress?.({ done, total, engine: engine.name, itemId: item.id });
    }
  }
  const withBert = bert !== undefined;
  const report: BenchReport = {
    items: { file: options.itemsFile, n: items.length },
    catalog: {
      source: options.catalog.source,
      version: options.catalog.version,
      models: options.catalog.models.length,
      demonstrations: options.catalog.demonstrations.length,
    },
    metrics: { ...METRIC_DEFINITIONS, bertscore: bert ? { model: bert.embedder.name, idf: bert.idfWeighted } : null },
    engines: Object.fromEntries(
      engines.map(({ engine, setupMs }) => [
        engine.name,
        engineReport(
          scores.filter((s) => s.engine === engine.name),
          engine.version,
          round(setupMs),
          withBert,
        ),
      ]),
    ),
  };
  return { report, predictions, scores };
}
