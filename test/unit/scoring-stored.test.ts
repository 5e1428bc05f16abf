import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScorerManifest } from '../../src/core/scoring/manifest.ts';
import {
  bestScore,
  mergeScores,
  missingScores,
  scoredPackIds,
  sortByScore,
  unifiedOverResults,
  type KnownPack,
  type StoredScores,
} from '../../src/core/scoring/stored.ts';
import { PromptTokenizer } from '../../src/core/scoring/tokens.ts';

const scorers = path.resolve(import.meta.dirname, '../fixtures/scorers');
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(scorers, file), 'utf8'));

describe('stored scores', () => {
  const stored = { 0: { clip: 20, aes: 5 }, 1: { clip: 30 } };

  it('lists only the image and pack pairs without a stored score', () => {
    expect(missingScores(stored, 2, ['clip', 'aes', 'hps'])).toEqual(
      new Map([
        ['aes', [1]],
        ['hps', [0, 1]],
      ]),
    );
    expect(missingScores(stored, 2, ['clip'])).toEqual(new Map());
  });

  it('adds new scores, never replaces a stored one, and refuses non-finite values', () => {
    const merged = mergeScores(
      stored,
      'clip',
      new Map([
        [0, 99],
        [2, 11],
      ]),
    );
    expect(merged).toEqual({ 0: { clip: 20, aes: 5 }, 1: { clip: 30 }, 2: { clip: 11 } });
    expect(stored[0].clip).toBe(20);
    expect(() => mergeScores(stored, 'hps', new Map([[0, Number.NaN]]))).toThrow('non-finite score');
  });

  it('sorts results by their best image for a pack, unscored ones last in their order', () => {
    const results: { id: string; scores: StoredScores }[] = [
      { id: 'a', scores: { 0: { clip: 10 } } },
      { id: 'b', scores: {} },
      { id: 'c', scores: { 0: { clip: 5 }, 1: { clip: 40 } } },
      { id: 'd', scores: { 0: { aes: 1 } } },
    ];
    expect(bestScore(results[2]!.scores, 'clip')).toBe(40);
    expect(sortByScore(results, 'clip').map((r) => r.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(scoredPackIds(results)).toEqual(['clip', 'aes']);
  });

  it('computes the Unified Metric over results from the mean of each kind, with FID left out and said so', () => {
    const packs = new Map<string, KnownPack>([
      ['c', { id: 'c', kind: 'clip', name: 'C', meantFor: '' }],
      ['h', { id: 'h', kind: 'hpsv2', name: 'H', meantFor: '' }],
      ['a', { id: 'a', kind: 'aesthetic', name: 'A', meantFor: '' }],
    ]);
    const result = unifiedOverResults(
      [
        { run: 'one', scores: { 0: { c: 10, h: 20, a: 9 }, 1: { c: 30, h: 20 } } }, // clip mean 20
        { run: 'two', scores: { 0: { c: 25, h: 10 } } },
        { run: 'three', scores: { 0: { c: 15, h: 30 } } },
      ],
      packs,
    );
    // clip: min 15, max 25 → one 0.5, two 1, three 0; hps v2: min 10, max 30 → 0.5, 0, 1.
    expect(result.metrics.map((m) => [m.metric, m.min, m.max, m.normalised])).toEqual([
      ['clipScore', 15, 25, [0.5, 1, 0]],
      ['hpsV2', 10, 30, [0.5, 0, 1]],
    ]);
    expect(result.unified).toEqual([0.5, 0.5, 0.5]);
    expect(result.explanation).toContain('fid left out');
    expect(result.explanation).toContain('imageReward left out');
  });
});

describe('prompt tokenizer', () => {
  it('maps words outside a WordLevel vocabulary to its unknown token (an app prompt is free text)', () => {
    const manifest = parseScorerManifest(readJson('fixture-clip/scorer.json'));
    const tokenizer = new PromptTokenizer(readJson('fixture-clip/tokenizer.json'), manifest.tokenizer!);
    const { ids, mask } = tokenizer.encode('pixel art castle, a red circle');
    // <|startoftext|> pixel art castle , a red circle <|endoftext|>, then padding (id 1).
    expect(ids).toEqual([0, 2, 2, 2, 15, 3, 4, 5, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(mask.filter((m) => m === 1)).toHaveLength(9);
  });
});
