/// <reference lib="webworker" />
/**
 * The engine worker: serves the core EngineHost (active catalog, engine choice with its neural ->
 * embedded fallback, plan cache) over comlink, with IndexedDB storage and the LLM worker as its neural
 * runtime (started on first use, from here, so the page talks to one worker). Protocol: ./engine-api.ts.
 */
import * as Comlink from 'comlink';
// onnxruntime-web's WASM build, served by the app itself: transformers.js would otherwise fetch it from a CDN.
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { fetchCatalogText } from '../src/core/catalog/fetch-text.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import type { Catalog } from '../src/core/catalog/types.ts';
import { EngineHost } from '../src/core/engine-host.ts';
import { llmWorkerRuntime } from '../src/runtime/workers.ts';
import { catalogStore } from '../src/storage/catalogs.ts';
import { planCacheStore } from '../src/storage/plan-cache.ts';
import { settingsStore } from '../src/storage/settings.ts';

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

function heapUsed(): number | null {
  const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return memory ? memory.usedJSHeapSize : null;
}

/** WASM threads for the LLM: half the cores up to 4, and only with cross-origin isolation. */
const llmThreads = () =>
  self.crossOriginIsolated ? Math.max(1, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2))) : 1;

const host = new EngineHost({
  catalogs: catalogStore(),
  settings: settingsStore(),
  planCache: planCacheStore(),
  starterCatalog,
  createNeuralRuntime: llmWorkerRuntime,
  neuralConfig: () => ({ wasmPaths: { mjs: ortWasmMjs, wasm: ortWasm }, numThreads: llmThreads() }),
  heapUsed,
});

// Callbacks from the page arrive as comlink proxies; the host passes them on to the LLM worker re-proxied.
Comlink.expose(host);
