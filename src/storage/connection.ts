/** How the store modules reach the database: the app's shared connection, or one a test opened. */
import { openAppDb, type AppDb } from './db.ts';

export type DbConnection = () => Promise<AppDb>;

/** The page's or worker's one connection on the global IndexedDB. */
export const appDb: DbConnection = () => openAppDb();
