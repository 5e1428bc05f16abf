/// <reference lib="webworker" />
/**
 * The LLM host: one lazily loaded decoder (a model pack, opened by ./pack-loader.ts: WebGPU first,
 * else WASM) running the neural engine's stages and training its head; what workers/llm.worker.ts
 * serves. When WebGPU fails to load the model, or the device is lost mid-run, it reloads on WASM and
 * says so in `notice`. Vision-language packs (LLaVA layout) read the chat's reference image in stage 1.
 */
import { env } from '@huggingface/transformers';
import type { Catalog } from '../core/catalog/types.ts';
import { PackHeadTrainer, type ExampleCache, type HeadTrainingResult } from '../core/engines/neural/head-training.ts';
import { llmLabelOf, planningModeFor } from '../core/engines/neural/hybrid.ts';
import { createNeuralEngine, type NeuralEngine } from '../core/engines/neural/index.ts';
import { encodeHeadFile } from '../core/engines/neural/manifest.ts';
import type { LoadedPack } from '../core/engines/neural/pack.ts';
import type {
  LlmEngineInfo,
  LlmHeadExport,
  LlmHeadInfo,
  LlmHeadTrainingReport,
  LlmLoadProgress,
  LlmStatus,
  LlmWorkerConfig,
  NeuralRuntime,
} from '../core/engines/neural/runtime-api.ts';
import { createHead, type ModelTokenHead } from '../core/modeltoken.ts';
import type { HeadStore } from '../storage/heads.ts';
import { openPack, openPackOn, savedHead, type PackSession } from './pack-loader.ts';

export interface LoadedLlm {
  url: string;
  pack: LoadedPack;
  session: PackSession;
  status: LlmStatus;
}

const packHeadInfo = (head: ModelTokenHead | null, dim: number): LlmHeadInfo =>
  head
    ? { source: 'pack', rows: head.modelIds.length, dim: head.dim, accuracy: null, saved: null }
    : { source: 'none', rows: 0, dim, accuracy: null, saved: null };

export class LlmHost implements NeuralRuntime {
  private config: LlmWorkerConfig | null = null;
  protected loaded: LoadedLlm | null = null;
  private loading: Promise<LoadedLlm> | null = null;
  /** The device onnxruntime created, watched so that its loss switches the next run to WASM. */
  protected gpuDevice: GPUDevice | null = null;
  private deviceLost: string | null = null;
  private running: AbortController | null = null;
  /** Cancels the pack download in progress (cancel()). */
  private downloading: AbortController | null = null;
  /** The catalog of useCatalog(), and the engine built over it for the current session (rebuilt after a WASM fallback). */
  private engineCatalog: Catalog | null = null;
  private builtEngine: { session: PackSession; engine: NeuralEngine } | null = null;
  /**
   * The head trainer over the current session and catalog (its trainer state is what a cancelled run
   * resumes from), and h per training text for the current session, kept across catalogs and runs.
   */
  private headTrainer: PackHeadTrainer | null = null;
  private exampleCache: { session: PackSession; cache: ExampleCache } | null = null;
  /** Where stage 1's text goes during the writePrompt call that set it. */
  private promptListener: ((text: string) => void) | null = null;

  constructor(private readonly heads: HeadStore) {}

  private async watchDevice(): Promise<void> {
    const device = await env.backends.onnx.webgpu!.device;
    this.gpuDevice = device;
    this.deviceLost = null;
    void device.lost.then((info) => {
      if (this.gpuDevice === device)
        this.deviceLost = `the WebGPU device was lost (${info.reason || 'unknown'}: ${info.message || 'no message'})`;
    });
  }

  /** Puts a head trained earlier for this pack (saved in IndexedDB) in place of the pack's head file. */
  private async restoreTrainedHead(l: LoadedLlm): Promise<LoadedLlm> {
    const saved = await savedHead(this.heads, l.url, l.session.hiddenSize);
    return saved ? { ...l, pack: { ...l.pack, head: saved.head }, status: { ...l.status, head: saved.info } } : l;
  }

  /** Makes a trained head the pack's head (a new engine, hence a new engine version) and saves it. */
  private async adoptTrainedHead(l: LoadedLlm, result: HeadTrainingResult): Promise<LlmHeadTrainingReport> {
    const created = Date.now();
    const head: LlmHeadInfo = {
      source: 'trained',
      rows: result.head.modelIds.length,
      dim: result.head.dim,
      accuracy: result.accuracy,
      saved: null,
    };
    let saveError: string | null = null;
    try {
      await this.heads.put(
        {
          pack: l.pack.manifest.name,
          created,
          model_ids: result.head.modelIds,
          dim: result.head.dim,
          weights: result.head.weights,
          train_accuracy: result.accuracy,
        },
        l.url,
      );
      head.saved = created;
    } catch (err) {
      saveError = err instanceof Error ? err.message : String(err);
    }
    this.loaded = { ...l, pack: { ...l.pack, head: result.head }, status: { ...l.status, head } };
    this.builtEngine = null;
    return {
      pairs: result.pairs,
      encoded: result.encoded,
      loss: result.loss,
      accuracy: result.accuracy,
      engine: this.engineInfo(this.loaded),
      status: this.loaded.status,
      saveError,
    };
  }

  /** The engine over the loaded pack and the active catalog, and whether its head can run stage 2 there. */
  private engineInfo(l: LoadedLlm): LlmEngineInfo {
    const engine = this.neuralEngine(l);
    return {
      name: engine.name,
      version: engine.version,
      planning: planningModeFor(l.pack.head, this.engineCatalog!),
      llmLabel: llmLabelOf(l.pack.manifest, l.session),
    };
  }

  /** The trainer for the loaded session and the catalog of useCatalog(), reusing h computed before on this session. */
  private trainerFor(l: LoadedLlm): PackHeadTrainer {
    if (!this.engineCatalog)
      throw new Error('call useCatalog() before training the head: its demonstrations are the training pairs');
    if (this.exampleCache?.session !== l.session) this.exampleCache = { session: l.session, cache: new Map() };
    const kept = this.headTrainer;
    if (kept && kept.session === l.session && kept.catalog === this.engineCatalog) return kept;
    this.headTrainer = new PackHeadTrainer(l.session, l.pack.manifest, this.engineCatalog, this.exampleCache.cache);
    return this.headTrainer;
  }

  private async loadPackOnce(url: string, onProgress?: (p: LlmLoadProgress) => void): Promise<LoadedLlm> {
    if (!this.config) throw new Error('configure() the LLM worker before loading a pack');
    const controller = new AbortController();
    this.downloading = controller;
    let opened;
    try {
      opened = await openPack(url, this.config, onProgress, {
        ...(this.config.hubUrl ? { hubUrl: this.config.hubUrl } : {}),
        signal: controller.signal,
      });
    } finally {
      if (this.downloading === controller) this.downloading = null;
    }
    if (opened.backend === 'webgpu') await this.watchDevice();
    const { pack, session } = opened;
    const status: LlmStatus = {
      pack: pack.manifest.name,
      backend: opened.backend,
      dtype: session.dtype,
      notice: opened.notice,
      shaderF16: opened.shaderF16,
      head: packHeadInfo(pack.head, session.hiddenSize),
    };
    return { url, pack, session, status };
  }

  /** Runs `work` on the loaded session; a WebGPU failure (or a lost device) reloads on WASM and retries once. */
  protected async withSession<T>(work: (l: LoadedLlm, signal: AbortSignal) => Promise<T>): Promise<T> {
    if (!this.loaded) throw new Error('no pack is loaded: call load() first');
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    try {
      if (this.loaded.status.backend === 'webgpu' && this.deviceLost) await this.fallBackToWasm(this.deviceLost);
      try {
        return await work(this.loaded, controller.signal);
      } catch (err) {
        if (this.loaded.status.backend !== 'webgpu' || controller.signal.aborted) throw err;
        await this.fallBackToWasm(
          this.deviceLost ?? `WebGPU failed during the run (${err instanceof Error ? err.message : String(err)})`,
        );
        return await work(this.loaded, controller.signal);
      }
    } finally {
      if (this.running === controller) this.running = null;
    }
  }

  private neuralEngine(l: LoadedLlm): NeuralEngine {
    if (!this.engineCatalog) throw new Error('call useCatalog() before running the stages');
    if (this.builtEngine?.session === l.session) return this.builtEngine.engine;
    const engine = createNeuralEngine({
      session: l.session,
      catalog: this.engineCatalog,
      head: l.pack.head,
      pack: l.pack.manifest,
      onPromptText: (text) => this.promptListener?.(text),
    });
    this.builtEngine = { session: l.session, engine };
    return engine;
  }

  private async fallBackToWasm(reason: string): Promise<void> {
    const previous = this.loaded!;
    await previous.session.dispose().catch(() => undefined);
    const session = await openPackOn(
      previous.url,
      previous.pack,
      'wasm',
      false,
      undefined,
      this.config?.hubUrl ? { hubUrl: this.config.hubUrl } : {},
    );
    this.loaded = {
      ...previous,
      session,
      status: { ...previous.status, backend: 'wasm', dtype: session.dtype, notice: `${reason}: switched to WASM` },
    };
  }

  async configure(next: LlmWorkerConfig): Promise<void> {
    this.config = next;
  }

  async load(url: string, onProgress?: (p: LlmLoadProgress) => void): Promise<LlmStatus> {
    if (this.loaded?.url === url) return this.loaded.status;
    if (this.loaded) await this.unload();
    this.loading ??= this.loadPackOnce(url, onProgress);
    try {
      this.loaded = await this.restoreTrainedHead(await this.loading);
    } finally {
      this.loading = null;
    }
    return this.loaded.status;
  }

  async status(): Promise<LlmStatus | null> {
    return this.loaded?.status ?? null;
  }

  async useCatalog(catalog: Catalog) {
    if (!this.loaded) throw new Error('no pack is loaded: call load() first');
    this.engineCatalog = catalog;
    this.builtEngine = null;
    return this.engineInfo(this.loaded);
  }

  writePrompt: NeuralRuntime['writePrompt'] = (request, onText) =>
    this.withSession(async (l, signal) => {
      this.promptListener = onText ?? null;
      try {
        return await this.neuralEngine(l).writePrompt(request, signal);
      } finally {
        this.promptListener = null;
      }
    });

  selectModel: NeuralRuntime['selectModel'] = (request, prompt, allowedModelIds) =>
    this.withSession((l, signal) =>
      this.neuralEngine(l).selectModel(
        request,
        prompt,
        allowedModelIds ? { allowedModelIds: new Set(allowedModelIds) } : {},
        signal,
      ),
    );

  configureArguments: NeuralRuntime['configureArguments'] = (request, prompt, model, seed) =>
    this.withSession((l, signal) => this.neuralEngine(l).configureArguments(request, prompt, model, seed, signal));

  trainHead: NeuralRuntime['trainHead'] = (options, onProgress) => {
    const { restart, ...settings } = options;
    return this.withSession(async (l, signal) => {
      const result = await this.trainerFor(l).train(settings, {
        signal,
        ...(onProgress ? { onProgress } : {}),
        ...(restart ? { restart } : {}),
      });
      return this.adoptTrainedHead(l, result);
    });
  };

  addModelRow: NeuralRuntime['addModelRow'] = (modelId, options, onProgress) =>
    this.withSession(async (l, signal) => {
      const result = await this.trainerFor(l).addModel(
        l.pack.head ?? createHead([], l.session.hiddenSize),
        modelId,
        options,
        { signal, ...(onProgress ? { onProgress } : {}) },
      );
      return this.adoptTrainedHead(l, result);
    });

  async exportHead(): Promise<LlmHeadExport> {
    if (!this.loaded) throw new Error('no pack is loaded: call load() first');
    const { head, manifest } = this.loaded.pack;
    if (!head) throw new Error(`pack "${manifest.name}" has no ModelToken head yet: train one first`);
    return {
      pack: manifest.name,
      bytes: encodeHeadFile(head),
      entry: { file: manifest.head?.file ?? 'head.f32', dim: head.dim, model_ids: [...head.modelIds] },
    };
  }

  async cancel(): Promise<void> {
    this.running?.abort();
    this.downloading?.abort();
  }

  async unload(): Promise<void> {
    this.running?.abort();
    if (this.loaded) await this.loaded.session.dispose();
    this.loaded = null;
    this.builtEngine = null;
    this.headTrainer = null;
    this.exampleCache = null;
    this.gpuDevice = null;
  }
}
