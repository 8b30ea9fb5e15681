/**
 * @clinisync/sync-client: the offline-first client SDK speaking PROTOCOL.md. Local SQLite store
 * with `_status`/`_changed` per record, a transactional outbox, push and pull engines, per-column
 * merge of pulled changes, cursor behind an integrity gate, backoff, dead letters, conflicts and
 * online/offline mode.
 */
export * from './errors';
export * from './types';
export * from './local-store';
export * from './sqlite-store';
export * from './schema';
export * from './coalesce';
export * from './pull-merge';
export * from './integrity-gate';
export * from './backoff';
export * from './http-api';
export * from './local-records';
export * from './push-engine';
export * from './pull-engine';
export * from './sync-state';
export * from './write-tx';
export * from './conflict-resolution';
export * from './sync-client';
// The Node `SyncClient` (with `open` over better-sqlite3) takes the name; `browser.ts` is the entry without it.
export { SyncClient, OpenSyncClientOptions } from './sqlite-sync-client';
