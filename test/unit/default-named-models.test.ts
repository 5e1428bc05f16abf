/**
 * A model the person names in a model clause ("use the Soft Focus LoRA", "with the glow_up LoRA") is the
 * model the plan uses, even when its name is everyday words; a checkpoint named beside a LoRA is the
 * LoRA's base; a name no model has is said, not silently replaced. A small catalog written for this test.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { explainModel } from '../../src/core/explain.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { parseRequest } from '../../src/core/request/parse.ts';

const model = (
  id: number,
  name: string,
  fields: { type?: string; tags?: string[]; trained_words?: string[]; file?: string; downloads?: number },
) =>
  JSON.stringify({
    id,
    name,
    type: fields.type ?? 'LORA',
    tags: fields.tags ?? [],
    base_model: 'SD 1.5',
    trained_words: fields.trained_words ?? [],
    file: fields.file ?? `model${id}.safetensors`,
    hash: `ABCDEF${String(id).padStart(4, '0')}`,
    downloads: fields.downloads ?? 100,
    rating: 4.8,
    description: '',
  });
const demonstration = (imageId: number, modelId: number, prompt: string) =>
  JSON.stringify({
    image_id: imageId,
    model_id: modelId,
    prompt,
    negative_prompt: 'blurry',
    arguments: { sampler: 'Euler a', steps: 24, cfg_scale: 7, width: 512, height: 512 },
  });

const { catalog } = loadCatalog(
  {
    catalog: {
      file: 'catalog.jsonl',
      text: [
        model(1, 'Harbor Realism', { type: 'Checkpoint', tags: ['photorealistic', 'base model'], downloads: 9000 }),
        model(2, 'DreamWeaver', { type: 'Checkpoint', tags: ['fantasy', 'base model'], downloads: 5000 }),
        model(3, 'Soft Focus', { tags: ['photography', 'lens'], file: 'glow_up.safetensors' }),
        model(4, 'Noodle Bowl', { tags: ['food'], trained_words: ['tonkotsu ramen'] }),
        model(5, 'Harbor - Captain Mara', { tags: ['character', 'sailor'], trained_words: ['captain mara'] }),
        model(6, 'Quorvi Style', { tags: ['artist'] }),
      ].join('\n'),
    },
    demonstrations: {
      file: 'demonstrations.jsonl',
      text: [
        demonstration(1, 1, 'a lighthouse on a rocky coast at dusk, photo'),
        demonstration(2, 2, 'a castle above the clouds, fantasy'),
        demonstration(3, 3, 'a portrait by a window, soft focus, dreamy light'),
        demonstration(4, 4, 'a steaming bowl of tonkotsu ramen, chopsticks'),
        demonstration(5, 5, 'captain mara at the helm of a ship'),
        demonstration(6, 6, 'a quorvi perched on a branch, ink'),
      ].join('\n'),
    },
  },
  'named-models',
);
const engine = createDefaultEngine(catalog);

async function plan(message: string) {
  const result = await runPipeline(engine, { messages: [message], images: [] });
  return { result, explanation: explainModel(result) };
}

describe('a model named in a model clause', () => {
  it('is used when its name is everyday words, and the explanation says the person named it', async () => {
    const { result, explanation } = await plan('a lighthouse at dusk, use the Soft Focus LoRA');
    expect(result.plan.model.name).toBe('Soft Focus');
    expect(result.model.evidence.asked).toEqual({ by: 'name', terms: ['soft', 'focus'] });
    expect(result.plan.base_checkpoint).not.toBeNull();
    expect(explanation).toContain('because you named it (“soft focus”)');
    expect(result.plan.prompt).not.toMatch(/soft focus|lora/i);
  });

  it("is found by its file's name, as prompts call LoRAs", async () => {
    const { result } = await plan('a lighthouse at dusk, with the glow up lora');
    expect(result.plan.model.name).toBe('Soft Focus');
  });

  it('wins over a model the request only describes through its trigger words', async () => {
    const { result } = await plan('a bowl of tonkotsu ramen on a table, use the Soft Focus LoRA');
    expect(result.plan.model.name).toBe('Soft Focus');
    expect(result.model.evidence.candidates.map((c) => c.name)).not.toContain('Noodle Bowl');
    // Without the clause, the trigger words do ask for the food LoRA.
    expect((await plan('a bowl of tonkotsu ramen on a table')).result.plan.model.name).toBe('Noodle Bowl');
  });

  it('makes a checkpoint named beside a LoRA its base, not a rival', async () => {
    const { result } = await plan('a lighthouse at dusk, use the DreamWeaver checkpoint with the Soft Focus LoRA');
    expect(result.plan.model.name).toBe('Soft Focus');
    expect(result.plan.base_checkpoint?.name).toBe('DreamWeaver');
    expect(result.arguments.evidence.notes.join(' ')).toContain('the request names it');
  });

  it("does not name a character by its franchise, the first part of the character's name", async () => {
    const { result } = await plan('a sailor on a pier, use the Harbor lora');
    expect(result.plan.model.name).not.toBe('Harbor - Captain Mara');
  });

  it('that no model has is said in the evidence and the explanation', async () => {
    const { result, explanation } = await plan('a lighthouse at dusk, use the Wobblyfoo LoRA');
    expect(result.model.evidence.unnamed).toEqual(['Wobblyfoo LoRA']);
    expect(result.model.evidence.notes).toContain(
      'No model in the catalog is called "Wobblyfoo LoRA", so the engine chose one itself.',
    );
    expect(explanation).toMatch(/^You asked for “Wobblyfoo LoRA”, but no model in the catalog is called that/);
  });
});

describe('a name in the request', () => {
  it('names a model as written, not through a plural the name does not have', async () => {
    expect((await plan('a quorvi perched on a branch')).result.plan.model.name).toBe('Quorvi Style');
    // "quorvis" is not "Quorvi" with the stemmer's "s" taken off: the person wrote another word.
    expect((await plan('two quorvis perched on a branch')).result.plan.model.name).not.toBe('Quorvi Style');
  });
});

describe('model clauses in the request', () => {
  it('takes out every model clause of a sentence, and "with the X model" only when X is not an everyday word', () => {
    expect(parseRequest(['a castle, use the DreamWeaver checkpoint with the Soft Focus LoRA'])).toMatchObject({
      phrases: ['castle'],
      models: ['DreamWeaver checkpoint', 'Soft Focus LoRA'],
    });
    expect(parseRequest(['a lighthouse in a storm with the Zentrix model'])).toMatchObject({
      phrases: ['lighthouse in storm'],
      models: ['Zentrix model'],
    });
    const fashion = parseRequest(['a photographer with the fashion model on a beach']);
    expect(fashion.models ?? []).toEqual([]);
    expect(fashion.phrases.join(' ')).toContain('fashion model');
  });
});
