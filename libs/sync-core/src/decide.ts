import { ChangeAction, MutationOp, MutationRejectCode, MutationStatus, RejectedResult, RETRYABLE_REJECT_CODES } from '@clinisync/contracts';
import { EntityDef } from './registry';
import { StoredRecord, fieldsChangedSince } from './records';
import { canonicalJson } from './canonical';
import { isAppendOnly, mergesFields } from './policy';
import { DependencyTracker, OrderableMutation } from './ordering';

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

export type Rejection = Extract<Decision, { kind: 'reject' }>;

export function reject(code: MutationRejectCode, message: string): Rejection {
  return { kind: 'reject', code, message, retryable: RETRYABLE_REJECT_CODES.has(code) };
}

/** The wire result of a refusal of mutation `m`. */
export function rejectedResult(m: { clientMutationId: string; id: string }, d: Rejection): RejectedResult {
  return { clientMutationId: m.clientMutationId, status: 'rejected', id: m.id, code: d.code, message: d.message, retryable: d.retryable };
}

/** `READ_ONLY` for an entity the server derives (`clientWritable: false`): no client write of it is decided further. */
export function readOnlyRejection(def: EntityDef): Rejection | undefined {
  return def.clientWritable ? undefined : reject(MutationRejectCode.READ_ONLY, `${def.name} is derived by the server and cannot be written by clients`);
}

/**
 * `DEPENDENCY_FAILED` for a mutation of a batch whose record, or a record it references, failed
 * earlier in the same batch (PROTOCOL.md "Push": ordering); undefined when nothing blocks it.
 */
export function dependencyRejection(tracker: DependencyTracker, m: OrderableMutation): Rejection | undefined {
  const blocker = tracker.blockedBy(m);
  return blocker === undefined ? undefined : reject(MutationRejectCode.DEPENDENCY_FAILED, `depends on ${blocker}, whose mutation in this batch failed`);
}

/** Whether a mutation answered `status` fails the later mutations of its batch that depend on its record. */
export function blocksDependents(status: MutationStatus): boolean {
  return status === 'conflict' || status === 'rejected';
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
  const readOnly = readOnlyRejection(def);
  if (readOnly) return readOnly;

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

  if (isAppendOnly(def)) {
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
  if (mergesFields(def) && base < current.version && overlap.length === 0) {
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
