/**
 * The paper's Unified Metric: FID, CLIP score, HPS v2 and ImageReward are each min-max normalised to [0, 1] across
 * the runs being compared (FID as 1 - normalised, since lower FID is better) and averaged.
 *
 * Because the normalisation is relative, a Unified value only means something next to the other runs it was computed
 * with; the result therefore carries, per metric, the min, the max and every run's normalised value.
 */

export const UNIFIED_METRICS = ['fid', 'clipScore', 'hpsV2', 'imageReward'] as const;
export type UnifiedMetricName = (typeof UNIFIED_METRICS)[number];

export const LOWER_IS_BETTER: Readonly<Record<UnifiedMetricName, boolean>> = {
  fid: true,
  clipScore: false,
  hpsV2: false,
  imageReward: false,
};

/** The normalised value every run gets for a metric on which all runs tie: it then says nothing about the order. */
export const TIED_NORMALISED_VALUE = 0.5;

export interface RunScores {
  /** The run's name in the report (an engine, a model, a configuration). */
  run: string;
  fid?: number | null;
  clipScore?: number | null;
  hpsV2?: number | null;
  imageReward?: number | null;
}

export interface MetricNormalisation {
  metric: UnifiedMetricName;
  lowerIsBetter: boolean;
  min: number;
  max: number;
  /** True when max === min: every run then gets TIED_NORMALISED_VALUE for this metric. */
  tied: boolean;
  /** Per run (same order as the input): (v - min) / (max - min), or 1 minus that for lower-is-better metrics. */
  normalised: number[];
}

export interface UnifiedResult {
  runs: string[];
  /** The metrics that entered the average, with their normalisation. */
  metrics: MetricNormalisation[];
  /** Metrics left out of the average because at least one run lacks them, with the runs that lack them. */
  omitted: { metric: UnifiedMetricName; missingFor: string[] }[];
  /** Per run: the mean of its normalised values over `metrics`; null when no metric could be used. */
  unified: (number | null)[];
  /** A one-paragraph explanation of how the numbers were obtained, for reports and the UI. */
  explanation: string;
}

export function unifiedMetric(
  runs: RunScores[],
  metrics: readonly UnifiedMetricName[] = UNIFIED_METRICS,
): UnifiedResult {
  if (runs.length === 0) throw new Error('unifiedMetric: no runs to compare');
  const names = runs.map((r) => r.run);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`unifiedMetric: run "${duplicate}" appears twice`);

  const used: MetricNormalisation[] = [];
  const omitted: UnifiedResult['omitted'] = [];
  for (const metric of metrics) {
    const values = runs.map((r) => r[metric]);
    for (const [i, value] of values.entries()) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new Error(`unifiedMetric: run "${names[i]}" has a non-finite ${metric} (${value})`);
      }
    }
    const missingFor = names.filter((_, i) => typeof values[i] !== 'number');
    if (missingFor.length > 0) {
      omitted.push({ metric, missingFor });
      continue;
    }
    const numbers = values as number[];
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    const tied = max === min;
    const lowerIsBetter = LOWER_IS_BETTER[metric];
    const normalised = numbers.map((v) => {
      if (tied) return TIED_NORMALISED_VALUE;
      const scaled = (v - min) / (max - min);
      return lowerIsBetter ? 1 - scaled : scaled;
    });
    used.push({ metric, lowerIsBetter, min, max, tied, normalised });
  }

  const unified = names.map((_, i) =>
    used.length === 0 ? null : used.reduce((sum, m) => sum + m.normalised[i]!, 0) / used.length,
  );
  return { runs: names, metrics: used, omitted, unified, explanation: explain(used, omitted, runs.length) };
}

function explain(used: MetricNormalisation[], omitted: UnifiedResult['omitted'], runCount: number): string {
  const parts = [
    `Unified = mean over ${used.length} metric(s) of the min-max normalised score across these ${runCount} run(s)` +
      ` (FID enters as 1 − normalised because lower is better); it ranks these runs only and is not comparable across other comparisons.`,
  ];
  const tied = used.filter((m) => m.tied).map((m) => m.metric);
  if (tied.length > 0)
    parts.push(`Tied across all runs, so ${TIED_NORMALISED_VALUE} for every run: ${tied.join(', ')}.`);
  for (const o of omitted) parts.push(`${o.metric} left out: missing for ${o.missingFor.join(', ')}.`);
  if (used.length === 0) parts.push('No metric was available for every run, so there is no Unified value.');
  return parts.join(' ');
}
