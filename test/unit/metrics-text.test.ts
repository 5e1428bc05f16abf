import { describe, expect, it } from 'vitest';
import { joinedTerms, retrievalTerms } from '../../src/core/retrieval/terms.ts';
import { contentWords, STOP_WORDS, words } from '../../src/core/text.ts';

describe('words', () => {
  it('lower-cases and splits on anything that is not a letter or digit', () => {
    expect(words('(Red-Hair:1.2), <lora:x_y:0.5> Café')).toEqual([
      'red',
      'hair',
      '1',
      '2',
      'lora',
      'x',
      'y',
      '0',
      '5',
      'café',
    ]);
  });
  it('keeps repeats and order, and gives nothing for empty or punctuation-only text', () => {
    expect(words('cat dog cat')).toEqual(['cat', 'dog', 'cat']);
    expect(words('')).toEqual([]);
    expect(words(' ,.;() ')).toEqual([]);
  });
});

describe('contentWords', () => {
  it('drops function words, contraction pieces and request filler', () => {
    expect(contentWords("can u make me a pic of a girl with red glasses, I don't want it dark")).toEqual([
      'girl',
      'red',
      'glasses',
      'dark',
    ]);
  });
  it('keeps visual words that look like filler in other lists', () => {
    for (const w of ['photo', 'drawing', 'portrait', 'style', 'background']) expect(STOP_WORDS.has(w)).toBe(false);
  });
});

describe('joinedTerms', () => {
  const known = new Set(['dreamshaper', 'absolutereality', 'mea']);
  it('joins 2-3 adjacent content words into the terms the caller knows', () => {
    expect(joinedTerms(retrievalTerms('A castle, Dream Shaper please; absolute reality'), (t) => known.has(t))).toEqual(
      ['dreamshaper', 'absolutereality'],
    );
  });
  it('never joins function words ("me a" is not a name)', () => {
    expect(joinedTerms(retrievalTerms('make me a cat'), (t) => known.has(t))).toEqual([]);
  });
});
