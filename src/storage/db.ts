/**
 * The app's one IndexedDB database (idb). Every object store lives here so that versions and
 * migrations are in one place; the store modules beside this file (catalogs, plan cache, heads,
 * settings) and the app's stores open it with `openAppDb`. The IDBFactory is injectable so that Node
 * tests run the same code over fake-indexeddb.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { ChatInput } from '../core/chat.ts';
import type { PlanResult } from '../core/pipeline.ts';
import type { GenerationPlan } from '../core/plan.ts';
import type { CatalogRecord, CatalogSnapshotRecord, CatalogTextsRecord } from '../core/catalog/import.ts';

export type { CatalogRecord, CatalogSnapshotRecord, CatalogTextsRecord };

export const DB_NAME = 'chatgen-web';
/** 2: catalogs keep only what Settings lists; their texts and index snapshots live in stores of their own. */
export const DB_VERSION = 2;

export interface ChatRecord {
  id: string;
  created: number;
  updated: number;
  title: string;
  input: ChatInput;
  /** The plan shown for this chat, edits included; null while none was made. */
  result: PlanResult | null;
  /** The cache key under which `result` was computed. */
  plan_key: string | null;
  /** The plan as the user edited it before generating, when they did. */
  plan_edit?: GenerationPlan | null;
}

export interface PlanCacheRecord {
  key: string;
  created: number;
  result: PlanResult;
}

export interface GeneratedImage {
  blob: Blob;
  width: number;
  height: number;
  seed: number;
}

export interface ResultRecord {
  id: string;
  created: number;
  chat_id: string | null;
  /** Hash of plan + endpoint + seed: the same job sent twice is served from here. */
  job_key: string;
  plan: GenerationPlan;
  endpoint: { kind: string; url: string };
  images: GeneratedImage[];
  timings: Record<string, number>;
  /** Scores by image index then scorer pack id. */
  scores: Record<number, Record<string, number>>;
}

export interface HeadRecord {
  id: string;
  pack: string;
  created: number;
  model_ids: number[];
  dim: number;
  /** Row-major |M| x d. */
  weights: Float32Array;
  /** Train accuracy the head reached, for heads trained in the app. */
  train_accuracy?: number;
}

export interface SettingRecord {
  key: string;
  value: unknown;
}

export interface AppDbSchema extends DBSchema {
  chats: { key: string; value: ChatRecord; indexes: { updated: number } };
  plans: { key: string; value: PlanCacheRecord };
  results: { key: string; value: ResultRecord; indexes: { created: number; job_key: string } };
  catalogs: { key: string; value: CatalogRecord };
  catalog_texts: { key: string; value: CatalogTextsRecord };
  catalog_snapshots: { key: string; value: CatalogSnapshotRecord };
  heads: { key: string; value: HeadRecord };
  settings: { key: string; value: SettingRecord };
}

export type AppDb = IDBPDatabase<AppDbSchema>;

function upgrade(db: AppDb, oldVersion: number, transaction: IDBTransaction): void {
  if (oldVersion < 1) {
    db.createObjectStore('chats', { keyPath: 'id' }).createIndex('updated', 'updated');
    db.createObjectStore('plans', { keyPath: 'key' });
    const results = db.createObjectStore('results', { keyPath: 'id' });
    results.createIndex('created', 'created');
    results.createIndex('job_key', 'job_key');
    db.createObjectStore('catalogs', { keyPath: 'id' });
    db.createObjectStore('heads', { keyPath: 'id' });
    db.createObjectStore('settings', { keyPath: 'key' });
  }
  if (oldVersion < 2) {
    db.createObjectStore('catalog_texts', { keyPath: 'id' });
    db.createObjectStore('catalog_snapshots', { keyPath: 'id' });
    // Version 1 kept the JSONL texts inside the catalog record: move them out, so listing catalogs stays cheap.
    const catalogs = transaction.objectStore('catalogs');
    const texts = transaction.objectStore('catalog_texts');
    const cursor = catalogs.openCursor();
    cursor.onsuccess = () => {
      const at = cursor.result;
      if (!at) return;
      const { catalog_text, demonstrations_text, ...record } = at.value as CatalogRecord &
        Partial<Omit<CatalogTextsRecord, 'id'>>;
      if (catalog_text !== undefined) {
        texts.put({ id: record.id, catalog_text, demonstrations_text: demonstrations_text ?? '' });
        at.update(record);
      }
      at.continue();
    };
  }
}

/** Opens (and creates or migrates) the database through `factory`; idb's openDB, with the factory passed in. */
function openWith(factory: IDBFactory, name: string): Promise<AppDb> {
  const request = factory.open(name, DB_VERSION);
  request.addEventListener('upgradeneeded', (event) => {
    upgrade(wrap(request.result) as AppDb, event.oldVersion, request.transaction!);
  });
  return handleVersionChanges(factory, name, request, wrap(request) as Promise<AppDb>);
}

/** Raised when the database was written by a newer version of the app, which this one cannot read. */
export class DatabaseVersionError extends Error {
  override name = 'DatabaseVersionError';
}

/** What the page tells the user when another tab changes the database's version. */
export interface DatabaseVersionEvent {
  kind: 'blocked' | 'versionchange';
  message: string;
}

const versionListeners = new Set<(event: DatabaseVersionEvent) => void>();

/** Calls `listener` when this realm's database is blocked by, or gives way to, another tab; returns the unsubscribe. */
export function onDatabaseVersionEvent(listener: (event: DatabaseVersionEvent) => void): () => void {
  versionListeners.add(listener);
  return () => versionListeners.delete(listener);
}

/**
 * The database's version handshake with other tabs. `blocked`: an older tab still holds the database,
 * so this upgrade waits; the user is told which tab to close. `versionchange` (this tab is the older,
 * or the data is being deleted): the connection closes at once, so the other tab's upgrade is never
 * blocked, and the user is told to reload. `VersionError` (the data is newer than this app, e.g. after
 * a rollback): a DatabaseVersionError that says so, instead of a start-up that never ends.
 */
async function handleVersionChanges(
  factory: IDBFactory,
  name: string,
  request: IDBOpenDBRequest,
  opened: Promise<AppDb>,
): Promise<AppDb> {
  const tell = (event: DatabaseVersionEvent) => versionListeners.forEach((listener) => listener(event));
  request.addEventListener('blocked', () =>
    tell({
      kind: 'blocked',
      message:
        'ChatGen Web is open in another tab with an older version: close or reload that tab so this one can update its storage.',
    }),
  );
  let db: AppDb;
  try {
    db = await opened;
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'VersionError')) throw e;
    const stored = (await factory.databases?.().catch(() => []))?.find((d) => d.name === name)?.version;
    throw new DatabaseVersionError(
      `This browser holds ChatGen Web data from a newer version of the app (storage version ${stored ?? 'newer'}; this version reads up to ${DB_VERSION}). ` +
        'Open the newer version of the app; this one cannot read that data and leaves it untouched.',
    );
  }
  db.addEventListener('versionchange', () => {
    db.close();
    if (factory === globalThis.indexedDB) opening = null;
    tell({
      kind: 'versionchange',
      message:
        'ChatGen Web was updated or its data changed in another tab. Reload this tab to go on; your data is kept.',
    });
  });
  return db;
}

let opening: Promise<AppDb> | null = null;

/**
 * The database, opened once per realm (page or worker) on the global IndexedDB; with `factory` (tests),
 * a connection on that factory instead.
 */
export function openAppDb(factory?: IDBFactory, name: string = DB_NAME): Promise<AppDb> {
  if (factory) return openWith(factory, name);
  opening ??= openWith(indexedDB, name);
  return opening;
}

export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

/** Runs a write; a full quota becomes a StorageFullError that says what to do, and nothing else is lost. */
export async function guardQuota<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'QuotaExceededError') {
      throw new StorageFullError(
        `The browser's storage is full, so ${what} was not saved. Delete old results in the gallery or imported catalogs in Settings, then try again.`,
      );
    }
    throw e;
  }
}
