/**
 * The bench CLI end to end (in this process, and once as a child process, as a user runs it): report,
 * predictions and tables over
 * the starter catalog and a few hand-written items, so it takes seconds; the benchmark itself on the
 * civitai-2023 dev set is `npm run bench`, not a test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bench, benchProcess } from './bench-cli-run.ts';
import { STARTER_ITEMS_JSONL } from './starter-items.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const starterDir = path.join(repoRoot, 'public/models/starter');

const out = mkdtempSync(path.join(tmpdir(), 'bench-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const GROUP_KEYS = [
  'config_acc',
  'failed',
  'input_coverage',
  'latency_ms',
  'n',
  'per_argument',
  'prompt_f1',
  'selection_acc',
];

const itemsFile = path.join(out, 'items.jsonl');
writeFileSync(itemsFile, STARTER_ITEMS_JSONL);

describe('npm run bench', () => {
  it('runs baseline and default with BERTScore, writing the report, the predictions and the tables', async () => {
    const report = path.join(out, 'report.json');
    const predictions = path.join(out, 'preds.jsonl');
    const { stdout, stderr } = await bench([
      '--data',
      starterDir,
      '--items',
      itemsFile,
      '--engines',
      'baseline,default',
      '--limit',
      '5',
      '--out',
      report,
      '--predictions',
      predictions,
      '--bert',
      'test/fixtures/bert-tiny',
    ]);
    expect(stderr).toContain('5 of 6 items');
    expect(stderr).toMatch(/\[#+\] 10\/10 /);
    expect(stdout).toContain(
      '| Engine | Items | n | Selection Acc | Config Acc | Prompt F1 | Input coverage | BERTScore F1 | p50 ms | p95 ms |',
    );
    expect(stdout).toMatch(/\| default \| history \| \d+ \| [01]\.\d{3} \|/);
    expect(stdout).toContain('| Engine | Items | n | sampler | steps | cfg_scale | width | height | Config Acc |');

    const lines = readFileSync(predictions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(10);
    for (const p of lines) {
      expect(Object.keys(p).sort()).toEqual([
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
      expect(Object.keys(p['arguments'] as object).sort()).toEqual([
        'cfg_scale',
        'height',
        'sampler',
        'steps',
        'width',
      ]);
      expect(typeof p['model_id']).toBe('number');
      const top5 = p['top5'] as { model_id: number; score: number }[];
      expect(top5.length).toBeGreaterThan(0);
      expect(top5.length).toBeLessThanOrEqual(5);
      expect(top5[0]!.model_id).toBe(p['model_id']);
    }
    expect(new Set(lines.map((p) => p['engine']))).toEqual(new Set(['baseline', 'default']));

    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      items: { n: number };
      metrics: { bertscore: { model: string; idf: boolean } };
      engines: Record<
        string,
        {
          overall: Record<string, unknown>;
          by_setting: Record<string, Record<string, unknown>>;
          by_input_type: Record<string, Record<string, unknown>>;
          per_argument: Record<string, number>;
        }
      >;
    };
    expect(r.items.n).toBe(5);
    expect(r.metrics.bertscore).toEqual({ model: 'bert-tiny', idf: false });
    expect(Object.keys(r.engines)).toEqual(['baseline', 'default']);
    for (const engine of Object.values(r.engines)) {
      expect(Object.keys(engine.overall).sort()).toEqual([...GROUP_KEYS, 'bertscore_f1'].sort());
      expect(engine.overall['n']).toBe(5);
      expect(Object.keys(engine.by_setting)).toEqual(['supervised', 'few-shot']);
      expect(Object.keys(engine.by_input_type)).toEqual(['single', 'multimodal', 'history']);
      expect((engine.by_setting['supervised']!['n'] as number) + (engine.by_setting['few-shot']!['n'] as number)).toBe(
        5,
      );
      expect(Object.keys(engine.per_argument)).toEqual(['sampler', 'steps', 'cfg_scale', 'width', 'height']);
      const latency = engine.overall['latency_ms'] as { p50: number; p95: number };
      expect(latency.p95).toBeGreaterThanOrEqual(latency.p50);
      for (const key of ['selection_acc', 'config_acc', 'prompt_f1', 'input_coverage', 'bertscore_f1']) {
        const v = engine.overall[key] as number;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    // The baseline never reads the request to choose a model: one model for every item.
    expect(new Set(lines.filter((p) => p['engine'] === 'baseline').map((p) => p['model_id'])).size).toBe(1);
  }, 60_000);

  it('says clearly what is wrong with bad options and missing data', async () => {
    // The script itself, as a user runs it: its exit code and stderr.
    await expect(benchProcess(['--data', path.join(out, 'nowhere')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('data folder not found'),
    });
    await expect(bench(['--data', starterDir, '--engines', 'baseline,magic'])).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown engine "magic"'),
    });
    await expect(bench(['--data', starterDir, '--limit', '0'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--limit must be a whole number'),
    });
    await expect(bench(['--data', starterDir, '--items', path.join(out, 'missing.jsonl')])).rejects.toMatchObject({
      stderr: expect.stringContaining('test items not found'),
    });
  }, 60_000);
});
