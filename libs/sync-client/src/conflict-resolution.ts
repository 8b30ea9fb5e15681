import { SyncRecord } from '@clinisync/contracts';
import { getEntity } from '@clinisync/sync-core';
import { SyncClientError, SyncClientErrorCode } from './errors';
import { LocalStore } from './local-store';
import { editOfMutation, fieldsOfEdit, queuedFields, settleRecord, standingEdits } from './local-records';
import { ConflictResolution, ResolveConflictResponse, StoredConflict } from './types';

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/**
 * Local effect of a resolution the server accepted (call inside a transaction):
 * - `server_wins`: the contested fields take the server's values;
 * - `client_wins`: the local values stay; the server now has them;
 * - `merge`: the contested fields take `data` (else the server's values);
 * - `manual_review`: nothing changes locally; the record stays held until someone decides.
 * When the response carries the record, every field no other local edit holds takes its value.
 * Edits queued after the conflict now start from the resolved version.
 */
export function applyServerResolution(
  store: LocalStore,
  conflict: StoredConflict,
  resolution: ConflictResolution,
  response: ResolveConflictResponse,
  data: Record<string, unknown> | undefined,
  now: string,
): void {
  store.updateConflict(conflict.conflictId, {
    status: resolution === 'manual_review' ? 'manual_review' : 'resolved',
    resolution,
    resolvedAt: resolution === 'manual_review' ? null : now,
  });
  if (resolution === 'manual_review') return;
  const rec = store.getRecord(conflict.entity, conflict.recordId);
  if (!rec) return;
  const def = getEntity(conflict.entity);
  const record: SyncRecord | undefined =
    response.record && typeof response.record === 'object' ? response.record : undefined;
  const version =
    typeof record?.version === 'number'
      ? record.version
      : typeof response.version === 'number'
        ? response.version
        : undefined;
  const queued = store.outboxForRecord(conflict.entity, conflict.recordId);
  const stillLocal = new Set(queuedFields(queued));
  const contested = fieldsOfEdit(editOfMutation(conflict.mutation));
  const server = record ?? conflict.serverRecord;
  const fields = { ...rec.fields };
  for (const f of contested) {
    if (stillLocal.has(f)) continue;
    if (resolution === 'server_wins' && has(server, f)) fields[f] = server[f] ?? null;
    if (resolution === 'merge') {
      if (data && has(data, f)) fields[f] = data[f];
      else if (has(server, f)) fields[f] = server[f] ?? null;
    }
  }
  if (resolution === 'merge' && data) {
    for (const f of def.fields)
      if (has(data, f.name) && !stillLocal.has(f.name)) fields[f.name] = data[f.name];
  }
  if (record) {
    for (const f of def.fields)
      if (!stillLocal.has(f.name) && has(record, f.name)) fields[f.name] = record[f.name] ?? null;
  }
  let deletedAt = rec.deletedAt;
  if (resolution === 'server_wins' && server.deletedAt) deletedAt = server.deletedAt;
  if (
    resolution === 'server_wins' &&
    !server.deletedAt &&
    rec.status === 'deleted' &&
    !queued.some((q) => q.op === 'delete')
  )
    deletedAt = null;
  const nextVersion =
    Math.max(rec.version ?? 0, version ?? (resolution === 'server_wins' ? conflict.serverVersion : 0)) ||
    null;
  if (version !== undefined) {
    for (const q of queued) store.updateOutbox(q.seq, { baseVersion: version });
  }
  const next = settleRecord(
    { ...rec, fields, deletedAt, version: nextVersion },
    standingEdits(store, conflict.entity, conflict.recordId),
    { restoreReleased: false },
  );
  store.putRecord(conflict.entity, next);
}

/**
 * Rebase (local only; call inside a transaction): the server record becomes the base and the
 * contested local fields are queued again as a new update (or delete) from the server version.
 * Edits queued after the conflict start from that version too. Deletes never resurrect: a
 * conflict against a deleted server record cannot be rebased.
 */
export function rebaseOnServer(store: LocalStore, conflict: StoredConflict, now: string): void {
  if (conflict.serverRecord.deletedAt) {
    throw new SyncClientError(
      SyncClientErrorCode.REBASE_ON_DELETED,
      `${conflict.entity} ${conflict.recordId} is deleted on the server; resolve the conflict instead`,
    );
  }
  const rec = store.getRecord(conflict.entity, conflict.recordId);
  if (!rec)
    throw new SyncClientError(
      SyncClientErrorCode.NOT_FOUND,
      `${conflict.entity} ${conflict.recordId} is not stored locally`,
    );
  const def = getEntity(conflict.entity);
  const contested = fieldsOfEdit(editOfMutation(conflict.mutation));
  const queued = store.outboxForRecord(conflict.entity, conflict.recordId);
  const local = new Set([...contested, ...queuedFields(queued)]);
  const serverIsNewer = rec.version === null || conflict.serverVersion >= rec.version;
  const base = Math.max(rec.version ?? 0, conflict.serverVersion);
  const fields = { ...rec.fields };
  if (serverIsNewer) {
    for (const f of def.fields)
      if (!local.has(f.name) && has(conflict.serverRecord, f.name))
        fields[f.name] = conflict.serverRecord[f.name] ?? null;
  }
  for (const q of queued) store.updateOutbox(q.seq, { baseVersion: base });
  const op = conflict.mutation.op === 'delete' ? 'delete' : 'update';
  const data: Record<string, unknown> = {};
  if (op === 'update') for (const f of contested) data[f] = fields[f] ?? null;
  store.appendOutbox({
    entity: conflict.entity,
    recordId: conflict.recordId,
    op,
    baseVersion: base,
    data,
    changedFields: op === 'update' ? contested : [],
    occurredAt: now,
    createdAt: now,
  });
  store.updateConflict(conflict.conflictId, { status: 'resolved', resolution: 'rebased', resolvedAt: now });
  const next = settleRecord(
    { ...rec, fields, version: base, updatedAt: now },
    standingEdits(store, conflict.entity, conflict.recordId),
    { restoreReleased: false },
  );
  store.putRecord(conflict.entity, next);
}
