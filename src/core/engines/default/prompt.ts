/**
 * Stage 1 of the default engine: the user's content, cleaned into prompt form and kept whole, plus the
 * style, quality and trigger vocabulary that the neighbouring demonstrations agree on, and a negative
 * prompt made of the terms the neighbours' negative prompts share.
 */
import type { MergedRequest } from '../../chat.ts';
import { termCounts, type ScoredDoc } from '../../retrieval/bm25.ts';
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
  /**
   * Drop function words inside the user's clauses ("a fox reading in a library" -> "fox reading
   * library"): prompts are tag lists, and every content word stays.
   */
  compact: boolean;
}

export const DEFAULT_PROMPT_OPTIONS: PromptOptions = {
  neighbours: 12,
  minSupport: 0.35,
  maxAddedTags: 20,
  maxNegativeTags: 24,
  modelBoost: 5,
  compact: true,
};

/** What stage 1 may know of stage 2's ranking: each likely model row with its probability. */
export type ModelBelief = ReadonlyMap<number, number>;

/** Used when nothing in the catalog resembles the request. */
const FALLBACK_QUALITY = ['masterpiece', 'best quality', 'highly detailed'];
const FALLBACK_NEGATIVE = 'lowres, bad anatomy, bad hands, text, error, worst quality, low quality, jpeg artifacts, blurry, watermark';

/** Words that open a request rather than describe the picture: dropped from the front of a clause. */
const LEADING_FILLER = new Set([...STOP_WORDS, 'yo', 'hey', 'super', 'cool', 'cute', 'nice', 'awesome', 'something']);
const KEEP_LEADING = new Set(['cute', 'cool', 'super', 'nice']);

/**
 * The user's request as prompt clauses: split at sentence and comma boundaries, leading filler
 * ("can u make me a ...") dropped, everything descriptive kept in the user's order.
 */
export function contentClauses(merged: MergedRequest): string[] {
  const clauses: string[] = [];
  for (const turn of merged.turns) {
    for (const raw of turn.text.split(/[\n.!?;,]+|\s+-\s+|\bthen\b/)) {
      const tokens = raw.trim().split(/\s+/).filter((t) => t.length > 0);
      let start = 0;
      while (start < tokens.length) {
        const w = words(tokens[start]!);
        const isFiller = w.length === 0 || w.every((x) => LEADING_FILLER.has(x) && !KEEP_LEADING.has(x));
        if (!isFiller) break;
        start++;
      }
      let end = tokens.length;
      while (end > start && words(tokens[end - 1]!).every((x) => STOP_WORDS.has(x))) end--;
      const clause = tokens.slice(start, end).join(' ').replace(/^[^\p{L}\p{N}(]+|[^\p{L}\p{N})]+$/gu, '');
      if (clause.length > 0) clauses.push(clause);
    }
  }
  // A later turn repeating an earlier clause adds nothing.
  return [...new Set(clauses)];
}

/** Function words that change what is asked for ("no hat", "without glasses"): compacting keeps them. */
const NEGATIONS = new Set(['no', 'not', 'without', 'nor', 'never']);

/** A clause without its function words, punctuation inside words kept ("sci-fi"), negations kept. */
function compactClause(clause: string): string {
  return clause
    .split(/\s+/)
    .filter((token) => words(token).some((w) => !STOP_WORDS.has(w) || NEGATIONS.has(w)))
    .join(' ');
}

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
    return { model_id: d.model_id, model_name: model?.name ?? String(d.model_id), image_id: d.image_id, prompt: d.prompt, similarity: score / top };
  });
}

export function writePrompt(
  index: CatalogIndex,
  merged: MergedRequest,
  options: PromptOptions = DEFAULT_PROMPT_OPTIONS,
  belief: ModelBelief = new Map(),
): WrittenPrompt {
  const clauses = options.compact ? contentClauses(merged).map(compactClause).filter((c) => c.length > 0) : contentClauses(merged);
  const queryTerms = retrievalTerms(merged.text);
  const pool = index.demoIndex.search(termCounts(queryTerms), options.modelBoost > 0 ? options.neighbours * 4 : options.neighbours);
  const neighbours = pool
    .map(({ doc, score }) => ({ doc, score: score * (1 + options.modelBoost * (belief.get(index.demoModelRow[doc]!) ?? 0)) }))
    .sort((a, b) => b.score - a.score || a.doc - b.doc)
    .slice(0, options.neighbours);
  const contentStems = new Set(queryTerms);
  const kept = [...new Set(words(clauses.join(' ')).filter((w) => !STOP_WORDS.has(w)))];

  // Tags weighted by how strongly their demonstration matched; a tag counts once per demonstration.
  const support = new Map<string, { weight: number; from: Set<string> }>();
  const negativeSupport = new Map<string, number>();
  let totalWeight = 0;
  for (const { doc, score } of neighbours) {
    const d = index.demonstrations[doc]!;
    const modelName = index.models[index.demoModelRow[doc]!]?.name ?? String(d.model_id);
    totalWeight += score;
    for (const tag of new Set(promptTags(d.prompt))) {
      const entry = support.get(tag) ?? { weight: 0, from: new Set<string>() };
      entry.weight += score;
      entry.from.add(modelName);
      support.set(tag, entry);
    }
    for (const tag of new Set(promptTags(d.negative_prompt))) negativeSupport.set(tag, (negativeSupport.get(tag) ?? 0) + score);
  }

  const added: { term: string; from: string }[] = [];
  if (totalWeight > 0) {
    const ranked = [...support.entries()]
      .filter(([, s]) => s.weight / totalWeight >= options.minSupport)
      .sort((a, b) => b[1].weight - a[1].weight);
    for (const [tag, s] of ranked) {
      if (added.length >= options.maxAddedTags) break;
      const tagStems = words(tag).filter((w) => !STOP_WORDS.has(w)).map(stem);
      // Tags that only repeat the user's own words add nothing; tags with subject matter the user did
      // not ask for (another character, another animal) would change the picture, so only style and
      // quality vocabulary shared by several neighbours is taken.
      if (tagStems.length === 0 || tagStems.every((t) => contentStems.has(t))) continue;
      added.push({ term: tag, from: `${Math.round((100 * s.weight) / totalWeight)}% of ${neighbours.length} neighbours (${[...s.from].slice(0, 3).join(', ')})` });
    }
  }
  const notes: string[] = [];
  if (added.length === 0) {
    notes.push('No neighbouring demonstrations agreed on style terms; generic quality terms were added.');
    for (const term of FALLBACK_QUALITY) added.push({ term, from: 'generic quality terms' });
  }

  let negative = [...negativeSupport.entries()]
    .filter(([, w]) => totalWeight > 0 && w / totalWeight >= options.minSupport)
    .sort((a, b) => b[1] - a[1])
    .slice(0, options.maxNegativeTags)
    .map(([t]) => t)
    .join(', ');
  if (negative === '') {
    negative = FALLBACK_NEGATIVE;
    notes.push('The negative prompt is a generic one: the neighbours shared no negative terms.');
  }
  if (merged.turns.some((t) => t.overrides)) notes.push('A later turn changes an earlier one; all turns are kept, latest last.');

  return {
    result: {
      prompt: [...clauses, ...added.map((a) => a.term)].join(', '),
      negative_prompt: negative,
      evidence: { neighbours: neighbourRefs(index, neighbours, 5), kept_terms: kept, added_terms: added, notes },
    },
    neighbours,
  };
}
