/**
 * Reliability suite, finding 2 of the audit (issue 15): index building has no argument spreads over
 * data-sized lists. vitest.config.ts runs this file on a small stack (--stack-size=150: about 19k spread
 * arguments instead of Node's default 122k), so a spread of a 25k-model list, or of one model's 20k
 * demonstrations, overflows it as a spread of a 130k-model list overflows the default stack, at a fifth of
 * the time. The first test checks that the stack really is that small.
 */
import { describe, expect, it } from 'vitest';
import type { CatalogModel, Demonstration } from '../../src/core/catalog/types.ts';
import { buildCatalogIndex } from '../../src/core/engines/default/index-build.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { runPipeline } from '../../src/core/pipeline.ts';

const MODELS = 25_000;
const DEMONSTRATIONS = 20_000;

function syntheticModel(id: number): CatalogModel {
  return {
    id,
    name: `Synthetic model ${id}`,
    type: 'Checkpoint',
    tags: ['tag' + (id % 97)],
    base_model: 'SD 1.5',
    trained_words: [],
    file: `s${id}.safetensors`,
    hash: null,
    downloads: id,
    rating: 4,
    description: '',
  };
}
function syntheticDemo(imageId: number, modelId: number): Demonstration {
  return {
    image_id: imageId,
    model_id: modelId,
    prompt: `portrait of a knight ${imageId % 500}, detailed armor, castle walls, dramatic lighting, masterpiece, best quality, ultra detailed, sharp focus, cinematic composition, golden hour, intricate engraving, volumetric fog, rim light, depth of field, highly detailed face, oil painting style, trending artwork`,
    negative_prompt: '',
    arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 },
  };
}

describe('finding 2: index building over data-sized lists', () => {
  it(`runs on a stack that a spread of ${DEMONSTRATIONS.toLocaleString('en')} values overflows`, () => {
    expect(() => Math.max(...new Array<number>(DEMONSTRATIONS).fill(0))).toThrow(RangeError);
  });

  it(`indexes ${MODELS.toLocaleString('en')} models without overflowing it`, () => {
    const models = Array.from({ length: MODELS }, (_, i) => syntheticModel(i + 1));
    const index = buildCatalogIndex({ source: 'synthetic', version: 'v', models, demonstrations: [] });
    expect(index.models.length).toBe(MODELS);
    expect(index.popularity[MODELS - 1]).toBeCloseTo(1, 5);
  });

  it('plans over a model with 20k demonstrations (the arguments stage reads all of them)', async () => {
    const models = Array.from({ length: 50 }, (_, i) => syntheticModel(i + 1));
    const demonstrations = Array.from({ length: DEMONSTRATIONS }, (_, i) => syntheticDemo(i + 1, 7));
    const engine = createDefaultEngine({ source: 'synthetic', version: 'v', models, demonstrations });
    // Only the model with 20k demonstrations may be chosen, so stage 3 reads all of them.
    const result = await runPipeline(
      engine,
      { messages: ['portrait of a knight in detailed armor'], images: [] },
      { allowedModelIds: new Set([7]) },
    );
    expect(result.plan.model.id).toBe(7);
    expect(result.plan.arguments.sampler).toBe('Euler a');
  });
});
