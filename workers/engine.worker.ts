/// <reference lib="webworker" />
/**
 * The engine worker: a thin comlink adapter over the core Planner. It owns the active catalog, the
 * engine built over it (lazily, once) and the IndexedDB-backed plan cache, so the page never blocks.
 * When the user chooses the neural engine, the stages run in the LLM worker (started from here, so
 * the page talks to one worker): the Planner drives them through an Engine over that worker, so
 * caching, allowed models and events work the same for both engines, under different cache keys.
 */
import * as Comlink from 'comlink';
// onnxruntime-web's WASM build, served by the app itself: transformers.js would otherwise fetch it from a CDN.
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { guardQuota, openAppDb } from '../src/app/db.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { CatalogFetchError, fetchCatalogText, readStreamText } from '../src/core/catalog/fetch-text.ts';
import { plannedModelOf, type Catalog } from '../src/core/catalog/types.ts';
import { createDefaultEngine } from '../src/core/engines/default/index.ts';
import type { Engine } from '../src/core/engines/engine.ts';
import { parsePromptReply } from '../src/core/engines/neural/index.ts';
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
  type EngineChoice,
  type EngineStatus,
  type EngineWorkerApi,
  type HeadTrainingOutcome,
  type ImportProgress,
  type PromptDraft,
  type StoredCatalog,
} from './engine-api.ts';
import type { HeadTrainingProgress, LlmEngineInfo, LlmHeadExport, LlmHeadTrainingOptions, LlmHeadTrainingReport, LlmLoadProgress, LlmStatus, LlmWorkerApi } from './llm-api.ts';

const ACTIVE_CATALOG_KEY = 'active-catalog';
const ENGINE_CHOICE_KEY = 'engine-choice';
const EMBEDDED: EngineChoice = { kind: 'embedded' };

function parseChoice(value: unknown): EngineChoice {
  if (typeof value !== 'object' || value === null) return EMBEDDED;
  const v = value as Record<string, unknown>;
  if (v['kind'] === 'neural' && typeof v['packUrl'] === 'string' && (v['backend'] === 'webgpu' || v['backend'] === 'wasm')) {
    return { kind: 'neural', packUrl: v['packUrl'], backend: v['backend'] };
  }
  return EMBEDDED;
}

const sameChoice = (a: EngineChoice, b: EngineChoice) => JSON.stringify(a) === JSON.stringify(b);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The neural engine as the Planner sees it: each stage is a call to the LLM worker. An abort cancels
 * the worker's run and surfaces as the pipeline's AbortError.
 */
function llmWorkerEngine(llm: Comlink.Remote<LlmWorkerApi>, info: LlmEngineInfo, onPromptDraft?: (draft: PromptDraft) => void): Engine {
  const call = async <T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new PipelineAbortedError();
    const onAbort = () => void llm.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } catch (e) {
      if (signal?.aborted) throw new PipelineAbortedError();
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
  const onText = onPromptDraft
    ? Comlink.proxy((text: string) => {
        const { prompt, negative } = parsePromptReply(text);
        onPromptDraft({ prompt, negative_prompt: negative });
      })
    : undefined;
  return {
    name: info.name,
    version: info.version,
    writePrompt: (request, signal) => call(signal, () => llm.writePrompt(request, onText)),
    selectModel: (request, prompt, options, signal) =>
      call(signal, () => llm.selectModel(request, prompt, options.allowedModelIds ? [...options.allowedModelIds] : undefined)),
    configureArguments: (request, prompt, model, seed, signal) => call(signal, () => llm.configureArguments(request, prompt, model, seed)),
  };
}

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
  private initializing: Promise<EngineStatus> | null = null;
  private choice: EngineChoice = EMBEDDED;
  private llmWorker: Comlink.Remote<LlmWorkerApi> | null = null;
  /** Set while the neural engine plans: its identity over the active catalog and its runtime. */
  private neural: { info: LlmEngineInfo; llm: LlmStatus } | null = null;
  private engineNotice: string | null = null;
  /** The running catalog import, so that Cancel can stop it. */
  private importing: AbortController | null = null;

  private status(): EngineStatus {
    const planner = this.planner!;
    return {
      engine: this.neural ? this.neural.info : { name: planner.engine.name, version: planner.engine.version },
      catalog: summariseCatalog(planner.catalog),
      catalogId: this.catalogId,
      notice: this.notice,
      choice: this.choice,
      llm: this.neural?.llm ?? null,
      engineNotice: this.engineNotice,
    };
  }

  private activate(id: string, catalog: Catalog): void {
    this.planner = new Planner(catalog, createDefaultEngine(catalog), planCache);
    this.catalogId = id;
  }

  private llm(): Comlink.Remote<LlmWorkerApi> {
    this.llmWorker ??= Comlink.wrap<LlmWorkerApi>(new Worker(new URL('./llm.worker.ts', import.meta.url), { type: 'module', name: 'llm' }));
    return this.llmWorker;
  }

  /**
   * Makes the chosen engine plan over the active catalog. A neural pack that cannot be loaded (bad URL,
   * invalid manifest, load error) leaves the embedded engine planning, and engineNotice says why.
   */
  private async applyChoice(onProgress?: (progress: LlmLoadProgress) => void): Promise<void> {
    this.neural = null;
    this.engineNotice = null;
    const choice = this.choice;
    if (choice.kind === 'embedded') {
      if (this.llmWorker) await this.llmWorker.unload();
      return;
    }
    const llm = this.llm();
    try {
      const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2))) : 1;
      await llm.configure({ wasmPaths: { mjs: ortWasmMjs, wasm: ortWasm }, prefer: choice.backend, numThreads: threads });
      const status = await llm.load(choice.packUrl, onProgress ? Comlink.proxy(onProgress) : undefined);
      const info = await llm.useCatalog(this.planner!.catalog);
      this.neural = { info, llm: status };
    } catch (e) {
      await llm.unload().catch(() => undefined);
      this.engineNotice = `The neural pack at ${choice.packUrl} could not be loaded (${messageOf(e)}); plans come from the embedded engine.`;
    }
  }

  init(onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus> {
    if (this.planner && !this.initializing) return Promise.resolve(this.status());
    this.initializing ??= this.initOnce(onProgress).finally(() => {
      this.initializing = null;
    });
    return this.initializing;
  }

  private async initOnce(onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus> {
    await this.loadActiveCatalog();
    const db = await openAppDb();
    this.choice = parseChoice((await db.get('settings', ENGINE_CHOICE_KEY))?.value);
    await this.applyChoice(onProgress);
    return this.status();
  }

  async setEngine(choice: EngineChoice, onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus> {
    await this.init();
    const next = parseChoice(choice);
    if (next.kind === 'neural' && next.packUrl.trim() === '') throw new Error('Give the URL of a model pack folder (it holds manifest.json).');
    const db = await openAppDb();
    await db.put('settings', { key: ENGINE_CHOICE_KEY, value: next });
    // A different pack or backend starts from a fresh worker state, so the new choice is what loads.
    if (!sameChoice(next, this.choice) && this.llmWorker) await this.llmWorker.unload();
    this.choice = next;
    await this.applyChoice(onProgress);
    return this.status();
  }

  /** After the catalog changes, the neural engine is rebuilt over it (its retrieval index and allowed rows). */
  private async catalogChanged(): Promise<void> {
    if (this.choice.kind === 'neural') await this.applyChoice();
  }

  private async loadActiveCatalog(): Promise<void> {
    const db = await openAppDb();
    const active = (await db.get('settings', ACTIVE_CATALOG_KEY))?.value;
    if (typeof active === 'string' && active !== STARTER_CATALOG_ID) {
      try {
        this.activate(active, await storedCatalog(active));
        return;
      } catch (e) {
        this.notice = `The imported catalog could not be loaded (${(e as Error).message}); using the built-in starter catalog.`;
      }
    }
    this.activate(STARTER_CATALOG_ID, await starterCatalog());
  }

  async plan(
    requestId: string,
    input: ChatInput,
    options: PlanRequestOptions,
    onEvent: (event: PipelineEvent) => void,
    onPromptDraft?: (draft: PromptDraft) => void,
  ): Promise<PlanOutcome> {
    await this.init();
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      const neural = this.neural;
      if (!neural) return await this.planner!.plan(input, options, (event) => onEvent(event), controller.signal);
      const llm = this.llm();
      const planner = new Planner(this.planner!.catalog, llmWorkerEngine(llm, neural.info, onPromptDraft), planCache);
      try {
        return await planner.plan(input, options, (event) => onEvent(event), controller.signal);
      } catch (e) {
        if (controller.signal.aborted || (e instanceof Error && e.name === 'AbortError')) throw e;
        // The user must get a plan: this one comes from the embedded engine, and the header says so.
        this.engineNotice = `The neural engine failed on this chat (${messageOf(e)}); this plan comes from the embedded engine.`;
        return await this.planner!.plan(input, options, (event) => onEvent(event), controller.signal);
      } finally {
        // The run may have moved from WebGPU to WASM: the header shows what runs now.
        const llmStatus = await llm.status().catch(() => null);
        if (this.neural === neural && llmStatus) this.neural = { ...neural, llm: llmStatus };
      }
    } finally {
      this.running.delete(requestId);
    }
  }

  cancel(requestId: string): void {
    this.running.get(requestId)?.abort(new PipelineAbortedError());
  }

  async importCatalog(request: CatalogImportRequest, onProgress: (p: ImportProgress) => void): Promise<CatalogImportReport> {
    // A start-up still loading the previous catalog must finish first, or it would replace the import.
    await this.init();
    const started = performance.now();
    const heapBefore = heapUsed();
    this.importing?.abort();
    const controller = new AbortController();
    this.importing = controller;
    const cancelled = () => new CatalogFetchError('cancelled', 'The import was cancelled; nothing was imported.');
    const checkCancelled = () => {
      if (controller.signal.aborted) throw cancelled();
    };
    const read = async (source: CatalogFileSource, file: string) => {
      const report = (bytes: number, total: number | null) => {
        checkCancelled();
        onProgress({ phase: 'reading', file, bytes, total });
      };
      if (source.kind === 'url') {
        return fetchCatalogText(source.url, { onProgress: report, signal: controller.signal, ...(request.maxMB ? { maxBytes: request.maxMB * 1048576 } : {}) });
      }
      return readStreamText(source.file.stream(), { total: source.file.size, onProgress: report });
    };
    try {
      return await this.runImport(request, read, checkCancelled, onProgress, started, heapBefore);
    } finally {
      if (this.importing === controller) this.importing = null;
    }
  }

  cancelImport(): void {
    this.importing?.abort();
  }

  private async runImport(
    request: CatalogImportRequest,
    read: (source: CatalogFileSource, file: string) => Promise<string>,
    checkCancelled: () => void,
    onProgress: (p: ImportProgress) => void,
    started: number,
    heapBefore: number | null,
  ): Promise<CatalogImportReport> {
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
    checkCancelled();
    onProgress({ phase: 'indexing' });
    const id = `import-${hashString(catalogText + demonstrationsText)}`;
    const planner = new Planner(catalog, createDefaultEngine(catalog), planCache);
    checkCancelled();
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
    await this.catalogChanged();
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
    await this.catalogChanged();
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

  private neuralLlm(): Comlink.Remote<LlmWorkerApi> {
    if (!this.neural) throw new Error('The ModelToken head belongs to a neural pack: choose and load one in Settings first.');
    return this.llm();
  }

  /** The new head's engine plans from now on (a new version, so new plan cache keys). */
  private headTrained(report: LlmHeadTrainingReport): HeadTrainingOutcome {
    this.neural = { info: report.engine, llm: report.status };
    return { pairs: report.pairs, encoded: report.encoded, loss: report.loss, accuracy: report.accuracy, status: this.status(), saveError: report.saveError };
  }

  async trainHead(options: LlmHeadTrainingOptions, onProgress?: (progress: HeadTrainingProgress) => void): Promise<HeadTrainingOutcome> {
    await this.init();
    return this.headTrained(await this.neuralLlm().trainHead(options, onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  async addModelRow(modelId: number, onProgress?: (progress: HeadTrainingProgress) => void): Promise<HeadTrainingOutcome> {
    await this.init();
    return this.headTrained(await this.neuralLlm().addModelRow(modelId, {}, onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  async cancelTraining(): Promise<void> {
    if (this.llmWorker) await this.llmWorker.cancel();
  }

  async exportHead(): Promise<LlmHeadExport> {
    await this.init();
    return this.neuralLlm().exportHead();
  }

  async deleteCatalog(id: string): Promise<void> {
    if (id === STARTER_CATALOG_ID) throw new Error('The built-in starter catalog cannot be deleted.');
    const db = await openAppDb();
    await db.delete('catalogs', id);
    if (this.catalogId === id) await this.useCatalog(STARTER_CATALOG_ID);
  }
}

Comlink.expose(new EngineWorker());
