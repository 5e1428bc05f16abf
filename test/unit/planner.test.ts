import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import type { PipelineEvent, PlanResult } from '../../src/core/pipeline.ts';
import { Planner, type PlanCache } from '../../src/core/planner.ts';

const starterDir = path.resolve(import.meta.dirname, '../../public/models/starter');
const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(path.join(starterDir, 'catalog.jsonl'), 'utf8') },
    demonstrations: {
      file: 'demonstrations.jsonl',
      text: readFileSync(path.join(starterDir, 'demonstrations.jsonl'), 'utf8'),
    },
  },
  'starter',
);

class MapCache implements PlanCache {
  readonly entries = new Map<string, PlanResult>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async put(key: string, result: PlanResult) {
    this.entries.set(key, structuredClone(result));
  }
}

describe('Planner', () => {
  const input = { messages: ['a cozy watercolor fox reading in a library, autumn vibes'], images: [] };

  it('plans the same chat twice to the same plan, the second time from the cache, replaying the stage events', async () => {
    const cache = new MapCache();
    const planner = new Planner(catalog, createDefaultEngine(catalog), cache);
    const firstEvents: PipelineEvent['type'][] = [];
    const first = await planner.plan(input, {}, (e) => firstEvents.push(e.type));
    expect(first.cached).toBe(false);
    expect(firstEvents).toEqual(['stage-start', 'prompt', 'stage-start', 'model', 'stage-start', 'arguments']);

    const secondEvents: PipelineEvent['type'][] = [];
    const second = await planner.plan(
      { messages: ['  a cozy watercolor fox reading in a library,   autumn vibes '], images: [] },
      {},
      (e) => secondEvents.push(e.type),
    );
    expect(second.cached).toBe(true);
    expect(second.cacheKey).toBe(first.cacheKey);
    expect(second.result.plan).toEqual(first.result.plan);
    expect(secondEvents).toEqual(['prompt', 'model', 'arguments']);

    // A new planner over the same catalog (a reload) hits the same entry; options are part of the key.
    const again = new Planner(catalog, createDefaultEngine(catalog), cache);
    expect((await again.plan(input)).cached).toBe(true);
    expect((await again.plan(input, { seed: 7 })).cached).toBe(false);
  });

  it('keeps the choice among allowed models and derives the seed from the chat', async () => {
    const planner = new Planner(catalog, createDefaultEngine(catalog), null);
    const allowed = catalog.models
      .filter((m) => m.type === 'Checkpoint')
      .slice(0, 3)
      .map((m) => m.id);
    const { result } = await planner.plan(input, { allowedModelIds: allowed });
    expect(allowed).toContain(result.plan.model.id);
    // Of the installed models, those the request may get (general checkpoints, or models it names) compete.
    expect(result.model.evidence.competing).toBeGreaterThanOrEqual(1);
    expect(result.model.evidence.competing).toBeLessThanOrEqual(3);
    const other = await planner.plan({ messages: ['a red sports car at night'], images: [] });
    expect(other.result.plan.arguments.seed).not.toBe(result.plan.arguments.seed);
    expect((await planner.plan(input, { seed: 123 })).result.plan.arguments.seed).toBe(123);
  });

  it('stops when cancelled', async () => {
    const planner = new Planner(catalog, createDefaultEngine(catalog), null);
    const controller = new AbortController();
    controller.abort();
    await expect(planner.plan(input, {}, undefined, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
