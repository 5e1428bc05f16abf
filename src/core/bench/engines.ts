/**
 * The engines a benchmark can name, built from a catalog. The CLI and the app's Bench page share this
 * list so that "baseline,default" means the same engines in both. Some engines need more than the
 * catalog (the neural engine needs a loaded model pack); the caller loads those inputs where it runs
 * (Node: src/node/neural.ts) and hands them in.
 */
import type { Catalog } from '../catalog/types.ts';
import { createBaselineEngine } from '../engines/baseline.ts';
import { createDefaultEngine } from '../engines/default/index.ts';
import type { Engine } from '../engines/engine.ts';
import { createPackEngine, type RequestRules } from '../engines/neural/hybrid.ts';
import type { NeuralPackSettings } from '../engines/neural/index.ts';
import type { LlmSession } from '../engines/neural/session.ts';
import type { ModelTokenHead } from '../modeltoken.ts';
import type { BenchEngine } from './run.ts';

/** A model pack already opened on some runtime: its LLM session, ModelToken head (if any) and settings. */
export interface OpenedNeuralPack {
  session: LlmSession;
  /** Null for a pack without a head: it plans in hybrid mode (see engines/neural/hybrid.ts). */
  head: ModelTokenHead | null;
  manifest: NeuralPackSettings;
  /** The request rules stage 1 of hybrid planning passes through. */
  rules?: RequestRules;
}

/** What an engine may need beyond the catalog. */
export interface BenchEngineInputs {
  neuralPack?: OpenedNeuralPack;
}

interface BenchEngineEntry {
  build(catalog: Catalog, inputs: BenchEngineInputs): Engine | Promise<Engine>;
}

export class UnknownEngineError extends Error {
  override name = 'UnknownEngineError';
}

export class MissingEngineInputError extends Error {
  override name = 'MissingEngineInputError';
}

export const BENCH_ENGINES: Readonly<Record<string, BenchEngineEntry>> = {
  baseline: { build: createBaselineEngine },
  default: { build: (catalog) => createDefaultEngine(catalog) },
  neural: {
    build(catalog, { neuralPack }) {
      if (!neuralPack)
        throw new MissingEngineInputError(
          'the neural engine needs a model pack (a chatgen-pack/1 folder), and none was given',
        );
      // A head that cannot choose among this catalog's models leaves stages 2 and 3 to the default engine.
      const { session, head, manifest, rules } = neuralPack;
      return createPackEngine({
        session,
        catalog,
        head,
        pack: manifest,
        embedded: createDefaultEngine(catalog),
        ...(rules ? { rules } : {}),
      }).engine;
    },
  },
};

/** Parses "baseline,default" into engine names, checking each is known. */
export function parseEngineList(list: string): string[] {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  if (names.length === 0) throw new UnknownEngineError('no engine named: give e.g. --engines baseline,default');
  for (const n of names) {
    if (!Object.hasOwn(BENCH_ENGINES, n)) {
      throw new UnknownEngineError(`unknown engine "${n}"; known engines: ${Object.keys(BENCH_ENGINES).join(', ')}`);
    }
  }
  return [...new Set(names)];
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Builds the named engines in order, timing each build. */
export async function buildBenchEngines(
  names: readonly string[],
  catalog: Catalog,
  inputs: BenchEngineInputs = {},
): Promise<BenchEngine[]> {
  const built: BenchEngine[] = [];
  for (const name of names) {
    const entry = BENCH_ENGINES[name];
    if (!entry) throw new UnknownEngineError(`unknown engine "${name}"`);
    const started = now();
    const engine = await entry.build(catalog, inputs);
    built.push({ engine, setupMs: now() - started });
  }
  return built;
}
