/**
 * @clinisync/sync-client: the offline-first client SDK speaking PROTOCOL.md. Local SQLite store
 * with `_status`/`_changed` per record, a transactional outbox, push and pull engines, per-column
 * merge of pulled changes, cursor behind an integrity gate, backoff, dead letters, conflicts and
 * online/offline mode. This is the Node/Electron entry: the browser entry plus the
 * better-sqlite3 store.
 */
export * from './browser';
export * from './sqlite-store';
// The Node `SyncClient` (with `open` over better-sqlite3) takes the name; `browser.ts` is the entry without it.
export { SyncClient, OpenSyncClientOptions } from './sqlite-sync-client';
