import { SyncRecord } from '@clinisync/contracts';
import { EntityDef } from '@clinisync/sync-core';
import { LocalRecord } from './types';

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** A pulled record as a fresh, synced local record (fields the server did not send are null). */
export function recordFromServer(def: EntityDef, remote: SyncRecord): LocalRecord {
  const fields: Record<string, unknown> = {};
  for (const f of def.fields) fields[f.name] = has(remote, f.name) ? (remote[f.name] ?? null) : null;
  return {
    id: remote.id,
    version: remote.version,
    createdAt: remote.createdAt ?? remote.updatedAt,
    updatedAt: remote.updatedAt,
    deletedAt: remote.deletedAt ?? null,
    status: 'synced',
    changed: [],
    remote: {},
    fields,
  };
}

/**
 * The per-column rule for a pulled record over the local one (pure). Returns the record to
 * store, or undefined to leave the local record as it is:
 * - no local record: take the remote one;
 * - the local record is newer (its version is above the remote one): skip the remote one;
 * - the local record is deleted locally: it stays deleted (only the version is noted);
 * - otherwise remote wins column by column, except the columns in `_changed`, which keep the
 *   local value (the remote value is remembered in `remote`); the local status and `_changed`
 *   stay; a remote tombstone is taken (deletes never resurrect).
 * Fields the server did not send keep their local value (clients tolerate partial records).
 */
export function mergePulledRecord(
  def: EntityDef,
  local: LocalRecord | undefined,
  remote: SyncRecord,
): LocalRecord | undefined {
  if (!local) return recordFromServer(def, remote);
  if (local.version !== null && remote.version < local.version) return undefined;
  if (local.status === 'deleted') {
    return { ...local, version: Math.max(local.version ?? 0, remote.version) };
  }
  const keep = new Set(local.changed);
  const fields = { ...local.fields };
  const shadow = { ...local.remote };
  for (const f of def.fields) {
    if (!has(remote, f.name)) continue;
    const value = remote[f.name] ?? null;
    if (keep.has(f.name)) shadow[f.name] = value;
    else fields[f.name] = value;
  }
  const hasLocalEdits = local.status !== 'synced';
  return {
    ...local,
    version: remote.version,
    createdAt: remote.createdAt ?? local.createdAt,
    updatedAt: hasLocalEdits && local.updatedAt > remote.updatedAt ? local.updatedAt : remote.updatedAt,
    deletedAt: local.deletedAt ?? remote.deletedAt ?? null,
    fields,
    remote: shadow,
  };
}

/** A server-side delete named in `changes.<entity>.deleted`: tombstone the local record, if any. */
export function tombstoneFromServer(local: LocalRecord, deletedAt: string): LocalRecord {
  if (local.deletedAt !== null) return local;
  return { ...local, deletedAt, updatedAt: deletedAt > local.updatedAt ? deletedAt : local.updatedAt };
}
