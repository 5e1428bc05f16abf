/** Imported catalogs in IndexedDB: the core's CatalogRepository. */
import type { CatalogRepository } from '../core/catalog/import.ts';
import { appDb, type DbConnection } from './connection.ts';
import { guardQuota } from './db.ts';

export function catalogStore(db: DbConnection = appDb): CatalogRepository {
  return {
    get: async (id) => (await db()).get('catalogs', id),
    put: async (record) => {
      const conn = await db();
      await guardQuota('the imported catalog', () => conn.put('catalogs', record));
    },
    list: async () => (await db()).getAll('catalogs'),
    delete: async (id) => (await db()).delete('catalogs', id),
  };
}
