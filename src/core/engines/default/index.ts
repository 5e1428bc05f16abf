/**
 * The embedded default engine: no weights, instant, offline. Retrieval over the catalog and its
 * demonstrations drives all three stages; every choice carries the evidence behind it.
 */
import type { Catalog } from '../../catalog/types.ts';
import { termCounts } from '../../retrieval/bm25.ts';
import { joinedTerms, retrievalTerms } from '../../retrieval/terms.ts';
import type { Engine, ModelResult, PromptResult, SelectOptions, StageRequest } from '../engine.ts';
import { buildArgumentPriors, chooseArguments, DEFAULT_ARGUMENT_OPTIONS, type ArgumentOptions } from './args.ts';
import { buildCatalogIndex, DEFAULT_FIELD_WEIGHTS, type CatalogIndex, type FieldWeights } from './index-build.ts';
import { DEFAULT_PROMPT_OPTIONS, writePrompt, type PromptOptions } from './prompt.ts';
import { TRAINED_RERANKER } from './reranker-weights.ts';
import { candidatesOf, DEFAULT_SELECT_WEIGHTS, normaliseScores, plannedModel, rankModels, type RankedModel, type Reranker, type SelectWeights } from './select.ts';

export interface DefaultEngineOptions {
  fields: FieldWeights;
  prompt: PromptOptions;
  select: SelectWeights;
  arguments: ArgumentOptions;
  /** The learned reranker of stage 2 (used when select.rerank is on). */
  reranker: Reranker;
}

export const DEFAULT_ENGINE_OPTIONS: DefaultEngineOptions = {
  fields: DEFAULT_FIELD_WEIGHTS,
  prompt: DEFAULT_PROMPT_OPTIONS,
  select: DEFAULT_SELECT_WEIGHTS,
  arguments: DEFAULT_ARGUMENT_OPTIONS,
  reranker: TRAINED_RERANKER,
};

export const DEFAULT_ENGINE_VERSION = '3';

/**
 * The query of a request's own words, as the indexes store them, plus the catalog's one-word model
 * names the request writes apart ("dream shaper" for DreamShaper).
 */
export function requestQuery(text: string, index: CatalogIndex): Map<string, number> {
  const terms = retrievalTerms(text);
  const query = termCounts(terms);
  for (const term of joinedTerms(terms, (t) => index.joinableNames.has(t))) query.set(term, (query.get(term) ?? 0) + 1);
  return query;
}

/** The weighted query of stage 2 and 3: the user's words, plus the terms stage 1 added at a lower weight. */
function stageQuery(index: CatalogIndex, request: StageRequest, prompt: PromptResult, addedWeight: number): Map<string, number> {
  const query = requestQuery(request.merged.text, index);
  if (addedWeight <= 0) return query;
  for (const { term } of prompt.evidence.added_terms) {
    for (const t of retrievalTerms(term)) query.set(t, (query.get(t) ?? 0) + addedWeight);
  }
  return query;
}

/** `index`: the catalog's index built earlier with the same field weights (the fast start restores one). */
export function createDefaultEngine(catalog: Catalog, overrides: Partial<DefaultEngineOptions> & { index?: CatalogIndex } = {}): Engine {
  const { index: prebuilt, ...rest } = overrides;
  const options: DefaultEngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...rest };
  const index = prebuilt ?? buildCatalogIndex(catalog, options.fields);
  const priors = buildArgumentPriors(index);
  const reranker = options.select.rerank ? options.reranker : undefined;

  // Stage 1 and stage 2 rank models for the same words; the last ranking is kept so the second is free.
  let lastRanking: { key: string; allowed: ReadonlySet<number> | undefined; ranked: RankedModel[] } | null = null;
  const rank = (query: ReadonlyMap<string, number>, allowed?: ReadonlySet<number>): RankedModel[] => {
    const key = JSON.stringify([...query]);
    if (lastRanking && lastRanking.key === key && lastRanking.allowed === allowed) return lastRanking.ranked;
    const ranked = rankModels(index, query, options.select, 5, allowed, reranker);
    lastRanking = { key, allowed, ranked };
    return ranked;
  };

  return {
    name: 'default',
    version: `${DEFAULT_ENGINE_VERSION}:${JSON.stringify(options)}`,

    async writePrompt(request) {
      // Stage 2's belief over models from the user's words alone (it ranks on exactly these), so the
      // prompt can lean on the vocabulary of the model that is likely to be chosen.
      const belief = new Map<number, number>();
      if (options.prompt.modelBoost > 0) {
        const ranked = rank(requestQuery(request.merged.text, index));
        const probabilities = normaliseScores(
          ranked.map((r) => r.score),
          reranker ? 1 : options.select.temperature,
        );
        ranked.forEach((r, i) => belief.set(r.row, probabilities[i]!));
      }
      const written = writePrompt(index, request.merged, options.prompt, belief);
      if (request.input.images.length > 0) {
        written.result.evidence.notes.push('The default engine reads text only: the reference image was not used.');
      }
      return written.result;
    },

    async selectModel(request, prompt, selectOptions: SelectOptions) {
      const query = stageQuery(index, request, prompt, options.select.addedTerms);
      const allowed = selectOptions.allowedModelIds;
      const ranked = rank(query, allowed);
      const best = ranked[0];
      if (!best) {
        throw new Error(
          allowed ? 'None of the catalog models installed on the endpoint can be chosen.' : 'The catalog has no models.',
        );
      }
      const notes: string[] = [];
      if (best.features.model === 0 && best.features.demoMax === 0) {
        notes.push('Nothing in the catalog matched the request; the most popular model was chosen.');
      }
      const result: ModelResult = {
        model: plannedModel(index, best.row),
        evidence: {
          method: reranker
            ? `BM25 over catalog entries and demonstrations, the best ${options.select.shortlist} reranked by a linear model trained on held-out train demonstrations`
            : 'BM25 over catalog entries and demonstrations (name, tags, trigger words, description, prompts)',
          candidates: candidatesOf(index, ranked, reranker ? 1 : options.select.temperature),
          competing: allowed ? allowed.size : index.models.length,
          notes,
        },
      };
      return result;
    },

    async configureArguments(request, prompt, model, seed) {
      const row = index.modelRow.get(model.model.id);
      if (row === undefined) throw new Error(`Model ${model.model.id} is not in the catalog.`);
      const demoScores = new Float32Array(index.demoIndex.size);
      index.demoIndex.accumulate(stageQuery(index, request, prompt, options.select.addedTerms), demoScores);
      // Stage 2's shortlist with its probabilities: a model the user picked by hand (not among them)
      // is taken as certain.
      const shortlist = model.evidence.candidates.flatMap((c) => {
        const r = index.modelRow.get(c.model_id);
        return r === undefined ? [] : [{ row: r, probability: c.score }];
      });
      const chosen = chooseArguments(index, priors, row, demoScores, shortlist, seed, options.arguments);
      return {
        arguments: chosen.arguments,
        evidence: { sources: chosen.sources, demonstrations: chosen.demonstrations, notes: chosen.notes },
      };
    },
  };
}
