/**
 * The engine host: what the engine worker serves, as a plain object with its storage and its neural
 * runtime passed in (so Node tests run it over fake-indexeddb and a stand-in runtime). It owns the
 * active catalog (an import, else the built-in starter), the engine built over it, the persisted engine
 * choice with its neural -> embedded fallback, and the plan cache. When the neural engine is chosen the
 * stages run in the neural runtime, driven by the same Planner, so caching, allowed models and events
 * work the same for both engines, under different cache keys.
 */
import {
  catalogFromTexts,
  importCatalog,
  type CatalogImportRequest,
  type CatalogRecord,
  type CatalogRepository,
  type ImportProgress,
} from './catalog/import.ts';
import { CatalogFetchError } from './catalog/fetch-text.ts';
import type { RecordError } from './catalog/jsonl.ts';
import { plannedModelOf, type Catalog } from './catalog/types.ts';
import type { ChatInput } from './chat.ts';
import { matchInstalledModels, type InstalledMatch } from './endpoints/installed.ts';
import type { InstalledModel } from './endpoints/types.ts';
import { compareEngines, type ComparedPlan } from './compare.ts';
import { createBaselineEngine } from './engines/baseline.ts';
import { createDefaultEngine } from './engines/default/index.ts';
import { buildCatalogIndex, type CatalogIndex } from './engines/default/index-build.ts';
import { indexSnapshotKey, restoreCatalogIndex, snapshotCatalogIndex } from './engines/default/index-snapshot.ts';
import type { Engine } from './engines/engine.ts';
import { createHybridEngine, labelNeuralStages, type PlanningMode } from './engines/neural/hybrid.ts';
import { parsePromptReply } from './engines/neural/index.ts';
import type {
  HeadTrainingProgress,
  LlmBackend,
  LlmEngineInfo,
  LlmHeadExport,
  LlmHeadTrainingOptions,
  LlmHeadTrainingReport,
  LlmLoadProgress,
  LlmStatus,
  LlmWorkerConfig,
  NeuralRuntime,
} from './engines/neural/runtime-api.ts';
import { PipelineAbortedError, runPipeline, type PipelineEvent, type PlanResult } from './pipeline.ts';
import { refitForModel, searchModels, type Refit } from './whatif.ts';
import type { PlannedModel } from './plan.ts';
import {
  Planner,
  summariseCatalog,
  type CatalogSummary,
  type PlanCache,
  type PlanOutcome,
  type PlanRequestOptions,
} from './planner.ts';
import { screenModels, type SafetyPolicy, type SafetyScreen } from './safety.ts';

export const STARTER_CATALOG_ID = 'starter';
export const ACTIVE_CATALOG_KEY = 'active-catalog';
export const ENGINE_CHOICE_KEY = 'engine-choice';

/**
 * Which engine plans: the embedded default engine (no weights), or the neural engine over a model pack
 * (a folder URL with manifest.json) run by the neural runtime, on WebGPU when available ('webgpu') or WASM only.
 */
export type EngineChoice =
  | { kind: 'embedded' }
  /** `hubUrl`: where a pack with base_model.hub_id downloads from (a mirror); absent: the public hub. */
  | { kind: 'neural'; packUrl: string; backend: LlmBackend; hubUrl?: string };

/**
 * Start-up of the active catalog, for the progress bar: a stored snapshot is read and restored; without
 * one (or after an engine update) the catalog is parsed, indexed and a snapshot saved for next time.
 */
export interface CatalogStartProgress {
  phase: 'reading' | 'restoring' | 'parsing' | 'indexing' | 'saving' | 'ready';
  catalog: string;
  /** Steps done of `steps` (both paths have four). */
  step: number;
  steps: number;
}

/** Stage 1's reply as the neural engine writes it, split into the two prompts. */
export interface PromptDraft {
  prompt: string;
  negative_prompt: string;
}

/**
 * What a plan reports while it runs: each stage's result, and stage 1's text while the neural engine
 * writes it. One channel, so every draft reaches the page before the prompt it ends in.
 */
export type PlanEvent = PipelineEvent | { type: 'prompt-draft'; draft: PromptDraft };

/** What a head training run reached, and the engine status with the new head in use. */
export interface HeadTrainingOutcome {
  pairs: number;
  encoded: number;
  loss: number;
  accuracy: number;
  status: EngineStatus;
  /** Set when the head is in use but could not be saved in IndexedDB. */
  saveError: string | null;
}

export interface CatalogImportReport {
  id: string;
  summary: CatalogSummary;
  /** Lines that were skipped, with file, line and field. */
  errors: RecordError[];
  ms: number;
  /** JS heap growth during the import where the browser reports it (Chromium), else null. */
  heapBytes: number | null;
}

export interface StoredCatalog {
  id: string;
  label: string;
  models: number;
  demonstrations: number;
  imported: number;
  active: boolean;
}

export interface EngineStatus {
  engine: { name: string; version: string };
  catalog: CatalogSummary;
  catalogId: string;
  /** Said when something failed and a fallback was used. */
  notice: string | null;
  /** The engine the user chose (the running one differs when a pack could not be loaded). */
  choice: EngineChoice;
  /** The neural pack's runtime (backend, dtype, a WebGPU-to-WASM notice) while the neural engine plans. */
  llm: LlmStatus | null;
  /** Said when the neural engine was chosen but the embedded engine plans instead, and why. */
  engineNotice: string | null;
  /** While the neural engine plans: whether its head runs stage 2 or the plan is hybrid (and why). */
  planning: PlanningMode | null;
}

/** The engine worker's protocol (workers/engine-api.ts re-exports it). */
export interface EngineHostApi {
  /**
   * Loads the active catalog (an import, else the built-in starter) and builds the chosen engine;
   * a neural pack's download progress goes to `onProgress`, the catalog's to `onCatalogProgress`.
   */
  init(
    onProgress?: (progress: LlmLoadProgress) => void,
    onCatalogProgress?: (progress: CatalogStartProgress) => void,
  ): Promise<EngineStatus>;
  /** Chooses the engine (saved in settings); a pack that cannot be loaded leaves the embedded engine planning. */
  setEngine(choice: EngineChoice, onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus>;
  /** `onEvent` receives each stage's result, and stage 1's text while the neural engine writes it. */
  plan(
    requestId: string,
    input: ChatInput,
    options: PlanRequestOptions,
    onEvent: (event: PlanEvent) => void,
  ): Promise<PlanOutcome>;
  /** Cancels a running plan; its promise rejects with an AbortError. */
  cancel(requestId: string): void;
  /** Cancels a neural pack's download (setEngine then leaves the embedded engine planning); the next load resumes it. */
  cancelPackDownload(): Promise<void>;
  importCatalog(
    request: CatalogImportRequest,
    onProgress: (progress: ImportProgress) => void,
  ): Promise<CatalogImportReport>;
  /** Stops the running import (download, reading or indexing); it rejects with a 'cancelled' message and nothing is stored. */
  cancelImport(): void;
  listCatalogs(): Promise<StoredCatalog[]>;
  useCatalog(id: string): Promise<EngineStatus>;
  deleteCatalog(id: string): Promise<void>;
  /** "Only models on my server": which catalog models the endpoint's installed models are. */
  matchInstalled(installed: InstalledModel[]): Promise<InstalledMatch>;
  /**
   * Trains the neural pack's ModelToken head on the active catalog's demonstrations (resuming a
   * cancelled run unless `restart`); the new head plans from then on and is saved for the pack.
   */
  trainHead(
    options: LlmHeadTrainingOptions,
    onProgress?: (progress: HeadTrainingProgress) => void,
  ): Promise<HeadTrainingOutcome>;
  /** Trains only one model's row (added when missing) from its demonstrations. */
  addModelRow(modelId: number, onProgress?: (progress: HeadTrainingProgress) => void): Promise<HeadTrainingOutcome>;
  /** Stops a head training run; its state is kept and the next trainHead resumes it. */
  cancelTraining(): Promise<void>;
  /** The neural pack's head in use, as a head file and its manifest entry. */
  exportHead(): Promise<LlmHeadExport>;
  /** The plan form of a catalog model, for the plan editor's model choice. */
  describeModel(id: number): Promise<PlannedModel | null>;
  /** Safe mode: which models of the active catalog may be chosen, and what was excluded and why. */
  screenModels(policy: SafetyPolicy): Promise<SafetyScreen>;
  /**
   * What-if: stage 3 run again for another catalog model (by the engine that made `result` when it is
   * still loaded, else the embedded one).
   */
  refit(input: ChatInput, result: PlanResult, modelId: number, negativePrompt: string): Promise<Refit>;
  /** Catalog models whose name, file or trigger words hold the query's words (up to 20). */
  searchModels(query: string): Promise<PlannedModel[]>;
  /** Plans the chat with the baseline, the embedded default and (when loaded) the neural engine. */
  compare(input: ChatInput): Promise<ComparedPlan[]>;
}

/** Small key-value settings (IndexedDB in the app: src/storage/settings.ts). */
export interface SettingsRepository {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

export interface EngineHostOptions {
  catalogs: CatalogRepository;
  settings: SettingsRepository;
  planCache: PlanCache;
  /** The built-in starter catalog (fetched from the app's own files in the browser). */
  starterCatalog: () => Promise<Catalog>;
  /** Creates the neural runtime on first use (the LLM worker in the app). */
  createNeuralRuntime: () => NeuralRuntime;
  /** The runtime settings other than the backend choice: the WASM files and threads. */
  neuralConfig: () => Omit<LlmWorkerConfig, 'prefer'>;
  /** For catalog files given by URL. */
  fetch?: typeof fetch;
  /** The JS heap in use, where the platform reports it. */
  heapUsed?: () => number | null;
  now?: () => number;
}

const EMBEDDED: EngineChoice = { kind: 'embedded' };

/** What the embedded engine plans once in idle time after start-up (see EngineHost.warmUp). */
const WARM_UP_INPUT: ChatInput = { messages: ['a watercolor painting of a cat'], images: [] };

/** A stored or handed-in engine choice, anything malformed meaning the embedded engine. */
export function parseEngineChoice(value: unknown): EngineChoice {
  if (typeof value !== 'object' || value === null) return EMBEDDED;
  const v = value as Record<string, unknown>;
  if (
    v['kind'] === 'neural' &&
    typeof v['packUrl'] === 'string' &&
    (v['backend'] === 'webgpu' || v['backend'] === 'wasm')
  ) {
    const hubUrl = typeof v['hubUrl'] === 'string' && v['hubUrl'].trim() !== '' ? v['hubUrl'].trim() : undefined;
    return { kind: 'neural', packUrl: v['packUrl'], backend: v['backend'], ...(hubUrl ? { hubUrl } : {}) };
  }
  return EMBEDDED;
}

const sameChoice = (a: EngineChoice, b: EngineChoice) => JSON.stringify(a) === JSON.stringify(b);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The neural engine as the Planner sees it: each stage is a call to the runtime. An abort cancels
 * the runtime's run and surfaces as the pipeline's AbortError.
 */
function neuralRuntimeEngine(
  runtime: NeuralRuntime,
  info: LlmEngineInfo,
  onPromptDraft?: (draft: PromptDraft) => void,
): Engine {
  const call = async <T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new PipelineAbortedError();
    const onAbort = () => void runtime.cancel();
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
    ? (text: string) => {
        const { prompt, negative } = parsePromptReply(text);
        onPromptDraft({ prompt, negative_prompt: negative });
      }
    : undefined;
  return {
    name: info.name,
    version: info.version,
    writePrompt: (request, signal) => call(signal, () => runtime.writePrompt(request, onText)),
    selectModel: (request, prompt, options, signal) =>
      call(signal, () =>
        runtime.selectModel(request, prompt, options.allowedModelIds ? [...options.allowedModelIds] : undefined),
      ),
    configureArguments: (request, prompt, model, seed, signal) =>
      call(signal, () => runtime.configureArguments(request, prompt, model, seed)),
  };
}

export class EngineHost implements EngineHostApi {
  private planner: Planner | null = null;
  private catalogId = STARTER_CATALOG_ID;
  private notice: string | null = null;
  private readonly running = new Map<string, AbortController>();
  /** The running catalog import, so that Cancel can stop it. */
  private importing: AbortController | null = null;
  private initializing: Promise<EngineStatus> | null = null;
  private choice: EngineChoice = EMBEDDED;
  private runtime: NeuralRuntime | null = null;
  /** Set while the neural engine plans: its identity over the active catalog and its runtime. */
  private neural: { info: LlmEngineInfo; llm: LlmStatus } | null = null;
  private engineNotice: string | null = null;

  constructor(private readonly options: EngineHostOptions) {}

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
      planning: this.neural?.info.planning ?? null,
    };
  }

  private activate(id: string, catalog: Catalog, index?: CatalogIndex): void {
    this.planner = new Planner(catalog, createDefaultEngine(catalog, index ? { index } : {}), this.options.planCache);
    this.catalogId = id;
    if (id === STARTER_CATALOG_ID) this.starterSummary = summariseCatalog(catalog);
  }

  /** The starter catalog's counts for the catalog table, also while an import is active. */
  private starterSummary: CatalogSummary | null = null;

  private neuralRuntime(): NeuralRuntime {
    this.runtime ??= this.options.createNeuralRuntime();
    return this.runtime;
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
      if (this.runtime) await this.runtime.unload();
      return;
    }
    const runtime = this.neuralRuntime();
    try {
      await runtime.configure({
        ...this.options.neuralConfig(),
        prefer: choice.backend,
        ...(choice.hubUrl ? { hubUrl: choice.hubUrl } : {}),
      });
      const status = await runtime.load(choice.packUrl, onProgress);
      const info = await runtime.useCatalog(this.planner!.catalog);
      this.neural = { info, llm: status };
    } catch (e) {
      await runtime.unload().catch(() => undefined);
      this.engineNotice = `The neural pack at ${choice.packUrl} could not be loaded (${messageOf(e)}); plans come from the embedded engine.`;
    }
  }

  init(
    onProgress?: (progress: LlmLoadProgress) => void,
    onCatalogProgress?: (progress: CatalogStartProgress) => void,
  ): Promise<EngineStatus> {
    if (this.planner && !this.initializing) return Promise.resolve(this.status());
    this.initializing ??= this.initOnce(onProgress, onCatalogProgress).finally(() => {
      this.initializing = null;
    });
    return this.initializing;
  }

  private async initOnce(
    onProgress?: (progress: LlmLoadProgress) => void,
    onCatalogProgress?: (progress: CatalogStartProgress) => void,
  ): Promise<EngineStatus> {
    await this.loadActiveCatalog(onCatalogProgress);
    this.choice = parseEngineChoice(await this.options.settings.get(ENGINE_CHOICE_KEY));
    await this.applyChoice(onProgress);
    this.warmUp();
    return this.status();
  }

  /**
   * The embedded engine's first plan builds tables it keeps (the common-word list) and runs its code
   * for the first time, which takes several times as long as later plans. Done once in idle time after
   * start-up (ready is reported first), the person's first plan does not wait for it. Nothing is
   * stored or sent.
   */
  private warmUp(): void {
    const engine = this.planner?.engine;
    if (!engine || this.neural) return;
    setTimeout(() => void runPipeline(engine, WARM_UP_INPUT).catch(() => undefined), 0);
  }

  async setEngine(choice: EngineChoice, onProgress?: (progress: LlmLoadProgress) => void): Promise<EngineStatus> {
    await this.init();
    const next = parseEngineChoice(choice);
    if (next.kind === 'neural' && next.packUrl.trim() === '')
      throw new Error('Give the URL of a model pack folder (it holds manifest.json).');
    await this.options.settings.put(ENGINE_CHOICE_KEY, next);
    // A different pack or backend starts from a fresh runtime state, so the new choice is what loads.
    if (!sameChoice(next, this.choice) && this.runtime) await this.runtime.unload();
    this.choice = next;
    await this.applyChoice(onProgress);
    return this.status();
  }

  /** After the catalog changes, the neural engine is rebuilt over it (its retrieval index and allowed rows). */
  private async catalogChanged(): Promise<void> {
    if (this.choice.kind === 'neural') await this.applyChoice();
  }

  /** Saves the index as a snapshot; a full quota only costs the next start its speed. */
  private async saveSnapshot(record: CatalogRecord, index: CatalogIndex): Promise<void> {
    await this.options.catalogs
      .putSnapshot({
        id: record.id,
        catalog_version: record.version,
        index_key: indexSnapshotKey(),
        created: (this.options.now ?? Date.now)(),
        snapshot: snapshotCatalogIndex(index),
      })
      .catch(() => undefined);
  }

  /**
   * A stored catalog and its index: restored from the snapshot when one fits the catalog version and
   * the index format, else parsed from the stored texts, indexed, and snapshotted for the next start.
   */
  private async storedCatalog(
    id: string,
    onProgress?: (progress: CatalogStartProgress) => void,
  ): Promise<CatalogIndex> {
    // The snapshot is read alongside the record (one round trip, not two); the record says whether it fits.
    const snapshot = this.options.catalogs.snapshot(id);
    snapshot.catch(() => undefined);
    const record = await this.options.catalogs.get(id);
    if (!record) throw new Error(`The imported catalog "${id}" is no longer stored.`);
    const report = (phase: CatalogStartProgress['phase'], step: number) =>
      onProgress?.({ phase, catalog: record.source, step, steps: 4 });
    report('reading', 0);
    const stored = await snapshot;
    if (stored && stored.catalog_version === record.version && stored.index_key === indexSnapshotKey()) {
      report('restoring', 1);
      try {
        const index = restoreCatalogIndex(stored.snapshot);
        report('ready', 4);
        return index;
      } catch {
        // A damaged snapshot is rebuilt below from the texts, as after an engine update.
      }
    }
    const texts = await this.options.catalogs.texts(id);
    if (!texts) throw new Error(`The imported catalog "${id}" is no longer stored.`);
    report('parsing', 1);
    const catalog = catalogFromTexts(record, texts);
    report('indexing', 2);
    const index = buildCatalogIndex(catalog);
    report('saving', 3);
    await this.saveSnapshot(record, index);
    report('ready', 4);
    return index;
  }

  private async loadActiveCatalog(onProgress?: (progress: CatalogStartProgress) => void): Promise<void> {
    const active = await this.options.settings.get(ACTIVE_CATALOG_KEY);
    if (typeof active === 'string' && active !== STARTER_CATALOG_ID) {
      try {
        const index = await this.storedCatalog(active, onProgress);
        this.activate(active, index.catalog, index);
        return;
      } catch (e) {
        this.notice = `The imported catalog could not be loaded (${messageOf(e)}); using the built-in starter catalog.`;
      }
    }
    this.activate(STARTER_CATALOG_ID, await this.options.starterCatalog());
  }

  async plan(
    requestId: string,
    input: ChatInput,
    options: PlanRequestOptions,
    onEvent: (event: PlanEvent) => void,
  ): Promise<PlanOutcome> {
    await this.init();
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      const neural = this.neural;
      if (!neural) return await this.planner!.plan(input, options, (event) => onEvent(event), controller.signal);
      const runtime = this.neuralRuntime();
      const onRuntime = neuralRuntimeEngine(runtime, neural.info, (draft) => onEvent({ type: 'prompt-draft', draft }));
      // A head that cannot choose among this catalog's models: the LLM writes the prompt, the embedded
      // engine does the rest. Either way stage 1 is held to the request rules.
      const engine =
        neural.info.planning.mode === 'hybrid'
          ? createHybridEngine({
              llm: onRuntime,
              embedded: this.planner!.engine,
              llmLabel: neural.info.llmLabel,
              reason: neural.info.planning.reason,
            })
          : labelNeuralStages(onRuntime, neural.info.llmLabel);
      const planner = new Planner(this.planner!.catalog, engine, this.options.planCache);
      try {
        return await planner.plan(input, options, (event) => onEvent(event), controller.signal);
      } catch (e) {
        if (controller.signal.aborted || (e instanceof Error && e.name === 'AbortError')) throw e;
        // The user must get a plan: this one comes from the embedded engine, and the header says so.
        this.engineNotice = `The neural engine failed on this chat (${messageOf(e)}); this plan comes from the embedded engine.`;
        return await this.planner!.plan(input, options, (event) => onEvent(event), controller.signal);
      } finally {
        // The run may have moved from WebGPU to WASM: the header shows what runs now.
        const llmStatus = await runtime.status().catch(() => null);
        if (this.neural === neural && llmStatus) this.neural = { ...neural, llm: llmStatus };
      }
    } finally {
      this.running.delete(requestId);
    }
  }

  cancel(requestId: string): void {
    this.running.get(requestId)?.abort(new PipelineAbortedError());
  }

  async cancelPackDownload(): Promise<void> {
    if (this.runtime) await this.runtime.cancel();
  }

  cancelImport(): void {
    this.importing?.abort();
  }

  async importCatalog(
    request: CatalogImportRequest,
    onProgress: (p: ImportProgress) => void,
  ): Promise<CatalogImportReport> {
    // Cancel applies from the first moment, also while a start-up is still loading.
    this.importing?.abort();
    const controller = new AbortController();
    this.importing = controller;
    const cancelled = () => new CatalogFetchError('cancelled', 'The import was cancelled; nothing was imported.');
    let imported: Awaited<ReturnType<typeof importCatalog>>;
    let planner: Planner;
    let index: ReturnType<typeof buildCatalogIndex>;
    let started = 0;
    let heapBefore: number | null = null;
    try {
      // A start-up still loading the previous catalog must finish first, or it would replace the import.
      await this.init();
      if (controller.signal.aborted) throw cancelled();
      started = performance.now();
      heapBefore = this.options.heapUsed?.() ?? null;
      // CatalogError (no valid model at all) propagates with its line-numbered message.
      imported = await importCatalog(request, {
        onProgress,
        signal: controller.signal,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
        ...(this.options.now ? { now: this.options.now } : {}),
      });
      onProgress({ phase: 'indexing' });
      index = buildCatalogIndex(imported.catalog);
      planner = new Planner(imported.catalog, createDefaultEngine(imported.catalog, { index }), this.options.planCache);
      if (controller.signal.aborted) throw cancelled();
    } finally {
      if (this.importing === controller) this.importing = null;
    }
    const { catalog, errors, record, texts } = imported;
    onProgress({ phase: 'saving' });
    await this.options.catalogs.put(record, texts);
    await this.saveSnapshot(record, index);
    await this.options.settings.put(ACTIVE_CATALOG_KEY, record.id);
    this.planner = planner;
    this.catalogId = record.id;
    this.notice = null;
    await this.catalogChanged();
    const heapAfter = this.options.heapUsed?.() ?? null;
    return {
      id: record.id,
      summary: summariseCatalog(catalog),
      errors,
      ms: performance.now() - started,
      heapBytes: heapBefore !== null && heapAfter !== null ? heapAfter - heapBefore : null,
    };
  }

  async listCatalogs(): Promise<StoredCatalog[]> {
    await this.init();
    const imported = await this.options.catalogs.list();
    this.starterSummary ??= summariseCatalog(await this.options.starterCatalog());
    const starter = this.starterSummary;
    return [
      {
        id: STARTER_CATALOG_ID,
        label: 'Built-in starter catalog',
        models: starter.models,
        demonstrations: starter.demonstrations,
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
    if (id === STARTER_CATALOG_ID) this.activate(id, await this.options.starterCatalog());
    else {
      const index = await this.storedCatalog(id);
      this.activate(id, index.catalog, index);
    }
    this.notice = null;
    await this.options.settings.put(ACTIVE_CATALOG_KEY, id);
    await this.catalogChanged();
    return this.status();
  }

  async matchInstalled(installed: InstalledModel[]): Promise<InstalledMatch> {
    await this.init();
    return matchInstalledModels(this.planner!.catalog.models, installed);
  }

  async screenModels(policy: SafetyPolicy): Promise<SafetyScreen> {
    await this.init();
    return screenModels(this.planner!.catalog.models, policy);
  }

  async describeModel(id: number): Promise<PlannedModel | null> {
    await this.init();
    const m = this.planner!.catalog.models.find((model) => model.id === id);
    return m ? plannedModelOf(m) : null;
  }

  /** The engine that made a plan, when it is still loaded; the embedded engine otherwise. */
  private engineFor(name: string): Engine {
    const neural = this.neural;
    return neural && neural.info.name === name
      ? neuralRuntimeEngine(this.neuralRuntime(), neural.info)
      : this.planner!.engine;
  }

  async refit(input: ChatInput, result: PlanResult, modelId: number, negativePrompt: string): Promise<Refit> {
    await this.init();
    const model = await this.describeModel(modelId);
    if (!model) throw new Error(`Model ${modelId} is not in the active catalog.`);
    return refitForModel(this.engineFor(result.engine.name), {
      input,
      prompt: result.prompt,
      previous: result.model,
      model,
      seed: result.plan.arguments.seed,
      negative_prompt: negativePrompt,
    });
  }

  async searchModels(query: string): Promise<PlannedModel[]> {
    await this.init();
    const { models } = this.planner!.catalog;
    const byId = new Map(models.map((m) => [m.id, m]));
    return searchModels(models, query).map((id) => plannedModelOf(byId.get(id)!));
  }

  async compare(input: ChatInput): Promise<ComparedPlan[]> {
    await this.init();
    const catalog = this.planner!.catalog;
    const engines = [createBaselineEngine(catalog), this.planner!.engine];
    if (this.neural) engines.push(neuralRuntimeEngine(this.neuralRuntime(), this.neural.info));
    return compareEngines(engines, input);
  }

  private loadedRuntime(): NeuralRuntime {
    if (!this.neural)
      throw new Error('The ModelToken head belongs to a neural pack: choose and load one in Settings first.');
    return this.neuralRuntime();
  }

  /** The new head's engine plans from now on (a new version, so new plan cache keys). */
  private headTrained(report: LlmHeadTrainingReport): HeadTrainingOutcome {
    this.neural = { info: report.engine, llm: report.status };
    return {
      pairs: report.pairs,
      encoded: report.encoded,
      loss: report.loss,
      accuracy: report.accuracy,
      status: this.status(),
      saveError: report.saveError,
    };
  }

  async trainHead(
    options: LlmHeadTrainingOptions,
    onProgress?: (progress: HeadTrainingProgress) => void,
  ): Promise<HeadTrainingOutcome> {
    await this.init();
    return this.headTrained(await this.loadedRuntime().trainHead(options, onProgress));
  }

  async addModelRow(
    modelId: number,
    onProgress?: (progress: HeadTrainingProgress) => void,
  ): Promise<HeadTrainingOutcome> {
    await this.init();
    return this.headTrained(await this.loadedRuntime().addModelRow(modelId, {}, onProgress));
  }

  async cancelTraining(): Promise<void> {
    if (this.runtime) await this.runtime.cancel();
  }

  async exportHead(): Promise<LlmHeadExport> {
    await this.init();
    return this.loadedRuntime().exportHead();
  }

  async deleteCatalog(id: string): Promise<void> {
    if (id === STARTER_CATALOG_ID) throw new Error('The built-in starter catalog cannot be deleted.');
    await this.options.catalogs.delete(id);
    if (this.catalogId === id) await this.useCatalog(STARTER_CATALOG_ID);
  }
}
