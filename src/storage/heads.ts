/** ModelToken heads trained in this browser, per pack URL, in IndexedDB. */
import { appDb, type DbConnection } from './connection.ts';
import { guardQuota, type HeadRecord } from './db.ts';

/** The key of a pack's trained head: the pack's URL, so the same pack finds it when it loads again. */
export const headRecordId = (packUrl: string) => `head:${packUrl}`;

export interface HeadStore {
  /** The head saved for the pack at `packUrl`; storage that cannot be read counts as none saved. */
  get(packUrl: string): Promise<HeadRecord | undefined>;
  /** Saves a head; a full quota rejects with a message that says what to do. */
  put(record: Omit<HeadRecord, 'id'>, packUrl: string): Promise<void>;
}

export function headStore(db: DbConnection = appDb): HeadStore {
  return {
    get: (packUrl) =>
      db()
        .then((conn) => conn.get('heads', headRecordId(packUrl)))
        .catch(() => undefined),
    put: async (record, packUrl) => {
      const conn = await db();
      await guardQuota('the trained head', () => conn.put('heads', { ...record, id: headRecordId(packUrl) }));
    },
  };
}
