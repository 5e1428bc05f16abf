/** The page's handle on the engine worker (one per page, created on first use). */
import * as Comlink from 'comlink';
import type { EngineWorkerApi } from '../../workers/engine-api.ts';

let remote: Comlink.Remote<EngineWorkerApi> | null = null;

export function engineWorker(): Comlink.Remote<EngineWorkerApi> {
  remote ??= Comlink.wrap<EngineWorkerApi>(
    new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' }),
  );
  return remote;
}

export { Comlink };
