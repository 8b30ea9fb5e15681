import { SqliteStore, SqliteStoreOptions } from './sqlite-store';
import { SyncClient as StoreSyncClient, SyncClientOptions } from './sync-client';

export type OpenSyncClientOptions = Omit<SyncClientOptions, 'store'> & {
  database?: string;
  sqlite?: SqliteStoreOptions;
};

/**
 * The `SyncClient` of the Node entry: the client over any `LocalStore` plus `open`, over the
 * better-sqlite3 adapter. Kept apart so the browser entry (`browser.ts`) carries no native module.
 */
export class SyncClient extends StoreSyncClient {
  /** A client over a better-sqlite3 store at `database` (default `:memory:`). */
  static open(options: OpenSyncClientOptions): SyncClient {
    const { database, sqlite, ...rest } = options;
    return new SyncClient({ ...rest, store: SqliteStore.open(database ?? ':memory:', sqlite) });
  }
}
