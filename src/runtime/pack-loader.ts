/// <reference lib="webworker" />
/**
 * Opening a model pack inside a worker, shared by the LLM worker (which plans with it) and the bench
 * worker (which benchmarks it): the pack's files from its URL, its decoder through
 * @huggingface/transformers on WebGPU when the browser gives an adapter (fp16 variants only with
 * `shader-f16`), else WASM, saying why in `notice`; packs whose export lacks the hidden state get it by
 * the ONNX graph edit as the file is fetched; a head trained earlier in this browser is found in
 * IndexedDB by the pack's URL. Used by the LLM host and the bench worker.
 */
import { env, type ProgressInfo } from '@huggingface/transformers';
import { readBody } from '../core/bytes.ts';
import { dtypeFor } from '../core/engines/neural/curated.ts';
import {
  applyHubUrl,
  createHubFetch,
  explainHubFailure,
  type HubFailure,
  type PartialDownloads,
} from '../core/engines/neural/hub.ts';
import { onnxFileForDtype, type PackDtype } from '../core/engines/neural/manifest.ts';
import { loadPack, type LoadedPack, type PackFiles } from '../core/engines/neural/pack.ts';
import type { LlmBackend, LlmHeadInfo, LlmLoadProgress } from '../core/engines/neural/runtime-api.ts';
import { TransformersLlmSession, type LlmDtype } from '../core/engines/neural/transformers-session.ts';
import { TransformersVisionSession } from '../core/engines/neural/transformers-vision-session.ts';
import { validateHead, type ModelTokenHead } from '../core/modeltoken.ts';
import { exposeHiddenState } from '../core/onnx/hidden.ts';
import type { HeadStore } from '../storage/heads.ts';
import { openWithFallback } from './backend.ts';

/** A text pack's decoder, or a vision-language pack's (vision encoder, embeddings and decoder). */
export type PackSession = TransformersLlmSession | TransformersVisionSession;

const nativeFetch = self.fetch.bind(self);

function packUrlFiles(url: string): PackFiles {
  const base = new URL(url.endsWith('/') ? url : `${url}/`, self.location.href);
  const get = async (p: string) => {
    const response = await nativeFetch(new URL(p, base));
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${new URL(p, base).pathname}`);
    // Dev servers and SPA hosts answer a missing file with the app's page: say that, not a JSON parse error.
    if (response.headers.get('content-type')?.includes('text/html')) {
      throw new Error(
        `${new URL(p, base).pathname} is not there (the server answered with an HTML page): is the URL a pack folder?`,
      );
    }
    return response;
  };
  return {
    location: base.pathname.replace(/\/$/, ''),
    readText: async (p) => (await get(p)).text(),
    readBytes: async (p) => new Uint8Array(await (await get(p)).arrayBuffer()),
  };
}

function chooseDtype(available: readonly PackDtype[], backend: LlmBackend, shaderF16: boolean): PackDtype {
  const chosen = dtypeFor(available, backend, shaderF16);
  if (!chosen)
    throw new Error(
      `the pack offers only ${available.join(', ')}, none of which runs on ${backend}${backend === 'webgpu' ? ' without shader-f16' : ''}`,
    );
  return chosen;
}

/** Parts of hub files whose download was cut short, kept in Cache Storage so that the next load resumes them. */
const PARTIAL_CACHE = 'chatgen-partial-downloads';
function cachePartialDownloads(): PartialDownloads | undefined {
  if (!('caches' in self)) return undefined;
  return {
    async get(url) {
      const hit = await (await caches.open(PARTIAL_CACHE)).match(url);
      const etag = hit?.headers.get('etag');
      return hit && etag ? { bytes: new Uint8Array(await hit.arrayBuffer()), etag } : null;
    },
    async put(url, bytes, etag) {
      await (await caches.open(PARTIAL_CACHE)).put(url, new Response(bytes as BlobPart, { headers: { etag } }));
    },
    async delete(url) {
      await (await caches.open(PARTIAL_CACHE)).delete(url);
    },
  };
}

/** Where hub packs download from, and what cancels a download (both set per load by the LLM worker). */
export interface HubAccess {
  hubUrl?: string;
  signal?: AbortSignal;
}

/** Opens the pack's decoder on one backend, in the best dtype that backend runs. */
export async function openPackOn(
  url: string,
  pack: LoadedPack,
  backend: LlmBackend,
  shaderF16: boolean,
  onProgress?: (p: LlmLoadProgress) => void,
  hub: HubAccess = {},
): Promise<PackSession> {
  const { manifest } = pack;
  const dtype = chooseDtype(manifest.dtypes, backend, shaderF16);
  const base = new URL(url.endsWith('/') ? url : `${url}/`, self.location.href);
  let model: string;
  let hubUrl: string | null = null;
  if ('hub_id' in manifest.base_model) {
    hubUrl = applyHubUrl(env, hub.hubUrl);
    env.allowLocalModels = false;
    model = manifest.base_model.hub_id;
  } else {
    const modelUrl = new URL(
      manifest.base_model.path.endsWith('/') ? manifest.base_model.path : `${manifest.base_model.path}/`,
      base,
    );
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    if (modelUrl.origin !== self.location.origin)
      throw new Error(`the pack's base model must be served by this app (${modelUrl.origin} is another origin)`);
    // A path, not a URL: transformers.js 4.3 checks that local files exist only for paths.
    env.localModelPath = new URL('..', modelUrl).pathname;
    model = modelUrl.pathname.split('/').filter(Boolean).at(-1)!;
  }
  const onnxFile = `/onnx/${onnxFileForDtype(dtype)}`;
  // Adds the hidden-state output to the decoder as it is fetched (one copy of the weights), and
  // reports byte progress for it, since transformers.js then receives the edited buffer at once.
  let failure: HubFailure | null = null;
  const hubFetch = createHubFetch({
    fetch: nativeFetch,
    ...(hubUrl ? { partial: cachePartialDownloads() } : {}),
    ...(hub.signal ? { signal: hub.signal } : {}),
    onFailure: (f) => void (failure ??= f),
  });
  env.fetch = async (input: string | URL, init?: RequestInit) => {
    const href = typeof input === 'string' ? input : input.href;
    const response = await hubFetch(input, init);
    if (
      manifest.hidden_state_output !== null ||
      !response.ok ||
      !new URL(href, self.location.href).pathname.endsWith(onnxFile)
    )
      return response;
    const bytes = await readBody(response, {
      onProgress: (loaded, total) => onProgress?.({ file: onnxFile.slice(1), loaded, total }),
    });
    const edited = exposeHiddenState(bytes).bytes;
    return new Response(edited as BlobPart, {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(edited.length) },
    });
  };
  const sessionClass = manifest.architecture === 'vision-language' ? TransformersVisionSession : TransformersLlmSession;
  const load = sessionClass.load({
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
  try {
    return await load;
  } catch (err) {
    if (hub.signal?.aborted)
      throw new Error(
        'the download was cancelled; the files already downloaded stay cached and the next load resumes the rest',
      );
    if (failure && hubUrl) throw new Error(explainHubFailure(failure, hubUrl), { cause: err });
    throw err;
  }
}

export interface PackRuntime {
  /** onnxruntime-web's WASM build, served by the app itself (never a CDN). */
  wasmPaths: { mjs: string; wasm: string };
  /** 'webgpu' tries WebGPU first and falls back to WASM; 'wasm' never tries WebGPU. */
  prefer: LlmBackend;
  numThreads?: number;
}

export interface OpenedPack {
  pack: LoadedPack;
  session: PackSession;
  backend: LlmBackend;
  shaderF16: boolean;
  /** Why WASM runs although WebGPU was wanted. */
  notice: string | null;
}

/** Loads the pack at `url` and opens its decoder, WebGPU first when preferred, falling back to WASM. */
export async function openPack(
  url: string,
  runtime: PackRuntime,
  onProgress?: (p: LlmLoadProgress) => void,
  hub: HubAccess = {},
): Promise<OpenedPack> {
  const pack = await loadPack(packUrlFiles(url));
  env.backends.onnx.wasm!.wasmPaths = runtime.wasmPaths;
  env.backends.onnx.wasm!.numThreads = runtime.numThreads ?? 1;
  env.useBrowserCache = 'caches' in self;
  const opened = await openWithFallback(runtime.prefer, 'the model', (backend, gpu) => {
    if (gpu) env.backends.onnx.webgpu!.adapter = gpu.adapter;
    return openPackOn(url, pack, backend, gpu?.shaderF16 ?? false, onProgress, hub);
  });
  return {
    pack,
    session: opened.value,
    backend: opened.backend,
    shaderF16: opened.gpu?.shaderF16 ?? false,
    notice: opened.notice,
  };
}

/** A head trained earlier in this browser for the pack at `url` (saved in IndexedDB), if it fits the decoder. */
export async function savedHead(
  heads: HeadStore,
  url: string,
  hiddenSize: number,
): Promise<{ head: ModelTokenHead; info: LlmHeadInfo } | null> {
  // Storage that cannot be read (e.g. blocked by the browser) leaves the pack's own head in use.
  const record = await heads.get(url);
  if (!record || record.dim !== hiddenSize) return null;
  const head = validateHead({ dim: record.dim, modelIds: record.model_ids, weights: record.weights });
  return {
    head,
    info: {
      source: 'trained',
      rows: head.modelIds.length,
      dim: head.dim,
      accuracy: record.train_accuracy ?? null,
      saved: record.created,
    },
  };
}
