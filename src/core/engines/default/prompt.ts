/**
 * Stage 1 of the default engine: the person's request as prompt phrases (their words, in order; negations
 * moved to the negative prompt; later turns replacing what they contradict: see src/core/request), plus
 * the style vocabulary the neighbouring demonstrations agree on, and a negative prompt of what the person
 * asked to leave out followed by the terms the neighbours' negative prompts share.
 *
 * Neighbours add only style, quality, lighting, camera and medium terms the catalog uses across many
 * models (`CatalogIndex.addableTerms`), never subjects, clothing or scenery, and never a medium other than
 * the request's. The chosen model's trigger words are stage 3's business (they depend on the model).
 */
import type { MergedRequest } from '../../chat.ts';
import { termCounts, type ScoredDoc } from '../../retrieval/bm25.ts';
import { parseRequest, type ParsedRequest } from '../../request/parse.ts';
import { EXCLUSIVE_GROUPS, MEDIUM_FAMILY, STYLE_WORD_FAMILY } from '../../request/vocabulary.ts';
import { promptTags, retrievalTerms, stem } from '../../retrieval/terms.ts';
import { STOP_WORDS, words } from '../../text.ts';
import type { DemonstrationRef, PromptResult } from '../engine.ts';
import type { CatalogIndex } from './index-build.ts';

export interface PromptOptions {
  /** Demonstrations consulted. */
  neighbours: number;
  /** Share of the neighbours' weight a tag needs before it is added. */
  minSupport: number;
  /** Most tags added to the user's content. */
  maxAddedTags: number;
  /** Most tags in the negative prompt. */
  maxNegativeTags: number;
  /**
   * How much more a demonstration of a likely model counts as a neighbour: its weight is multiplied
   * by 1 + modelBoost x P(its model), so the prompt speaks the vocabulary of the model stage 2 will pick.
   */
  modelBoost: number;
}

export const DEFAULT_PROMPT_OPTIONS: PromptOptions = {
  neighbours: 12,
  minSupport: 0.35,
  maxAddedTags: 8,
  maxNegativeTags: 24,
  modelBoost: 5,
};

/** What stage 1 may know of stage 2's ranking: each likely model row with its probability. */
export type ModelBelief = ReadonlyMap<number, number>;

/** Used when nothing in the catalog resembles the request. */
const FALLBACK_QUALITY = ['masterpiece', 'best quality', 'highly detailed'];
const FALLBACK_NEGATIVE =
  'lowres, bad anatomy, bad hands, text, error, worst quality, low quality, jpeg artifacts, blurry, watermark';

export interface WrittenPrompt {
  result: PromptResult;
  /** Neighbouring demonstrations with their BM25 scores; stage 2 and 3 reuse them. */
  neighbours: ScoredDoc[];
}

export function neighbourRefs(index: CatalogIndex, docs: readonly ScoredDoc[], limit: number): DemonstrationRef[] {
  const top = docs[0]?.score ?? 1;
  return docs.slice(0, limit).map(({ doc, score }) => {
    const d = index.demonstrations[doc]!;
    const model = index.models[index.demoModelRow[doc]!];
    return {
      model_id: d.model_id,
      model_name: model?.name ?? String(d.model_id),
      image_id: d.image_id,
      prompt: d.prompt,
      similarity: score / top,
    };
  });
}

/**
 * The request's text as stages 2 and 3 read it: the person's phrases, without what they negated, and the
 * models they asked to use by name.
 */
export function requestText(parsed: ParsedRequest): string {
  return [...parsed.phrases, ...(parsed.models ?? [])].join(', ');
}

/** The media a text is in (photo, anime, painting, drawing, 3d), by its medium and style words. */
function mediaOf(text: string): Set<string> {
  const found = new Set<string>();
  const w = words(text);
  for (const word of w) {
    const family = STYLE_WORD_FAMILY[word] ?? MEDIUM_FAMILY[word];
    if (family) found.add(family === 'pixel' || family === 'graphic' ? 'graphic' : family);
  }
  for (const member of EXCLUSIVE_GROUPS.medium) {
    if (member.includes(' ') && text.toLowerCase().includes(member)) found.add(MEDIUM_FAMILY[member] ?? member);
  }
  return found;
}

/** Time of day, weather and season words: the person's to choose, never a neighbour's. */
const SCENE_CONDITIONS = new Set(
  [...EXCLUSIVE_GROUPS['time of day'], ...EXCLUSIVE_GROUPS.weather, ...EXCLUSIVE_GROUPS.season].flatMap((p) =>
    p.split(' '),
  ),
);

export function writePrompt(
  index: CatalogIndex,
  merged: MergedRequest,
  options: PromptOptions = DEFAULT_PROMPT_OPTIONS,
  belief: ModelBelief = new Map(),
  parsed: ParsedRequest = parseRequest(merged.turns.map((t) => t.text)),
): WrittenPrompt {
  // The picture's words only: the models asked for by name are stage 2's.
  const text = parsed.phrases.join(', ');
  const queryTerms = retrievalTerms(text);
  const pool = index.demoIndex.search(
    termCounts(queryTerms),
    options.modelBoost > 0 ? options.neighbours * 4 : options.neighbours,
  );
  const neighbours = pool
    .map(({ doc, score }) => ({
      doc,
      score: score * (1 + options.modelBoost * (belief.get(index.demoModelRow[doc]!) ?? 0)),
    }))
    .sort((a, b) => b.score - a.score || a.doc - b.doc)
    .slice(0, options.neighbours);
  const contentStems = new Set(queryTerms);
  const requestMedia = mediaOf(text);
  const kept = [...new Set(words(text).filter((w) => !STOP_WORDS.has(w)))];

  // Tags weighted by how strongly their demonstration matched; a tag counts once per demonstration.
  const support = new Map<string, { weight: number; from: Set<string> }>();
  const negativeSupport = new Map<string, number>();
  let totalWeight = 0;
  for (const { doc, score } of neighbours) {
    const d = index.demonstrations[doc]!;
    const modelName = index.models[index.demoModelRow[doc]!]?.name ?? String(d.model_id);
    totalWeight += score;
    for (const tag of new Set(promptTags(d.prompt))) {
      if (!index.addableTerms.has(tag)) continue;
      const entry = support.get(tag) ?? { weight: 0, from: new Set<string>() };
      entry.weight += score;
      entry.from.add(modelName);
      support.set(tag, entry);
    }
    for (const tag of new Set(promptTags(d.negative_prompt)))
      negativeSupport.set(tag, (negativeSupport.get(tag) ?? 0) + score);
  }

  const added: { term: string; from: string }[] = [];
  if (totalWeight > 0) {
    const ranked = [...support.entries()]
      .filter(([, s]) => s.weight / totalWeight >= options.minSupport)
      .sort((a, b) => b[1].weight - a[1].weight || a[0].localeCompare(b[0]));
    const addedStems = new Set<string>();
    for (const [tag, s] of ranked) {
      if (added.length >= options.maxAddedTags) break;
      const tagWords = words(tag).filter((w) => !STOP_WORDS.has(w));
      const tagStems = tagWords.map(stem);
      // Only what the person did not already say, in no medium but theirs, and no time, weather or season.
      if (tagStems.length === 0 || tagStems.every((t) => contentStems.has(t) || addedStems.has(t))) continue;
      if ([...mediaOf(tag)].some((m) => !requestMedia.has(m))) continue;
      if (tagWords.some((w) => SCENE_CONDITIONS.has(w))) continue;
      for (const t of tagStems) addedStems.add(t);
      const models = index.addableTerms.get(tag) ?? 0;
      added.push({
        term: tag,
        from: `${Math.round((100 * s.weight) / totalWeight)}% of ${neighbours.length} neighbours (${[...s.from].slice(0, 3).join(', ')}); style vocabulary of ${models} models`,
      });
    }
  }
  const notes: string[] = [];
  if (added.length === 0) {
    notes.push('No neighbouring demonstrations agreed on style terms; generic quality terms were added.');
    for (const term of FALLBACK_QUALITY) added.push({ term, from: 'generic quality terms' });
  }

  // Never negate what the person asked for: a neighbour's "child" or "anime" stays out when they asked for one.
  const asked = new Set(queryTerms);
  const fromNeighbours = [...negativeSupport.entries()]
    .filter(
      ([t, w]) =>
        totalWeight > 0 && w / totalWeight >= options.minSupport && !retrievalTerms(t).some((x) => asked.has(x)),
    )
    .sort((a, b) => b[1] - a[1])
    .map(([t]) => t);
  const negativeTerms = [...new Set([...parsed.negatives, ...fromNeighbours])].slice(
    0,
    Math.max(options.maxNegativeTags, parsed.negatives.length),
  );
  if (fromNeighbours.length === 0) notes.push('The neighbours shared no negative terms; generic ones were used.');
  let negative = negativeTerms.join(', ');
  if (fromNeighbours.length === 0) negative = [...parsed.negatives, FALLBACK_NEGATIVE].join(', ');

  for (const n of parsed.negatives) notes.push(`You asked for no ${n}: it is in the negative prompt, not the prompt.`);
  for (const r of parsed.replacements) {
    if (r.by) notes.push(`"${r.by}" replaced "${r.removed.join('", "')}" (${r.rule}).`);
    else notes.push(`Removed from the prompt: "${r.removed.join('", "')}".`);
  }

  return {
    result: {
      prompt: [...parsed.phrases, ...added.map((a) => a.term)].join(', '),
      negative_prompt: negative,
      evidence: {
        neighbours: neighbourRefs(index, neighbours, 5),
        kept_terms: kept,
        added_terms: added,
        notes,
        request: parsed,
      },
    },
    neighbours,
  };
}
