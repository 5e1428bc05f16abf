import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { PackHeadTrainer, type HeadTrainingProgress } from '../../src/core/engines/neural/head-training.ts';
import { createNeuralEngine } from '../../src/core/engines/neural/index.ts';
import { encodeHeadFile, parseHeadFile } from '../../src/core/engines/neural/manifest.ts';
import { TrainingAbortedError, type ModelTokenHead } from '../../src/core/modeltoken.ts';
import { loadNodePack, type NodePack } from '../../src/node/neural.ts';

const root = path.resolve(import.meta.dirname, '../..');

function starterCatalog(): Catalog {
  const dir = path.join(root, 'public/models/starter');
  const read = (file: string) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') });
  return loadCatalog({ catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') }, 'starter')
    .catalog;
}

/** The starter catalog cut to its six models with the most demonstrations (a handful each): seconds, not minutes. */
function smallCatalog(full: Catalog, models: number): Catalog {
  const counts = new Map<number, number>();
  for (const d of full.demonstrations) counts.set(d.model_id, (counts.get(d.model_id) ?? 0) + 1);
  const ids = new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, models)
      .map(([id]) => id),
  );
  return {
    ...full,
    models: full.models.filter((m) => ids.has(m.id)),
    demonstrations: full.demonstrations.filter((d) => ids.has(d.model_id)),
  };
}

describe("pack head training on the tiny fixture (the worker's code path, onnxruntime-node)", () => {
  let pack: NodePack;
  let catalog: Catalog;

  beforeAll(async () => {
    pack = await loadNodePack(path.join(root, 'test/fixtures/pack-tiny'));
    catalog = smallCatalog(starterCatalog(), 6);
  });
  afterAll(async () => {
    await pack.session.dispose();
  });

  it('encodes each demonstration once, trains W_m with a falling loss, and resumes a cancelled run to the same head', async () => {
    const trainer = new PackHeadTrainer(pack.session, pack.manifest, catalog);
    const seen: HeadTrainingProgress[] = [];
    const full = await trainer.train({ epochs: 40, learningRate: 0.05 }, { onProgress: (p) => seen.push(p) });
    const encoding = seen.filter((p) => p.phase === 'encoding');
    const training = seen.flatMap((p) => (p.phase === 'training' ? [p] : []));
    expect(encoding.at(-1)).toEqual({
      phase: 'encoding',
      done: catalog.demonstrations.length,
      total: catalog.demonstrations.length,
    });
    expect(full.encoded).toBe(trainer.cache.size);
    expect(training.map((p) => p.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(training.at(-1)!.loss).toBeLessThan(training[0]!.loss);
    expect(full.head.modelIds).toEqual(catalog.models.map((m) => m.id));
    console.log(
      `[head training] ${full.pairs} pairs, ${catalog.models.length} models: loss ${training[0]!.loss.toFixed(3)} -> ${training.at(-1)!.loss.toFixed(3)}, train accuracy ${(full.accuracy * 100).toFixed(1)}%`,
    );
    expect(full.accuracy).toBeGreaterThanOrEqual(0.9);

    // A second trainer sharing the h cache: cancelled at epoch 10, then resumed by a second call.
    const again = new PackHeadTrainer(pack.session, pack.manifest, catalog, trainer.cache);
    const controller = new AbortController();
    await expect(
      again.train(
        { epochs: 40, learningRate: 0.05 },
        {
          signal: controller.signal,
          onProgress: (p) => p.phase === 'training' && p.epoch === 10 && controller.abort(),
        },
      ),
    ).rejects.toBeInstanceOf(TrainingAbortedError);
    expect(again.state!.epoch).toBe(10);
    const resumedEpochs: number[] = [];
    const resumed = await again.train(
      { epochs: 40, learningRate: 0.05 },
      { onProgress: (p) => p.phase === 'training' && resumedEpochs.push(p.epoch) },
    );
    expect(resumed.encoded).toBe(0);
    expect(resumedEpochs[0]).toBe(11);
    expect(Buffer.from(resumed.head.weights.buffer).equals(Buffer.from(full.head.weights.buffer))).toBe(true);
  });

  it("adds a new model's row from its demonstrations alone, every other row bit-identical, and the engine version changes", async () => {
    const withNew = smallCatalog(starterCatalog(), 7);
    const newId = withNew.models.find((m) => !catalog.models.some((c) => c.id === m.id))!.id;
    const trainer = new PackHeadTrainer(pack.session, pack.manifest, catalog);
    const old: ModelTokenHead = (await trainer.train({ epochs: 30, learningRate: 0.05 })).head;

    const grower = new PackHeadTrainer(pack.session, pack.manifest, withNew, trainer.cache);
    const grown = await grower.addModel(old, newId, { epochs: 30, learningRate: 0.05 });
    expect(grown.encoded).toBe(withNew.demonstrations.filter((d) => d.model_id === newId).length);
    expect(grown.head.modelIds).toEqual([...old.modelIds, newId]);
    const before = Buffer.from(old.weights.buffer, old.weights.byteOffset, old.weights.byteLength);
    const after = Buffer.from(grown.head.weights.buffer, grown.head.weights.byteOffset, old.weights.byteLength);
    expect(after.equals(before)).toBe(true);
    expect(grown.head.weights.subarray(old.weights.length).some((w) => w !== 0)).toBe(true);

    // The grown head survives the pack's head-file format bit for bit.
    const entry = { file: 'head.f32', dim: grown.head.dim, model_ids: grown.head.modelIds };
    expect(parseHeadFile(encodeHeadFile(grown.head), entry).weights).toEqual(grown.head.weights);

    const engineWith = (head: ModelTokenHead) =>
      createNeuralEngine({ session: pack.session, catalog: withNew, head, pack: pack.manifest }).version;
    expect(engineWith(grown.head)).not.toBe(engineWith(old));
    await expect(grower.addModel(old, 987654321)).rejects.toThrow(/model 987654321 is not in the catalog/);
  });
});
