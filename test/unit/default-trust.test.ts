/**
 * The default engine's trust rules on a hand-made catalog: which models a request may get, the base
 * checkpoint of a LoRA, native sizes, and trigger words that never undo what the person asked.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog, CatalogModel, Demonstration } from '../../src/core/catalog/types.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { isNativeSize } from '../../src/core/request/shape.ts';
import { runPipeline } from '../../src/core/pipeline.ts';

let nextId = 1;
function model(
  name: string,
  type: 'Checkpoint' | 'LORA',
  tags: string[],
  extra: Partial<CatalogModel> = {},
): CatalogModel {
  return {
    id: nextId++,
    name,
    type,
    tags,
    base_model: 'SD 1.5',
    trained_words: [],
    file: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}.safetensors`,
    hash: null,
    downloads: 1000,
    rating: 4.8,
    description: '',
    ...extra,
  };
}

const photo = model('PhotoReal One', 'Checkpoint', ['photorealistic', 'photography', 'base model'], {
  downloads: 90000,
  file: 'photoRealOne_v1.safetensors',
});
const anime = model('Anime Base', 'Checkpoint', ['anime', 'base model'], { downloads: 80000 });
const painter = model('Painter Mix', 'Checkpoint', ['illustration', 'painting', 'art style'], { downloads: 70000 });
const xl = model('Vista XL', 'Checkpoint', ['photorealistic', 'base model'], {
  downloads: 60000,
  base_model: 'SDXL 1.0',
});
const personCheckpoint = model('Jane Q. Public Likeness', 'Checkpoint', ['celebrity', 'actress'], { downloads: 95000 });
const nsfw = model('Spicy Mix', 'Checkpoint', ['nsfw', 'hentai'], { downloads: 99000 });
const quiet = model('Quiet (Metal Gear Solid)', 'LORA', ['character', 'metal gear solid', 'video game'], {
  trained_words: ['quiet'],
});
const zorblax = model('Zorblax the Moon Witch', 'LORA', ['character', 'anime'], { trained_words: ['zorblax'] });
const kiki = model('Ghibli - Kiki and Jiji', 'LORA', ['character', 'anime'], { trained_words: ['kiki, red bow'] });
const ghibliStyle = model('Ghibli Style', 'LORA', ['style', 'anime'], { trained_words: ['ghibli style'] });
const jane = model('Jane Doe', 'LORA', ['celebrity', 'woman'], { trained_words: ['janedoe'] });
const pixel = model('Pixel Forge', 'LORA', ['pixel art', 'style'], { trained_words: ['pixforge'] });
const noodles = model('Noodle Bar', 'LORA', ['food', 'ramen'], { trained_words: ['chopsticks in bowl'] });
const zephyrine = model('Zephyrine', 'Checkpoint', ['fantasy', 'landscape'], { downloads: 5000 });
const zephyrMerge = model('Dawnfold Merge', 'Checkpoint', ['zephyrine', 'merge', 'knight'], { downloads: 9000 });
const gears = model('Steampunk Gears', 'LORA', ['steampunk', 'style'], { trained_words: ['stmpnk'] });
const frightened = model('Frightened Face', 'LORA', ['concept', 'expression'], {
  trained_words: ['scared expression'],
});
// A style LoRA named by a long title: "vrinn" is one of its words, not its name.
const glimmerfolk = model('Glimmerfolk Tales of the Vrinn Marsh', 'LORA', ['style', 'anime']);
// A character whose trigger is an object many models' prompts draw ("snorgle plush", as "teddy bear").
const orsolya = model('Orsolya Vantreck', 'LORA', ['character', 'anime'], {
  trained_words: ['orsolya vantreck, snorgle plush'],
});

let imageId = 1;
function demo(
  m: CatalogModel,
  prompt: string,
  size: [number, number] = [512, 768],
  checkpoint?: string,
): Demonstration {
  return {
    image_id: imageId++,
    model_id: m.id,
    prompt,
    negative_prompt: 'lowres, worst quality, blurry',
    arguments: { sampler: 'DPM++ 2M Karras', steps: 25, cfg_scale: 7, width: size[0], height: size[1] },
    ...(checkpoint ? { checkpoint } : {}),
  };
}

const models = [
  photo,
  anime,
  painter,
  xl,
  personCheckpoint,
  nsfw,
  quiet,
  zorblax,
  kiki,
  ghibliStyle,
  jane,
  pixel,
  noodles,
  frightened,
  zephyrine,
  zephyrMerge,
  gears,
  orsolya,
  glimmerfolk,
];
const demonstrations: Demonstration[] = [
  demo(photo, 'RAW photo, a lake at dawn, soft lighting, 8k uhd, film grain'),
  demo(photo, 'RAW photo, portrait of a woman, soft lighting, 8k uhd, film grain'),
  demo(anime, 'masterpiece, best quality, anime girl on a train, detailed background'),
  demo(anime, 'masterpiece, best quality, 1girl, school uniform, cherry blossoms'),
  demo(painter, 'oil painting of a river valley, masterpiece, best quality, intricate'),
  demo(xl, 'cinematic photo of mountains, soft lighting, 8k uhd', [1216, 832]),
  demo(personCheckpoint, 'photo of a woman smiling, 8k uhd'),
  demo(nsfw, 'masterpiece, best quality, woman'),
  demo(quiet, 'quiet, 1girl, desert, masterpiece, best quality', [512, 768], 'photoRealOne_v1'),
  demo(quiet, 'quiet, standing, ruins, masterpiece, best quality', [512, 768], 'photoRealOne_v1 [abcdef1234]'),
  demo(zorblax, 'zorblax, witch, moon, masterpiece', [512, 768], 'anime_base.safetensors'),
  demo(kiki, 'kiki, red bow, broom, masterpiece'),
  demo(ghibliStyle, 'ghibli style, village, masterpiece', [768, 512], 'anime_base'),
  demo(jane, 'janedoe, photo of a woman, portrait, 8k uhd', [512, 768], 'photoRealOne_v1'),
  demo(pixel, 'pixforge, pixel art, castle, masterpiece', [512, 512], 'anime_base'),
  demo(noodles, 'chopsticks in bowl, ramen, steam, masterpiece', [512, 512], 'photoRealOne_v1'),
  demo(zephyrine, 'castle above the clouds, fantasy landscape, golden light'),
  demo(zephyrMerge, 'a knight in a misty forest, armor, dramatic light'),
  demo(gears, 'stmpnk, steampunk airship over a harbour, brass gears', [512, 768], 'photoRealOne_v1'),
  demo(frightened, 'scared expression, 1girl, dark forest, masterpiece', [512, 768], 'anime_base'),
  demo(orsolya, 'orsolya vantreck, snorgle plush, chapel, masterpiece', [512, 768], 'anime_base'),
  demo(glimmerfolk, 'glimmerfolk, a marsh village at dusk, lanterns', [512, 768], 'anime_base'),
  // Eight other models' prompts draw a snorgle plush: it is a thing in pictures, not Orsolya's name.
  ...[photo, anime, painter, xl, zephyrine, zephyrMerge, pixel, gears].map((m) =>
    demo(m, 'a snorgle plush on a shelf, soft light'),
  ),
];
const catalog: Catalog = { source: 'hand-made', version: 'trust-1', models, demonstrations };
const engine = createDefaultEngine(catalog);
const plan = async (...messages: string[]) => (await runPipeline(engine, { messages, images: [] })).plan;
const planResult = async (...messages: string[]) => runPipeline(engine, { messages, images: [] });

describe('stage 2 chooses only what the request asks for', () => {
  it('gives a plain request a general checkpoint of its style, never a LoRA, likeness or NSFW model', async () => {
    expect((await plan('a photo of a quiet lake at dawn')).model.id).toBe(photo.id);
    expect((await plan('an anime girl reading on a train')).model.id).toBe(anime.id);
    expect((await plan('an oil painting of a river valley')).model.id).toBe(painter.id);
    for (const chat of ['a portrait of a woman smiling', 'a quiet street at night', 'a cat with a red bow']) {
      const p = await plan(chat);
      expect(p.model.type, chat).toBe('Checkpoint');
      expect([personCheckpoint.id, nsfw.id], chat).not.toContain(p.model.id);
    }
  });

  it('gives a checkpoint named in full to the person, with the naming out of the prompt', async () => {
    const p = await plan('use the Zephyrine checkpoint for a knight in a misty forest');
    // Not the merge that carries the name among its tags, nor a general checkpoint that draws knights.
    expect(p.model.id).toBe(zephyrine.id);
    expect(p.prompt).toMatch(/^knight in misty forest/);
    expect(p.prompt).not.toContain('Zephyrine');
  });

  it('reads a genre word no dictionary lists ("steampunk") as a description, not a LoRA name', async () => {
    const p = await plan('a steampunk airship over a harbour');
    expect(p.model.type).toBe('Checkpoint');
    expect((await plan('a steampunk airship over a harbour, stmpnk')).model.id).toBe(gears.id);
  });

  it('takes a trigger of two everyday words for a description, not a name', async () => {
    const p = await plan('a woman with a scared expression in a dark forest');
    expect(p.model.name).not.toBe('Frightened Face');
    expect(p.model.type).toBe('Checkpoint');
  });

  it("takes a trigger that many models' prompts draw for a thing in the picture, not the model's name", async () => {
    const p = await planResult('a snorgle plush on a bed');
    expect(p.plan.model.id).not.toBe(orsolya.id);
    expect(p.plan.prompt).not.toMatch(/orsolya/i);
    expect((await plan('Orsolya Vantreck in a chapel')).model.id).toBe(orsolya.id);
  });

  it('takes one inner word of a long title for a word, and the title by its first word', async () => {
    expect((await plan('a vrinn swimming in a pond')).model.id).not.toBe(glimmerfolk.id);
    expect((await plan('a lantern festival in Glimmerfolk style')).model.id).toBe(glimmerfolk.id);
  });

  it('takes a common word that is a name only with a second naming piece', async () => {
    expect((await plan('Quiet from Metal Gear Solid in the desert')).model.id).toBe(quiet.id);
    expect((await plan('a quiet desert at noon')).model.id).not.toBe(quiet.id);
  });

  it('names a character by its own name, not its franchise', async () => {
    expect((await plan('Zorblax flying over the moon')).model.id).toBe(zorblax.id);
    const ghibli = await planResult('my cat as a Ghibli hero in a village');
    expect(ghibli.plan.model.id).not.toBe(kiki.id);
    expect((await plan('a village in ghibli style')).model.id).toBe(ghibliStyle.id);
  });

  it("uses a real person's likeness only when the request names the person", async () => {
    const named = await planResult('a portrait photo of Jane Doe in a garden');
    expect(named.plan.model.id).toBe(jane.id);
    expect(named.model.evidence.notes.join(' ')).toContain('names jane doe');
    expect((await plan('a portrait photo of a woman in a garden')).model.id).not.toBe(jane.id);
  });

  it('gives a technique general checkpoints cannot draw to the model made for it', async () => {
    expect((await plan('a pixel art castle on a hill')).model.id).toBe(pixel.id);
  });
});

describe('stage 3 fits the plan to the model', () => {
  it('gives a LoRA the checkpoint its demonstrations were made with, and its trigger word', async () => {
    const p = await plan('Quiet from Metal Gear Solid in the desert');
    expect(p.base_checkpoint?.id).toBe(photo.id);
    const z = await plan('Zorblax flying over the moon');
    expect(z.base_checkpoint?.id).toBe(anime.id);
    const px = await planResult('a pixel art castle on a hill');
    expect(px.plan.prompt).toMatch(/, pixforge$/);
    expect(px.arguments.evidence.notes.join(' ')).toContain(
      'Trigger words of Pixel Forge added to the prompt: pixforge',
    );
  });

  it("runs a LoRA on a checkpoint of the style the request asks for, over its demonstrations' habit", async () => {
    // Quiet's demonstrations were all made on the photo checkpoint; the person asks for anime.
    const q = await planResult('Quiet from Metal Gear Solid in the desert, anime style');
    expect(q.plan.base_checkpoint?.id).toBe(anime.id);
    expect(q.arguments.evidence.notes.join(' ')).toContain('in the anime style the request asks for');
  });

  it('never adds a trigger word that brings back what the person negated', async () => {
    const p = await plan('a bowl of ramen on a counter, no chopsticks');
    expect(p.model.id).toBe(noodles.id);
    expect(p.prompt).not.toMatch(/chopsticks/i);
    expect(p.negative_prompt).toMatch(/^chopsticks/);
  });

  it('follows shape words and gives SDXL models native sizes', async () => {
    const wide = await plan('a panoramic photo of mountains, Vista XL');
    expect(wide.model.id).toBe(xl.id);
    expect(isNativeSize('sdxl', wide.arguments.width, wide.arguments.height)).toBe(true);
    expect(wide.arguments.width).toBeGreaterThan(wide.arguments.height);
    const tall = await plan('a phone wallpaper of a lake at dawn, photo');
    expect(tall.arguments.height).toBeGreaterThan(tall.arguments.width);
  });
});
