/**
 * Retrieval terms and prompt tags. Retrieval matches a casual request against community prompts, so
 * it compares content words with a light plural stem ("freckles" ~ "freckle"); prompt tags are the
 * comma-separated chunks of an A1111 prompt with weights and LoRA syntax removed.
 */
import { contentWords } from '../text.ts';

/** Strips a plural / third-person "s" so that singular and plural forms meet. */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) {
    return word.slice(0, -1);
  }
  return word;
}

/**
 * Prompt shorthand and spelling variants mapped to the word people use, so that a casual "a girl
 * with grey hair" meets a community "1girl, gray hair".
 */
const CANONICAL = new Map<string, string>([
  ['1girl', 'girl'],
  ['2girl', 'girl'],
  ['3girl', 'girl'],
  ['1boy', 'boy'],
  ['2boy', 'boy'],
  ['3boy', 'boy'],
  ['guy', 'boy'],
  ['dude', 'boy'],
  ['grey', 'gray'],
  ['colour', 'color'],
  ['colourful', 'colorful'],
]);

/** Content words of a text, stemmed: what the indexes store and queries look up. */
export function retrievalTerms(text: string): string[] {
  return contentWords(stripPromptSyntax(text)).map((w) => {
    const s = stem(w);
    return CANONICAL.get(s) ?? s;
  });
}

/**
 * Terms made by joining 2-3 adjacent retrieval terms, kept when `isKnown` accepts them: a name
 * written apart ("dream shaper", "absolute reality") meets the one word catalogs spell it as
 * ("DreamShaper", "AbsoluteReality").
 */
export function joinedTerms(terms: readonly string[], isKnown: (term: string) => boolean): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 1 < terms.length; i++) {
    let joined = terms[i]!;
    for (let n = 2; n <= 3 && i + n <= terms.length; n++) {
      joined += terms[i + n - 1]!;
      if (isKnown(joined)) found.add(joined);
    }
  }
  return [...found];
}

/** Removes `<lora:...>` / `<hypernet:...>` tags, `(x:1.2)` weights, `[a:b:0.5]` schedules and brackets. */
export function stripPromptSyntax(prompt: string): string {
  return prompt
    .replace(/<[^<>]*>/g, ' ')
    .replace(/:\s*-?\d+(\.\d+)?\s*(?=[)\]])/g, '')
    .replace(/[()[\]{}]/g, ' ')
    .replace(/\\/g, '')
    .replace(/[ \t]+/g, ' ');
}

/** A prompt's tags: comma / newline / "|" separated chunks, syntax removed, lower-cased, non-empty. */
export function promptTags(prompt: string): string[] {
  return stripPromptSyntax(prompt)
    .split(/[,\n|]+/)
    .map((t) =>
      t
        .trim()
        .toLowerCase()
        .replace(/\s+/g, ' ')
        .replace(/^[.\-:;]+|[.\-:;]+$/g, '')
        .trim(),
    )
    .filter((t) => t.length > 0 && t.length <= 60);
}
