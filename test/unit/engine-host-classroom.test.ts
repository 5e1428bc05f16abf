/**
 * The engine host's classroom methods over the real storage layer on fake-indexeddb: what-if re-fits a
 * plan to another model, the catalog search finds models by name and trigger words, Compare engines
 * plans one chat with the baseline and the default engine, and the starter catalog keeps its counts in
 * the catalog list while an import is active.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { EngineHost } from '../../src/core/engine-host.ts';
import type { NeuralRuntime } from '../../src/core/engines/neural/runtime-api.ts';
import { catalogStore } from '../../src/storage/catalogs.ts';
import { openAppDb } from '../../src/storage/db.ts';
import { planCacheStore } from '../../src/storage/plan-cache.ts';
import { settingsStore } from '../../src/storage/settings.ts';

const starterDir = path.resolve(import.meta.dirname, '../../public/models/starter');
const texts = {
  catalog: readFileSync(path.join(starterDir, 'catalog.jsonl'), 'utf8'),
  demonstrations: readFileSync(path.join(starterDir, 'demonstrations.jsonl'), 'utf8'),
};

function host(name: string): EngineHost {
  const connection = openAppDb(new IDBFactory(), name);
  const db = () => connection;
  return new EngineHost({
    catalogs: catalogStore(db),
    settings: settingsStore(db),
    planCache: planCacheStore(db),
    starterCatalog: async () =>
      loadCatalog(
        {
          catalog: { file: 'catalog.jsonl', text: texts.catalog },
          demonstrations: { file: 'demonstrations.jsonl', text: texts.demonstrations },
        },
        'starter',
      ).catalog,
    createNeuralRuntime: (): NeuralRuntime => {
      throw new Error('no neural runtime in this test');
    },
    neuralConfig: () => ({ wasmPaths: { mjs: 'ort.mjs', wasm: 'ort.wasm' } }),
  });
}

const input = { messages: ['an oil painting of a mountain landscape at sunset'], images: [] };

describe('EngineHost classroom methods', () => {
  it('re-fits a plan to a searched SDXL model and compares the engines on the chat', async () => {
    const h = host('classroom-1');
    const { result } = await h.plan('r1', input, {}, () => undefined);
    const found = await h.searchModels('juggernaut xl');
    expect(found.map((m) => m.name)).toEqual(['Juggernaut XL']);
    expect(await h.searchModels('wtrcolor')).toEqual([
      expect.objectContaining({ name: 'Vivid Watercolors LoRA Extraction' }),
    ]);
    const refit = await h.refit(input, result, found[0]!.id, result.plan.negative_prompt);
    expect(refit.plan.model.base_model).toBe('SDXL 1.0');
    expect(refit.plan.arguments.width * refit.plan.arguments.height).toBeGreaterThanOrEqual(0.75 * 1024 * 1024);
    await expect(h.refit(input, result, 123456789, '')).rejects.toThrow(/not in the active catalog/);

    const compared = await h.compare(input);
    expect(compared.map((c) => c.engine)).toEqual(['baseline', result.engine.name]);
    const plans = compared.map((c) => ('result' in c ? c.result.plan : null));
    expect(plans[1]).toEqual(result.plan);
    expect(plans[0]!.arguments.seed).toBe(result.plan.arguments.seed);
  });

  it('keeps the starter catalog’s counts in the list while an import is active', async () => {
    const h = host('classroom-2');
    const lines = texts.catalog.trim().split('\n').slice(0, 5).join('\n');
    await h.importCatalog(
      { catalog: { kind: 'file', file: new Blob([lines]), name: 'five.jsonl' }, label: 'five' },
      () => undefined,
    );
    const list = await h.listCatalogs();
    expect(list[0]).toMatchObject({ id: 'starter', models: 59, demonstrations: 243, active: false });
    expect(list.find((c) => c.active)).toMatchObject({ label: 'five', models: 5 });
  });
});
