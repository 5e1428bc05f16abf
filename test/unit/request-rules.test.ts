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

  it("leaves out what the picture is for, reads asides in parentheses on, and keeps a person's weights", () => {
    expect(phrases("hey so I'm making a poster for my cousin, could you do a lion in a crown, gold and black")).toEqual(
      ['lion in crown', 'gold and black'],
    );
    expect(phrases('it is for a game: a cave entrance covered in vines')).toEqual(['cave entrance covered in vines']);
    expect(phrases('my cat (a grey tabby) on a bookshelf')).toEqual(['cat grey tabby on bookshelf']);
    expect(phrases('a lantern, (warm glow:1.3), night market')).toEqual(['lantern', '(warm glow:1.3)', 'night market']);
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

describe('request rules: which model to use', () => {
  it('takes the model choice out of the phrases and keeps it for stage 2', () => {
    const parsed = parseRequest(['use the Zephyrine checkpoint for a knight in a misty forest']);
    expect(parsed.phrases).toEqual(['knight in misty forest']);
    expect(parsed.models).toEqual(['Zephyrine checkpoint']);
    expect(parseRequest(['an owl in a barn with the Inkwash LoRA']).phrases).toEqual(['owl in barn']);
    // A model in a picture is a person: "with a model" stays.
    expect(parseRequest(['a photo shoot with a model on the beach']).phrases).toEqual([
      'photo shoot with model on beach',
    ]);
  });
});

describe('request rules: the format', () => {
  it('takes clauses only about the format out of the phrases and keeps them for the size', () => {
    const wide = parseRequest(['a harbour at dawn with fishing boats, 16:9']);
    expect(wide.phrases).toEqual(['harbour at dawn with fishing boats']);
    expect(shapeOf([...wide.phrases, ...(wide.formats ?? [])])?.orientation).toBe('landscape');
    const tall = parseRequest(['a lighthouse keeper in portrait orientation']);
    expect(tall.phrases).toEqual(['lighthouse keeper']);
    expect(shapeOf([...tall.phrases, ...(tall.formats ?? [])])?.orientation).toBe('portrait');
    // A number with a comma or point is no clause break; a portrait is a picture, not a format.
    expect(parseRequest(['a sign saying 1,500 miles, 2.5 meters tall']).phrases).toEqual([
      'sign saying 1,500 miles',
      '2.5 meters tall',
    ]);
    expect(parseRequest(['a viking portrait, tall format']).phrases).toEqual(['viking portrait']);
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

  it('a negated part of its own takes its place along ("and not a single cloud in the sky")', () => {
    expect(parseRequest(['a wheat field and not a single cloud in the sky'])).toMatchObject({
      phrases: ['wheat field'],
      negatives: ['cloud'],
    });
    expect(parseRequest(['a village square and no cars on the cobbles, at noon'])).toMatchObject({
      phrases: ['village square', 'noon'],
      negatives: ['cars'],
    });
    // Inside a "with" phrase the place still belongs to what came before.
    expect(parseRequest(['a fisherman with no boots in the surf'])).toMatchObject({
      phrases: ['fisherman in surf'],
      negatives: ['boots'],
    });
  });

  it('reads other negation forms and leaves idioms alone', () => {
    const cases: [string, string[], string[]][] = [
      ['an art deco lobby, nothing shiny', ['art deco lobby'], ['shiny']],
      ['a parking lot at dawn, no trucks and no bikes', ['parking lot at dawn'], ['trucks', 'bikes']],
      ['a hillside with nothing but poppies', ['hillside with nothing but poppies'], []],
      ['a bench with nothing on it, autumn leaves', ['bench', 'autumn leaves'], []],
      ['a lake at dusk, nothing else', ['lake at dusk'], []],
      ['a cherry tree in bloom, no cherries', ['cherry tree in bloom'], ['cherries']],
      ['a lighthouse not on a cliff', ['lighthouse'], ['cliff']],
      ['a hall with no chairs except a throne', ['hall', 'throne'], ['chairs']],
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

describe('request rules: what a later turn changes', () => {
  const plan = (...messages: string[]) => {
    const parsed = parseRequest(messages);
    return { phrases: parsed.phrases, negatives: parsed.negatives };
  };

  it('"make it a …", "turn it into …" and "a … instead" replace the main subject, keeping where it is', () => {
    expect(plan('a hedgehog asleep in a teacup', 'make it a kitten instead').phrases).toEqual([
      'kitten asleep in teacup',
    ]);
    expect(plan('a close-up photo of a parrot on a branch', 'turn it into a toucan').phrases).toEqual([
      'close-up photo of toucan on branch',
    ]);
    expect(plan('portrait of a sailor, charcoal sketch', 'no, make it a pirate').phrases).toEqual([
      'portrait of pirate',
      'charcoal sketch',
    ]);
    // Colours and sizes describe, they do not name a kind: they stay with the new subject.
    expect(plan('a small grey rabbit in tall grass', 'a fox instead').phrases).toEqual([
      'small grey fox in tall grass',
    ]);
    // What the exclusive groups handle is theirs: a medium is no new subject.
    expect(plan('a harbour town at noon', 'make it a watercolor').phrases).toEqual([
      'harbour town at noon',
      'watercolor',
    ]);
  });

  it('a reply ("no, a bear", "actually, a heron") replaces the subject; "too" and "also" add', () => {
    expect(plan('a crane standing in a rice field', 'no, a heron').phrases).toEqual(['heron standing in rice field']);
    expect(plan('a crane standing in a rice field', 'actually, a heron').phrases).toEqual([
      'heron standing in rice field',
    ]);
    expect(plan('a crane standing in a rice field', 'a heron too').phrases).toEqual([
      'crane standing in rice field',
      'heron',
    ]);
    expect(plan('a crane standing in a rice field', 'keep everything but make it dusk').phrases).toEqual([
      'crane standing in rice field',
      'dusk',
    ]);
  });

  it('one painting medium switches to another; synonyms and the family word do not', () => {
    expect(plan('a harbour, oil painting', 'switch to gouache').phrases).toEqual(['harbour', 'gouache']);
    expect(plan('an anime boy on a bike', 'manga style').phrases).toEqual(['anime boy on bike', 'manga style']);
  });

  it('a thing never named is taken for the main subject, but a part of the scene is added', () => {
    expect(plan('a dalmatian running on the beach', 'change the dog to a horse').phrases).toEqual([
      'horse running on beach',
    ]);
    expect(plan('a dalmatian running on the beach', 'change the sky to a sunset sky').phrases).toEqual([
      'dalmatian running on beach',
      'sunset sky',
    ]);
    // Words naming a kind go with the replaced thing ("racing bike" -> "scooter").
    expect(plan('a racing bike leaning on a wall', 'swap the bike for a scooter').phrases).toEqual([
      'scooter leaning on wall',
    ]);
  });

  it('a new place with "instead" or "now" replaces the place said with that preposition', () => {
    expect(plan('a camel walking in the desert', 'in the snow instead').phrases).toEqual(['camel walking in snow']);
    expect(plan('a tent under a starry sky', 'now under a waterfall').phrases).toEqual(['tent under waterfall']);
    // Without a cue, a place adds ("with" never moves anything).
    expect(plan('a camel walking in the desert', 'with a rider').phrases).toEqual(['camel walking in desert', 'rider']);
  });

  it('"put it …", "move him to …" move the subject without a cue; what it wears or its style is no place', () => {
    expect(plan('a vintage tram in a depot', 'put it on a mountain pass').phrases).toEqual([
      'vintage tram on mountain pass',
    ]);
    expect(plan('a beagle in a garden', 'move him to the harbour').phrases).toEqual(['beagle at harbour']);
    expect(plan('a potter at her wheel in a studio', 'take her into the woods').phrases).toEqual([
      'potter at her wheel in woods',
    ]);
    // "in a yellow raincoat", "in a comic style": kept, and the new place is added.
    expect(plan('a boy in a yellow raincoat', 'put him on a pier').phrases).toEqual(['boy in yellow raincoat', 'pier']);
    expect(plan('a samurai in armour', 'on a bridge instead').phrases).toEqual(['samurai in armour', 'bridge']);
    expect(plan('an owl in a comic style', 'put it in a barn').phrases).toEqual(['owl in comic style', 'barn']);
  });

  it('"the X should be …", "it is …" say a quality as "make the X …" does', () => {
    expect(plan('a pony grazing in a paddock', 'the pony should be white').phrases).toEqual([
      'white pony grazing in paddock',
    ]);
    expect(plan('a jester with a short hat', 'his hat needs to be tall').phrases).toEqual(['jester with tall hat']);
    expect(plan('a tugboat in a harbour', 'it is tiny').phrases).toEqual(['tiny tugboat in harbour']);
  });

  it('"make the X quality" replaces a quality of the same kind and adds any other', () => {
    expect(plan('a wizard with a short beard', 'make the beard long').phrases).toEqual(['wizard with long beard']);
    expect(plan('a rowing boat on a choppy lake', 'make the lake still').phrases).toEqual([
      'rowing boat on still lake',
    ]);
    expect(plan('a wizard with a short beard', 'make the beard braided').phrases).toEqual([
      'wizard with short braided beard',
    ]);
  });

  it('a new number of a thing replaces its old number; "less X" takes X out', () => {
    expect(plan('three puppies in a basket', 'make it two puppies').phrases).toEqual(['two puppies in basket']);
    // A thing said once ("a goose") is counted where it stands; "two geese on the lawn" may be more geese.
    expect(plan('a duckling swimming in a pond', 'make it four ducklings').phrases).toEqual([
      'four ducklings swimming in pond',
    ]);
    expect(parseRequest(['a duckling swimming', 'actually two ducklings', 'no, five']).phrases).toEqual([
      'five ducklings swimming',
    ]);
    expect(plan('a duckling swimming in a pond', 'two ducklings on the bank').phrases).toEqual([
      'duckling swimming in pond',
      'two ducklings on bank',
    ]);
    expect(plan('a castle, gloomy, dramatic', 'less gloomy').phrases).toEqual(['castle', 'dramatic']);
  });

  it('a quality, colour or number said of "it" goes to the main subject or the one counted thing', () => {
    expect(plan('a hamster eating a sunflower seed', 'make it golden').phrases).toEqual([
      'golden hamster eating sunflower seed',
    ]);
    expect(plan('portrait of an elderly fisherman', 'make him younger').phrases).toEqual([
      'portrait of young fisherman',
    ]);
    expect(plan('a lighthouse on a rocky island', 'make it taller').phrases).toEqual([
      'tall lighthouse on rocky island',
    ]);
    expect(plan('a green vintage bicycle', 'a yellow one instead').phrases).toEqual(['yellow vintage bicycle']);
    expect(plan('four candles on a birthday cake', 'make it seven').phrases).toEqual([
      'seven candles on birthday cake',
    ]);
    // The light of the picture is no quality of its subject.
    expect(plan('a lighthouse on a rocky island', 'make it darker').phrases).toEqual([
      'lighthouse on rocky island',
      'darker',
    ]);
    // "a bit", "a little" before a quality say how much; they are no new subject ("bit darker").
    expect(plan('a windmill by a canal', 'make it a bit brighter').phrases).toEqual(['windmill by canal', 'brighter']);
    expect(plan('a shepherd with his flock', 'make him a little older').phrases).toEqual([
      'old shepherd with his flock',
    ]);
    expect(plan('a gardener pruning roses', 'turn him into a scarecrow').phrases).toEqual(['scarecrow pruning roses']);
  });

  it('"make the X a Y" replaces X; a new place takes the last place when no preposition matches', () => {
    expect(plan('a chef tossing a pizza', 'make the pizza a pancake').phrases).toEqual(['chef tossing pancake']);
    expect(plan('a fox cub in a meadow', 'on a snowy ridge instead').phrases).toEqual(['fox cub on snowy ridge']);
  });

  it('asking for what was left out brings it back; "shave X off" leaves X out', () => {
    expect(plan('a racing cyclist, no helmet', 'ok give her a helmet')).toEqual({
      phrases: ['racing cyclist', 'helmet'],
      negatives: [],
    });
    expect(plan('a sea captain with a bushy beard', 'shave the beard off')).toEqual({
      phrases: ['sea captain'],
      negatives: ['beard'],
    });
  });
});

describe("request rules: another engine's prompt held to a later turn's change", () => {
  it('takes the replaced subject, place and quality out of an LLM prompt', () => {
    const parsed = parseRequest([
      'a beagle napping under an apple tree',
      'make it a goat instead',
      'under a bridge instead',
    ]);
    const held = enforceRequest(
      { prompt: 'beagle, goat napping under apple tree, soft light', negative_prompt: 'blurry' },
      parsed,
    );
    expect(held.prompt.split(', ')).toEqual(['goat napping under bridge', 'soft light']);
  });
});
