import { ChangeAction, MutationOp, MutationRejectCode, RETRYABLE_REJECT_CODES } from '@clinisync/contracts';
import { EntityDef } from './registry';
import { StoredRecord, fieldsChangedSince } from './records';
import { canonicalJson } from './canonical';

export interface MutationIntent {
  op: MutationOp;
  id: string;
  baseVersion?: number;
  data: Record<string, unknown>;
  /** Fields the client edited (already defaulted to data's keys and filtered to known fields). */
  changedFields: string[];
}

export type Decision =
  | {
      kind: 'write';
      status: 'applied' | 'merged';
      action: ChangeAction;
      record: StoredRecord;
      /** Fields this write changed. */
      changedFields: string[];
    }
  | { kind: 'noop'; record: StoredRecord }
  | { kind: 'conflict'; serverRecord: StoredRecord; conflictingFields: string[] }
  | { kind: 'reject'; code: MutationRejectCode; message: string; retryable: boolean };

export function reject(code: MutationRejectCode, message: string): Decision {
  return { kind: 'reject', code, message, retryable: RETRYABLE_REJECT_CODES.has(code) };
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

function applyFields(current: StoredRecord, intent: MutationIntent, now: string): StoredRecord {
  const version = current.version + 1;
  const fields = { ...current.fields };
  const fieldVersions = { ...current.fieldVersions };
  for (const name of intent.changedFields) {
    fields[name] = intent.data[name] ?? null;
    fieldVersions[name] = version;
  }
  return { ...current, version, updatedAt: now, fields, fieldVersions };
}

/**
 * Decides what one mutation does to one record under the entity's conflict policy
 * (PROTOCOL.md "Push"). Pure: the caller loads `current`, passes the clock, persists the result.
 */
export function decideMutation(
  def: EntityDef,
  intent: MutationIntent,
  current: StoredRecord | undefined,
  now: string,
): Decision {
  if (!def.clientWritable) {
    return reject(MutationRejectCode.READ_ONLY, `${def.name} is derived by the server and cannot be written by clients`);
  }
  const appendOnly = def.policy === 'append-only' || def.policy === 'server-authority';

  if (intent.op === 'create') {
    if (current) return reject(MutationRejectCode.ALREADY_EXISTS, `${def.name} ${intent.id} already exists`);
    const fields: Record<string, unknown> = {};
    const fieldVersions: Record<string, number> = {};
    for (const f of def.fields) {
      fields[f.name] = intent.data[f.name] ?? null;
      if (intent.data[f.name] !== undefined) fieldVersions[f.name] = 1;
    }
    return {
      kind: 'write',
      status: 'applied',
      action: 'created',
      record: { id: intent.id, version: 1, createdAt: now, updatedAt: now, deletedAt: null, fields, fieldVersions },
      changedFields: Object.keys(fieldVersions),
    };
  }

  if (appendOnly) {
    return reject(
      MutationRejectCode.APPEND_ONLY,
      `${def.name} records are append-only: ${intent.op} is not allowed; record a correction instead`,
    );
  }
  if (!current) return reject(MutationRejectCode.NOT_FOUND, `${def.name} ${intent.id} does not exist`);
  const base = intent.baseVersion ?? 0;

  if (intent.op === 'delete') {
    if (current.deletedAt !== null) return { kind: 'noop', record: current };
    if (base !== current.version) {
      return { kind: 'conflict', serverRecord: current, conflictingFields: fieldsChangedSince(current, base) };
    }
    return {
      kind: 'write',
      status: 'applied',
      action: 'deleted',
      record: { ...current, version: current.version + 1, updatedAt: now, deletedAt: now },
      changedFields: [],
    };
  }

  // update
  if (current.deletedAt !== null) {
    return { kind: 'conflict', serverRecord: current, conflictingFields: [...intent.changedFields].sort() };
  }
  if (base === current.version) {
    return {
      kind: 'write',
      status: 'applied',
      action: 'updated',
      record: applyFields(current, intent, now),
      changedFields: [...intent.changedFields],
    };
  }
  const serverChanged = base > current.version ? Object.keys(current.fieldVersions) : fieldsChangedSince(current, base);
  const overlap = intent.changedFields
    .filter((f) => serverChanged.includes(f) && !sameValue(intent.data[f], current.fields[f]))
    .sort();
  if (def.policy === 'field-merge' && base < current.version && overlap.length === 0) {
    return {
      kind: 'write',
      status: 'merged',
      action: 'updated',
      record: applyFields(current, intent, now),
      changedFields: [...intent.changedFields],
    };
  }
  return {
    kind: 'conflict',
    serverRecord: current,
    conflictingFields: overlap.length > 0 ? overlap : [...intent.changedFields].sort(),
  };
}
