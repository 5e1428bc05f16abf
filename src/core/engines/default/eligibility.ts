/**
 * Which models a request may get (see model-traits.ts for the rules): the niche models it asks for, with
 * the reason, and the general checkpoints that fit its style. Stage 2 ranks only these.
 */
import type { ParsedRequest } from '../../request/parse.ts';
import { joinedTerms, retrievalTerms, stem } from '../../retrieval/terms.ts';
import { words } from '../../text.ts';
import type { CatalogIndex } from './index-build.ts';
import {
  askedFor,
  exactNameWords,
  namedExactly,
  requestStyles,
  type AskedFor,
  type RequestTerms,
  type StyleClass,
} from './model-traits.ts';

export interface Eligibility {
  /** Catalog model ids that may be chosen. */
  ids: Set<number>;
  /** Why the request asks for each niche model, by row. */
  asked: Map<number, AskedFor>;
  /** Model-naming clauses ("use the Foobar LoRA") that name no model of the catalog. */
  unnamed: string[];
  /** Checkpoints named beside a LoRA ("the DreamShaper checkpoint with the Ghibli LoRA"), by row: the LoRA's base. */
  namedBases: number[];
  /** The styles the request asks for (empty: none said). */
  styles: StyleClass[];
}

export function requestTerms(parsed: ParsedRequest, index: CatalogIndex): RequestTerms {
  const phrases = [...parsed.phrases, ...(parsed.models ?? [])].map((p) => {
    const terms = retrievalTerms(p);
    return [...terms, ...joinedTerms(terms, (t) => index.joinableNames.has(t))];
  });
  return { phrases, all: new Set(phrases.flat()) };
}

export function eligibleModels(index: CatalogIndex, parsed: ParsedRequest): Eligibility {
  const request = requestTerms(parsed, index);
  const styles = requestStyles(request.all);
  const candidates = new Set<number>();
  for (const term of request.all) for (const row of index.namingRows.get(term) ?? []) candidates.add(row);
  const asked = new Map<number, AskedFor>();
  const written = new Set(words([...parsed.phrases, ...(parsed.models ?? [])].join(' ')));
  for (const row of candidates) {
    const answer = askedFor(index.phrases[row]!, index.traits[row]!, request, index.naming);
    if (answer !== null && !(answer.by === 'name' && onlyThroughPlural(answer.terms, written, index.models[row]!.name)))
      asked.set(row, answer);
  }
  // "use the Detail Tweaker LoRA" says which model to use: only the models its clauses name compete, not
  // models the request merely describes ("ramen" is a LoRA's trigger word), nor the general checkpoints.
  const clauses = modelsNamedByClauses(index, parsed.models ?? [], asked);
  if (clauses.named.size > 0) {
    // A checkpoint named beside an add-on is the add-on's base, not a rival to it.
    const rows = [...clauses.named.keys()];
    const isCheckpoint = (row: number) => index.models[row]!.type === 'Checkpoint';
    const addOns = rows.filter((row) => !isCheckpoint(row));
    const chosen = addOns.length > 0 ? addOns : rows;
    return {
      ids: new Set(chosen.map((row) => index.models[row]!.id)),
      asked: new Map(chosen.map((row) => [row, clauses.named.get(row)!])),
      unnamed: clauses.unnamed,
      namedBases: addOns.length > 0 ? rows.filter(isCheckpoint) : [],
      styles,
    };
  }
  // A checkpoint named in full ("use the DreamShaper checkpoint") is the checkpoint the person wants: the
  // general checkpoints leave the competition, and so do models that only carry its name among their tags
  // (a merge tagged "dreamshaper" is not DreamShaper). The other models the request asks for still compete.
  const namedCheckpoints = [...asked].filter(([row, a]) => {
    const name = index.phrases[row]!.primaryName;
    return (
      a.by === 'name' &&
      index.models[row]!.type === 'Checkpoint' &&
      name.length > 0 &&
      name.every((t) => request.all.has(t))
    );
  });
  const checkpointNameTerms = new Set(namedCheckpoints.flatMap(([row]) => index.phrases[row]!.primaryName));
  const ids = new Set<number>();
  const allowedAsked = new Map<number, AskedFor>();
  for (const [row, answer] of asked) {
    if (answer.by === 'concept' && answer.terms.every((t) => checkpointNameTerms.has(t))) continue;
    allowedAsked.set(row, answer);
    ids.add(index.models[row]!.id);
  }
  const result = { ids, asked: allowedAsked, unnamed: clauses.unnamed, namedBases: [], styles };
  // So is a model named by an uncommon word of its name ("in Moebius style", "use the Moebius LoRA"): the
  // general checkpoints, which the person did not name, leave the competition.
  const namedByRareWord = [...asked.values()].some((a) => a.by === 'name' && a.terms.length === 1);
  if (namedCheckpoints.length > 0 || namedByRareWord) return result;
  // General checkpoints of the request's style (all of them when it names no style, or none fits).
  const fitting =
    styles.length === 0
      ? index.generalRows
      : index.generalRows.filter((row) => index.traits[row]!.styles.some((s) => styles.includes(s)));
  for (const row of fitting.length > 0 ? fitting : index.generalRows) ids.add(index.models[row]!.id);
  return result;
}

/**
 * The models that "use the X LoRA" / "with the X checkpoint" clauses name: those it names exactly
 * (`namedExactly`: the person said these words are a model's name), else those `askedFor` found named by
 * its name or trigger inside the clause ("the Ghibli LoRA"). Returns them by row, and the clauses that
 * named none.
 */
function modelsNamedByClauses(
  index: CatalogIndex,
  clauses: readonly string[],
  asked: ReadonlyMap<number, AskedFor>,
): { named: Map<number, AskedFor>; unnamed: string[] } {
  const named = new Map<number, AskedFor>();
  const unnamed: string[] = [];
  for (const clause of clauses) {
    const words = exactNameWords(clause);
    // Only names or files holding the clause's first word are read word by word.
    const first = words[0];
    const exact = index.models.flatMap((model, row) => {
      if (first === undefined || !`${model.name} ${model.file}`.toLowerCase().includes(first)) return [];
      const traits = index.traits[row]!;
      return namedExactly(model, words, !traits.character && !traits.person) ? [row] : [];
    });
    for (const row of exact) named.set(row, { by: 'name', terms: words, reason: `the request names it ("${clause}")` });
    if (exact.length > 0) continue;
    const terms = new Set(retrievalTerms(clause));
    const within = [...asked].filter(([, a]) => a.by !== 'concept' && a.terms.every((t) => terms.has(t)));
    for (const [row, answer] of within) named.set(row, answer);
    if (within.length === 0) unnamed.push(clause);
  }
  return { named, unnamed };
}

/**
 * True when the request writes a name term only as a plural the model's name does not write: "the alps" does
 * not name the LoRA "alp style"; the "s" the stemmer took off was the person's, part of another word.
 */
function onlyThroughPlural(terms: readonly string[], written: ReadonlySet<string>, modelName: string): boolean {
  // One word names it; with more ("Cloud" and "twin braids") a plural is only description.
  const term = terms.length === 1 ? terms[0]! : null;
  if (term === null || written.has(term)) return false;
  const nameWords = new Set(words(modelName));
  return [...written].some((w) => w !== term && stem(w) === term && !nameWords.has(w));
}
