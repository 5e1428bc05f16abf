/**
 * The default engine's CatalogIndex (parsed catalog included) as a snapshot of typed arrays and a few
 * long strings, so a reload restores it from IndexedDB instead of parsing JSONL and tokenising every
 * document again. Every field of CatalogIndex has an entry in FIELDS (the mapped type makes a new field
 * without one a type error): stored as typed arrays (the big tables and the per-model records, as
 * columns), stored as is (`cloned`: small tables IndexedDB's structured clone copies quickly, Maps and
 * Sets included), or derived at load from the fields already restored (tables that are cheap to
 * recompute). test/unit/index-snapshot.test.ts deep-compares a restored index with a freshly built
 * one, so a field that is stored or derived wrongly fails there.
 */
import type { Catalog, CatalogModel, Demonstration } from '../../catalog/types.ts';
import { hashString } from '../../hash.ts';
import { Bm25Index, type Bm25Snapshot } from '../../retrieval/bm25.ts';
import {
  decodeRecords,
  decodeStrings,
  encodeRecords,
  encodeStrings,
  type RecordTable,
  type StringTable,
} from '../../snapshot/columns.ts';
import { DEFAULT_FIELD_WEIGHTS, type CatalogField, type CatalogIndex, type FieldWeights } from './index-build.ts';

/**
 * Bump when buildCatalogIndex, the rules behind its derived tables (model-traits.ts: traits, naming,
 * addable vocabulary) or this encoding change: older snapshots are then rebuilt from the catalog.
 */
export const INDEX_SNAPSHOT_FORMAT = 8;

export interface CatalogIndexSnapshot {
  format: number;
  fields: Record<string, unknown>;
}

/** Says which snapshots fit: the format and the field weights the index was built with. */
export function indexSnapshotKey(weights: FieldWeights = DEFAULT_FIELD_WEIGHTS): string {
  return `${INDEX_SNAPSHOT_FORMAT}:${hashString(JSON.stringify(weights))}`;
}

type Stored<T> = {
  store: (index: CatalogIndex) => unknown;
  restore: (data: never, restored: Partial<CatalogIndex>) => T;
};
type Derived<T> = { derive: (restored: Partial<CatalogIndex>) => T };

const stored = <T, D>(
  store: (index: CatalogIndex) => D,
  restore: (data: D, restored: Partial<CatalogIndex>) => T,
): Stored<T> => ({ store, restore }) as Stored<T>;
/** Kept as is: IndexedDB's structured clone copies it (typed arrays at memcpy speed; Maps, Sets and per-model tables quickly). */
const cloned = <K extends keyof CatalogIndex>(key: K): Stored<CatalogIndex[K]> =>
  stored(
    (index) => index[key],
    (data: CatalogIndex[K]) => data,
  );
/** A table with a record per model, as columns: restoring thousands of small objects from IndexedDB costs more. */
const records = <K extends 'traits' | 'phrases'>(key: K): Stored<CatalogIndex[K]> =>
  stored(
    (index) => encodeRecords(index[key]),
    (data: RecordTable) => decodeRecords(data) as CatalogIndex[K],
  );
const bm25 = (pick: (index: CatalogIndex) => Bm25Index): Stored<Bm25Index> =>
  stored(
    (index) => pick(index).snapshot(),
    (data: Bm25Snapshot) => Bm25Index.fromSnapshot(data),
  );

function storeMapOfRows(map: ReadonlyMap<string, readonly number[]>): {
  keys: StringTable;
  offsets: Uint32Array;
  rows: Int32Array;
} {
  const keys = [...map.keys()];
  const offsets = new Uint32Array(keys.length + 1);
  keys.forEach((k, i) => (offsets[i + 1] = offsets[i]! + map.get(k)!.length));
  const rows = new Int32Array(offsets[keys.length]!);
  keys.forEach((k, i) => rows.set(map.get(k)!, offsets[i]!));
  return { keys: encodeStrings(keys), offsets, rows };
}

function restoreMapOfRows(data: { keys: StringTable; offsets: Uint32Array; rows: Int32Array }): Map<string, number[]> {
  const map = new Map<string, number[]>();
  decodeStrings(data.keys).forEach((k, i) =>
    map.set(k, Array.from(data.rows.subarray(data.offsets[i]!, data.offsets[i + 1]!))),
  );
  return map;
}

const need = <K extends keyof CatalogIndex>(restored: Partial<CatalogIndex>, key: K): CatalogIndex[K] => {
  const value = restored[key];
  if (value === undefined) throw new Error(`index snapshot: "${String(key)}" is needed before it is restored`);
  return value as CatalogIndex[K];
};

const CATALOG_FIELDS: CatalogField[] = ['name', 'tags', 'trained_words', 'description'];

/** How each field is kept, in restore order (a derived field may use those before it). */
const FIELDS: { [K in keyof CatalogIndex]-?: Stored<CatalogIndex[K]> | Derived<CatalogIndex[K]> } = {
  catalog: stored(
    ({ catalog }) => ({
      source: catalog.source,
      version: catalog.version,
      models: encodeRecords(catalog.models),
      demonstrations: encodeRecords(catalog.demonstrations),
    }),
    (data: { source: string; version: string; models: RecordTable; demonstrations: RecordTable }): Catalog => ({
      source: data.source,
      version: data.version,
      models: decodeRecords<CatalogModel>(data.models),
      demonstrations: decodeRecords<Demonstration>(data.demonstrations),
    }),
  ),
  models: { derive: (r) => need(r, 'catalog').models },
  demonstrations: { derive: (r) => need(r, 'catalog').demonstrations },
  modelRow: { derive: (r) => new Map(need(r, 'models').map((m, i) => [m.id, i])) },
  demoModelRow: cloned('demoModelRow'),
  demosOfModel: {
    derive: (r) => {
      const demosOfModel: number[][] = need(r, 'models').map(() => []);
      need(r, 'demoModelRow').forEach((row, i) => {
        if (row >= 0) demosOfModel[row]!.push(i);
      });
      return demosOfModel;
    },
  },
  modelIndex: bm25((index) => index.modelIndex),
  demoIndex: bm25((index) => index.demoIndex),
  fieldIndex: stored(
    (index) =>
      Object.fromEntries(CATALOG_FIELDS.map((f) => [f, index.fieldIndex[f].snapshot()])) as Record<
        CatalogField,
        Bm25Snapshot
      >,
    (data: Record<CatalogField, Bm25Snapshot>) =>
      Object.fromEntries(CATALOG_FIELDS.map((f) => [f, Bm25Index.fromSnapshot(data[f])])) as Record<
        CatalogField,
        Bm25Index
      >,
  ),
  nameRows: stored((index) => storeMapOfRows(index.nameRows), restoreMapOfRows),
  joinableNames: stored(
    (index) => encodeStrings([...index.joinableNames]),
    (data: StringTable) => new Set(decodeStrings(data)),
  ),
  nameIdfTotal: cloned('nameIdfTotal'),
  popularity: cloned('popularity'),
  traits: records('traits'),
  phrases: records('phrases'),
  naming: cloned('naming'),
  namingRows: stored((index) => storeMapOfRows(index.namingRows), restoreMapOfRows),
  generalRows: cloned('generalRows'),
  addableTerms: cloned('addableTerms'),
  checkpointKeys: cloned('checkpointKeys'),
};

export function snapshotCatalogIndex(index: CatalogIndex): CatalogIndexSnapshot {
  const fields: Record<string, unknown> = {};
  for (const [key, codec] of Object.entries(FIELDS) as [keyof CatalogIndex, Stored<unknown> | Derived<unknown>][]) {
    if ('store' in codec) fields[key] = codec.store(index);
  }
  return { format: INDEX_SNAPSHOT_FORMAT, fields };
}

export function restoreCatalogIndex(snapshot: CatalogIndexSnapshot): CatalogIndex {
  if (snapshot.format !== INDEX_SNAPSHOT_FORMAT)
    throw new Error(`index snapshot format ${snapshot.format}, expected ${INDEX_SNAPSHOT_FORMAT}`);
  const restored: Partial<Record<keyof CatalogIndex, unknown>> = {};
  for (const [key, codec] of Object.entries(FIELDS) as [keyof CatalogIndex, Stored<unknown> | Derived<unknown>][]) {
    if ('store' in codec) {
      if (!(key in snapshot.fields)) throw new Error(`index snapshot lacks "${key}"`);
      restored[key] = codec.restore(snapshot.fields[key] as never, restored as Partial<CatalogIndex>);
    }
  }
  for (const [key, codec] of Object.entries(FIELDS) as [keyof CatalogIndex, Stored<unknown> | Derived<unknown>][]) {
    if ('derive' in codec) restored[key] = codec.derive(restored as Partial<CatalogIndex>);
  }
  return restored as CatalogIndex;
}
