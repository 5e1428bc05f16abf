/**
 * The embedded default engine over the shipped starter catalog: each stage on its own terms (what the
 * prompt keeps and adds, how models are ranked and scored, where the arguments come from), the
 * endpoint restriction, history merging, determinism and the text-only note for images.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { mergeTurns, type ChatInput } from '../../src/core/chat.ts';
import { createDefaultEngine, requestQuery } from '../../src/core/engines/default/index.ts';
import { buildCatalogIndex } from '../../src/core/engines/default/index-build.ts';
import type { StageRequest } from '../../src/core/engines/engine.ts';
import { inputCoverage } from '../../src/core/metrics/prompt.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { canonicalSampler, validateArguments } from '../../src/core/plan.ts';
import { words } from '../../src/core/text.ts';

const starterDir = fileURLToPath(new URL('../../public/models/starter/', import.meta.url));
const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(starterDir + 'catalog.jsonl', 'utf8') },
    demonstrations: { file: 'demonstrations.jsonl', text: readFileSync(starterDir + 'demonstrations.jsonl', 'utf8') },
  },
  'starter',
);
const engine = createDefaultEngine(catalog);

function request(messages: string[], images: ChatInput['images'] = []): StageRequest {
  return { input: { messages, images }, merged: mergeTurns(messages) };
}

function modelById(id: number) {
  const m = catalog.models.find((x) => x.id === id);
  if (!m) throw new Error(`model ${id} not in the starter catalog`);
  return m;
}

describe('default engine, stage 1: prompt', () => {
  const message = 'a cozy watercolor fox reading in a library, autumn vibes';

  it("keeps every content word of the user's request and adds supported style terms", async () => {
    const result = await engine.writePrompt(request([message]));
    expect(inputCoverage([message], result.prompt).dropped).toEqual([]);
    // The user's content comes first, in their order.
    expect(result.prompt.startsWith('cozy watercolor fox reading')).toBe(true);
    expect(result.evidence.kept_terms).toEqual(expect.arrayContaining(['fox', 'library', 'autumn', 'watercolor']));
    expect(result.evidence.added_terms.length).toBeGreaterThan(0);
    for (const added of result.evidence.added_terms) {
      expect(result.prompt).toContain(added.term);
      expect(added.from.length).toBeGreaterThan(0);
    }
    // The prompt is longer than the request: the added vocabulary is really there.
    expect(words(result.prompt).length).toBeGreaterThan(words(message).length);
  });

  it('writes a negative prompt and cites the neighbouring demonstrations it drew on', async () => {
    const result = await engine.writePrompt(request([message]));
    expect(result.negative_prompt.split(',').length).toBeGreaterThanOrEqual(3);
    expect(result.evidence.neighbours.length).toBeGreaterThan(0);
    for (const n of result.evidence.neighbours) {
      expect(catalog.demonstrations.some((d) => d.image_id === n.image_id && d.prompt === n.prompt)).toBe(true);
      expect(n.similarity).toBeGreaterThan(0);
      expect(n.similarity).toBeLessThanOrEqual(1);
    }
    // A watercolour request finds watercolour demonstrations.
    expect(result.evidence.neighbours.some((n) => n.prompt.toLowerCase().includes('watercolor'))).toBe(true);
  });
});

describe('default engine, stage 2: model', () => {
  it('picks a pixel-art model for a pixel-art request, with five candidates whose scores sum to 1', async () => {
    const req = request(['pixel art castle at night']);
    const prompt = await engine.writePrompt(req);
    const result = await engine.selectModel(req, prompt, {});
    expect(modelById(result.model.id).tags).toContain('pixel art');
    const { candidates } = result.evidence;
    expect(candidates).toHaveLength(5);
    expect(candidates[0]!.model_id).toBe(result.model.id);
    expect(candidates.reduce((s, c) => s + c.score, 0)).toBeCloseTo(1, 6);
    for (let i = 1; i < candidates.length; i++)
      expect(candidates[i]!.score).toBeLessThanOrEqual(candidates[i - 1]!.score);
    for (const c of candidates) expect(c.reasons.length).toBeGreaterThan(0);
    // Only the models the request asks for and the general checkpoints compete.
    expect(result.evidence.competing).toBeGreaterThanOrEqual(5);
    expect(result.evidence.competing).toBeLessThan(catalog.models.length);
  });

  it('finds a one-word model name the request writes apart ("dream shaper" for DreamShaper)', async () => {
    for (const [chat, id] of [
      ['a castle on a hill with dream shaper', 4384],
      ['an old sailor by the harbour, made with absolute reality', 81458],
      ['a fox with ghost mix', 36520],
    ] as const) {
      const result = await runPipeline(engine, { messages: [chat], images: [] });
      expect(result.plan.model.id, chat).toBe(id);
      expect(result.model.evidence.candidates[0]!.reasons.join(' ')).toContain('name / trigger words mentioned');
    }
  });

  it('does not join words that demonstrations use apart as an everyday phrase into a model name', () => {
    const model = (id: number, name: string) =>
      JSON.stringify({
        id,
        name,
        type: 'LORA',
        tags: [],
        base_model: 'SD 1.5',
        trained_words: [],
        file: `m${id}.safetensors`,
        hash: 'ABCDEF0123',
        downloads: 1,
        rating: 5,
        description: '',
      });
    const demo = (image: number, modelId: number, prompt: string) =>
      JSON.stringify({
        image_id: image,
        model_id: modelId,
        prompt,
        negative_prompt: '',
        arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 },
      });
    const small = loadCatalog(
      {
        catalog: { file: 'c.jsonl', text: [model(1, 'FullBody Pose'), model(2, 'InkFox Style')].join('\n') },
        demonstrations: {
          file: 'd.jsonl',
          text: [1, 2, 3].map((i) => demo(i, 2, 'a girl, full body, standing')).join('\n'),
        },
      },
      'small',
    ).catalog;
    const index = buildCatalogIndex(small);
    expect(index.joinableNames.has('inkfox')).toBe(true);
    expect(index.joinableNames.has('fullbody')).toBe(false);
    expect(requestQuery('an ink fox, full body', index).has('inkfox')).toBe(true);
    expect(requestQuery('an ink fox, full body', index).has('fullbody')).toBe(false);
  });

  it('chooses only among the allowed models (those installed on the endpoint)', async () => {
    const allowed = new Set([4201, 25694]); // two photoreal checkpoints, nothing pixel-art
    const result = await runPipeline(
      engine,
      { messages: ['pixel art castle at night'], images: [] },
      { allowedModelIds: allowed },
    );
    expect(allowed.has(result.plan.model.id)).toBe(true);
    expect(result.model.evidence.candidates.map((c) => c.model_id).every((id) => allowed.has(id))).toBe(true);
    expect(result.model.evidence.candidates).toHaveLength(2);
    expect(result.model.evidence.competing).toBe(2);
    // The arguments follow the model that was actually allowed.
    const demos = catalog.demonstrations.filter((d) => d.model_id === result.plan.model.id);
    expect(demos.some((d) => d.arguments.steps === result.plan.arguments.steps)).toBe(true);
  });
});

describe('default engine, stage 3: arguments', () => {
  it("sets valid arguments sourced from the chosen model's demonstrations", async () => {
    const result = await runPipeline(engine, { messages: ['pixel art castle at night'], images: [] });
    const args = result.plan.arguments;
    expect(validateArguments(args)).toEqual([]);
    const demos = catalog.demonstrations.filter((d) => d.model_id === result.plan.model.id);
    expect(demos.length).toBeGreaterThan(0);
    const { sources, demonstrations } = result.arguments.evidence;
    for (const name of ['sampler', 'steps', 'cfg_scale', 'width', 'height'] as const) {
      const source = sources[name];
      if (
        source.origin === 'model-habit' ||
        (source.origin === 'nearest-demonstration' && !source.detail.includes('runners-up'))
      ) {
        const used = demos.map((d) => (name === 'sampler' ? canonicalSampler(d.arguments.sampler) : d.arguments[name]));
        expect(used).toContain(args[name]);
      }
      expect(source.detail.length).toBeGreaterThan(0);
    }
    // A model with demonstrations gives its own arguments, not a prior or a fixed default.
    expect(
      Object.values(sources).filter((s) => s.origin === 'model-habit' || s.origin === 'nearest-demonstration').length,
    ).toBeGreaterThanOrEqual(4);
    expect(sources.seed.origin).toBe('seed');
    expect(demonstrations.length).toBeGreaterThan(0);
    expect(demonstrations.every((d) => d.model_id === result.plan.model.id)).toBe(true);
  });
});

describe('default engine, whole requests', () => {
  it("merges a three-turn history and keeps every turn's content", async () => {
    const messages = [
      'a knight in a misty forest',
      'make it at sunset with golden light',
      'and add a red dragon flying overhead',
    ];
    const result = await runPipeline(engine, { messages, images: [] });
    expect(result.input_type).toBe('history');
    expect(inputCoverage(messages, result.plan.prompt).dropped).toEqual([]);
    const prompt = result.plan.prompt.toLowerCase();
    expect(prompt.indexOf('knight')).toBeLessThan(prompt.indexOf('sunset'));
    expect(prompt.indexOf('sunset')).toBeLessThan(prompt.indexOf('dragon'));
    // Nothing was contradicted, so nothing was replaced.
    expect(result.prompt.evidence.request?.replacements).toEqual([]);
  });

  it('gives the same plan and evidence for the same input', async () => {
    const input = { messages: ['a cyberpunk street at night, neon rain, photo'], images: [] };
    const first = await runPipeline(engine, input);
    const second = await runPipeline(createDefaultEngine(catalog), input);
    expect(second.plan).toEqual(first.plan);
    expect(second.model.evidence).toEqual(first.model.evidence);
    expect(second.arguments.evidence).toEqual(first.arguments.evidence);
  });

  it('says that a reference image was not used (the engine reads text only)', async () => {
    const pixel =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const result = await runPipeline(engine, {
      messages: ['make it look like this but in winter'],
      images: [{ source: pixel, mime: 'image/png' }],
    });
    expect(result.input_type).toBe('multimodal');
    expect(result.prompt.evidence.notes.join(' ')).toMatch(/image was not used/);
    expect(validateArguments(result.plan.arguments)).toEqual([]);
  });
});
