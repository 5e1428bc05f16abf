/**
 * The engine host (what the engine worker serves) over the real storage layer on fake-indexeddb: the
 * active catalog and engine choice survive a "reload" (a new host on the same database), imports are
 * validated and stored, the plan cache answers a repeated chat, and a neural runtime that fails leaves
 * the embedded engine planning with the reason said.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
// idb checks values against the IDB classes, which fake-indexeddb/auto puts on globalThis as a browser has them.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { EngineHost, type EngineChoice, type EngineHostOptions } from '../../src/core/engine-host.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import type { LlmStatus, NeuralRuntime } from '../../src/core/engines/neural/runtime-api.ts';
import type { ImportProgress } from '../../src/core/catalog/import.ts';
import { catalogStore } from '../../src/storage/catalogs.ts';
import type { DbConnection } from '../../src/storage/connection.ts';
import { openAppDb } from '../../src/storage/db.ts';
import { planCacheStore } from '../../src/storage/plan-cache.ts';
import { settingsStore } from '../../src/storage/settings.ts';

const starterDir = path.resolve(import.meta.dirname, '../../public/models/starter');
const starterTexts = {
  catalog: readFileSync(path.join(starterDir, 'catalog.jsonl'), 'utf8'),
  demonstrations: readFileSync(path.join(starterDir, 'demonstrations.jsonl'), 'utf8'),
};
const starter = (): Promise<Catalog> =>
  Promise.resolve(
    loadCatalog(
      {
        catalog: { file: 'starter/catalog.jsonl', text: starterTexts.catalog },
        demonstrations: { file: 'starter/demonstrations.jsonl', text: starterTexts.demonstrations },
      },
      'starter',
    ).catalog,
  );

/** The first ten starter models and their demonstrations, with one bad line, as a user's import. */
const catalogLines = starterTexts.catalog.trim().split('\n').slice(0, 10);
const smallCatalog = [...catalogLines, '{"id": "not a number"}'].join('\n');
const smallIds = new Set(catalogLines.map((l) => (JSON.parse(l) as { id: number }).id));
const smallDemonstrations = starterTexts.demonstrations
  .trim()
  .split('\n')
  .filter((l) => smallIds.has((JSON.parse(l) as { model_id: number }).model_id))
  .join('\n');

const STATUS: LlmStatus = {
  pack: 'stand-in',
  backend: 'wasm',
  dtype: 'q8',
  notice: null,
  shaderF16: false,
  head: { source: 'pack', rows: 1, dim: 1, accuracy: null, saved: null },
};

/** A neural runtime whose stages are the default engine's, so a plan through it is a real plan. */
function standInRuntime(
  options: { failLoad?: string; failStage?: string } = {},
): NeuralRuntime & { loads: number; unloads: number } {
  let catalog: Catalog | null = null;
  const engine = () => createDefaultEngine(catalog!);
  const runtime = {
    loads: 0,
    unloads: 0,
    configure: async () => undefined,
    load: async () => {
      runtime.loads++;
      if (options.failLoad) throw new Error(options.failLoad);
      return STATUS;
    },
    status: async () => STATUS,
    useCatalog: async (c: Catalog) => {
      catalog = c;
      return {
        name: 'neural-stand-in',
        version: `1+${c.version}`,
        planning: { mode: 'neural', covered: c.models.length, models: c.models.length },
        llmLabel: 'LLM "stand-in" (cpu, fp32)',
      } as const;
    },
    writePrompt: async (request, onText) => {
      if (options.failStage) throw new Error(options.failStage);
      const result = await engine().writePrompt(request);
      onText?.(`${result.prompt}\nNegative prompt: ${result.negative_prompt}`);
      return result;
    },
    selectModel: (request, prompt, allowed) =>
      engine().selectModel(request, prompt, allowed ? { allowedModelIds: new Set(allowed) } : {}),
    configureArguments: (request, prompt, model, seed) => engine().configureArguments(request, prompt, model, seed),
    trainHead: async () => {
      throw new Error('not a trainable runtime');
    },
    addModelRow: async () => {
      throw new Error('not a trainable runtime');
    },
    exportHead: async () => {
      throw new Error('no head');
    },
    cancel: async () => undefined,
    unload: async () => {
      runtime.unloads++;
    },
  } satisfies NeuralRuntime & { loads: number; unloads: number };
  return runtime;
}

let factory: IDBFactory;
let db: DbConnection;

beforeEach(() => {
  factory = new IDBFactory();
  const connection = openAppDb(factory, 'engine-host-test');
  db = () => connection;
});

function hostOptions(runtime: NeuralRuntime = standInRuntime()): EngineHostOptions {
  return {
    catalogs: catalogStore(db),
    settings: settingsStore(db),
    planCache: planCacheStore(db),
    starterCatalog: starter,
    createNeuralRuntime: () => runtime,
    neuralConfig: () => ({ wasmPaths: { mjs: 'ort.mjs', wasm: 'ort.wasm' } }),
  };
}

const host = (runtime?: NeuralRuntime) => new EngineHost(hostOptions(runtime));

const blob = (text: string) => new Blob([text], { type: 'application/x-ndjson' });
const chat = { messages: ['a cozy watercolor fox reading in a library, autumn vibes'], images: [] };

describe('EngineHost', () => {
  it('starts on the starter catalog with the embedded engine', async () => {
    const status = await host().init();
    expect(status.catalogId).toBe('starter');
    expect(status.catalog.models).toBe(59);
    expect(status.choice).toEqual({ kind: 'embedded' });
    expect(status.engine.name).toBe(createDefaultEngine(await starter()).name);
    expect(status.notice).toBeNull();
  });

  it('imports a catalog with line errors and progress, keeps it active across a reload, and deletes it', async () => {
    const first = host();
    const progress: ImportProgress['phase'][] = [];
    const report = await first.importCatalog(
      {
        catalog: { kind: 'file', file: blob(smallCatalog), name: 'small.jsonl' },
        demonstrations: { kind: 'file', file: blob(smallDemonstrations), name: 'small-demos.jsonl' },
        label: 'small',
      },
      (p) => progress.push(p.phase),
    );
    expect(report.summary.models).toBe(10);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ file: 'small.jsonl', line: 11 });
    expect(progress).toEqual(expect.arrayContaining(['reading', 'catalog', 'demonstrations', 'indexing', 'saving']));
    expect(progress.indexOf('indexing')).toBeLessThan(progress.indexOf('saving'));

    const reloaded = host();
    const status = await reloaded.init();
    expect(status.catalogId).toBe(report.id);
    expect(status.catalog.models).toBe(10);
    const listed = await reloaded.listCatalogs();
    expect(listed.map((c) => [c.id, c.active])).toEqual([
      ['starter', false],
      [report.id, true],
    ]);

    await reloaded.deleteCatalog(report.id);
    expect((await reloaded.init()).catalogId).toBe('starter');
    expect(await catalogStore(db).list()).toEqual([]);
    await expect(reloaded.deleteCatalog('starter')).rejects.toThrow(/cannot be deleted/);
  });

  it('restores an imported catalog from its index snapshot, and rebuilds it (with progress) when the snapshot does not fit', async () => {
    const report = await host().importCatalog(
      {
        catalog: { kind: 'file', file: blob(smallCatalog), name: 'small.jsonl' },
        demonstrations: { kind: 'file', file: blob(smallDemonstrations), name: 'd.jsonl' },
        label: 'small',
      },
      () => undefined,
    );
    const store = catalogStore(db);
    const saved = await store.snapshot(report.id);
    expect(saved).toMatchObject({ id: report.id, catalog_version: report.summary.version });

    // A reload reads the snapshot only: the JSONL texts are not touched.
    const reads: string[] = [];
    const watched = {
      ...store,
      texts: (id: string) => {
        reads.push(id);
        return store.texts(id);
      },
    };
    const phases: string[] = [];
    const restoredHost = new EngineHost({ ...hostOptions(), catalogs: watched });
    const restored = await restoredHost.init(undefined, (p) => phases.push(p.phase));
    expect(restored.catalog).toEqual(report.summary);
    expect(reads).toEqual([]);
    expect(phases).toEqual(['reading', 'restoring', 'ready']);
    const fromSnapshot = await restoredHost.plan('r1', chat, { seed: 3 }, () => undefined);

    // An index from another engine version is rebuilt from the texts and saved again.
    await store.putSnapshot({ ...saved!, index_key: 'older-engine' });
    const rebuildPhases: string[] = [];
    const rebuiltHost = new EngineHost({ ...hostOptions(), catalogs: watched });
    await rebuiltHost.init(undefined, (p) => rebuildPhases.push(p.phase));
    expect(rebuildPhases).toEqual(['reading', 'parsing', 'indexing', 'saving', 'ready']);
    expect(reads).toEqual([report.id]);
    expect((await store.snapshot(report.id))?.index_key).toBe(saved!.index_key);
    // Both give the same plan (the second one from the plan cache, under the same key).
    const rebuilt = await rebuiltHost.plan('r2', chat, { seed: 3 }, () => undefined);
    expect(rebuilt.cacheKey).toBe(fromSnapshot.cacheKey);
  });

  it('falls back to the starter catalog, saying why, when the active import is gone', async () => {
    await settingsStore(db).put('active-catalog', 'import-missing');
    const status = await host().init();
    expect(status.catalogId).toBe('starter');
    expect(status.notice).toMatch(
      /could not be loaded \(The imported catalog "import-missing" is no longer stored\.\)/,
    );
  });

  it('answers a repeated chat from the plan cache in IndexedDB, also after a reload', async () => {
    const events: string[] = [];
    const first = await host().plan('r1', chat, {}, (e) => events.push(e.type));
    expect(first.cached).toBe(false);
    expect(events).toEqual(expect.arrayContaining(['prompt', 'model', 'arguments']));
    const again = await host().plan('r2', chat, {}, () => undefined);
    expect(again.cached).toBe(true);
    expect(again.cacheKey).toBe(first.cacheKey);
    expect(again.result.plan).toEqual(first.result.plan);
  });

  it('cancels a running plan by request id', async () => {
    const h = host();
    await h.init();
    const planning = h.plan('r1', chat, {}, (e) => {
      if (e.type === 'stage-start') h.cancel('r1');
    });
    await expect(planning).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('plans through a neural runtime under its own cache keys, and keeps the choice across a reload', async () => {
    const runtime = standInRuntime();
    const h = host(runtime);
    const embedded = await h.plan('r1', chat, {}, () => undefined);
    const choice: EngineChoice = { kind: 'neural', packUrl: '/packs/stand-in/', backend: 'wasm' };
    const status = await h.setEngine(choice);
    expect(status.engine.name).toBe('neural-stand-in');
    expect(status.llm).toEqual(STATUS);
    expect(status.engineNotice).toBeNull();
    // Drafts and stage results come on one channel, every draft before the prompt it ends in.
    const events: string[] = [];
    const drafts: string[] = [];
    const neural = await h.plan('r2', chat, {}, (e) => {
      events.push(e.type);
      if (e.type === 'prompt-draft') drafts.push(e.draft.prompt);
    });
    expect(neural.cached).toBe(false);
    expect(neural.cacheKey).not.toBe(embedded.cacheKey);
    expect(drafts).toHaveLength(1);
    expect(drafts[0]).toBe(neural.result.plan.prompt);
    expect(events.indexOf('prompt-draft')).toBeLessThan(events.indexOf('prompt'));

    const reloaded = await host(standInRuntime()).init();
    expect(reloaded.choice).toEqual(choice);
    expect(reloaded.engine.name).toBe('neural-stand-in');
  });

  it('keeps the embedded engine planning, and says why, when the pack cannot be loaded or a stage fails', async () => {
    const broken = standInRuntime({ failLoad: 'manifest.json is not there' });
    const status = await host(broken).setEngine({ kind: 'neural', packUrl: '/packs/missing/', backend: 'webgpu' });
    expect(status.engineNotice).toBe(
      'The neural pack at /packs/missing/ could not be loaded (manifest.json is not there); plans come from the embedded engine.',
    );
    expect(status.llm).toBeNull();
    expect(broken.unloads).toBeGreaterThan(0);

    const failing = host(standInRuntime({ failStage: 'out of memory' }));
    await failing.setEngine({ kind: 'neural', packUrl: '/packs/stand-in/', backend: 'wasm' });
    const outcome = await failing.plan('r1', chat, {}, () => undefined);
    expect(outcome.result.plan.prompt.length).toBeGreaterThan(0);
    expect((await failing.init()).engineNotice).toMatch(
      /The neural engine failed on this chat \(out of memory\); this plan comes from the embedded engine\./,
    );
  });

  it('refuses a neural choice without a pack URL, and head training without a pack', async () => {
    const h = host();
    await expect(h.setEngine({ kind: 'neural', packUrl: '  ', backend: 'wasm' })).rejects.toThrow(
      /Give the URL of a model pack folder/,
    );
    await expect(h.trainHead({})).rejects.toThrow(/choose and load one in Settings first/);
  });
});

describe('storage layer', () => {
  it('moves the catalog texts of a version 1 database into their own store', async () => {
    const name = 'migration-test';
    await new Promise<void>((resolve, reject) => {
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => {
        const v1 = request.result;
        for (const store of ['chats', 'plans', 'results', 'heads']) v1.createObjectStore(store, { keyPath: 'id' });
        v1.createObjectStore('settings', { keyPath: 'key' });
        v1.createObjectStore('catalogs', { keyPath: 'id' }).put({
          id: 'import-1',
          source: 'old',
          version: 'v',
          imported: 5,
          model_count: 10,
          demonstration_count: 3,
          catalog_text: smallCatalog,
          demonstrations_text: smallDemonstrations,
        });
      };
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    const migrated = await openAppDb(factory, name);
    expect(await migrated.get('catalogs', 'import-1')).toStrictEqual({
      id: 'import-1',
      source: 'old',
      version: 'v',
      imported: 5,
      model_count: 10,
      demonstration_count: 3,
    });
    expect(await migrated.get('catalog_texts', 'import-1')).toStrictEqual({
      id: 'import-1',
      catalog_text: smallCatalog,
      demonstrations_text: smallDemonstrations,
    });
    migrated.close();
  });

  it('creates every object store and keeps settings, plans and catalogs', async () => {
    const conn = await db();
    expect([...conn.objectStoreNames].sort()).toEqual([
      'catalog_snapshots',
      'catalog_texts',
      'catalogs',
      'chats',
      'heads',
      'plans',
      'results',
      'settings',
    ]);
    const settings = settingsStore(db);
    expect(await settings.get('missing')).toBeUndefined();
    await settings.put('k', { a: 1 });
    expect(await settings.get('k')).toEqual({ a: 1 });
  });
});
