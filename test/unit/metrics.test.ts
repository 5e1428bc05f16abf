import { describe, expect, it } from 'vitest';
import { argumentMatches, configAccuracy } from '../../src/core/metrics/config.ts';
import { percentile, summariseLatency } from '../../src/core/metrics/latency.ts';
import { inputCoverage, unigramF1 } from '../../src/core/metrics/prompt.ts';

const gold = { sampler: 'DPM++ 2M Karras', steps: 30, cfg_scale: 7.5, width: 512, height: 768 };

describe('config accuracy', () => {
  it('matches every argument exactly and averages over the five', () => {
    const m = argumentMatches({ ...gold }, gold);
    expect(m).toEqual({ sampler: true, steps: true, cfg_scale: true, width: true, height: true });
    expect(configAccuracy(m)).toBe(1);
  });
  it('compares numbers numerically (7 equals 7.0, "30" equals 30) and samplers as strings', () => {
    const m = argumentMatches(
      { sampler: ' DPM++ 2M Karras ', steps: '30', cfg_scale: 7.5, width: 512.0, height: 767.9 },
      gold,
    );
    expect(m).toEqual({ sampler: true, steps: true, cfg_scale: true, width: true, height: false });
    expect(configAccuracy(m)).toBeCloseTo(0.8, 12);
    expect(argumentMatches({ cfg_scale: 7 }, { ...gold, cfg_scale: 7.0 }).cfg_scale).toBe(true);
  });
  it('treats a different sampler spelling, variant or scheduler as a miss', () => {
    expect(argumentMatches({ sampler: 'DPM++ 2M' }, gold).sampler).toBe(false);
    expect(argumentMatches({ sampler: 'dpm++ 2m karras' }, gold).sampler).toBe(false);
    expect(argumentMatches({ sampler: 'DPM++ 2M Karras' }, { ...gold, sampler: 'DPM++ 2M Karras MOD' }).sampler).toBe(
      false,
    );
  });
  it('counts missing and non-numeric values as wrong without throwing', () => {
    expect(configAccuracy(argumentMatches(null, gold))).toBe(0);
    expect(configAccuracy(argumentMatches(undefined, gold))).toBe(0);
    expect(configAccuracy(argumentMatches({}, gold))).toBe(0);
    const m = argumentMatches({ sampler: 42, steps: 'thirty', cfg_scale: Number.NaN, width: null, height: ' ' }, gold);
    expect(m).toEqual({ sampler: false, steps: false, cfg_scale: false, width: false, height: false });
    expect(
      argumentMatches({ steps: Number.POSITIVE_INFINITY }, { ...gold, steps: Number.POSITIVE_INFINITY }).steps,
    ).toBe(false);
    expect(argumentMatches({ steps: [30], width: { v: 512 }, height: true }, gold)).toMatchObject({
      steps: false,
      width: false,
      height: false,
    });
  });
});

describe('prompt unigram F1', () => {
  it('counts overlap as a multiset of lower-case alphanumeric words', () => {
    // predicted: cat cat dog (3), gold: cat dog dog bird (4); overlap min(2,1)+min(1,2) = 2.
    const s = unigramF1('Cat, (cat) DOG!', 'cat dog dog bird');
    expect(s.precision).toBeCloseTo(2 / 3, 12);
    expect(s.recall).toBeCloseTo(2 / 4, 12);
    expect(s.f1).toBeCloseTo((2 * (2 / 3) * 0.5) / (2 / 3 + 0.5), 12);
  });
  it('is 1 for the same words in another order and 0 for no shared word', () => {
    expect(unigramF1('red hair, girl', 'girl; red HAIR').f1).toBe(1);
    expect(unigramF1('castle', 'girl').f1).toBe(0);
  });
  it('handles empty prompts: both empty agree, one empty scores 0', () => {
    expect(unigramF1('', '').f1).toBe(1);
    expect(unigramF1('', 'a girl')).toEqual({ precision: 0, recall: 0, f1: 0 });
    expect(unigramF1('a girl', '  ,, ').f1).toBe(0);
  });
});

describe('input coverage', () => {
  it('is the share of distinct content words from all messages that the prompt keeps', () => {
    const c = inputCoverage(
      ['can u make a girl with red glasses', 'make the glasses round please'],
      'girl, round glasses, masterpiece',
    );
    // content words: girl, red, glasses, round -> kept girl, glasses, round.
    expect(c.kept).toEqual(['girl', 'glasses', 'round']);
    expect(c.dropped).toEqual(['red']);
    expect(c.coverage).toBeCloseTo(3 / 4, 12);
  });
  it('matches whole words, not substrings', () => {
    expect(inputCoverage(['a cat'], 'catgirl').coverage).toBe(0);
  });
  it('is 0 for an empty prompt and 1 when the request has no content word', () => {
    expect(inputCoverage(['a red fox'], '').coverage).toBe(0);
    expect(inputCoverage(['can you make it please'], '').coverage).toBe(1);
  });
});

describe('latency percentiles (linear interpolation between closest ranks)', () => {
  it('interpolates between ranks', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([40, 10, 30, 20], 95)).toBeCloseTo(38.5, 12);
    expect(percentile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
  });
  it('handles ties and single values', () => {
    expect(percentile([5, 5, 5, 5], 50)).toBe(5);
    expect(percentile([1, 7, 7, 7, 100], 50)).toBe(7);
    expect(percentile([3, 3, 9], 95)).toBeCloseTo(3 + 0.9 * 6, 12);
    expect(percentile([42], 95)).toBe(42);
  });
  it('gives null for no values and rejects a percentile out of range', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, Number.NaN], 50)).toBeNull();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(summariseLatency([])).toEqual({ p50: null, p95: null, mean: null });
    expect(summariseLatency([1, 3, Number.NaN])).toEqual({ p50: 2, p95: 2.9, mean: 2 });
  });
});
