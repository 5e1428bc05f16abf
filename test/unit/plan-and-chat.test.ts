import { describe, expect, it } from 'vitest';
import { ChatInputError, inputTypeOf, mergeTurns, validateChatInput } from '../../src/core/chat.ts';
import {
  canonicalSampler,
  parseSampler,
  repairArguments,
  validateArguments,
  type GenerationArguments,
} from '../../src/core/plan.ts';

const valid: GenerationArguments = {
  sampler: 'DPM++ 2M Karras',
  steps: 30,
  cfg_scale: 7,
  width: 512,
  height: 768,
  seed: 42,
};

describe('sampler names', () => {
  it('reads A1111 names, old aliases and community variants', () => {
    expect(parseSampler('DPM++ 2M Karras')).toEqual({ base: 'DPM++ 2M Karras', variant: null });
    expect(parseSampler('k_euler_a')).toEqual({ base: 'Euler a', variant: null });
    expect(parseSampler('DPM++ 2M Karras MOD')).toEqual({ base: 'DPM++ 2M Karras', variant: 'MOD' });
    expect(parseSampler('DPM++ 2M alt Karras')).toEqual({ base: 'DPM++ 2M Karras', variant: 'alt' });
    expect(parseSampler('Totally Made Up')).toBeNull();
    expect(canonicalSampler('euler_a')).toBe('Euler a');
    expect(canonicalSampler('DPM++ 2M Karras MOD')).toBe('DPM++ 2M Karras MOD');
  });
});

describe('argument validation', () => {
  it('accepts valid arguments', () => {
    expect(validateArguments(valid)).toEqual([]);
  });

  it('names each field that is out of range', () => {
    const problems = validateArguments({
      sampler: 'Nope',
      steps: 0,
      cfg_scale: 31,
      width: 500,
      height: 4096,
      seed: -1,
    });
    expect(problems.map((p) => p.field)).toEqual(['sampler', 'steps', 'cfg_scale', 'width', 'height', 'seed']);
    expect(problems[3]!.message).toBe('width must be a multiple of 8 from 256 to 2048, got 500');
  });

  it('repairs anything into a valid set: clamps, snaps to 8, canonical sampler', () => {
    const repaired = repairArguments({
      sampler: 'k_euler',
      steps: 400,
      cfg_scale: 0.2,
      width: 540,
      height: 3072,
      seed: 1.5,
    });
    expect(repaired).toEqual({ sampler: 'Euler', steps: 150, cfg_scale: 1, width: 544, height: 2048, seed: 0 });
    expect(validateArguments(repaired)).toEqual([]);
    expect(validateArguments(repairArguments({ ...valid, steps: Number.NaN, width: Number.NaN }))).toEqual([]);
  });
});

describe('chat input', () => {
  it('classifies single, history and multimodal input', () => {
    expect(inputTypeOf({ messages: ['a fox'], images: [] })).toBe('single');
    expect(inputTypeOf({ messages: ['a fox', 'at night'], images: [] })).toBe('history');
    expect(inputTypeOf({ messages: ['like this'], images: [{ source: 'data:image/png;base64,AAAA' }] })).toBe(
      'multimodal',
    );
  });

  it('keeps every turn in order and marks the turns that override earlier ones', () => {
    const merged = mergeTurns(['a red car in the desert', 'add some cacti', 'actually make it a blue truck instead']);
    expect(merged.text).toBe('a red car in the desert\nadd some cacti\nactually make it a blue truck instead');
    expect(merged.latest).toBe('actually make it a blue truck instead');
    expect(merged.turns.map((t) => t.overrides)).toEqual([false, false, true]);
  });

  it('refuses an empty chat, oversized and non-image attachments with specific messages', () => {
    expect(() => validateChatInput({ messages: ['  ', ''], images: [] })).toThrow(ChatInputError);
    const big = `data:image/png;base64,${'A'.repeat(15 * 1024 * 1024)}`;
    expect(() => validateChatInput({ messages: ['x'], images: [{ source: big }] })).toThrow(
      /Reference image 1 is 11\.3 MB; the limit is 10 MB/,
    );
    expect(() => validateChatInput({ messages: ['x'], images: [{ source: 'data:text/html;base64,PGI+' }] })).toThrow(
      /not an image/,
    );
    expect(validateChatInput({ messages: [' a fox '], images: [] }).messages).toEqual(['a fox']);
  });
});

describe('topK', () => {
  it('returns the best positive scores in order, and nothing for k = 0', async () => {
    const { topK } = await import('../../src/core/retrieval/bm25.ts');
    expect(topK([0.5, 0, 2, 1, -1], 2)).toEqual([
      { doc: 2, score: 2 },
      { doc: 3, score: 1 },
    ]);
    expect(topK([0.5, 2], 0)).toEqual([]);
  });
});
