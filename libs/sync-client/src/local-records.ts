import { Mutation, MutationOp } from '@clinisync/contracts';
import { LocalStore } from './local-store';
import { LocalRecord, RecordStatus } from './types';

/** A local edit not yet reflected on the server: queued, in conflict, or dead-lettered. */
export interface QueuedEdit {
  op: MutationOp;
  data?: Record<string, unknown>;
  changedFields?: string[];
}

export function fieldsOfEdit(e: QueuedEdit): string[] {
  if (e.op === 'delete') return [];
  if (e.op === 'create') return Object.keys(e.data ?? {});
  return e.changedFields ?? Object.keys(e.data ?? {});
}

export function queuedFields(edits: readonly QueuedEdit[]): string[] {
  const out = new Set<string>();
  for (const e of edits) for (const f of fieldsOfEdit(e)) out.add(f);
  return [...out].sort();
}

export function editOfMutation(m: Mutation): QueuedEdit {
  return { op: m.op, data: m.data, changedFields: m.changedFields };
}

/**
 * Recomputes `_changed` and `_status` of a record from the local edits that still stand (pure).
 * Fields that leave `_changed` either keep their local value (the server has it now) or, with
 * `restoreReleased`, take the server value a pull remembered for them (the server moved on).
 */
export function settleRecord(
  rec: LocalRecord,
  edits: readonly QueuedEdit[],
  options: { restoreReleased: boolean },
): LocalRecord {
  const changed = queuedFields(edits);
  const keep = new Set(changed);
  const fields = { ...rec.fields };
  const remote: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(rec.remote)) {
    if (keep.has(f)) remote[f] = v;
    else if (options.restoreReleased) fields[f] = v;
  }
  let status: RecordStatus;
  if (edits.some((e) => e.op === 'delete')) status = 'deleted';
  else if (rec.version === null) status = edits.length > 0 ? 'created' : rec.status;
  else status = edits.length > 0 ? 'updated' : 'synced';
  return { ...rec, fields, remote, changed, status };
}

/**
 * Every edit of one record that still stands locally: outbox entries (pass them when already
 * loaded), unresolved conflicts, dead letters.
 */
export function standingEdits(
  store: LocalStore,
  entity: string,
  recordId: string,
  outbox?: readonly QueuedEdit[],
  /** Set to false when the store is known to hold no unresolved conflict / no dead letter at all. */
  look: { conflicts: boolean; deadLetters: boolean } = { conflicts: true, deadLetters: true },
): QueuedEdit[] {
  return [
    ...(outbox ?? store.outboxForRecord(entity, recordId)),
    ...(look.conflicts
      ? store.unresolvedConflictsFor(entity, recordId).map((c) => editOfMutation(c.mutation))
      : []),
    ...(look.deadLetters
      ? store.deadLettersFor(entity, recordId).map((d) => editOfMutation(d.mutation))
      : []),
  ];
}
