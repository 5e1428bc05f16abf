/**
 * Holds a prompt written by another engine (the neural engine's LLM, a hand edit) to the person's request
 * as `parseRequest` read it: what they asked to leave out or replaced leaves the prompt, what they asked to
 * leave out joins the negative prompt, and none of their phrases is lost.
 */
import type { ParsedRequest } from './parse.ts';
import { findWords, phraseWords, tokenize } from './tokens.ts';

export interface EnforcedPrompt {
  prompt: string;
  negative_prompt: string;
  /** What was changed, in words; empty when the prompt already did what was asked. */
  notes: string[];
}

const tagsOf = (text: string) =>
  text
    .split(/,|\n/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
const mentions = (text: string, phrase: string) => findWords(tokenize(text), phraseWords(phrase)) >= 0;

export function enforceRequest(
  candidate: { prompt: string; negative_prompt: string },
  parsed: ParsedRequest,
): EnforcedPrompt {
  const notes: string[] = [];
  const kept = (term: string) => parsed.phrases.some((p) => mentions(p, term));
  // Terms the person negated or replaced (and did not ask for again later).
  const banned = [...parsed.negatives, ...parsed.replacements.flatMap((r) => r.terms)].filter((t) => !kept(t));
  const tags = tagsOf(candidate.prompt).filter((tag) => {
    if (parsed.phrases.some((p) => p.toLowerCase() === tag.toLowerCase())) return true;
    const hit = banned.find((term) => mentions(tag, term));
    if (hit) notes.push(`"${tag}" was taken out of the prompt: the request asked for no "${hit}".`);
    return !hit;
  });
  const missing = parsed.phrases.filter((p) => !tags.some((t) => t.toLowerCase().includes(p.toLowerCase())));
  if (missing.length > 0) notes.push(`Kept the request's own words the prompt had lost: ${missing.join(', ')}.`);
  const negatives = tagsOf(candidate.negative_prompt).filter((t) => !parsed.phrases.some((p) => mentions(p, t)));
  const absent = parsed.negatives.filter((n) => !negatives.some((t) => mentions(t, n)));
  if (absent.length > 0)
    notes.push(`Added to the negative prompt what the request asked to leave out: ${absent.join(', ')}.`);
  return { prompt: [...missing, ...tags].join(', '), negative_prompt: [...absent, ...negatives].join(', '), notes };
}
