/**
 * Imported catalogs in IndexedDB (the core's CatalogRepository): the small record Settings lists, the
 * JSONL texts, and the index snapshot the fast start restores, each in its own store.
 */
import type { CatalogRepository } from '../core/catalog/import.ts';
import { appDb, type DbConnection } from './connection.ts';
import { guardQuota } from './db.ts';

export function catalogStore(db: DbConnection = appDb): CatalogRepository {
  return {
    get: async (id) => (await db()).get('catalogs', id),
    texts: async (id) => (await db()).get('catalog_texts', id),
    put: async (record, texts) => {
      const conn = await db();
      await guardQuota('the imported catalog', async () => {
        const tx = conn.transaction(['catalogs', 'catalog_texts'], 'readwrite');
        await Promise.all([
          tx.objectStore('catalogs').put(record),
          tx.objectStore('catalog_texts').put(texts),
          tx.done,
        ]);
      });
    },
    list: async () => (await db()).getAll('catalogs'),
    delete: async (id) => {
      const tx = (await db()).transaction(['catalogs', 'catalog_texts', 'catalog_snapshots'], 'readwrite');
      await Promise.all([
        tx.objectStore('catalogs').delete(id),
        tx.objectStore('catalog_texts').delete(id),
        tx.objectStore('catalog_snapshots').delete(id),
        tx.done,
      ]);
    },
    snapshot: async (id) => (await db()).get('catalog_snapshots', id),
    putSnapshot: async (record) => {
      const conn = await db();
      await guardQuota('the catalog index', () => conn.put('catalog_snapshots', record));
    },
  };
}
