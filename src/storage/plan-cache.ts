/** The plan cache in IndexedDB: the core Planner's PlanCache. */
import type { PlanCache } from '../core/planner.ts';
import { appDb, type DbConnection } from './connection.ts';
import { guardQuota } from './db.ts';

export function planCacheStore(db: DbConnection = appDb, now: () => number = Date.now): PlanCache {
  return {
    get: async (key) => (await (await db()).get('plans', key))?.result,
    put: async (key, result) => {
      const conn = await db();
      // A full quota must not fail the plan the user is waiting for: the cache is an optimisation.
      await guardQuota('the plan cache entry', () => conn.put('plans', { key, created: now(), result })).catch(
        () => undefined,
      );
    },
  };
}
