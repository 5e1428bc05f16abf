/**
 * Prompt metrics that need no model: unigram F1 against the gold prompt, and input coverage, the share
 * of what the user asked for that the written prompt keeps. F1 alone rewards pasting a neighbour's
 * prompt; coverage catches a prompt that drops the user's subject.
 */
import { contentWords, words } from '../text.ts';

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

function multiset(items: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of items) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/**
 * Unigram precision / recall / F1 over bags of lower-case alphanumeric words (`words` in text.ts):
 * a word repeated twice in both counts twice, repeated twice in one and once in the other counts once.
 * Two empty prompts agree perfectly (1); one empty prompt against a non-empty one scores 0.
 */
export function unigramF1(predicted: string, gold: string): PrecisionRecallF1 {
  const p = words(predicted);
  const g = words(gold);
  if (p.length === 0 && g.length === 0) return { precision: 1, recall: 1, f1: 1 };
  if (p.length === 0 || g.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const goldCounts = multiset(g);
  let overlap = 0;
  for (const [w, n] of multiset(p)) overlap += Math.min(n, goldCounts.get(w) ?? 0);
  const precision = overlap / p.length;
  const recall = overlap / g.length;
  const f1 = overlap === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

export interface Coverage {
  /** Kept distinct content words / distinct content words of the request; 1 when it has none. */
  coverage: number;
  kept: string[];
  dropped: string[];
}

/**
 * Input coverage: the distinct content words (`contentWords` in text.ts, from every message of the
 * chat) that appear among the prompt's words. A request with no content word at all has nothing to
 * drop and scores 1.
 */
export function inputCoverage(messages: readonly string[], prompt: string): Coverage {
  const asked = [...new Set(messages.flatMap((m) => contentWords(m)))];
  if (asked.length === 0) return { coverage: 1, kept: [], dropped: [] };
  const written = new Set(words(prompt));
  const kept = asked.filter((w) => written.has(w));
  return { coverage: kept.length / asked.length, kept, dropped: asked.filter((w) => !written.has(w)) };
}
