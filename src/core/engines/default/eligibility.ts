/**
 * Which models a request may get (see model-traits.ts for the rules): the niche models it asks for, with
 * the reason, and the general checkpoints that fit its style. Stage 2 ranks only these.
 */
import type { ParsedRequest } from '../../request/parse.ts';
import { joinedTerms, retrievalTerms } from '../../retrieval/terms.ts';
import type { CatalogIndex } from './index-build.ts';
import { askedFor, requestStyles, type AskedFor, type RequestTerms, type StyleClass } from './model-traits.ts';

export interface Eligibility {
  /** Catalog model ids that may be chosen. */
  ids: Set<number>;
  /** Why each niche model is allowed, by row. */
  reasons: Map<number, string>;
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
  const ids = new Set<number>();
  const reasons = new Map<number, string>();
  const candidates = new Set<number>();
  for (const term of request.all) for (const row of index.namingRows.get(term) ?? []) candidates.add(row);
  const asked = new Map<number, AskedFor>();
  for (const row of candidates) {
    const answer = askedFor(index.phrases[row]!, index.traits[row]!, request, index.naming);
    if (answer !== null) asked.set(row, answer);
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
  for (const [row, answer] of asked) {
    if (answer.by === 'concept' && answer.terms.every((t) => checkpointNameTerms.has(t))) continue;
    reasons.set(row, answer.reason);
    ids.add(index.models[row]!.id);
  }
  // So is a model named by an uncommon word of its name ("in Moebius style", "use the Moebius LoRA"): the
  // general checkpoints, which the person did not name, leave the competition.
  const namedByRareWord = [...asked.values()].some((a) => a.by === 'name' && a.terms.length === 1);
  if (namedCheckpoints.length > 0 || namedByRareWord) return { ids, reasons, styles };
  // General checkpoints of the request's style (all of them when it names no style, or none fits).
  const fitting =
    styles.length === 0
      ? index.generalRows
      : index.generalRows.filter((row) => index.traits[row]!.styles.some((s) => styles.includes(s)));
  for (const row of fitting.length > 0 ? fitting : index.generalRows) ids.add(index.models[row]!.id);
  return { ids, reasons, styles };
}
