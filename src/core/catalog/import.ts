/**
 * Importing a catalog: reading its JSONL files (picked from disk or fetched from a URL) with byte
 * progress, validating every line, and the record the storage layer keeps. What the engine host runs
 * when the user imports a catalog, free of any worker or database so Node tests run it as is.
 */
import { hashString } from '../hash.ts';
import { CatalogFetchError, fetchCatalogText, readStreamText } from './fetch-text.ts';
import type { RecordError } from './jsonl.ts';
import { loadCatalog, type CatalogLoadProgress, type CatalogTexts } from './load.ts';
import type { CatalogIndexSnapshot } from '../engines/default/index-snapshot.ts';
import type { Catalog } from './types.ts';

/** A JSONL file as the user handed it: picked from disk or fetched from a URL. */
export type CatalogFileSource = { kind: 'file'; file: Blob; name: string } | { kind: 'url'; url: string };

export interface CatalogImportRequest {
  catalog: CatalogFileSource;
  demonstrations?: CatalogFileSource;
  /** A label shown in Settings. */
  label: string;
  /** Largest download accepted from a URL, in MB (default DEFAULT_CATALOG_FETCH_LIMITS.maxMB). */
  maxMB?: number;
}

export type ImportProgress =
  | { phase: 'reading'; file: string; bytes: number; total: number | null }
  | CatalogLoadProgress
  | { phase: 'indexing' }
  | { phase: 'saving' };

/** An imported catalog as Settings lists it (small: the texts and the index are kept apart). */
export interface CatalogRecord {
  id: string;
  source: string;
  version: string;
  imported: number;
  model_count: number;
  demonstration_count: number;
}

/** The JSONL texts as imported: what the catalog is rebuilt from when no usable snapshot is stored. */
export interface CatalogTextsRecord {
  id: string;
  catalog_text: string;
  demonstrations_text: string;
}

/** The parsed catalog and its retrieval index as typed arrays, for a fast start (see index-snapshot.ts). */
export interface CatalogSnapshotRecord {
  id: string;
  /** The catalog version and the index format + weights it was built with; any mismatch means rebuild. */
  catalog_version: string;
  index_key: string;
  created: number;
  snapshot: CatalogIndexSnapshot;
}

/** Where imported catalogs are kept (IndexedDB in the app: src/storage/catalogs.ts). */
export interface CatalogRepository {
  get(id: string): Promise<CatalogRecord | undefined>;
  texts(id: string): Promise<CatalogTextsRecord | undefined>;
  /** Stores the catalog; a full quota rejects with a message that says what to do. */
  put(record: CatalogRecord, texts: CatalogTextsRecord): Promise<void>;
  list(): Promise<CatalogRecord[]>;
  /** Deletes the catalog, its texts and its snapshot. */
  delete(id: string): Promise<void>;
  snapshot(id: string): Promise<CatalogSnapshotRecord | undefined>;
  putSnapshot(record: CatalogSnapshotRecord): Promise<void>;
}

export const sourceName = (source: CatalogFileSource): string => (source.kind === 'file' ? source.name : source.url);

export interface ReadSourceOptions {
  fetch?: typeof fetch;
  /** Cancel: the read stops with a 'cancelled' CatalogFetchError. */
  signal?: AbortSignal;
  /** Largest download from a URL, in MB. */
  maxMB?: number;
}

const cancelledImport = () => new CatalogFetchError('cancelled', 'The import was cancelled; nothing was imported.');

/** Reads one file as text, reporting bytes read as they arrive; a URL is given up when silent, too large or cancelled. */
export function readCatalogSource(
  source: CatalogFileSource,
  onProgress: (progress: ImportProgress) => void,
  options: ReadSourceOptions = {},
): Promise<string> {
  const file = sourceName(source);
  const report = (bytes: number, total: number | null) => {
    if (options.signal?.aborted) throw cancelledImport();
    onProgress({ phase: 'reading', file, bytes, total });
  };
  if (source.kind === 'url') {
    return fetchCatalogText(source.url, {
      onProgress: report,
      ...(options.fetch ? { fetchImpl: options.fetch } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.maxMB ? { maxBytes: options.maxMB * 1048576 } : {}),
    });
  }
  return readStreamText(source.file.stream(), { total: source.file.size, onProgress: report });
}

export interface ImportedCatalog {
  catalog: Catalog;
  /** Lines that were skipped, with file, line and field. */
  errors: RecordError[];
  record: CatalogRecord;
  texts: CatalogTextsRecord;
}

/**
 * Reads and validates the request's files. A catalog with no valid model throws CatalogError with its
 * line-numbered problems; the record's id is a hash of the texts, so the same files import to one entry.
 */
export async function importCatalog(
  request: CatalogImportRequest,
  options: {
    onProgress: (progress: ImportProgress) => void;
    fetch?: typeof fetch;
    now?: () => number;
    signal?: AbortSignal;
  },
): Promise<ImportedCatalog> {
  const { onProgress } = options;
  const read: ReadSourceOptions = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(request.maxMB ? { maxMB: request.maxMB } : {}),
  };
  const catalogName = sourceName(request.catalog);
  const catalogText = await readCatalogSource(request.catalog, onProgress, read);
  const demonstrations = request.demonstrations
    ? {
        file: sourceName(request.demonstrations),
        text: await readCatalogSource(request.demonstrations, onProgress, read),
      }
    : undefined;
  const texts: CatalogTexts = {
    catalog: { file: catalogName, text: catalogText },
    ...(demonstrations ? { demonstrations } : {}),
  };
  const { catalog, errors } = loadCatalog(texts, request.label, (p) => onProgress(p));
  if (options.signal?.aborted) throw cancelledImport();
  const demonstrationsText = demonstrations?.text ?? '';
  const id = `import-${hashString(catalogText + demonstrationsText)}`;
  return {
    catalog,
    errors,
    record: {
      id,
      source: request.label,
      version: catalog.version,
      imported: (options.now ?? Date.now)(),
      model_count: catalog.models.length,
      demonstration_count: catalog.demonstrations.length,
    },
    texts: { id, catalog_text: catalogText, demonstrations_text: demonstrationsText },
  };
}

/** Parses a stored catalog again. */
export function catalogFromTexts(record: CatalogRecord, texts: CatalogTextsRecord): Catalog {
  return loadCatalog(
    {
      catalog: { file: `${record.source}/catalog.jsonl`, text: texts.catalog_text },
      ...(texts.demonstrations_text
        ? { demonstrations: { file: `${record.source}/demonstrations.jsonl`, text: texts.demonstrations_text } }
        : {}),
    },
    record.source,
  ).catalog;
}
