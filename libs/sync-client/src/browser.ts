/**
 * The SDK's browser entry: everything of `index.ts` except the better-sqlite3 adapter
 * (`SqliteStore`, `SyncClient.open`). Construct the client over a `LocalStore` of your own:
 * `new SyncClient({ store, baseUrl, token, deviceId })`. No Node built-in is reachable from here;
 * `test/browser-bundle.spec.ts` bundles it with esbuild for the browser to keep it so.
 */
export * from './errors';
export * from './types';
export * from './local-store';
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
