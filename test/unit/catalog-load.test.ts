import { describe, expect, it } from 'vitest';
import { formatRecordError } from '../../src/core/catalog/jsonl.ts';
import { CatalogError, loadCatalog } from '../../src/core/catalog/load.ts';

const model = (id: number, extra: object = {}) =>
  JSON.stringify({
    id,
    name: `model ${id}`,
    type: 'LORA',
    tags: [],
    base_model: 'SD 1.5',
    trained_words: ['trig'],
    file: `m${id}.safetensors`,
    hash: 'ABCDEF0123',
    downloads: 1,
    rating: 5,
    description: '',
    ...extra,
  });
const demo = (image: number, modelId: number, args: object = {}) =>
  JSON.stringify({
    image_id: image,
    model_id: modelId,
    prompt: 'a fox',
    negative_prompt: 'blurry',
    arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512, ...args },
  });

describe('loadCatalog', () => {
  it('keeps good lines and reports each bad one with file, line and field', () => {
    const catalogText = [
      model(1),
      '',
      model(2, { type: 'Embedding' }),
      model(1),
      '[1,2]',
      model(3, { tags: ['ok', 7] }),
      model(4, { hash: 'xyz' }),
    ].join('\n');
    const demosText = [
      demo(10, 1),
      demo(11, 1, { steps: 'many' }),
      demo(12, 99),
      demo(13, 1, { sampler: 'Mystery' }),
      demo(14, 1, { cfg_scale: '7.5' }),
    ].join('\n');
    const { catalog, errors } = loadCatalog(
      { catalog: { file: 'c.jsonl', text: catalogText }, demonstrations: { file: 'd.jsonl', text: demosText } },
      'test',
    );
    expect(catalog.models.map((m) => m.id)).toEqual([1]);
    expect(catalog.demonstrations.map((d) => d.image_id)).toEqual([10, 14]);
    expect(catalog.demonstrations[1]!.arguments.cfg_scale).toBe(7.5);
    expect(errors.map(formatRecordError)).toEqual([
      'c.jsonl:3 field "type": expected one of "Checkpoint", "LORA", got "Embedding"',
      'c.jsonl:5: expected a JSON object, got a list',
      'c.jsonl:6 field "tags[1]": expected a string, got number 7',
      'c.jsonl:7 field "hash": expected hex digits (AutoV2), got "xyz"',
      'c.jsonl:4 field "id": duplicate model id 1',
      'd.jsonl:2 field "arguments.steps": expected a number, got "many"',
      'd.jsonl:4 field "arguments.sampler": unknown sampler "Mystery"',
      'd.jsonl:3 field "model_id": model 99 is not in the catalog',
    ]);
  });

  it('refuses a catalog without a single valid model, saying why', () => {
    expect(() => loadCatalog({ catalog: { file: 'empty.jsonl', text: '\n\n' } }, 'x')).toThrow(CatalogError);
    expect(() => loadCatalog({ catalog: { file: 'bad.jsonl', text: '{"id": "x"}' } }, 'x')).toThrow(
      'bad.jsonl:1 field "id": expected a number, got "x"',
    );
  });

  it('gives a version that changes with the content and not otherwise', () => {
    const a = loadCatalog({ catalog: { file: 'c', text: model(1) } }, 'x').catalog.version;
    expect(loadCatalog({ catalog: { file: 'other name', text: model(1) } }, 'y').catalog.version).toBe(a);
    expect(loadCatalog({ catalog: { file: 'c', text: model(2) } }, 'x').catalog.version).not.toBe(a);
  });

  it('reports progress by line', () => {
    const lines = Array.from({ length: 2500 }, (_, i) => model(i + 1)).join('\n');
    const seen: number[] = [];
    loadCatalog({ catalog: { file: 'c', text: lines } }, 'x', (p) => seen.push(p.linesRead));
    expect(seen).toEqual([1000, 2000, 2500]);
  });
});
