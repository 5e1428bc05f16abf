/** Small key-value settings in IndexedDB (active catalog, engine choice, endpoint and scorer settings). */
import type { SettingsRepository } from '../core/engine-host.ts';
import { appDb, type DbConnection } from './connection.ts';
import { guardQuota } from './db.ts';

export function settingsStore(db: DbConnection = appDb): SettingsRepository {
  return {
    get: async (key) => (await db()).get('settings', key).then((record) => record?.value),
    put: async (key, value) => {
      const conn = await db();
      await guardQuota(`the setting "${key}"`, () => conn.put('settings', { key, value }));
    },
  };
}
