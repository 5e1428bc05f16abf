import { describe, expect, it } from 'vitest';
import { enforceRequest } from '../../src/core/request/enforce.ts';
import { parseRequest } from '../../src/core/request/parse.ts';
import { nativeSize, shapeOf } from '../../src/core/request/shape.ts';

const phrases = (...messages: string[]) => parseRequest(messages).phrases;

describe("request rules: the person's words", () => {
  it('strips only chat filler and keeps phrases whole, in order', () => {
    expect(phrases('can you please make me a still life of pears on a table')).toEqual([
      'still life of pears on table',
    ]);
    expect(phrases('make my cat look like a Ghibli hero, cozy evening light')).toEqual([
      'cat look like Ghibli hero',
      'cozy evening light',
    ]);
    expect(phrases('hey! I want an old lighthouse keeper reading by lamplight, thanks')).toEqual([
      'old lighthouse keeper reading by lamplight',
    ]);
    expect(phrases('Super Mario jumping over a pipe')).toEqual(['Super Mario jumping over pipe']);
  });

  it('keeps quoted text exactly as written', () => {
    expect(phrases('a café chalkboard that says "Bean There, Done That"')).toEqual([
      'café chalkboard that says "Bean There, Done That"',
    ]);
    expect(phrases("a neon sign reading 'no vacancy' above a motel door")).toEqual([
      "neon sign reading 'no vacancy' above motel door",
    ]);
  });
});

describe('request rules: negation', () => {
  it('moves "no X", "without X", "nobody", "don\'t include X" and "not X" to the negative prompt', () => {
    const cases: [string, string[], string[]][] = [
      ['a misty pine forest at dawn, no people, no animals', ['misty pine forest at dawn'], ['people', 'animals']],
      ['a harbour at dusk without any boats or birds', ['harbour at dusk'], ['boats', 'birds']],
      ['an empty subway platform, nobody around', ['empty subway platform'], ['people']],
      ["don't include any text, just a mountain cabin in snow", ['mountain cabin in snow'], ['text']],
      ['a portrait of a violinist, not blurry', ['portrait of violinist'], ['blurry']],
      ['a meadow with no people in it', ['meadow'], ['people']],
    ];
    for (const [message, kept, negated] of cases) {
      const parsed = parseRequest([message]);
      expect(parsed.phrases, message).toEqual(kept);
      expect(parsed.negatives, message).toEqual(negated);
    }
  });

  it('reads other negation forms and leaves idioms alone', () => {
    const cases: [string, string[], string[]][] = [
      ['a street market, minus the crowds', ['street market'], ['crowds']],
      [
        'a glass greenhouse full of orchids, not a single person inside',
        ['glass greenhouse full of orchids'],
        ['person'],
      ],
      ['an owl on a branch, free of text and logos', ['owl on branch'], ['text', 'logos']],
      ['a room without windows and a red door', ['room and red door'], ['windows']],
      ['a library with no people or lamps', ['library'], ['people', 'lamps']],
      ['a mountain hut with no more than two windows', ['mountain hut with no more than two windows'], []],
      [
        'a bakery at night, without a doubt the coziest place in town',
        ['bakery at night', 'without doubt coziest place in town'],
        [],
      ],
    ];
    for (const [message, kept, negated] of cases) {
      const parsed = parseRequest([message]);
      expect(parsed.phrases, message).toEqual(kept);
      expect(parsed.negatives, message).toEqual(negated);
    }
  });

  it('takes a later "remove X" out of every earlier turn', () => {
    const parsed = parseRequest(['a wooden rowboat on a lake with a heron', 'remove the heron']);
    expect(parsed.phrases).toEqual(['wooden rowboat on lake']);
    expect(parsed.negatives).toEqual(['heron']);
    expect(parsed.replacements[0]).toMatchObject({ rule: 'removed', terms: ['heron'] });
  });
});

describe('request rules: later turns replace what they contradict', () => {
  it('replaces time of day, weather, season and medium', () => {
    expect(phrases('a sunny beach at noon', 'make it night')).toEqual(['beach', 'night']);
    expect(phrases('a foggy harbour', 'now make it stormy')).toEqual(['harbour', 'stormy']);
    expect(phrases('a village square in winter', 'make it autumn')).toEqual(['village square', 'autumn']);
    expect(phrases('a watercolor painting of a heron', 'actually make it a photo')).toEqual(['heron', 'photo']);
    const parsed = parseRequest(['a sunny beach at noon', 'make it night']);
    expect(parsed.replacements).toEqual([
      { turn: 1, removed: ['sunny beach at noon'], terms: ['noon', 'sunny'], by: 'night', rule: 'time of day' },
    ]);
  });

  it('does not treat one medium family as a contradiction of itself', () => {
    expect(phrases('an anime girl with a red umbrella', 'more manga-like linework')).toEqual([
      'anime girl with red umbrella',
      'more manga-like linework',
    ]);
  });

  it('follows "X instead of Y", "change Y to X" and "replace Y with X", in place', () => {
    expect(
      phrases('a realistic portrait of an old fisherman', 'actually make it anime style instead of realistic'),
    ).toEqual(['anime style portrait of old fisherman']);
    expect(phrases('a dog asleep on a porch', 'change the dog to a cat')).toEqual(['cat asleep on porch']);
    expect(phrases('a bowl of apples on a table', 'replace the apples with lemons')).toEqual([
      'bowl of lemons on table',
    ]);
  });

  it('gives a thing its new colour where it stood', () => {
    expect(phrases('a woman in a red dress by a fountain', 'make the dress blue')).toEqual([
      'woman in blue dress by fountain',
    ]);
    expect(phrases('a red vintage car in the rain', 'make it green')).toEqual(['green vintage car in rain']);
    expect(phrases('a horse in a field of sunflowers', 'now make the horse white')).toEqual([
      'white horse in field of sunflowers',
    ]);
    expect(phrases('a spaceship interior', 'swap the blue lights for red ones')).toEqual([
      'spaceship interior',
      'red lights',
    ]);
  });
});

describe('request rules: shape', () => {
  it('reads shape words, strong over weak and later over earlier', () => {
    expect(shapeOf(['panoramic view of glacier'])).toMatchObject({ orientation: 'landscape', aspect: 2.2 });
    expect(shapeOf(['phone wallpaper of koi pond'])).toMatchObject({ orientation: 'portrait', aspect: 9 / 16 });
    expect(shapeOf(['full body portrait of knight'])).toMatchObject({ orientation: 'portrait' });
    expect(shapeOf(['portrait of sailor', '16:9'])).toMatchObject({ orientation: 'landscape', aspect: 16 / 9 });
    expect(shapeOf(['wide river under bridge'])).toBeNull();
    expect(shapeOf(['cabin in woods'])).toBeNull();
  });

  it('picks native sizes per family', () => {
    expect(nativeSize('sdxl', 'landscape', 16 / 9)).toEqual([1344, 768]);
    expect(nativeSize('sdxl', 'portrait', null)).toEqual([832, 1216]);
    expect(nativeSize('sdxl', 'square', null)).toEqual([1024, 1024]);
    expect(nativeSize('sd1', 'landscape', null)).toEqual([768, 512]);
    expect(nativeSize('sd1', 'portrait', 9 / 16)).toEqual([512, 912]);
  });
});

describe("request rules: another engine's prompt held to the request", () => {
  it("drops negated and replaced terms, keeps the person's phrases, fills the negative prompt", () => {
    const parsed = parseRequest(['a quiet lake at noon, no boats', 'make it sunset']);
    const enforced = enforceRequest(
      { prompt: 'a lake at noon with small boats, golden light, masterpiece', negative_prompt: 'blurry' },
      parsed,
    );
    expect(enforced.prompt).toBe('quiet lake, sunset, golden light, masterpiece');
    expect(enforced.negative_prompt).toBe('boats, blurry');
    expect(enforced.notes.length).toBeGreaterThan(0);
    const clean = enforceRequest(
      { prompt: 'quiet lake, sunset, golden light', negative_prompt: 'boats, blurry' },
      parsed,
    );
    expect(clean.notes).toEqual([]);
  });
});
