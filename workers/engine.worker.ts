/// <reference lib="webworker" />
/**
 * The engine worker: a thin comlink adapter over the core Planner. It owns the active catalog, the
 * engine built over it (lazily, once) and the IndexedDB-backed plan cache, so the page never blocks.
 */
import * as Comlink from 'comlink';
import { guardQuota, openAppDb } from '../src/app/db.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { fetchCatalogText, readStreamText } from '../src/core/catalog/fetch-text.ts';
import { plannedModelOf, type Catalog } from '../src/core/catalog/types.ts';
import { createDefaultEngine } from '../src/core/engines/default/index.ts';
import { hashString } from '../src/core/hash.ts';
import type { ChatInput } from '../src/core/chat.ts';
import { PipelineAbortedError, type PipelineEvent } from '../src/core/pipeline.ts';
import type { PlannedModel } from '../src/core/plan.ts';
import { matchInstalledModels, type InstalledMatch } from '../src/core/endpoints/installed.ts';
import type { InstalledModel } from '../src/core/endpoints/types.ts';
import { Planner, summariseCatalog, type PlanCache, type PlanOutcome, type PlanRequestOptions } from '../src/core/planner.ts';
import {
  STARTER_CATALOG_ID,
  type CatalogFileSource,
  type CatalogImportReport,
  type CatalogImportRequest,
  type EngineStatus,
  type EngineWorkerApi,
  type ImportProgress,
  type StoredCatalog,
} from './engine-api.ts';

const ACTIVE_CATALOG_KEY = 'active-catalog';

const planCache: PlanCache = {
  async get(key) {
    const db = await openAppDb();
    return (await db.get('plans', key))?.result;
  },
  async put(key, result) {
    const db = await openAppDb();
    // A full quota must not fail the plan the user is waiting for: the cache is an optimisation.
    await guardQuota('the plan cache entry', () => db.put('plans', { key, created: Date.now(), result })).catch(() => undefined);
  },
};

async function starterCatalog(): Promise<Catalog> {
  const base = new URL(import.meta.env.BASE_URL, self.location.origin);
  const [catalogText, demonstrationsText] = await Promise.all(
    ['catalog.jsonl', 'demonstrations.jsonl'].map((f) => fetchCatalogText(new URL(`models/starter/${f}`, base).href)),
  );
  return loadCatalog(
    {
      catalog: { file: 'starter/catalog.jsonl', text: catalogText! },
      demonstrations: { file: 'starter/demonstrations.jsonl', text: demonstrationsText! },
    },
    'starter',
  ).catalog;
}

async function storedCatalog(id: string): Promise<Catalog> {
  const db = await openAppDb();
  const record = await db.get('catalogs', id);
  if (!record) throw new Error(`The imported catalog "${id}" is no longer stored.`);
  return loadCatalog(
    {
      catalog: { file: `${record.source}/catalog.jsonl`, text: record.catalog_text },
      ...(record.demonstrations_text ? { demonstrations: { file: `${record.source}/demonstrations.jsonl`, text: record.demonstrations_text } } : {}),
    },
    record.source,
  ).catalog;
}

function heapUsed(): number | null {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

class EngineWorker implements EngineWorkerApi {
  private planner: Planner | null = null;
  private catalogId = STARTER_CATALOG_ID;
  private notice: string | null = null;
  private readonly running = new Map<string, AbortController>();

  private status(): EngineStatus {
    const planner = this.planner!;
    return {
      engine: { name: planner.engine.name, version: planner.engine.version },
      catalog: summariseCatalog(planner.catalog),
      catalogId: this.catalogId,
      notice: this.notice,
    };
  }

  private activate(id: string, catalog: Catalog): void {
    this.planner = new Planner(catalog, createDefaultEngine(catalog), planCache);
    this.catalogId = id;
  }

  async init(): Promise<EngineStatus> {
    if (this.planner) return this.status();
    const db = await openAppDb();
    const active = (await db.get('settings', ACTIVE_CATALOG_KEY))?.value;
    if (typeof active === 'string' && active !== STARTER_CATALOG_ID) {
      try {
        this.activate(active, await storedCatalog(active));
        return this.status();
      } catch (e) {
        this.notice = `The imported catalog could not be loaded (${(e as Error).message}); using the built-in starter catalog.`;
      }
    }
    this.activate(STARTER_CATALOG_ID, await starterCatalog());
    return this.status();
  }

  async plan(requestId: string, input: ChatInput, options: PlanRequestOptions, onEvent: (event: PipelineEvent) => void): Promise<PlanOutcome> {
    await this.init();
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      return await this.planner!.plan(input, options, (event) => onEvent(event), controller.signal);
    } finally {
      this.running.delete(requestId);
    }
  }

  cancel(requestId: string): void {
    this.running.get(requestId)?.abort(new PipelineAbortedError());
  }

  async importCatalog(request: CatalogImportRequest, onProgress: (p: ImportProgress) => void): Promise<CatalogImportReport> {
    const started = performance.now();
    const heapBefore = heapUsed();
    const read = async (source: CatalogFileSource, file: string) => {
      const report = (bytes: number, total: number | null) => onProgress({ phase: 'reading', file, bytes, total });
      if (source.kind === 'url') return fetchCatalogText(source.url, report);
      return readStreamText(source.file.stream(), source.file.size, report);
    };
    const catalogName = request.catalog.kind === 'file' ? request.catalog.name : request.catalog.url;
    const demonstrationsName = request.demonstrations ? (request.demonstrations.kind === 'file' ? request.demonstrations.name : request.demonstrations.url) : '';
    const catalogText = await read(request.catalog, catalogName);
    const demonstrationsText = request.demonstrations ? await read(request.demonstrations, demonstrationsName) : '';
    // CatalogError (no valid model at all) propagates with its line-numbered message.
    const { catalog, errors } = loadCatalog(
      {
        catalog: { file: catalogName, text: catalogText },
        ...(request.demonstrations ? { demonstrations: { file: demonstrationsName, text: demonstrationsText } } : {}),
      },
      request.label,
      (p) => onProgress(p),
    );
    onProgress({ phase: 'indexing' });
    const id = `import-${hashString(catalogText + demonstrationsText)}`;
    const planner = new Planner(catalog, createDefaultEngine(catalog), planCache);
    onProgress({ phase: 'saving' });
    const db = await openAppDb();
    await guardQuota('the imported catalog', async () => {
      await db.put('catalogs', {
        id,
        source: request.label,
        version: catalog.version,
        imported: Date.now(),
        model_count: catalog.models.length,
        demonstration_count: catalog.demonstrations.length,
        catalog_text: catalogText,
        demonstrations_text: demonstrationsText,
      });
      await db.put('settings', { key: ACTIVE_CATALOG_KEY, value: id });
    });
    this.planner = planner;
    this.catalogId = id;
    this.notice = null;
    const heapAfter = heapUsed();
    return {
      id,
      summary: summariseCatalog(catalog),
      errors,
      ms: performance.now() - started,
      heapBytes: heapBefore !== null && heapAfter !== null ? heapAfter - heapBefore : null,
    };
  }

  async listCatalogs(): Promise<StoredCatalog[]> {
    await this.init();
    const db = await openAppDb();
    const imported = await db.getAll('catalogs');
    const starter = this.catalogId === STARTER_CATALOG_ID ? summariseCatalog(this.planner!.catalog) : null;
    return [
      {
        id: STARTER_CATALOG_ID,
        label: 'Built-in starter catalog',
        models: starter?.models ?? 0,
        demonstrations: starter?.demonstrations ?? 0,
        imported: 0,
        active: this.catalogId === STARTER_CATALOG_ID,
      },
      ...imported.map((r) => ({
        id: r.id,
        label: r.source,
        models: r.model_count,
        demonstrations: r.demonstration_count,
        imported: r.imported,
        active: r.id === this.catalogId,
      })),
    ];
  }

  async useCatalog(id: string): Promise<EngineStatus> {
    const catalog = id === STARTER_CATALOG_ID ? await starterCatalog() : await storedCatalog(id);
    this.activate(id, catalog);
    this.notice = null;
    const db = await openAppDb();
    await db.put('settings', { key: ACTIVE_CATALOG_KEY, value: id });
    return this.status();
  }

  async matchInstalled(installed: InstalledModel[]): Promise<InstalledMatch> {
    await this.init();
    return matchInstalledModels(this.planner!.catalog.models, installed);
  }

  async describeModel(id: number): Promise<PlannedModel | null> {
    await this.init();
    const m = this.planner!.catalog.models.find((model) => model.id === id);
    return m ? plannedModelOf(m) : null;
  }

  async deleteCatalog(id: string): Promise<void> {
    if (id === STARTER_CATALOG_ID) throw new Error('The built-in starter catalog cannot be deleted.');
    const db = await openAppDb();
    await db.delete('catalogs', id);
    if (this.catalogId === id) await this.useCatalog(STARTER_CATALOG_ID);
  }
}

Comlink.expose(new EngineWorker());
