/**
 * Stage 2 of the default engine: ranks catalog models for (request, prompt) by combining BM25 over the
 * whole model document with the best-matching single demonstrations of each model, and reports the
 * top 5 with scores normalised by a softmax.
 */
import { topK } from '../../retrieval/bm25.ts';
import { plannedModelOf } from '../../catalog/types.ts';
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
  /** Softmax temperature for the reported scores when not reranking (on the 0..1 combined scale). */
  temperature: number;
  /** Rerank the shortlist with the learned linear reranker (reranker-weights.ts). */
  rerank: boolean;
  /** How many first-stage candidates the reranker sees. */
  shortlist: number;
  /** Demonstrations that vote in the nearest-neighbour feature. */
  knn: number;
}

export const DEFAULT_SELECT_WEIGHTS: SelectWeights = {
  model: 1,
  demoMax: 0.6,
  demoTop2: 0.4,
  nameMatch: 0.5,
  popularity: 0.05,
  addedTerms: 0,
  temperature: 0.05,
  rerank: true,
  shortlist: 40,
  knn: 20,
};

/**
 * What the reranker knows about one candidate model, each in about 0..1. The first-stage score is a
 * fixed blend of the first five; the reranker learns how much each is worth.
 */
export const RERANK_FEATURES = [
  'model',
  'demoMax',
  'demoTop2',
  'nameMatch',
  'popularity',
  'lora',
  'demoCount',
  'modelCoverage',
  'nameField',
  'tagsField',
  'triggerField',
  'descriptionField',
  'knnVote',
  'sd15',
  'loraNameMatch',
  'loraTagsField',
  'checkpointModel',
] as const;
export type RerankFeature = (typeof RERANK_FEATURES)[number];
export type RerankFeatures = Record<RerankFeature, number>;

const FEATURE_LABELS: Record<RerankFeature, string> = {
  model: 'catalog entry match',
  demoMax: 'best demonstration match',
  demoTop2: 'two best demonstrations',
  nameMatch: 'name / trigger words mentioned',
  popularity: 'popularity',
  lora: 'is a LoRA',
  demoCount: 'number of demonstrations',
  modelCoverage: 'share of the request the entry covers',
  nameField: 'name match',
  tagsField: 'tag match',
  triggerField: 'trigger word match',
  descriptionField: 'description match',
  knnVote: 'share of the nearest demonstrations',
  sd15: 'SD 1.5 base',
  loraNameMatch: 'a LoRA whose name / trigger words are mentioned',
  loraTagsField: 'a LoRA whose tags match',
  checkpointModel: 'a checkpoint whose entry matches',
};

export interface Reranker {
  /** One weight per feature of RERANK_FEATURES, in that order. */
  weights: Readonly<Record<RerankFeature, number>>;
}

export interface RankedModel {
  row: number;
  /** The reranker's logit, or the first-stage blend when not reranking. */
  score: number;
  features: RerankFeatures;
  /** Each feature's share of the score (weight x value), for the evidence. */
  contributions: Partial<Record<RerankFeature, number>>;
}

function maxOf(values: Float32Array): number {
  let m = 1e-9;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** Scores every allowed model; returns the best `k`, best first. */
export function rankModels(
  index: CatalogIndex,
  query: ReadonlyMap<string, number>,
  weights: SelectWeights,
  k: number,
  allowed?: ReadonlySet<number>,
  reranker?: Reranker,
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
  const maxModel = maxOf(modelScores);
  const maxDemo = maxOf(best1);

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
  const shortlist = topK(combined, reranker ? Math.max(k, weights.shortlist) : k);

  // Features the first stage does not compute for every model: only for the shortlist.
  const fields = {
    nameField: new Float32Array(n),
    tagsField: new Float32Array(n),
    triggerField: new Float32Array(n),
    descriptionField: new Float32Array(n),
  };
  const coverage = new Float32Array(n);
  const knn = new Float32Array(n);
  if (reranker) {
    index.fieldIndex.name.accumulate(query, fields.nameField);
    index.fieldIndex.tags.accumulate(query, fields.tagsField);
    index.fieldIndex.trained_words.accumulate(query, fields.triggerField);
    index.fieldIndex.description.accumulate(query, fields.descriptionField);
    index.modelIndex.accumulateMatchedIdf(query, coverage);
    const nearest = topK(demoScores, weights.knn);
    const top = nearest[0]?.score ?? 1;
    for (const { doc, score } of nearest) {
      const row = index.demoModelRow[doc]!;
      if (row >= 0) knn[row]! += score / top / Math.max(1, nearest.length);
    }
  }
  let queryIdf = 1e-9;
  for (const [term, qw] of query)
    if (index.modelIndex.documentFrequency(term) > 0) queryIdf += index.modelIndex.idf(term) * qw;
  const fieldMax = {
    nameField: maxOf(fields.nameField),
    tagsField: maxOf(fields.tagsField),
    triggerField: maxOf(fields.triggerField),
    descriptionField: maxOf(fields.descriptionField),
  };

  const ranked = shortlist.map(({ doc: row, score }): RankedModel => {
    const m = index.models[row]!;
    const features: RerankFeatures = {
      model: modelScores[row]! / maxModel,
      demoMax: best1[row]! / maxDemo,
      demoTop2: (best1[row]! + best2[row]!) / (2 * maxDemo),
      nameMatch: names[row]!,
      popularity: index.popularity[row]!,
      lora: m.type === 'LORA' ? 1 : 0,
      demoCount: Math.log1p(index.demosOfModel[row]!.length) / Math.log1p(12),
      modelCoverage: coverage[row]! / queryIdf,
      nameField: fields.nameField[row]! / fieldMax.nameField,
      tagsField: fields.tagsField[row]! / fieldMax.tagsField,
      triggerField: fields.triggerField[row]! / fieldMax.triggerField,
      descriptionField: fields.descriptionField[row]! / fieldMax.descriptionField,
      knnVote: knn[row]!,
      sd15: m.base_model === 'SD 1.5' ? 1 : 0,
      loraNameMatch: 0,
      loraTagsField: 0,
      checkpointModel: 0,
    };
    // A named character or style points to a LoRA more than to a checkpoint; a general match to a checkpoint.
    features.loraNameMatch = features.lora * features.nameMatch;
    features.loraTagsField = features.lora * features.tagsField;
    features.checkpointModel = (1 - features.lora) * features.model;
    if (!reranker) {
      return {
        row,
        score,
        features,
        contributions: {
          model: weights.model * features.model,
          demoMax: weights.demoMax * features.demoMax,
          demoTop2: weights.demoTop2 * features.demoTop2,
          nameMatch: weights.nameMatch * features.nameMatch,
          popularity: weights.popularity * features.popularity,
        },
      };
    }
    const contributions: Partial<Record<RerankFeature, number>> = {};
    let logit = 0;
    for (const f of RERANK_FEATURES) {
      const c = reranker.weights[f] * features[f];
      contributions[f] = c;
      logit += c;
    }
    return { row, score: logit, features, contributions };
  });
  ranked.sort((a, b) => b.score - a.score || a.row - b.row);
  return ranked.slice(0, k);
}

/** Softmax over the top scores, so that the reported candidates' scores sum to 1. */
export function normaliseScores(scores: readonly number[], temperature: number): number[] {
  if (scores.length === 0) return [];
  const top = Math.max(...scores);
  const exps = scores.map((s) => Math.exp((s - top) / Math.max(1e-6, temperature)));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function candidatesOf(
  index: CatalogIndex,
  ranked: readonly RankedModel[],
  temperature: number,
): ModelCandidate[] {
  const probs = normaliseScores(
    ranked.map((r) => r.score),
    temperature,
  );
  return ranked.map((r, i) => {
    const m = index.models[r.row]!;
    // The features that moved this candidate most, with their values and what they added to the score.
    const reasons = (Object.entries(r.contributions) as [RerankFeature, number][])
      .filter(([f, c]) => c !== 0 && r.features[f] !== 0)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
      .slice(0, 6)
      .map(([f, c]) => `${FEATURE_LABELS[f]} ${r.features[f].toFixed(2)} (${c >= 0 ? '+' : ''}${c.toFixed(2)})`);
    if (reasons.length === 0) reasons.push('nothing in the request matched this model');
    return { model_id: m.id, name: m.name, type: m.type, base_model: m.base_model, score: probs[i]!, reasons };
  });
}

export function plannedModel(index: CatalogIndex, row: number): PlannedModel {
  return plannedModelOf(index.models[row]!);
}
