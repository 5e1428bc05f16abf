/**
 * The active catalog's files as the Bench page hands them to the bench worker, so a benchmark can run
 * on the catalog already in use (the built-in starter, or an import kept in IndexedDB) without
 * picking its files again.
 */
import { STARTER_CATALOG_ID } from '../core/engine-host.ts';
import { catalogStore } from '../storage/catalogs.ts';

export interface NamedFile {
  name: string;
  file: Blob;
}

export async function activeCatalogFiles(
  catalogId: string,
): Promise<{ catalog: NamedFile; demonstrations?: NamedFile }> {
  const jsonl = (text: string) => new Blob([text], { type: 'application/x-ndjson' });
  if (catalogId === STARTER_CATALOG_ID) {
    const base = new URL(`${import.meta.env.BASE_URL}models/starter/`, location.origin);
    const [catalog, demonstrations] = await Promise.all(
      ['catalog.jsonl', 'demonstrations.jsonl'].map(async (f) => {
        const reply = await fetch(new URL(f, base));
        if (!reply.ok) throw new Error(`The starter catalog's ${f} could not be read (HTTP ${reply.status}).`);
        return jsonl(await reply.text());
      }),
    );
    return {
      catalog: { name: 'starter/catalog.jsonl', file: catalog! },
      demonstrations: { name: 'starter/demonstrations.jsonl', file: demonstrations! },
    };
  }
  const store = catalogStore();
  const [record, texts] = await Promise.all([store.get(catalogId), store.texts(catalogId)]);
  if (!record || !texts) throw new Error('The active catalog is no longer stored; choose it again in Settings.');
  return {
    catalog: { name: `${record.source}/catalog.jsonl`, file: jsonl(texts.catalog_text) },
    ...(texts.demonstrations_text
      ? { demonstrations: { name: `${record.source}/demonstrations.jsonl`, file: jsonl(texts.demonstrations_text) } }
      : {}),
  };
}
