/**
 * Scores as the app stores them with a result (by image index, then scorer pack id): what they mean, which are
 * still missing (so nothing is recomputed for an image and pack already scored), sorting by a score, and the
 * Unified Metric over selected results.
 */
import { unifiedMetric, type RunScores, type UnifiedResult } from '../metrics/unified.ts';
import type { ScorerKind } from './manifest.ts';

export type StoredScores = Record<number, Record<string, number>>;

/** The pack facts the app keeps beside stored scores, so they can be labelled without loading the pack. */
export interface KnownPack {
  id: string;
  kind: ScorerKind;
  name: string;
  meantFor: string;
}

/** One line per kind: what the number means. */
export const SCORE_MEANINGS: Readonly<Record<Exclude<ScorerKind, 'fid-features'>, { label: string; meaning: string }>> =
  {
    clip: { label: 'CLIP score', meaning: 'agreement of image and approved prompt, 0-100 (higher is better)' },
    hpsv2: {
      label: 'HPS v2',
      meaning: 'predicted human preference for this image given the prompt (higher is preferred)',
    },
    imagereward: {
      label: 'ImageReward',
      meaning: "reward model's human-preference score, about N(0,1) over typical images (higher is better)",
    },
    aesthetic: { label: 'Aesthetic', meaning: 'LAION aesthetic predictor, 1-10 (higher is more attractive)' },
  };

export const isPerImageKind = (kind: ScorerKind): kind is Exclude<ScorerKind, 'fid-features'> =>
  kind !== 'fid-features';

/** Per pack, the image indices that have no stored score yet. */
export function missingScores(
  scores: StoredScores,
  imageCount: number,
  packIds: readonly string[],
): Map<string, number[]> {
  const missing = new Map<string, number[]>();
  for (const id of packIds) {
    const indices: number[] = [];
    for (let i = 0; i < imageCount; i++) if (typeof scores[i]?.[id] !== 'number') indices.push(i);
    if (indices.length > 0) missing.set(id, indices);
  }
  return missing;
}

/** Adds new scores without touching stored ones (a stored score is never replaced). */
export function mergeScores(stored: StoredScores, packId: string, byImage: ReadonlyMap<number, number>): StoredScores {
  const merged: StoredScores = {};
  for (const [i, row] of Object.entries(stored)) merged[Number(i)] = { ...row };
  for (const [i, value] of byImage) {
    if (!Number.isFinite(value))
      throw new Error(`scorer pack "${packId}" gave a non-finite score (${value}) for image ${i}`);
    const row = (merged[i] ??= {});
    if (typeof row[packId] !== 'number') row[packId] = value;
  }
  return merged;
}

/** The best image's score for a pack in one result (results hold several images), or null when none has it. */
export function bestScore(scores: StoredScores, packId: string): number | null {
  let best: number | null = null;
  for (const row of Object.values(scores)) {
    const value = row[packId];
    if (typeof value === 'number' && (best === null || value > best)) best = value;
  }
  return best;
}

/** Orders by a pack's best score, highest first; results without it keep their order after the scored ones. */
export function sortByScore<T extends { scores: StoredScores }>(results: readonly T[], packId: string): T[] {
  const keyed = results.map((result, order) => ({ result, order, score: bestScore(result.scores, packId) }));
  keyed.sort((a, b) => {
    if (a.score === null || b.score === null)
      return a.score === null && b.score === null ? a.order - b.order : a.score === null ? 1 : -1;
    return b.score - a.score || a.order - b.order;
  });
  return keyed.map((k) => k.result);
}

/** Pack ids that have at least one stored score across these results, in first-seen order. */
export function scoredPackIds(results: readonly { scores: StoredScores }[]): string[] {
  const ids = new Set<string>();
  for (const r of results) for (const row of Object.values(r.scores)) for (const id of Object.keys(row)) ids.add(id);
  return [...ids];
}

const UNIFIED_FIELD = { clip: 'clipScore', hpsv2: 'hpsV2', imagereward: 'imageReward' } as const;

/**
 * The Unified Metric over results (runs): each result's mean score per CLIP score / HPS v2 / ImageReward pack kind
 * (from the stored scores), plus FID per run when given, min-max normalised across these runs and averaged.
 */
export function unifiedOverResults(
  runs: readonly { run: string; scores: StoredScores; fid?: number | null }[],
  packs: ReadonlyMap<string, KnownPack>,
): UnifiedResult {
  const rows: RunScores[] = runs.map(({ run, scores, fid }) => {
    const row: RunScores = { run, fid: fid ?? null };
    for (const [kind, field] of Object.entries(UNIFIED_FIELD) as [
      keyof typeof UNIFIED_FIELD,
      (typeof UNIFIED_FIELD)[keyof typeof UNIFIED_FIELD],
    ][]) {
      const values = Object.values(scores).flatMap((perPack) =>
        Object.entries(perPack)
          .filter(([id]) => packs.get(id)?.kind === kind)
          .map(([, v]) => v),
      );
      row[field] = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
    }
    return row;
  });
  return unifiedMetric(rows);
}
