import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import {
  argumentEvidence,
  buildArgumentPriors,
  chooseArguments,
  DEFAULT_ARGUMENT_OPTIONS,
} from '../../src/core/engines/default/args.ts';
import { buildCatalogIndex } from '../../src/core/engines/default/index-build.ts';

// Model 1 renders 30 steps at 512x768; model 2 and its neighbours 20 steps at 768x512.
const model = (id: number, name: string) =>
  JSON.stringify({
    id,
    name,
    type: 'Checkpoint',
    tags: [],
    base_model: 'SD 1.5',
    trained_words: [],
    file: `m${id}.safetensors`,
    hash: 'ABCDEF0123',
    downloads: 10,
    rating: 5,
    description: '',
  });
const demo = (image: number, modelId: number, prompt: string, args: object) =>
  JSON.stringify({
    image_id: image,
    model_id: modelId,
    prompt,
    negative_prompt: '',
    arguments: { sampler: 'Euler a', cfg_scale: 7, ...args },
  });
const portrait = { steps: 30, width: 512, height: 768, sampler: 'DPM++ 2M Karras' };
const landscape = { steps: 20, width: 768, height: 512 };
const { catalog } = loadCatalog(
  {
    catalog: { file: 'c.jsonl', text: [model(1, 'portraits'), model(2, 'landscapes'), model(3, 'scenery')].join('\n') },
    demonstrations: {
      file: 'd.jsonl',
      text: [
        demo(10, 1, 'portrait of a woman, soft light', portrait),
        demo(11, 1, 'portrait of an old man', portrait),
        demo(12, 1, 'portrait of a knight', { ...portrait, cfg_scale: 5 }),
        demo(20, 2, 'mountain lake at dawn', landscape),
        demo(21, 2, 'misty valley at dawn', landscape),
        demo(30, 3, 'mountain lake with pines at dawn', landscape),
      ].join('\n'),
    },
  },
  'test',
);
const index = buildCatalogIndex(catalog);
const priors = buildArgumentPriors(index);
const row = (id: number) => index.modelRow.get(id)!;
const scoresFor = (text: string) => {
  const scores = new Float32Array(index.demoIndex.size);
  index.demoIndex.accumulate(new Map(text.split(' ').map((t) => [t, 1])), scores);
  return scores;
};

describe('default engine, stage 3: candidate values and their features', () => {
  it("measures the chosen model's habit, its nearest demonstration and what the other likely models use", () => {
    const evidence = argumentEvidence(
      index,
      priors,
      row(1),
      scoresFor('portrait knight'),
      [
        { row: row(1), probability: 0.6 },
        { row: row(2), probability: 0.4 },
      ],
      DEFAULT_ARGUMENT_OPTIONS,
    );
    expect(evidence.confidence).toBe(0.6);
    expect(evidence.modelDemos[0]!.demo).toBe(2); // "portrait of a knight" is the most similar of model 1's
    const cfg = new Map(evidence.candidates.cfg_scale.map((c) => [c.value, c]));
    expect(cfg.get('7')!.features.habit).toBeCloseTo(2 / 3);
    expect(cfg.get('5')!.features.topDemo).toBe(1);
    expect(cfg.get('7')!.features.confidentHabit).toBeCloseTo((2 / 3) * 0.6);
    const steps = new Map(evidence.candidates.steps.map((c) => [c.value, c]));
    expect(steps.get('20')!.features.runnersUp).toBeCloseTo(1);
    expect(steps.get('20')!.features.posterior).toBeCloseTo(0.4);
    expect(steps.get('30')!.features.posterior).toBeCloseTo(0.6);
    expect(steps.get('20')!.modelDemos).toBe(0);
    // Catalog-wide frequencies: 3 of 6 demonstrations use 20 steps.
    expect(steps.get('20')!.features.global).toBeCloseTo(0.5);
  });

  it("follows a confident choice's own habits, with the evidence saying so", () => {
    const chosen = chooseArguments(
      index,
      priors,
      row(1),
      scoresFor('portrait woman'),
      [
        { row: row(1), probability: 0.95 },
        { row: row(2), probability: 0.05 },
      ],
      7,
      DEFAULT_ARGUMENT_OPTIONS,
    );
    expect(chosen.arguments).toMatchObject({ steps: 30, width: 512, height: 768, sampler: 'DPM++ 2M Karras', seed: 7 });
    expect(chosen.sources.steps).toEqual({
      origin: 'model-habit',
      detail:
        "used in 3 of the model's 3 demonstrations; 100% of the most similar demonstrations across the catalog agree",
    });
    expect(chosen.demonstrations.map((d) => d.image_id)[0]).toBe(10);
  });

  it('lets similar requests outvote an unsure choice whose demonstrations say something else', () => {
    // Stage 2 barely preferred model 1, but the request reads like models 2 and 3's demonstrations.
    const chosen = chooseArguments(
      index,
      priors,
      row(1),
      scoresFor('mountain lake dawn'),
      [
        { row: row(1), probability: 0.3 },
        { row: row(2), probability: 0.28 },
        { row: row(3), probability: 0.27 },
      ],
      7,
      DEFAULT_ARGUMENT_OPTIONS,
    );
    expect(chosen.arguments).toMatchObject({ steps: 20, width: 768, height: 512 });
    expect(chosen.sources.width.origin).toBe('nearest-demonstration');
    expect(chosen.sources.width.detail).toContain("not used by the chosen model's demonstrations");
    expect(chosen.sources.width.detail).toContain('landscapes');
  });

  it('takes a model picked by hand outside the shortlist as certain', () => {
    const evidence = argumentEvidence(
      index,
      priors,
      row(3),
      scoresFor('portrait'),
      [{ row: row(1), probability: 1 }],
      DEFAULT_ARGUMENT_OPTIONS,
    );
    expect(evidence.confidence).toBe(1);
    const steps = new Map(evidence.candidates.steps.map((c) => [c.value, c]));
    expect(steps.get('20')!.features.confidentHabit).toBe(1);
  });
});
