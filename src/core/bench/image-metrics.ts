/**
 * What the image evaluation of a benchmark reports (bench --images): the types both the evaluation
 * (./images.ts) and the report (./report.ts) use, kept apart so neither imports the other's module.
 */
import type { MetricNormalisation, UnifiedMetricName } from '../metrics/unified.ts';
import type { ScorerKind } from '../scoring/manifest.ts';

export interface EngineImageMetrics {
  /** Images scored (items of this run that have an image). */
  n: number;
  /** Items of this run with no image for this engine. */
  missing: number;
  /** Means over the images; null when no pack of that kind was given or n = 0. */
  clip_score: number | null;
  hpsv2: number | null;
  imagereward: number | null;
  aesthetic: number | null;
  /** FID of this engine's images against the reference set; null without a fid-features pack, a reference or 2 images. */
  fid: number | null;
  /** Why FID is missing or only a rough indication (small sets). */
  fid_notes: string[];
  /** The Unified Metric across the engines evaluated here (see ImageEvaluation.unified for the normalisation). */
  unified: number | null;
}

export interface ImageEvaluation {
  packs: { id: string; kind: ScorerKind; name: string; meant_for: string; backend: string }[];
  reference: { n: number } | null;
  /** How the Unified Metric was normalised across the engines: per metric min, max and each engine's value. */
  unified: {
    explanation: string;
    metrics: MetricNormalisation[];
    omitted: { metric: UnifiedMetricName; missingFor: string[] }[];
  };
  engines: Record<string, EngineImageMetrics>;
}
