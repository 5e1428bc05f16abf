/**
 * The engines a benchmark can name, built from a catalog. The CLI and the app's Bench page share this
 * list so that "baseline,default" means the same engines in both.
 */
import type { Catalog } from '../catalog/types.ts';
import { createBaselineEngine } from '../engines/baseline.ts';
import { createDefaultEngine } from '../engines/default/index.ts';
import type { Engine } from '../engines/engine.ts';
import type { BenchEngine } from './run.ts';

export const BENCH_ENGINE_FACTORIES: Readonly<Record<string, (catalog: Catalog) => Engine | Promise<Engine>>> = {
  baseline: createBaselineEngine,
  default: (catalog) => createDefaultEngine(catalog),
};

export class UnknownEngineError extends Error {
  override name = 'UnknownEngineError';
}

/** Parses "baseline,default" into engine names, checking each is known. */
export function parseEngineList(list: string): string[] {
  const names = list.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0) throw new UnknownEngineError('no engine named: give e.g. --engines baseline,default');
  for (const n of names) {
    if (!Object.hasOwn(BENCH_ENGINE_FACTORIES, n)) {
      throw new UnknownEngineError(`unknown engine "${n}"; known engines: ${Object.keys(BENCH_ENGINE_FACTORIES).join(', ')}`);
    }
  }
  return [...new Set(names)];
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Builds the named engines in order, timing each build. */
export async function buildBenchEngines(names: readonly string[], catalog: Catalog): Promise<BenchEngine[]> {
  const built: BenchEngine[] = [];
  for (const name of names) {
    const factory = BENCH_ENGINE_FACTORIES[name];
    if (!factory) throw new UnknownEngineError(`unknown engine "${name}"`);
    const started = now();
    const engine = await factory(catalog);
    built.push({ engine, setupMs: now() - started });
  }
  return built;
}
