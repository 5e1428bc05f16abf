/**
 * A phrase as tokens that keep the person's spelling (names and quoted text stay as written) beside a
 * normalised form the rules compare: lower case, outer punctuation and apostrophes removed ("Don't," ->
 * "dont"). A quoted span ("a sign that says 'Bean There'") is one token and never matches a rule.
 */

export interface Token {
  /** As the person wrote it (outer punctuation removed, quotes kept on quoted spans). */
  text: string;
  /** Lower-case, no outer punctuation, no apostrophes; '' for a quoted span. */
  norm: string;
}

const OUTER_PUNCTUATION = /^[^\p{L}\p{N}"“”'‘’#@&+]+|[^\p{L}\p{N}"“”'‘’%+)]+$/gu;

export function normWord(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’‘]/g, '')
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}%+]+$/gu, '');
}

/**
 * Spans kept exactly as written: quoted text ("…", “…”, and '…' opened after a space or start, so "don't"
 * is no quote) and Stable Diffusion weights written by the person ("(gold armor:1.2)").
 */
export const QUOTED_OR_WEIGHTED =
  /"[^"\n]{1,200}"|“[^”\n]{1,200}”|(?<=^|[\s(:])['‘][^'’\n]{1,200}['’](?=$|[\s,.!?;:)])|\([^()\n]{1,80}:\d+(?:\.\d+)?\)/gu;

/** Splits a clause into tokens; quoted spans stay whole. */
export function tokenize(clause: string): Token[] {
  const tokens: Token[] = [];
  let last = 0;
  const pushWords = (text: string) => {
    for (const raw of text.split(/\s+/)) {
      const cleaned = raw.replace(OUTER_PUNCTUATION, '');
      if (cleaned.length === 0) continue;
      const norm = normWord(cleaned);
      if (norm.length === 0) continue;
      tokens.push({ text: cleaned, norm });
    }
  };
  for (const match of clause.matchAll(QUOTED_OR_WEIGHTED)) {
    pushWords(clause.slice(last, match.index));
    tokens.push({ text: match[0], norm: '' });
    last = match.index + match[0].length;
  }
  pushWords(clause.slice(last));
  return tokens;
}

/** The normalised words of a phrase written as text ("golden hour" -> ["golden", "hour"]). */
export function phraseWords(phrase: string): string[] {
  return phrase
    .split(/\s+/)
    .map(normWord)
    .filter((w) => w.length > 0);
}

/** A light plural stem so "trees" meets "tree" and "people" stays "people". */
export function stemWord(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ches|shes|xes|sses)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** Index of the first place `needle` (normalised words) occurs in `tokens` from `from`, stems compared; -1 if none. */
export function findWords(tokens: readonly Token[], needle: readonly string[], from = 0): number {
  if (needle.length === 0) return -1;
  const stems = needle.map(stemWord);
  outer: for (let i = from; i + needle.length <= tokens.length; i++) {
    for (let k = 0; k < needle.length; k++) {
      const norm = tokens[i + k]!.norm;
      if (norm === '' || stemWord(norm) !== stems[k]) continue outer;
    }
    return i;
  }
  return -1;
}

/** A token for a word the rules write themselves ("instead", a preposition, a plain quality). */
export const wordToken = (word: string): Token => ({ text: word, norm: word });

export function tokensText(tokens: readonly Token[]): string {
  return tokens.map((t) => t.text).join(' ');
}
