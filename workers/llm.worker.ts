/// <reference lib="webworker" />
/**
 * The LLM worker: one lazily loaded decoder (a model pack) through @huggingface/transformers, on
 * WebGPU when the browser gives an adapter (fp16 variants only with `shader-f16`), else WASM. When
 * WebGPU fails to load the model, or the device is lost mid-run, it reloads on WASM and says so in
 * `notice`. Packs whose export lacks the hidden state get it by the ONNX graph edit as the file is
 * fetched. Vision-language packs (LLaVA layout) read the chat's reference image in stage 1. A thin
 * adapter: the stages live in src/core/engines/neural.
 */
import * as Comlink from 'comlink';
import { env, type ProgressInfo } from '@huggingface/transformers';
import { guardQuota, openAppDb } from '../src/app/db.ts';
import { loadCatalog, type CatalogTexts } from '../src/core/catalog/load.ts';
import type { Catalog } from '../src/core/catalog/types.ts';
import type { ChatInput } from '../src/core/chat.ts';
import { createNeuralEngine, type NeuralEngine } from '../src/core/engines/neural/index.ts';
import { PackHeadTrainer, type ExampleCache, type HeadTrainingResult } from '../src/core/engines/neural/head-training.ts';
import { encodeHeadFile, onnxFileForDtype, type PackDtype } from '../src/core/engines/neural/manifest.ts';
import { loadPack, type LoadedPack, type PackFiles } from '../src/core/engines/neural/pack.ts';
import { generateGreedy } from '../src/core/engines/neural/session.ts';
import { TransformersLlmSession, type LlmDtype } from '../src/core/engines/neural/transformers-session.ts';
import { TransformersVisionSession } from '../src/core/engines/neural/transformers-vision-session.ts';
import { validateHead, type ModelTokenHead } from '../src/core/modeltoken.ts';
import { exposeHiddenState } from '../src/core/onnx/hidden.ts';
import { runPipeline, type PipelineEvent, type PlanResult } from '../src/core/pipeline.ts';
import type {
  LlmBackend,
  LlmGenerateResult,
  LlmHeadInfo,
  LlmHeadTrainingReport,
  LlmLoadProgress,
  LlmStatus,
  LlmWorkerApi,
  LlmWorkerConfig,
} from './llm-api.ts';

/** A text pack's decoder, or a vision-language pack's (vision encoder, embeddings and decoder). */
type PackSession = TransformersLlmSession | TransformersVisionSession;

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
const nativeFetch = self.fetch.bind(self);

function packUrlFiles(url: string): PackFiles {
  const base = new URL(url.endsWith('/') ? url : `${url}/`, self.location.href);
  const get = async (p: string) => {
    const response = await nativeFetch(new URL(p, base));
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${new URL(p, base).pathname}`);
    // Dev servers and SPA hosts answer a missing file with the app's page: say that, not a JSON parse error.
    if (response.headers.get('content-type')?.includes('text/html')) {
      throw new Error(`${new URL(p, base).pathname} is not there (the server answered with an HTML page): is the URL a pack folder?`);
    }
    return response;
  };
  return {
    location: base.pathname.replace(/\/$/, ''),
    readText: async (p) => (await get(p)).text(),
    readBytes: async (p) => new Uint8Array(await (await get(p)).arrayBuffer()),
  };
}

/** Reads a response body, reporting progress, into one buffer. */
async function readWithProgress(response: Response, file: string, onProgress?: (p: LlmLoadProgress) => void): Promise<Uint8Array> {
  const total = Number(response.headers.get('content-length')) || null;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    onProgress?.({ file, loaded: size, total });
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The WebGPU adapter, and whether it offers shader-f16 (fp16 variants run only then). */
async function webGpuAdapter(): Promise<{ adapter: GPUAdapter; shaderF16: boolean } | { error: string }> {
  if (!('gpu' in navigator) || !navigator.gpu) return { error: 'this browser has no WebGPU' };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { error: 'no WebGPU adapter is available' };
  return { adapter, shaderF16: adapter.features.has('shader-f16') };
}

/** Watches the device onnxruntime created, so that its loss switches the next run to WASM. */
async function watchDevice(): Promise<void> {
  const device = await env.backends.onnx.webgpu!.device;
  gpuDevice = device;
  deviceLost = null;
  void device.lost.then((info) => {
    if (gpuDevice === device) deviceLost = `the WebGPU device was lost (${info.reason || 'unknown'}: ${info.message || 'no message'})`;
  });
}

function chooseDtype(available: readonly PackDtype[], backend: LlmBackend, shaderF16: boolean): PackDtype {
  const usable = available.filter((d) => backend === 'webgpu' ? shaderF16 || (d !== 'fp16' && d !== 'q4f16') : d !== 'fp16' && d !== 'q4f16');
  const chosen = usable[0];
  if (!chosen) throw new Error(`the pack offers only ${available.join(', ')}, none of which runs on ${backend}${backend === 'webgpu' ? ' without shader-f16' : ''}`);
  return chosen;
}

async function openOn(url: string, pack: LoadedPack, backend: LlmBackend, shaderF16: boolean, onProgress?: (p: LlmLoadProgress) => void): Promise<PackSession> {
  const { manifest } = pack;
  const dtype = chooseDtype(manifest.dtypes, backend, shaderF16);
  const base = new URL(url.endsWith('/') ? url : `${url}/`, self.location.href);
  let model: string;
  if ('hub_id' in manifest.base_model) {
    env.allowRemoteModels = true;
    env.allowLocalModels = false;
    model = manifest.base_model.hub_id;
  } else {
    const modelUrl = new URL(manifest.base_model.path.endsWith('/') ? manifest.base_model.path : `${manifest.base_model.path}/`, base);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    if (modelUrl.origin !== self.location.origin) throw new Error(`the pack's base model must be served by this app (${modelUrl.origin} is another origin)`);
    // A path, not a URL: transformers.js 4.3 checks that local files exist only for paths.
    env.localModelPath = new URL('..', modelUrl).pathname;
    model = modelUrl.pathname.split('/').filter(Boolean).at(-1)!;
  }
  const onnxFile = `/onnx/${onnxFileForDtype(dtype)}`;
  // Adds the hidden-state output to the decoder as it is fetched (one copy of the weights), and
  // reports byte progress for it, since transformers.js then receives the edited buffer at once.
  env.fetch = async (input: string | URL, init?: RequestInit) => {
    const href = typeof input === 'string' ? input : input.href;
    const response = await nativeFetch(input, init);
    if (manifest.hidden_state_output !== null || !response.ok || !new URL(href, self.location.href).pathname.endsWith(onnxFile)) return response;
    const bytes = await readWithProgress(response, onnxFile.slice(1), onProgress);
    const edited = exposeHiddenState(bytes).bytes;
    return new Response(edited as BlobPart, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(edited.length) } });
  };
  const sessionClass = manifest.architecture === 'vision-language' ? TransformersVisionSession : TransformersLlmSession;
  return sessionClass.load({
    model,
    device: backend,
    dtype: dtype as LlmDtype,
    hiddenOutput: manifest.hidden_state_output ?? 'last_hidden_state',
    chatTemplate: manifest.chat_template,
    onProgress: (info: ProgressInfo) => {
      if (info.status === 'progress') onProgress?.({ file: info.file, loaded: info.loaded, total: info.total });
      else if (info.status === 'done') onProgress?.({ file: info.file, loaded: 1, total: 1 });
    },
  });
}

const packHeadInfo = (head: ModelTokenHead): LlmHeadInfo => ({ source: 'pack', rows: head.modelIds.length, dim: head.dim, accuracy: null, saved: null });

/** The IndexedDB key of a pack's trained head: the pack's URL, so the same pack finds it when it loads again. */
const headRecordId = (url: string) => `head:${url}`;

/** Puts a head trained earlier for this pack (saved in IndexedDB) in place of the pack's head file. */
async function restoreTrainedHead(l: Loaded): Promise<Loaded> {
  // Storage that cannot be read (e.g. blocked by the browser) leaves the pack's own head in use.
  const record = await openAppDb()
    .then((db) => db.get('heads', headRecordId(l.url)))
    .catch(() => undefined);
  if (!record || record.dim !== l.session.hiddenSize) return l;
  const head = validateHead({ dim: record.dim, modelIds: record.model_ids, weights: record.weights });
  const info: LlmHeadInfo = { source: 'trained', rows: head.modelIds.length, dim: head.dim, accuracy: record.train_accuracy ?? null, saved: record.created };
  return { ...l, pack: { ...l.pack, head }, status: { ...l.status, head: info } };
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
  const engine = neuralEngine(loaded);
  return { pairs: result.pairs, encoded: result.encoded, loss: result.loss, accuracy: result.accuracy, engine: { name: engine.name, version: engine.version }, status: loaded.status, saveError };
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
  const pack = await loadPack(packUrlFiles(url));
  env.backends.onnx.wasm!.wasmPaths = config.wasmPaths;
  env.backends.onnx.wasm!.numThreads = config.numThreads ?? 1;
  env.useBrowserCache = 'caches' in self;
  let notice: string | null = null;
  let shaderF16 = false;
  if (config.prefer === 'webgpu') {
    const gpu = await webGpuAdapter();
    if ('error' in gpu) notice = `WebGPU is not available (${gpu.error}): running on WASM`;
    else {
      shaderF16 = gpu.shaderF16;
      env.backends.onnx.webgpu!.adapter = gpu.adapter;
      try {
        const session = await openOn(url, pack, 'webgpu', shaderF16, onProgress);
        await watchDevice();
        const status: LlmStatus = { pack: pack.manifest.name, backend: 'webgpu', dtype: session.dtype, notice: null, shaderF16, head: packHeadInfo(pack.head) };
        return { url, pack, session, status };
      } catch (err) {
        notice = `WebGPU failed to load the model (${err instanceof Error ? err.message : String(err)}): running on WASM`;
      }
    }
  }
  const session = await openOn(url, pack, 'wasm', false, onProgress);
  return { url, pack, session, status: { pack: pack.manifest.name, backend: 'wasm', dtype: session.dtype, notice, shaderF16, head: packHeadInfo(pack.head) } };
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
  const session = await openOn(previous.url, previous.pack, 'wasm', false);
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
      const engine = createNeuralEngine({ session: l.session, catalog, head: l.pack.head, pack: l.pack.manifest, ...(onPromptText ? { onPromptText } : {}) });
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
    const engine = neuralEngine(loaded);
    return { name: engine.name, version: engine.version };
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
      const result = await trainerFor(l).addModel(l.pack.head, modelId, options, { signal, ...(onProgress ? { onProgress } : {}) });
      return adoptTrainedHead(l, result);
    });
  },

  async exportHead() {
    if (!loaded) throw new Error('no pack is loaded: call load() first');
    const { head, manifest } = loaded.pack;
    return { pack: manifest.name, bytes: encodeHeadFile(head), entry: { file: manifest.head.file, dim: head.dim, model_ids: [...head.modelIds] } };
  },

  async cancel() {
    running?.abort();
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
