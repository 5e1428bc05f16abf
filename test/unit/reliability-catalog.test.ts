/**
 * Reliability suite, catalog findings of the audit (issue 15): each test names its finding and
 * failed on the code before the fix.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, CatalogError } from '../../src/core/catalog/load.ts';
import type { Catalog, CatalogModel, Demonstration } from '../../src/core/catalog/types.ts';
import { buildCatalogIndex } from '../../src/core/engines/default/index-build.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { runPipeline } from '../../src/core/pipeline.ts';

const modelLine = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, name: `Model ${id}`, type: 'Checkpoint', tags: ['style'], base_model: 'SD 1.5', trained_words: [], file: `m${id}.safetensors`, downloads: id, rating: 4.5, description: 'a model', ...extra });
const demoLine = (imageId: number, modelId: number, prompt = 'a watercolor fox in a library') =>
  JSON.stringify({ image_id: imageId, model_id: modelId, prompt, negative_prompt: 'blurry', arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 } });

function syntheticModel(id: number): CatalogModel {
  return { id, name: `Synthetic model ${id}`, type: 'Checkpoint', tags: ['tag' + (id % 97)], base_model: 'SD 1.5', trained_words: [], file: `s${id}.safetensors`, hash: null, downloads: id, rating: 4, description: '' };
}
function syntheticDemo(imageId: number, modelId: number): Demonstration {
  return { image_id: imageId, model_id: modelId, prompt: `portrait of a knight ${imageId % 500}, detailed armor, castle walls, dramatic lighting, masterpiece, best quality, ultra detailed, sharp focus, cinematic composition, golden hour, intricate engraving, volumetric fog, rim light, depth of field, highly detailed face, oil painting style, trending artwork`, negative_prompt: '', arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 } };
}

describe('finding 1: a repeated demonstration image_id', () => {
  it('is reported with its line and skipped, so every image_id the engine sees is unique', () => {
    const catalog = [modelLine(1), modelLine(2)].join('\n');
    const demonstrations = [demoLine(10, 1), demoLine(11, 1), demoLine(10, 2, 'a castle at dusk'), demoLine(12, 2)].join('\n');
    const { catalog: c, errors } = loadCatalog({ catalog: { file: 'c.jsonl', text: catalog }, demonstrations: { file: 'd.jsonl', text: demonstrations } }, 'test');
    expect(c.demonstrations.map((d) => d.image_id)).toEqual([10, 11, 12]);
    expect(errors).toContainEqual({ file: 'd.jsonl', line: 3, field: 'image_id', message: 'duplicate image_id 10 (first on line 1); this line was skipped' });
  });
});

describe('finding 2: index building over data-sized lists', () => {
  it('indexes 200k models without overflowing the stack', () => {
    const models = Array.from({ length: 200_000 }, (_, i) => syntheticModel(i + 1));
    const index = buildCatalogIndex({ source: 'synthetic', version: 'v', models, demonstrations: [] });
    expect(index.models.length).toBe(200_000);
    expect(index.popularity[199_999]).toBeCloseTo(1, 5);
  });

  it('plans over a model with 20k demonstrations (the arguments stage reads all of them)', async () => {
    const models = Array.from({ length: 50 }, (_, i) => syntheticModel(i + 1));
    const demonstrations = Array.from({ length: 20_000 }, (_, i) => syntheticDemo(i + 1, 7));
    const engine = createDefaultEngine({ source: 'synthetic', version: 'v', models, demonstrations });
    const result = await runPipeline(engine, { messages: ['portrait of a knight in detailed armor'], images: [] });
    expect(result.plan.model.id).toBe(7);
    expect(result.plan.arguments.sampler).toBe('Euler a');
  });
});
