import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bench } from './bench-cli-run.ts';
import { STARTER_ITEMS, STARTER_ITEMS_JSONL } from './starter-items.ts';
import { HUB_FIXTURES, HubTestServer } from '../servers/hub-test-server.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
// The tiny pack's head has a row per starter model: the starter catalog and a few items over it are enough.
const dataDir = path.join(repoRoot, 'public/models/starter');

const out = mkdtempSync(path.join(tmpdir(), 'bench-neural-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const itemsFile = path.join(out, 'items.jsonl');
writeFileSync(itemsFile, STARTER_ITEMS_JSONL);
// Twelve items (the starter ones twice over) for the ten plans the hub test asks for.
const twelveItemsFile = path.join(out, 'items-12.jsonl');
writeFileSync(
  twelveItemsFile,
  [...STARTER_ITEMS, ...STARTER_ITEMS.map((i) => ({ ...i, id: `${i.id}-again` }))]
    .map((i) => JSON.stringify(i))
    .join('\n') + '\n',
);

describe('npm run bench with the neural engine and the tiny pack', () => {
  it('runs the neural engine on 5 items and reports engines.neural', async () => {
    const report = path.join(out, 'report.json');
    const predictions = path.join(out, 'preds.jsonl');
    const { stdout, stderr } = await bench([
      '--data',
      dataDir,
      '--items',
      itemsFile,
      '--engines',
      'neural',
      '--pack',
      'test/fixtures/pack-tiny',
      '--limit',
      '5',
      '--out',
      report,
      '--predictions',
      predictions,
    ]);
    expect(stderr).toMatch(/pack "tiny-test" loaded on onnxruntime-node \(fp32, 59 model rows\)/);
    // The head has a row for each of the 59 starter models: the LLM plans all three stages.
    expect(stderr).toContain(
      'bench: neural: stage 1 by LLM "tiny-test" (cpu, fp32); stage 2 by LLM "tiny-test" (cpu, fp32) with its ModelToken head',
    );
    expect(stderr).toMatch(/\[#+\] 5\/5 /);
    expect(stdout).toMatch(/\| neural \| overall \| 5 \| [01]\.\d{3} \|/);

    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      engines: Record<string, { overall: Record<string, unknown> }>;
    };
    expect(Object.keys(r.engines)).toEqual(['neural']);
    const neural = r.engines['neural']!.overall;
    expect(neural['n']).toBe(5);
    expect(neural['failed']).toBe(0);
    for (const key of ['selection_acc', 'config_acc', 'prompt_f1']) {
      expect(neural[key]).toBeGreaterThanOrEqual(0);
      expect(neural[key]).toBeLessThanOrEqual(1);
    }
    const lines = readFileSync(predictions, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { engine: string; model_id: number; top5: { model_id: number }[] });
    const neuralLines = lines.filter((p) => p.engine === 'neural');
    expect(neuralLines).toHaveLength(5);
    // Stage 2's choice leads its top 5.
    for (const p of neuralLines) expect(p.top5[0]!.model_id).toBe(p.model_id);
  }, 120_000);

  it('downloads a curated pack without a head from CHATGEN_HUB_URL and gives 10 valid hybrid plans', async () => {
    const hub = new HubTestServer({ root: HUB_FIXTURES });
    const hubUrl = await hub.listen();
    try {
      const report = path.join(out, 'hub-report.json');
      const predictions = path.join(out, 'hub-preds.jsonl');
      const { stderr } = await bench(
        [
          '--data',
          dataDir,
          '--items',
          twelveItemsFile,
          '--engines',
          'neural',
          '--pack',
          'public/models/packs/qwen2.5-0.5b-instruct',
          '--limit',
          '10',
          '--out',
          report,
          '--predictions',
          predictions,
        ],
        { CHATGEN_HUB_URL: hubUrl, CHATGEN_MODEL_CACHE: path.join(out, 'model-cache') },
      );
      expect(stderr).toMatch(
        /pack "Qwen2.5-0.5B-Instruct" loaded on onnxruntime-node \(q4, no head: hybrid planning\)/,
      );
      expect(
        hub.requests.some(
          (r) => r.path === '/onnx-community/Qwen2.5-0.5B-Instruct/resolve/main/onnx/model_q4.onnx' && r.status === 302,
        ),
      ).toBe(true);
      const r = JSON.parse(readFileSync(report, 'utf8')) as {
        engines: Record<string, { overall: Record<string, unknown> }>;
      };
      expect(r.engines['neural']!.overall['n']).toBe(10);
      expect(r.engines['neural']!.overall['failed']).toBe(0);
      const lines = readFileSync(predictions, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { engine: string; error?: string });
      expect(lines.filter((p) => p.engine === 'neural' && !p.error)).toHaveLength(10);
    } finally {
      await hub.close();
    }
  }, 120_000);

  it('refuses neural without --pack, a pack without neural, and an invalid pack, saying why', async () => {
    await expect(bench(['--data', dataDir, '--engines', 'baseline,neural'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--engines neural needs --pack DIR'),
    });
    await expect(
      bench(['--data', dataDir, '--engines', 'default', '--pack', 'test/fixtures/pack-tiny']),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('only used by the neural engine'),
    });
    const bad = mkdtempSync(path.join(out, 'bad-pack-'));
    writeFileSync(path.join(bad, 'manifest.json'), JSON.stringify({ format: 'chatgen-pack/0', name: 'bad' }));
    const invalid = bench(['--data', dataDir, '--engines', 'neural', '--pack', bad]);
    await expect(invalid).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`cannot load the model pack ${bad}`),
    });
    await expect(invalid).rejects.toMatchObject({
      stderr: expect.stringContaining('"format" must be "chatgen-pack/1"'),
    });
    await expect(
      bench(['--data', dataDir, '--engines', 'neural', '--pack', path.join(out, 'nowhere')]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('cannot read the manifest'),
    });
  }, 60_000);
});
