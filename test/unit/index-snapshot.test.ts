/**
 * The fast start's snapshot of the default engine's CatalogIndex: a restored index must equal a freshly
 * built one in every field (so a field added to CatalogIndex and not covered fails here), survive a
 * structured clone as IndexedDB makes one, and plan exactly as the built one does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { buildCatalogIndex } from '../../src/core/engines/default/index-build.ts';
import { restoreCatalogIndex, snapshotCatalogIndex } from '../../src/core/engines/default/index-snapshot.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { decodeRecords, encodeRecords } from '../../src/core/snapshot/columns.ts';

const starterDir = path.resolve(import.meta.dirname, '../../public/models/starter');
const read = (file: string) => ({ file, text: readFileSync(path.join(starterDir, file), 'utf8') });
const starter: Catalog = loadCatalog(
  { catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') },
  'starter',
).catalog;

describe('record columns', () => {
  it('round-trips records with optional, null, array, nested and irregular fields', () => {
    const records = [
      { id: 1, name: 'a', hash: null, tags: ['x', 'y'], args: { steps: 20, sampler: 'Euler a' }, extra: true },
      { id: 2.5, name: '', hash: 'abc', tags: [], args: { steps: 30, sampler: 'DDIM', clip_skip: 2 } },
      { id: -0, name: 'ünïcödé 🦊', tags: ['z'], args: { steps: 1, sampler: '' }, mixed: [1, 'two', { three: 3 }] },
    ];
    const restored = decodeRecords<object>(structuredClone(encodeRecords(records)));
    expect(restored).toStrictEqual(records);
    expect(Object.is((restored[2] as { id: number }).id, -0)).toBe(true);
  });
});

describe('CatalogIndex snapshot', () => {
  const built = buildCatalogIndex(starter);

  it('restores every field of a built index, also through a structured clone', () => {
    const restored = restoreCatalogIndex(structuredClone(snapshotCatalogIndex(built)));
    expect(Object.keys(restored).sort()).toEqual(Object.keys(built).sort());
    for (const key of Object.keys(built) as (keyof typeof built)[])
      expect(restored[key], key).toStrictEqual(built[key]);
  });

  it('keeps the parsed catalog exactly, every model and demonstration field included', () => {
    const restored = restoreCatalogIndex(structuredClone(snapshotCatalogIndex(built)));
    expect(restored.catalog).toStrictEqual(starter);
  });

  it('plans the same over a restored index as over a built one', async () => {
    const restored = restoreCatalogIndex(structuredClone(snapshotCatalogIndex(built)));
    const fromBuilt = createDefaultEngine(starter);
    const fromRestored = createDefaultEngine(restored.catalog, { index: restored });
    expect(fromRestored.version).toBe(fromBuilt.version);
    for (const message of [
      'a cozy watercolor fox reading in a library, autumn vibes',
      'anime girl, silver hair, cherry blossoms at night',
    ]) {
      const input = { messages: [message], images: [] };
      const a = await runPipeline(fromBuilt, input);
      const b = await runPipeline(fromRestored, input);
      expect(b.plan).toStrictEqual(a.plan);
    }
  });

  it('refuses a snapshot of another format', () => {
    expect(() => restoreCatalogIndex({ ...snapshotCatalogIndex(built), format: -1 })).toThrow(/format/);
  });
});
