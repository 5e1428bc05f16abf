/**
 * The one place that starts workers. Each `new Worker(new URL(...))` stays literal so that Vite bundles
 * the worker; the page and the engine worker call these instead of naming worker files themselves.
 * The LLM worker is started by the engine worker (the page talks to one worker), wrapped so that its
 * callbacks cross the boundary as comlink proxies.
 */
import * as Comlink from 'comlink';
import type { NeuralRuntime } from '../core/engines/neural/runtime-api.ts';
import type { BenchWorkerApi } from '../../workers/bench-api.ts';
import type { EngineWorkerApi } from '../../workers/engine-api.ts';
import type { LlmWorkerApi } from '../../workers/llm-api.ts';
import type { ScoreWorkerApi } from '../../workers/score-api.ts';

export interface SpawnedWorker<T> {
  worker: Worker;
  api: Comlink.Remote<T>;
}

function spawned<T>(worker: Worker): SpawnedWorker<T> {
  return { worker, api: Comlink.wrap<T>(worker) };
}

export const startEngineWorker = (): SpawnedWorker<EngineWorkerApi> =>
  spawned(new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' }));

export const startLlmWorker = (): SpawnedWorker<LlmWorkerApi> =>
  spawned(new Worker(new URL('../../workers/llm.worker.ts', import.meta.url), { type: 'module', name: 'llm' }));

export const startScoreWorker = (): SpawnedWorker<ScoreWorkerApi> =>
  spawned(new Worker(new URL('../../workers/score.worker.ts', import.meta.url), { type: 'module', name: 'score' }));

export const startBenchWorker = (): SpawnedWorker<BenchWorkerApi> =>
  spawned(new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module', name: 'bench' }));

/**
 * Rejects when the worker can no longer answer: an uncaught error in it, or a reply the page cannot
 * read (`messageerror`). Comlink never settles a call in either case, so a caller races its calls
 * against this to show an error instead of waiting forever.
 */
export function workerFailure(worker: Worker, name: string): Promise<never> {
  const failure = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      reject(new Error(`the ${name} worker stopped: ${event.message || 'an error without a message'}`));
    });
    worker.addEventListener('messageerror', () =>
      reject(new Error(`the ${name} worker sent a reply this page could not read`)),
    );
  });
  // Nobody may be waiting when the worker fails between calls; the next call still sees the rejection.
  failure.catch(() => undefined);
  return failure;
}

/** A progress callback as a worker call receives it: a comlink proxy back to the page. */
export type ProgressCallback<P> = ((progress: P) => void) & Comlink.ProxyMarked;

/**
 * Runs one worker call that reports progress, and drops whatever progress arrives after the call settled.
 * Comlink sends a proxied callback's calls on a MessagePort of their own and the call's answer on the
 * worker's port; a browser keeps no order between two ports, so the last progress can arrive after the
 * answer and overwrite what the page shows for it (the Bench page's "6 / 6 runs" over "3 of 3 items in
 * 1.2 s"). `call` wraps each of its callbacks with `relay`; they fall silent before the caller resumes.
 */
export async function callWithProgress<R>(
  call: (relay: <P>(onProgress: (progress: P) => void) => ProgressCallback<P>) => Promise<R>,
): Promise<R> {
  let settled = false;
  try {
    return await call((onProgress) =>
      Comlink.proxy((progress) => {
        if (!settled) onProgress(progress);
      }),
    );
  } finally {
    settled = true;
  }
}

const proxied = <F extends (...args: never[]) => unknown>(callback: F | undefined): F | undefined =>
  callback ? (Comlink.proxy(callback) as unknown as F) : undefined;

/** The LLM worker as the engine host's NeuralRuntime: the same calls, callbacks sent as proxies. */
export function llmWorkerRuntime(): NeuralRuntime {
  const { api } = startLlmWorker();
  return {
    configure: (config) => api.configure(config),
    load: (url, onProgress) => api.load(url, proxied(onProgress)),
    status: () => api.status(),
    useCatalog: (catalog) => api.useCatalog(catalog),
    writePrompt: (request, onText) => api.writePrompt(request, proxied(onText)),
    selectModel: (request, prompt, allowed) => api.selectModel(request, prompt, allowed),
    configureArguments: (request, prompt, model, seed) => api.configureArguments(request, prompt, model, seed),
    trainHead: (options, onProgress) => api.trainHead(options, proxied(onProgress)),
    addModelRow: (modelId, options, onProgress) => api.addModelRow(modelId, options, proxied(onProgress)),
    exportHead: () => api.exportHead(),
    cancel: () => api.cancel(),
    unload: () => api.unload(),
  };
}
