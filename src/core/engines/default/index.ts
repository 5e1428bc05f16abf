/**
 * The embedded default engine: no weights, instant, offline. Retrieval over the catalog and its
 * demonstrations drives all three stages; every choice carries the evidence behind it.
 */
import type { Catalog } from '../../catalog/types.ts';
import { hashString } from '../../hash.ts';
import { termCounts } from '../../retrieval/bm25.ts';
import { joinedTerms, retrievalTerms } from '../../retrieval/terms.ts';
import { parseRequest, type ParsedRequest } from '../../request/parse.ts';
import { shapeOf } from '../../request/shape.ts';
import type { ArgumentsResult, Engine, ModelResult, PromptResult, SelectOptions, StageRequest } from '../engine.ts';
import { eligibleModels, type Eligibility } from './eligibility.ts';
import { baseCheckpointFor, fitSize, triggerWordsFor } from './fit.ts';
import { buildArgumentPriors, chooseArguments, DEFAULT_ARGUMENT_OPTIONS, type ArgumentOptions } from './args.ts';
import { buildCatalogIndex, DEFAULT_FIELD_WEIGHTS, type CatalogIndex, type FieldWeights } from './index-build.ts';
import { DEFAULT_PROMPT_OPTIONS, requestText, writePrompt, type PromptOptions } from './prompt.ts';
import { TRAINED_RERANKER } from './reranker-weights.ts';
import {
  candidatesOf,
  DEFAULT_SELECT_WEIGHTS,
  normaliseScores,
  plannedModel,
  rankModels,
  type RankedModel,
  type Reranker,
  type SelectWeights,
} from './select.ts';

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

/**
 * Bumped whenever the engine's or the request rules' code changes what a plan says (5: later-turn
 * changes, "nothing X", style-following base checkpoints), so plans cached under older rules are not served.
 */
export const DEFAULT_ENGINE_VERSION = '7';

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

/** The person's request as stage 1 parsed it (parsed again for a prompt from another engine). */
function parsedOf(request: StageRequest, prompt: PromptResult): ParsedRequest {
  return prompt.evidence.request ?? parseRequest(request.merged.turns.map((t) => t.text));
}

/** The weighted query of stage 2 and 3: the user's words, plus the terms stage 1 added at a lower weight. */
function stageQuery(
  index: CatalogIndex,
  request: StageRequest,
  prompt: PromptResult,
  addedWeight: number,
): Map<string, number> {
  const query = requestQuery(requestText(parsedOf(request, prompt)), index);
  if (addedWeight <= 0) return query;
  for (const { term } of prompt.evidence.added_terms) {
    for (const t of retrievalTerms(term)) query.set(t, (query.get(t) ?? 0) + addedWeight);
  }
  return query;
}

/** `index`: the catalog's index built earlier with the same field weights (the fast start restores one). */
export function createDefaultEngine(
  catalog: Catalog,
  overrides: Partial<DefaultEngineOptions> & { index?: CatalogIndex } = {},
): Engine {
  const { index: prebuilt, ...rest } = overrides;
  const options: DefaultEngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...rest };
  const index = prebuilt ?? buildCatalogIndex(catalog, options.fields);
  const priors = buildArgumentPriors(index);
  const reranker = options.select.rerank ? options.reranker : undefined;

  // Stage 1 and stage 2 decide eligibility for the same parsed request; the last answer is kept.
  let lastEligibility: { parsed: ParsedRequest; eligibility: Eligibility } | null = null;
  const eligibility = (parsed: ParsedRequest): Eligibility => {
    if (lastEligibility?.parsed !== parsed) lastEligibility = { parsed, eligibility: eligibleModels(index, parsed) };
    return lastEligibility.eligibility;
  };

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
    // The options decide every plan, so they are part of the version; hashed, since cached plans carry it.
    version: `${DEFAULT_ENGINE_VERSION}:${hashString(JSON.stringify(options))}`,

    async writePrompt(request) {
      const parsed = parseRequest(request.merged.turns.map((t) => t.text));
      // Stage 2's belief over models from the user's words alone (it ranks on exactly these), so the
      // prompt can lean on the vocabulary of the model that is likely to be chosen.
      const belief = new Map<number, number>();
      if (options.prompt.modelBoost > 0) {
        const eligible = eligibility(parsed).ids;
        const ranked = rank(requestQuery(requestText(parsed), index), eligible);
        const probabilities = normaliseScores(
          ranked.map((r) => r.score),
          reranker ? 1 : options.select.temperature,
        );
        ranked.forEach((r, i) => belief.set(r.row, probabilities[i]!));
      }
      const written = writePrompt(index, request.merged, options.prompt, belief, parsed);
      if (request.input.images.length > 0) {
        written.result.evidence.notes.push('The default engine reads text only: the reference image was not used.');
      }
      return written.result;
    },

    async selectModel(request, prompt, selectOptions: SelectOptions) {
      const query = stageQuery(index, request, prompt, options.select.addedTerms);
      const installed = selectOptions.allowedModelIds;
      const notes: string[] = [];
      // Only the models the request asks for, and the general checkpoints of its style, compete.
      const eligible = eligibility(parsedOf(request, prompt));
      let allowed: ReadonlySet<number> = installed
        ? new Set([...eligible.ids].filter((id) => installed.has(id)))
        : eligible.ids;
      if (allowed.size === 0) {
        allowed = installed ?? new Set(index.models.map((m) => m.id));
        notes.push(
          installed
            ? 'None of the installed models is one the request asks for or a general checkpoint: any installed model could be chosen.'
            : 'The catalog has no general checkpoint and nothing in it is named by the request: any model could be chosen.',
        );
      }
      const ranked = rank(query, allowed);
      const best = ranked[0];
      if (!best) {
        throw new Error(
          installed
            ? 'None of the catalog models installed on the endpoint can be chosen.'
            : 'The catalog has no models.',
        );
      }
      for (const clause of eligible.unnamed)
        notes.push(`No model in the catalog is called "${clause}", so the engine chose one itself.`);
      const asked = eligible.asked.get(best.row);
      if (asked) notes.push(`${index.models[best.row]!.name} was allowed because ${asked.reason}.`);
      else if (index.traits[best.row]!.general) {
        const styles = eligible.styles;
        notes.push(
          `No niche model (LoRA, character, person) was asked for by name, trigger word or distinctive concept, so a well-regarded general checkpoint was chosen${styles.length > 0 ? ` for the ${styles.join(' / ')} style asked for` : ''}.`,
        );
      }
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
          competing: allowed.size,
          ...(asked ? { asked: { by: asked.by, terms: [...asked.terms] } } : {}),
          ...(eligible.unnamed.length > 0 ? { unnamed: eligible.unnamed } : {}),
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
      const parsed = parsedOf(request, prompt);
      const notes = [...chosen.notes];
      const sources = { ...chosen.sources };

      // The size the request's shape and the model's family call for.
      const habits = (index.demosOfModel[row] ?? []).map(
        (d) => [index.demonstrations[d]!.arguments.width, index.demonstrations[d]!.arguments.height] as const,
      );
      const fitted = fitSize(
        index,
        row,
        chosen.arguments,
        shapeOf([...parsed.phrases, ...(parsed.formats ?? [])]),
        habits,
      );
      const args = { ...chosen.arguments, width: fitted.width, height: fitted.height };
      if (fitted.reason) {
        sources.width = { origin: 'request-shape', detail: fitted.reason };
        sources.height = { origin: 'request-shape', detail: fitted.reason };
      }

      // The model's trigger words, and for a LoRA the checkpoint it runs on.
      // Never one that brings back what the person negated or replaced ("no chopsticks").
      const unwanted = [...parsed.negatives, ...parsed.replacements.flatMap((r) => r.terms)]
        .map((t) => retrievalTerms(t).join(' '))
        .filter((t) => t.length > 0);
      const triggers = triggerWordsFor(index, row).filter((t) => {
        const terms = ` ${retrievalTerms(t).join(' ')} `;
        return (
          !prompt.prompt.toLowerCase().includes(t.toLowerCase()) && !unwanted.some((u) => terms.includes(` ${u} `))
        );
      });
      if (triggers.length > 0)
        notes.push(`Trigger words of ${model.model.name} added to the prompt: ${triggers.join(', ')}.`);
      const result: ArgumentsResult = {
        arguments: args,
        evidence: { sources, demonstrations: chosen.demonstrations, notes },
      };
      if (triggers.length > 0) result.prompt = [prompt.prompt, ...triggers].join(', ');
      if (index.models[row]!.type === 'LORA') {
        const base = baseCheckpointFor(index, row, {
          ...(request.allowedModelIds ? { allowed: request.allowedModelIds } : {}),
          styles: eligibility(parsed).styles,
          named: eligibility(parsed).namedBases,
        });
        if (base) {
          result.base_checkpoint = plannedModel(index, base.row);
          notes.push(
            `${model.model.name} is a LoRA: it runs on the checkpoint ${index.models[base.row]!.name} (${base.reason}).`,
          );
        } else
          notes.push(
            `${model.model.name} is a LoRA, and the catalog has no ${index.models[row]!.base_model} checkpoint to run it on.`,
          );
      }
      return result;
    },
  };
}
