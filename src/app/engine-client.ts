/** The page's handle on the engine worker (one per page, created on first use). */
import * as Comlink from 'comlink';
import type { EngineWorkerApi } from '../../workers/engine-api.ts';
import { startEngineWorker } from '../runtime/workers.ts';

let remote: Comlink.Remote<EngineWorkerApi> | null = null;

export function engineWorker(): Comlink.Remote<EngineWorkerApi> {
  remote ??= startEngineWorker().api;
  return remote;
}

export { Comlink };
