/// <reference lib="webworker" />
/**
 * The LLM worker: one lazily loaded decoder (a model pack, opened by ./pack-loader.ts: WebGPU first,
 * else WASM). When WebGPU fails to load the model, or the device is lost mid-run, it reloads on WASM
 * and says so in `notice`. Vision-language packs (LLaVA layout) read the chat's reference image in
 * stage 1. A thin adapter: the stages live in src/core/engines/neural.
 */
import * as Comlink from 'comlink';
import { env } from '@huggingface/transformers';
import { guardQuota, openAppDb } from '../src/app/db.ts';
import { loadCatalog, type CatalogTexts } from '../src/core/catalog/load.ts';
import type { Catalog } from '../src/core/catalog/types.ts';
import type { ChatInput } from '../src/core/chat.ts';
import { createNeuralEngine, type NeuralEngine } from '../src/core/engines/neural/index.ts';
import { PackHeadTrainer, type ExampleCache, type HeadTrainingResult } from '../src/core/engines/neural/head-training.ts';
import { createDefaultEngine } from '../src/core/engines/default/index.ts';
import { createPackEngine, llmLabelOf, planningModeFor } from '../src/core/engines/neural/hybrid.ts';
import { encodeHeadFile } from '../src/core/engines/neural/manifest.ts';
import type { LoadedPack } from '../src/core/engines/neural/pack.ts';
import { generateGreedy } from '../src/core/engines/neural/session.ts';
import { createHead, type ModelTokenHead } from '../src/core/modeltoken.ts';
import { runPipeline, type PipelineEvent, type PlanResult } from '../src/core/pipeline.ts';
import type {
  LlmEngineInfo,
  LlmGenerateResult,
  LlmHeadInfo,
  LlmHeadTrainingReport,
  LlmLoadProgress,
  LlmStatus,
  LlmWorkerApi,
  LlmWorkerConfig,
} from './llm-api.ts';
import { headRecordId, openPack, openPackOn, savedHead, type PackSession } from './pack-loader.ts';

interface Loaded {
  url: string;
  pack: LoadedPack;
  session: PackSession;
  status: LlmStatus;
}

let config: LlmWorkerConfig | null = null;
let loaded: Loaded | null = null;
let loading: Promise<Loaded> | null = null;
let gpuDevice: GPUDevice | null = null;
let deviceLost: string | null = null;
let running: AbortController | null = null;
/** Cancels the pack download in progress (cancel()). */
let downloading: AbortController | null = null;
/** The catalog of useCatalog(), and the engine built over it for the current session (rebuilt after a WASM fallback). */
let engineCatalog: Catalog | null = null;
let builtEngine: { session: PackSession; engine: NeuralEngine } | null = null;
/**
 * The head trainer over the current session and catalog (its trainer state is what a cancelled run
 * resumes from), and h per training text for the current session, kept across catalogs and runs.
 */
let headTrainer: PackHeadTrainer | null = null;
let exampleCache: { session: PackSession; cache: ExampleCache } | null = null;
/** Where stage 1's text goes during the writePrompt call that set it. */
let promptListener: ((text: string) => void) | null = null;
/** Watches the device onnxruntime created, so that its loss switches the next run to WASM. */
async function watchDevice(): Promise<void> {
  const device = await env.backends.onnx.webgpu!.device;
  gpuDevice = device;
  deviceLost = null;
  void device.lost.then((info) => {
    if (gpuDevice === device) deviceLost = `the WebGPU device was lost (${info.reason || 'unknown'}: ${info.message || 'no message'})`;
  });
}

const packHeadInfo = (head: ModelTokenHead | null, dim: number): LlmHeadInfo =>
  head ? { source: 'pack', rows: head.modelIds.length, dim: head.dim, accuracy: null, saved: null } : { source: 'none', rows: 0, dim, accuracy: null, saved: null };

/** Puts a head trained earlier for this pack (saved in IndexedDB) in place of the pack's head file. */
async function restoreTrainedHead(l: Loaded): Promise<Loaded> {
  const saved = await savedHead(l.url, l.session.hiddenSize);
  return saved ? { ...l, pack: { ...l.pack, head: saved.head }, status: { ...l.status, head: saved.info } } : l;
}

/** Makes a trained head the pack's head (a new engine, hence a new engine version) and saves it. */
async function adoptTrainedHead(l: Loaded, result: HeadTrainingResult): Promise<LlmHeadTrainingReport> {
  const created = Date.now();
  const head: LlmHeadInfo = { source: 'trained', rows: result.head.modelIds.length, dim: result.head.dim, accuracy: result.accuracy, saved: null };
  let saveError: string | null = null;
  try {
    const db = await openAppDb();
    await guardQuota('the trained head', () =>
      db.put('heads', {
        id: headRecordId(l.url),
        pack: l.pack.manifest.name,
        created,
        model_ids: result.head.modelIds,
        dim: result.head.dim,
        weights: result.head.weights,
        train_accuracy: result.accuracy,
      }),
    );
    head.saved = created;
  } catch (err) {
    saveError = err instanceof Error ? err.message : String(err);
  }
  loaded = { ...l, pack: { ...l.pack, head: result.head }, status: { ...l.status, head } };
  builtEngine = null;
  return { pairs: result.pairs, encoded: result.encoded, loss: result.loss, accuracy: result.accuracy, engine: engineInfo(loaded), status: loaded.status, saveError };
}

/** The engine over the loaded pack and the active catalog, and whether its head can run stage 2 there. */
function engineInfo(l: Loaded): LlmEngineInfo {
  const engine = neuralEngine(l);
  return { name: engine.name, version: engine.version, planning: planningModeFor(l.pack.head, engineCatalog!), llmLabel: llmLabelOf(l.pack.manifest, l.session) };
}

/** The trainer for the loaded session and the catalog of useCatalog(), reusing h computed before on this session. */
function trainerFor(l: Loaded): PackHeadTrainer {
  if (!engineCatalog) throw new Error('call useCatalog() before training the head: its demonstrations are the training pairs');
  if (exampleCache?.session !== l.session) exampleCache = { session: l.session, cache: new Map() };
  if (headTrainer?.session !== l.session || headTrainer.catalog !== engineCatalog) {
    headTrainer = new PackHeadTrainer(l.session, l.pack.manifest, engineCatalog, exampleCache.cache);
  }
  return headTrainer;
}

async function loadPackOnce(url: string, onProgress?: (p: LlmLoadProgress) => void): Promise<Loaded> {
  if (!config) throw new Error('configure() the LLM worker before loading a pack');
  const controller = (downloading = new AbortController());
  let opened;
  try {
    opened = await openPack(url, config, onProgress, { ...(config.hubUrl ? { hubUrl: config.hubUrl } : {}), signal: controller.signal });
  } finally {
    if (downloading === controller) downloading = null;
  }
  if (opened.backend === 'webgpu') await watchDevice();
  const { pack, session } = opened;
  const status: LlmStatus = { pack: pack.manifest.name, backend: opened.backend, dtype: session.dtype, notice: opened.notice, shaderF16: opened.shaderF16, head: packHeadInfo(pack.head, session.hiddenSize) };
  return { url, pack, session, status };
}

/** Runs `work` on the loaded session; a WebGPU failure (or a lost device) reloads on WASM and retries once. */
async function withSession<T>(work: (l: Loaded, signal: AbortSignal) => Promise<T>): Promise<T> {
  if (!loaded) throw new Error('no pack is loaded: call load() first');
  running?.abort();
  const controller = (running = new AbortController());
  try {
    if (loaded.status.backend === 'webgpu' && deviceLost) await fallBackToWasm(deviceLost);
    try {
      return await work(loaded, controller.signal);
    } catch (err) {
      if (loaded.status.backend !== 'webgpu' || controller.signal.aborted) throw err;
      await fallBackToWasm(deviceLost ?? `WebGPU failed during the run (${err instanceof Error ? err.message : String(err)})`);
      return await work(loaded, controller.signal);
    }
  } finally {
    if (running === controller) running = null;
  }
}

function neuralEngine(l: Loaded): NeuralEngine {
  if (!engineCatalog) throw new Error('call useCatalog() before running the stages');
  if (builtEngine?.session !== l.session) {
    const engine = createNeuralEngine({ session: l.session, catalog: engineCatalog, head: l.pack.head, pack: l.pack.manifest, onPromptText: (text) => promptListener?.(text) });
    builtEngine = { session: l.session, engine };
  }
  return builtEngine.engine;
}

async function fallBackToWasm(reason: string): Promise<void> {
  const previous = loaded!;
  await previous.session.dispose().catch(() => undefined);
  const session = await openPackOn(previous.url, previous.pack, 'wasm', false, undefined, config?.hubUrl ? { hubUrl: config.hubUrl } : {});
  loaded = { ...previous, session, status: { ...previous.status, backend: 'wasm', dtype: session.dtype, notice: `${reason}: switched to WASM` } };
}

const api: LlmWorkerApi = {
  async configure(next) {
    config = next;
  },

  async load(url, onProgress) {
    if (loaded?.url === url) return loaded.status;
    if (loaded) await api.unload();
    loading ??= loadPackOnce(url, onProgress);
    try {
      loaded = await restoreTrainedHead(await loading);
    } finally {
      loading = null;
    }
    return loaded.status;
  },

  async status() {
    return loaded?.status ?? null;
  },

  async generate(inputIds, maxNewTokens, onText): Promise<LlmGenerateResult> {
    return withSession(async (l, signal) => {
      const out = await generateGreedy(l.session, inputIds, { maxNewTokens, signal, ...(onText ? { onText } : {}) });
      return { ids: out.ids, text: out.text, backend: l.status.backend };
    });
  },

  async plan(input: ChatInput, catalogTexts: CatalogTexts, options, onEvent?: (e: PipelineEvent) => void, onPromptText?: (t: string) => void): Promise<PlanResult> {
    const { catalog } = loadCatalog(catalogTexts, 'worker');
    return withSession((l, signal) => {
      // A head that cannot choose among this catalog's models: hybrid planning with the default engine.
      const { engine } = createPackEngine({ session: l.session, catalog, head: l.pack.head, pack: l.pack.manifest, embedded: createDefaultEngine(catalog), ...(onPromptText ? { onPromptText } : {}) });
      return runPipeline(engine, input, {
        signal,
        ...(onEvent ? { onEvent } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.allowedModelIds ? { allowedModelIds: new Set(options.allowedModelIds) } : {}),
      });
    });
  },

  async useCatalog(catalog) {
    if (!loaded) throw new Error('no pack is loaded: call load() first');
    engineCatalog = catalog;
    builtEngine = null;
    return engineInfo(loaded);
  },

  async writePrompt(request, onText) {
    return withSession(async (l, signal) => {
      promptListener = onText ?? null;
      try {
        return await neuralEngine(l).writePrompt(request, signal);
      } finally {
        promptListener = null;
      }
    });
  },

  async selectModel(request, prompt, allowedModelIds) {
    return withSession((l, signal) => neuralEngine(l).selectModel(request, prompt, allowedModelIds ? { allowedModelIds: new Set(allowedModelIds) } : {}, signal));
  },

  async configureArguments(request, prompt, model, seed) {
    return withSession((l, signal) => neuralEngine(l).configureArguments(request, prompt, model, seed, signal));
  },

  async trainHead(options, onProgress) {
    const { restart, ...settings } = options;
    return withSession(async (l, signal) => {
      const result = await trainerFor(l).train(settings, { signal, ...(onProgress ? { onProgress } : {}), ...(restart ? { restart } : {}) });
      return adoptTrainedHead(l, result);
    });
  },

  async addModelRow(modelId, options, onProgress) {
    return withSession(async (l, signal) => {
      const result = await trainerFor(l).addModel(l.pack.head ?? createHead([], l.session.hiddenSize), modelId, options, { signal, ...(onProgress ? { onProgress } : {}) });
      return adoptTrainedHead(l, result);
    });
  },

  async exportHead() {
    if (!loaded) throw new Error('no pack is loaded: call load() first');
    const { head, manifest } = loaded.pack;
    if (!head) throw new Error(`pack "${manifest.name}" has no ModelToken head yet: train one first`);
    return { pack: manifest.name, bytes: encodeHeadFile(head), entry: { file: manifest.head?.file ?? 'head.f32', dim: head.dim, model_ids: [...head.modelIds] } };
  },

  async cancel() {
    running?.abort();
    downloading?.abort();
  },

  async unload() {
    running?.abort();
    if (loaded) await loaded.session.dispose();
    loaded = null;
    builtEngine = null;
    headTrainer = null;
    exampleCache = null;
    gpuDevice = null;
  },

  async loseGpuDevice() {
    if (!gpuDevice) return false;
    const device = gpuDevice;
    device.destroy();
    await device.lost;
    return true;
  },
};

Comlink.expose(api);
