/**
 * Stage 2 of the default engine: ranks catalog models for (request, prompt) by combining BM25 over the
 * whole model document with the best-matching single demonstrations of each model, and reports the
 * top 5 with scores normalised by a softmax.
 */
import { topK } from '../../retrieval/bm25.ts';
import type { PlannedModel } from '../../plan.ts';
import type { ModelCandidate } from '../engine.ts';
import type { CatalogIndex } from './index-build.ts';

export interface SelectWeights {
  /** BM25 over the model's whole document. */
  model: number;
  /** The model's best single demonstration. */
  demoMax: number;
  /** The mean of the model's two best demonstrations (rewards consistent matches). */
  demoTop2: number;
  /** Share (idf-weighted) of the model's distinctive name / trigger words that the request mentions. */
  nameMatch: number;
  /** log-downloads prior. */
  popularity: number;
  /** Weight of prompt terms the engine added, relative to the user's own words (1). */
  addedTerms: number;
  /** Softmax temperature for the reported scores (on the 0..1 combined scale). */
  temperature: number;
}

export const DEFAULT_SELECT_WEIGHTS: SelectWeights = { model: 1, demoMax: 0.6, demoTop2: 0.4, nameMatch: 0.5, popularity: 0.05, addedTerms: 0, temperature: 0.05 };

export interface RankedModel {
  row: number;
  score: number;
  parts: { model: number; demoMax: number; demoTop2: number; nameMatch: number; popularity: number };
}

/** Scores every allowed model; returns the best `k`, best first. */
export function rankModels(
  index: CatalogIndex,
  query: ReadonlyMap<string, number>,
  weights: SelectWeights,
  k: number,
  allowed?: ReadonlySet<number>,
): RankedModel[] {
  const n = index.models.length;
  const modelScores = new Float32Array(n);
  index.modelIndex.accumulate(query, modelScores);
  const demoScores = new Float32Array(index.demoIndex.size);
  index.demoIndex.accumulate(query, demoScores);

  const best1 = new Float32Array(n);
  const best2 = new Float32Array(n);
  for (let doc = 0; doc < demoScores.length; doc++) {
    const s = demoScores[doc]!;
    if (s <= 0) continue;
    const row = index.demoModelRow[doc]!;
    if (row < 0) continue;
    if (s > best1[row]!) {
      best2[row] = best1[row]!;
      best1[row] = s;
    } else if (s > best2[row]!) best2[row] = s;
  }
  const maxModel = Math.max(1e-9, ...topK(modelScores, 1).map((d) => d.score));
  const maxDemo = Math.max(1e-9, ...topK(best1, 1).map((d) => d.score));

  // Name matching only concerns the request's own terms: walk them once, crediting the models whose
  // distinctive name words they are.
  const names = new Float32Array(n);
  for (const term of query.keys()) {
    const rows = index.nameRows.get(term);
    if (!rows) continue;
    const idf = index.modelIndex.idf(term);
    for (const row of rows) names[row]! += idf / index.nameIdfTotal[row]!;
  }
  const combined = new Float32Array(n);
  for (let row = 0; row < n; row++) {
    if (allowed && !allowed.has(index.models[row]!.id)) continue;
    combined[row] =
      weights.nameMatch * names[row]! +
      (weights.model * modelScores[row]!) / maxModel +
      (weights.demoMax * best1[row]!) / maxDemo +
      (weights.demoTop2 * (best1[row]! + best2[row]!)) / (2 * maxDemo) +
      weights.popularity * index.popularity[row]! +
      1e-6; // every allowed model stays rankable even when nothing matches
  }
  return topK(combined, k).map(({ doc: row, score }) => ({
    row,
    score,
    parts: {
      model: modelScores[row]! / maxModel,
      demoMax: best1[row]! / maxDemo,
      demoTop2: (best1[row]! + best2[row]!) / (2 * maxDemo),
      nameMatch: names[row]!,
      popularity: index.popularity[row]!,
    },
  }));
}

/** Softmax over the top scores, so that the reported candidates' scores sum to 1. */
export function normaliseScores(scores: readonly number[], temperature: number): number[] {
  if (scores.length === 0) return [];
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp((s - top) / Math.max(1e-6, temperature)));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function candidatesOf(index: CatalogIndex, ranked: readonly RankedModel[], temperature: number): ModelCandidate[] {
  const probs = normaliseScores(
    ranked.map((r) => r.score),
    temperature,
  );
  return ranked.map((r, i) => {
    const m = index.models[r.row]!;
    const reasons = [
      `catalog entry match ${r.parts.model.toFixed(2)}`,
      `best demonstration match ${r.parts.demoMax.toFixed(2)}`,
      `two best demonstrations ${r.parts.demoTop2.toFixed(2)}`,
      `name / trigger words mentioned ${r.parts.nameMatch.toFixed(2)}`,
      `popularity ${r.parts.popularity.toFixed(2)}`,
    ];
    return { model_id: m.id, name: m.name, type: m.type, base_model: m.base_model, score: probs[i]!, reasons };
  });
}

export function plannedModel(index: CatalogIndex, row: number): PlannedModel {
  const m = index.models[row]!;
  return { id: m.id, name: m.name, type: m.type, file: m.file, base_model: m.base_model, trained_words: m.trained_words, hash: m.hash };
}
