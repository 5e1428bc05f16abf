import { describe, expect, it } from 'vitest';
import { BenchItemsError, loadBenchItems } from '../../src/core/bench/items.ts';

const item = (over: Record<string, unknown> = {}, goldOver: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'x-1',
    input_type: 'single',
    setting: 'supervised',
    messages: ['a red fox in the snow'],
    images: [],
    persona: 'student',
    gold: {
      prompt: 'red fox, snow, masterpiece',
      raw_prompt: 'red fox, snow, masterpiece <lora:fox:0.7>',
      negative_prompt: 'blurry',
      model_id: 7,
      model: 'Fox Model',
      model_type: 'LORA',
      arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7.0, width: 512, height: 768 },
      ...goldOver,
    },
    ...over,
  });

function errorOf(text: string): string {
  try {
    loadBenchItems(text, 'items.jsonl');
  } catch (e) {
    expect(e).toBeInstanceOf(BenchItemsError);
    return (e as Error).message;
  }
  throw new Error('expected the items to be rejected');
}

describe('loadBenchItems', () => {
  it('reads items into a ChatInput and a gold plan', () => {
    const [a] = loadBenchItems(item() + '\n', 'items.jsonl');
    expect(a).toEqual({
      id: 'x-1',
      input_type: 'single',
      setting: 'supervised',
      input: { messages: ['a red fox in the snow'], images: [] },
      persona: 'student',
      gold: {
        prompt: 'red fox, snow, masterpiece',
        raw_prompt: 'red fox, snow, masterpiece <lora:fox:0.7>',
        negative_prompt: 'blurry',
        model_id: 7,
        model: 'Fox Model',
        model_type: 'LORA',
        arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 768 },
      },
    });
  });

  it('accepts multimodal items with image paths, data URLs or {source, mime}', () => {
    const items = loadBenchItems(
      [
        item({ id: 'm-1', input_type: 'multimodal', images: ['images/ref.png'] }),
        item({
          id: 'm-2',
          input_type: 'multimodal',
          images: ['data:image/png;base64,iVBORw0KGgo='],
          messages: ['like this', 'but blue'],
        }),
        item({ id: 'm-3', input_type: 'multimodal', images: [{ source: 'ref.jpg', mime: 'image/jpeg' }] }),
      ].join('\n'),
      'items.jsonl',
    );
    expect(items.map((i) => i.input.images)).toEqual([
      [{ source: 'images/ref.png' }],
      [{ source: 'data:image/png;base64,iVBORw0KGgo=' }],
      [{ source: 'ref.jpg', mime: 'image/jpeg' }],
    ]);
    expect(items.every((i) => i.input_type === 'multimodal')).toBe(true);
  });

  it('accepts history items and a missing raw_prompt', () => {
    const [h] = loadBenchItems(
      item(
        { input_type: 'history', messages: ['a fox', 'in the snow'], setting: 'few-shot' },
        { raw_prompt: undefined },
      ),
      'f',
    );
    expect(h?.input.messages).toHaveLength(2);
    expect(h?.gold.raw_prompt).toBe('red fox, snow, masterpiece');
  });

  it('names file, line and field for each bad line, all at once', () => {
    const text = [
      item(),
      item({ id: 'x-2', setting: 'zero-shot' }),
      '',
      item({ id: 'x-3' }, { arguments: { sampler: 'Euler a', steps: 'many', cfg_scale: 7, width: 512, height: 512 } }),
      '{not json',
      item({ id: 'x-4', messages: [] }),
      item({ id: 'x-1' }),
    ].join('\n');
    const message = errorOf(text);
    expect(message).toContain('5 problems in the test items');
    expect(message).toContain(
      'items.jsonl:2 field "setting": expected one of "supervised", "few-shot", got "zero-shot"',
    );
    expect(message).toContain('items.jsonl:4 field "gold.arguments.steps": expected a number, got "many"');
    expect(message).toMatch(/items\.jsonl:5: not valid JSON/);
    expect(message).toContain('items.jsonl:6 field "messages": must hold at least one user message');
    expect(message).toContain('items.jsonl:7 field "id": duplicate id "x-1" (first on line 1)');
  });

  it('rejects an input_type that does not describe the input', () => {
    expect(errorOf(item({ input_type: 'history' }))).toContain(
      'items.jsonl:1 field "input_type": says "history" but the item has 1 message(s) and 0 image(s), which is "single"',
    );
    expect(errorOf(item({ images: ['a.png'] }))).toContain('which is "multimodal"');
  });

  it('rejects bad images, unknown samplers, a missing gold and an empty file', () => {
    expect(errorOf(item({ input_type: 'multimodal', images: [3] }))).toContain(
      'field "images[0]": expected an image path, a data URL or {source}',
    );
    expect(errorOf(item({ input_type: 'multimodal', images: [{ mime: 'image/png' }] }))).toContain(
      'field "images[0].source": is missing',
    );
    expect(
      errorOf(item({}, { arguments: { sampler: 'Warp Drive', steps: 20, cfg_scale: 7, width: 512, height: 512 } })),
    ).toContain('field "gold.arguments.sampler": unknown sampler "Warp Drive"');
    expect(errorOf(item({ gold: undefined }))).toContain('field "gold": expected an object, got nothing');
    expect(errorOf(item({}, { model_id: 1.5 }))).toContain('field "gold.model_id": expected a whole number, got 1.5');
    expect(errorOf('\n\n')).toContain('items.jsonl:1: the file holds no test items');
  });
});
