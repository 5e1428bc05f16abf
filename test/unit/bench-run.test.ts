import { describe, expect, it } from 'vitest';
import { loadBenchItems } from '../../src/core/bench/items.ts';
import { metricsTable, perArgumentTable } from '../../src/core/bench/report.ts';
import { runBench, type BenchProgress } from '../../src/core/bench/run.ts';
import { parseEngineList } from '../../src/core/bench/engines.ts';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { BASELINE_ARGUMENTS, cleanTurn, createBaselineEngine } from '../../src/core/engines/baseline.ts';
import type { Engine } from '../../src/core/engines/engine.ts';
import { runPipeline } from '../../src/core/pipeline.ts';

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');
const model = (id: number, type: 'Checkpoint' | 'LORA', downloads: number) => ({
  id,
  name: `Model ${id}`,
  type,
  downloads,
  base_model: 'SD 1.5',
});
const { catalog } = loadCatalog(
  {
    catalog: {
      file: 'catalog.jsonl',
      text: jsonl([
        model(1, 'LORA', 9000),
        model(2, 'Checkpoint', 500),
        model(3, 'Checkpoint', 1500),
        model(4, 'Checkpoint', 100),
      ]),
    },
  },
  'test',
);

const args = (over: object = {}) => ({ sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512, ...over });
const items = loadBenchItems(
  jsonl([
    // Gold = the baseline's own choices: selection and config both hit.
    {
      id: 'a',
      input_type: 'single',
      setting: 'supervised',
      messages: ['can you draw a red fox please'],
      gold: { prompt: 'red fox, snow', model_id: 3, arguments: args() },
    },
    // Another model, two arguments differ (steps, height): config 3/5.
    {
      id: 'b',
      input_type: 'history',
      setting: 'few-shot',
      messages: ['a castle', 'at night'],
      gold: { prompt: 'castle, night sky', model_id: 2, arguments: args({ steps: 30, height: 768 }) },
    },
    {
      id: 'c',
      input_type: 'multimodal',
      setting: 'supervised',
      messages: ['this dog but blue'],
      images: ['dog.png'],
      gold: { prompt: 'blue dog', model_id: 3, arguments: args({ sampler: 'DDIM' }) },
    },
  ]),
  'items.jsonl',
);

/** An engine that fails on one request, to check that a failure is scored as a miss and the run goes on. */
function failingOn(text: string, engine: Engine): Engine {
  return {
    ...engine,
    name: 'fragile',
    writePrompt: async (request, signal) => {
      if (request.merged.text.includes(text)) throw new Error(`cannot handle "${text}"`);
      return engine.writePrompt(request, signal);
    },
  };
}

describe('baseline engine', () => {
  it('lightly cleans each turn', () => {
    expect(cleanTurn('can u make me a pic of a girl with red glasses pls')).toBe('a girl with red glasses');
    expect(cleanTurn('I want you to draw a red fox!')).toBe('a red fox');
    expect(cleanTurn('make her a DJ')).toBe('make her a DJ');
    expect(cleanTurn('please')).toBe('please');
  });

  it('keeps the request, picks the most downloaded Checkpoint and fixed arguments, with honest evidence', async () => {
    const engine = createBaselineEngine(catalog);
    const result = await runPipeline(
      engine,
      { messages: ['Could you render a lighthouse in a storm, thanks!', 'make it dark'], images: [] },
      { seed: 5 },
    );
    expect(result.plan.prompt).toBe(
      'a lighthouse in a storm, make it dark, masterpiece, best quality, highly detailed',
    );
    expect(result.prompt.evidence.kept_terms).toEqual(['lighthouse', 'storm', 'dark']);
    expect(result.plan.model.id).toBe(3);
    expect(result.model.evidence.candidates.map((c) => c.model_id)).toEqual([3, 2, 4]);
    expect(result.model.evidence.candidates.reduce((s, c) => s + c.score, 0)).toBeCloseTo(1, 12);
    expect(result.plan.arguments).toEqual({ ...BASELINE_ARGUMENTS, seed: 5 });
    expect(result.arguments.evidence.sources.steps.origin).toBe('default');
  });

  it('honours the models allowed to compete, falling back to a LORA only when no Checkpoint is allowed', async () => {
    const engine = createBaselineEngine(catalog);
    const input = { messages: ['a fox'], images: [] };
    expect((await runPipeline(engine, input, { allowedModelIds: new Set([2, 4]) })).plan.model.id).toBe(2);
    expect((await runPipeline(engine, input, { allowedModelIds: new Set([1]) })).plan.model.id).toBe(1);
    await expect(runPipeline(engine, input, { allowedModelIds: new Set([99]) })).rejects.toThrow(
      /no catalog model is allowed/,
    );
  });
});

describe('runBench', () => {
  it('runs engines side by side, scores each item and aggregates by setting and input type', async () => {
    const baseline = createBaselineEngine(catalog);
    const progress: BenchProgress[] = [];
    const { report, predictions, scores } = await runBench({
      items,
      itemsFile: 'items.jsonl',
      catalog,
      engines: [
        { engine: baseline, setupMs: 1 },
        { engine: failingOn('castle', baseline), setupMs: 2 },
      ],
      onProgress: (p) => progress.push(p),
    });
    expect(progress.map((p) => `${p.done}/${p.total} ${p.engine} ${p.itemId}`)).toEqual([
      '1/6 baseline a',
      '2/6 fragile a',
      '3/6 baseline b',
      '4/6 fragile b',
      '5/6 baseline c',
      '6/6 fragile c',
    ]);
    expect(predictions).toHaveLength(6);
    const first = predictions[0]!;
    expect(Object.keys(first).sort()).toEqual([
      'arguments',
      'base_checkpoint',
      'engine',
      'id',
      'latency_ms',
      'model_id',
      'negative_prompt',
      'prompt',
      'top5',
    ]);
    expect(first).toMatchObject({
      id: 'a',
      engine: 'baseline',
      model_id: 3,
      arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 },
    });
    expect(first.prompt).toBe('a red fox, masterpiece, best quality, highly detailed');
    expect(first.top5[0]).toEqual({ model_id: 3, score: 1500 / 2100 });
    expect(first.latency_ms).toBeGreaterThanOrEqual(0);

    const failed = predictions.find((p) => p.engine === 'fragile' && p.id === 'b')!;
    expect(failed).toMatchObject({
      model_id: null,
      arguments: null,
      prompt: '',
      top5: [],
      error: 'cannot handle "castle"',
    });
    expect(scores.find((s) => s.engine === 'fragile' && s.id === 'b')).toMatchObject({
      selection: false,
      config: 0,
      prompt_f1: 0,
      input_coverage: 0,
      failed: true,
    });

    const b = report.engines['baseline']!;
    expect(b.version).toBe('1');
    expect(b.setup_ms).toBe(1);
    expect(b.overall).toMatchObject({ n: 3, selection_acc: 2 / 3, failed: 0 });
    // a: 5/5, b: 3/5, c: 4/5 (sampler differs).
    expect(b.overall.config_acc).toBeCloseTo((1 + 0.6 + 0.8) / 3, 12);
    expect(b.per_argument).toEqual({ sampler: 2 / 3, steps: 2 / 3, cfg_scale: 1, width: 1, height: 2 / 3 });
    expect(b.by_setting['supervised']).toMatchObject({ n: 2, selection_acc: 1 });
    expect(b.by_setting['few-shot']).toMatchObject({ n: 1, selection_acc: 0, config_acc: 0.6 });
    expect(Object.keys(b.by_input_type)).toEqual(['single', 'multimodal', 'history']);
    expect(b.by_input_type['multimodal']).toMatchObject({ n: 1, config_acc: 0.8 });
    // prompt "a red fox, masterpiece, best quality, highly detailed" vs "red fox, snow": overlap 2, P 2/8, R 2/3.
    expect(scores[0]!.prompt_f1).toBeCloseTo((2 * (2 / 8) * (2 / 3)) / (2 / 8 + 2 / 3), 12);
    expect(b.overall.input_coverage).toBe(1);
    expect(b.overall.latency_ms.p50).not.toBeNull();
    expect(b.overall.bertscore_f1).toBeUndefined();

    const f = report.engines['fragile']!;
    expect(f.overall).toMatchObject({ n: 3, failed: 1, selection_acc: 2 / 3 });
    expect(f.overall.config_acc).toBeCloseTo((1 + 0 + 0.8) / 3, 12);
    expect(f.by_input_type['history']).toMatchObject({
      n: 1,
      failed: 1,
      selection_acc: 0,
      config_acc: 0,
      input_coverage: 0,
    });
    expect(report.metrics.bertscore).toBeNull();
    expect(report.catalog).toMatchObject({ source: 'test', models: 4, demonstrations: 0 });
  });

  it('keeps empty groups with n = 0 and null metrics, and prints both tables', async () => {
    const single = items.filter((i) => i.input_type === 'single');
    const { report } = await runBench({
      items: single,
      itemsFile: 'i',
      catalog,
      engines: [{ engine: createBaselineEngine(catalog), setupMs: 0 }],
    });
    expect(report.engines['baseline']!.by_input_type['history']).toMatchObject({
      n: 0,
      selection_acc: null,
      config_acc: null,
      latency_ms: { p50: null, p95: null, mean: null },
      per_argument: { sampler: null },
    });
    const table = metricsTable(report).split('\n');
    expect(table[0]).toBe(
      '| Engine | Items | n | Selection Acc | Config Acc | Prompt F1 | Input coverage | p50 ms | p95 ms |',
    );
    expect(table).toHaveLength(2 + 6);
    expect(table[2]).toMatch(/^\| baseline \| overall \| 1 \| 1\.000 \| 1\.000 \| /);
    expect(table[5]).toMatch(/^\| baseline \| single \| 1 \|/);
    expect(table[6]).toBe('| baseline | multimodal | 0 | – | – | – | – | – | – |');
    const perArgument = perArgumentTable(report).split('\n');
    expect(perArgument[0]).toBe('| Engine | Items | n | sampler | steps | cfg_scale | width | height | Config Acc |');
    expect(perArgument[2]).toBe('| baseline | overall | 1 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |');
  });

  it('stops on abort, and refuses an engine listed twice', async () => {
    const engine = createBaselineEngine(catalog);
    const controller = new AbortController();
    const run = runBench({
      items,
      itemsFile: 'i',
      catalog,
      engines: [{ engine, setupMs: 0 }],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toThrow('The request was cancelled.');
    await expect(
      runBench({
        items,
        itemsFile: 'i',
        catalog,
        engines: [
          { engine, setupMs: 0 },
          { engine, setupMs: 0 },
        ],
      }),
    ).rejects.toThrow('engine "baseline" is listed twice');
  });

  it('parses engine lists', () => {
    expect(parseEngineList('baseline, default,baseline')).toEqual(['baseline', 'default']);
    expect(() => parseEngineList('baseline,gpt5')).toThrow('unknown engine "gpt5"; known engines: baseline, default');
    expect(() => parseEngineList(' , ')).toThrow(/no engine named/);
  });
});
