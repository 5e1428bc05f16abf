/**
 * Aggregates per-item scores into the benchmark report: per engine, overall and broken down by setting
 * and input type, with per-argument accuracies. Groups with no item are kept (n = 0, metrics null) so
 * that every report has the same shape and a missing breakdown is visible rather than silently absent.
 */
import { INPUT_TYPES, SETTINGS } from './items.ts';
import { SCORED_ARGUMENTS, type ScoredArgument } from '../metrics/config.ts';
import { summariseLatency, type LatencySummary } from '../metrics/latency.ts';
import type { ItemScore } from './score.ts';
import type { EngineImageMetrics, ImageEvaluation } from './image-metrics.ts';

export interface GroupMetrics {
  n: number;
  selection_acc: number | null;
  config_acc: number | null;
  prompt_f1: number | null;
  input_coverage: number | null;
  /** Present when BERTScore was enabled. */
  bertscore_f1?: number | null;
  latency_ms: LatencySummary;
  per_argument: Record<ScoredArgument, number | null>;
  /** Items on which the engine threw (counted as misses in every metric). */
  failed: number;
}

export interface EngineReport {
  version: string;
  overall: GroupMetrics;
  by_setting: Record<string, GroupMetrics>;
  by_input_type: Record<string, GroupMetrics>;
  /** Per-argument exact-match accuracy over all items (the same as overall.per_argument). */
  per_argument: Record<ScoredArgument, number | null>;
  /** Time to build the engine (indexes, models) before the first item, in ms. */
  setup_ms: number;
  /** Image-level metrics, present when the run was given the engines' generated images (bench --images). */
  images?: EngineImageMetrics;
}

export interface BenchReport {
  items: { file: string; n: number };
  catalog: { source: string; version: string; models: number; demonstrations: number };
  metrics: {
    latency: string;
    prompt_f1: string;
    input_coverage: string;
    bertscore: { model: string; idf: boolean } | null;
  };
  engines: Record<string, EngineReport>;
  /** The scorer packs, reference set and Unified normalisation behind `engines.<name>.images`. */
  image_evaluation?: Omit<ImageEvaluation, 'engines'>;
}

export const METRIC_DEFINITIONS: BenchReport['metrics'] = {
  latency:
    'per item, the whole pipeline (prompt, model, arguments); p50/p95 by linear interpolation between closest ranks',
  prompt_f1: 'unigram F1 of lower-case alphanumeric words (bag of words) against gold.prompt',
  input_coverage:
    "share of the chat's distinct content words (stop words removed, all messages) found among the prompt's words",
  bertscore: null,
};

const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

export function groupMetrics(scores: readonly ItemScore[], withBert: boolean): GroupMetrics {
  const perArgument = Object.fromEntries(
    SCORED_ARGUMENTS.map((a) => [a, mean(scores.map((s) => (s.arguments[a] ? 1 : 0)))]),
  ) as Record<ScoredArgument, number | null>;
  const group: GroupMetrics = {
    n: scores.length,
    selection_acc: mean(scores.map((s) => (s.selection ? 1 : 0))),
    config_acc: mean(scores.map((s) => s.config)),
    prompt_f1: mean(scores.map((s) => s.prompt_f1)),
    input_coverage: mean(scores.map((s) => s.input_coverage)),
    latency_ms: summariseLatency(scores.map((s) => s.latency_ms)),
    per_argument: perArgument,
    failed: scores.filter((s) => s.failed).length,
  };
  if (withBert) group.bertscore_f1 = mean(scores.map((s) => s.bertscore_f1 ?? 0));
  return group;
}

export function engineReport(
  scores: readonly ItemScore[],
  version: string,
  setupMs: number,
  withBert: boolean,
): EngineReport {
  const overall = groupMetrics(scores, withBert);
  return {
    version,
    overall,
    by_setting: Object.fromEntries(
      SETTINGS.map((s) => [
        s,
        groupMetrics(
          scores.filter((x) => x.setting === s),
          withBert,
        ),
      ]),
    ),
    by_input_type: Object.fromEntries(
      INPUT_TYPES.map((t) => [
        t,
        groupMetrics(
          scores.filter((x) => x.input_type === t),
          withBert,
        ),
      ]),
    ),
    per_argument: overall.per_argument,
    setup_ms: setupMs,
  };
}

const fraction = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const millis = (v: number | null) => (v === null ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(0));

function groupsOf(engine: EngineReport): [string, GroupMetrics][] {
  return [
    ['overall', engine.overall],
    ...Object.entries(engine.by_setting).map(([k, g]): [string, GroupMetrics] => [k, g]),
    ...Object.entries(engine.by_input_type).map(([k, g]): [string, GroupMetrics] => [k, g]),
  ];
}

export interface TableCells {
  header: string[];
  rows: string[][];
}

/** The paper's Table 4 layout: a row per engine and group (overall, settings, input types). */
export function metricsTableCells(report: BenchReport): TableCells {
  const bert = report.metrics.bertscore !== null;
  const header = [
    'Engine',
    'Items',
    'n',
    'Selection Acc',
    'Config Acc',
    'Prompt F1',
    'Input coverage',
    ...(bert ? ['BERTScore F1'] : []),
    'p50 ms',
    'p95 ms',
  ];
  const rows = Object.entries(report.engines).flatMap(([name, engine]) =>
    groupsOf(engine).map(([group, g]) => [
      name,
      group,
      String(g.n),
      fraction(g.selection_acc),
      fraction(g.config_acc),
      fraction(g.prompt_f1),
      fraction(g.input_coverage),
      ...(bert ? [fraction(g.bertscore_f1)] : []),
      millis(g.latency_ms.p50),
      millis(g.latency_ms.p95),
    ]),
  );
  return { header, rows };
}

export const metricsTable = (report: BenchReport): string => markdown(metricsTableCells(report));

/** Exact-match accuracy of each argument, a row per engine and group. */
export function perArgumentTableCells(report: BenchReport): TableCells {
  const header = ['Engine', 'Items', 'n', ...SCORED_ARGUMENTS, 'Config Acc'];
  const rows = Object.entries(report.engines).flatMap(([name, engine]) =>
    groupsOf(engine).map(([group, g]) => [
      name,
      group,
      String(g.n),
      ...SCORED_ARGUMENTS.map((a) => fraction(g.per_argument[a])),
      fraction(g.config_acc),
    ]),
  );
  return { header, rows };
}

export const perArgumentTable = (report: BenchReport): string => markdown(perArgumentTableCells(report));

export function markdown({ header, rows }: TableCells): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < 2 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}
