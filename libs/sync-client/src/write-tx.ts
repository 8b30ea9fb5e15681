import { ApiErrorDetail, MutationOp } from '@clinisync/contracts';
import { EntityDef, FieldDef, SYSTEM_FIELDS, checkFieldValue, findEntity, isAppendOnly } from '@clinisync/sync-core';
import { SyncClientError, SyncClientErrorCode } from './errors';
import { LocalStore } from './local-store';
import { LocalRecord, NewOutboxEntry } from './types';

/** What `client.write(tx => ...)` offers. Ids are client-generated UUIDv7s unless given. */
export interface WriteTx {
  /** Creates a record; returns its id. */
  create(entity: string, data: Record<string, unknown>, options?: { id?: string }): string;
  /** Edits fields of a record. In online mode `baseVersion` skips reading the record first. */
  update(
    entity: string,
    id: string,
    patch: Record<string, unknown>,
    options?: { baseVersion?: number },
  ): void;
  /** Deletes (tombstones) a record. */
  delete(entity: string, id: string, options?: { baseVersion?: number }): void;
  /** Reads a record inside the transaction (offline mode only). */
  get(entity: string, id: string): ClientRecord | undefined;
}

/** A record as the app sees it: system fields, the entity's fields, `_status` and `_changed`. */
export type ClientRecord = {
  id: string;
  version: number | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  _status: LocalRecord['status'];
  _changed: string[];
} & Record<string, unknown>;

export function toClientRecord(r: LocalRecord): ClientRecord {
  return {
    ...r.fields,
    id: r.id,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    deletedAt: r.deletedAt,
    _status: r.status,
    _changed: [...r.changed],
  };
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);
const fieldMaps = new Map<string, Map<string, FieldDef>>();

function fieldsOf(def: EntityDef): Map<string, FieldDef> {
  let m = fieldMaps.get(def.name);
  if (!m) {
    m = new Map(def.fields.map((f) => [f.name, f]));
    fieldMaps.set(def.name, m);
  }
  return m;
}

/**
 * Checks a write against the registry before anything is stored, with sync-core's field rules:
 * known entity and fields, values of the right type, required fields on create, editable policy.
 * Returns the data without undefined members and with datetimes normalised to ISO 8601 UTC with
 * milliseconds, as the server stores them (one pass: this runs on every local write).
 */
export function checkWrite(
  entity: string,
  op: MutationOp,
  input: Record<string, unknown>,
): { def: EntityDef; data: Record<string, unknown> } {
  const def = findEntity(entity);
  if (!def) throw new SyncClientError(SyncClientErrorCode.INVALID_WRITE, `unknown entity "${entity}"`);
  if (!def.clientWritable)
    throw new SyncClientError(
      SyncClientErrorCode.NOT_EDITABLE,
      `${entity} is derived by the server and cannot be written`,
    );
  if (op !== 'create' && isAppendOnly(def)) {
    throw new SyncClientError(
      SyncClientErrorCode.NOT_EDITABLE,
      `${entity} records are append-only: record a correction instead of ${op === 'update' ? 'editing' : 'deleting'}`,
    );
  }
  if (op === 'delete') return { def, data: {} };
  const byName = fieldsOf(def);
  const issues: ApiErrorDetail[] = [];
  const data: Record<string, unknown> = {};
  for (const key in input) {
    const value = input[key];
    if (value === undefined) continue;
    const f = byName.get(key);
    if (!f) {
      issues.push({
        path: `data.${key}`,
        message:
          key === 'tenantId'
            ? 'the tenant is taken from the token'
            : SYSTEM.has(key)
              ? `${key} is managed by the server`
              : `unknown field "${key}" for entity ${def.name}`,
      });
      continue;
    }
    const problem = checkFieldValue(f, value);
    if (problem) issues.push({ path: `data.${key}`, message: problem });
    data[key] =
      f.type === 'datetime' && typeof value === 'string' && !problem ? new Date(value).toISOString() : value;
  }
  if (op === 'create') {
    for (const f of def.fields)
      if (f.required && (data[f.name] === undefined || data[f.name] === null))
        issues.push({ path: `data.${f.name}`, message: `${f.name} is required` });
  } else if (issues.length === 0 && Object.keys(data).length === 0) {
    issues.push({ path: 'data', message: 'an update must change at least one field' });
  }
  if (issues.length > 0) {
    throw new SyncClientError(
      SyncClientErrorCode.INVALID_WRITE,
      `invalid ${op} of ${entity}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { def, data };
}

function checkId(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new SyncClientError(SyncClientErrorCode.INVALID_WRITE, `record ids are UUIDs, got "${id}"`);
  }
  return id.toLowerCase();
}

/**
 * Offline write transaction: each call writes the record and queues its outbox entry; the
 * caller runs the whole callback, then `flush()`, inside one local transaction.
 */
export class LocalWriteTx implements WriteTx {
  private readonly queued: NewOutboxEntry[] = [];

  constructor(
    private readonly store: LocalStore,
    private readonly newId: () => string,
    private readonly now: string,
    private readonly touched: Map<string, string[]>,
  ) {}

  /** Appends this write's outbox entries (call once, inside the same transaction, after the callback). */
  flush(): void {
    this.store.appendOutboxMany(this.queued);
    this.queued.length = 0;
  }

  private touch(entity: string, id: string): void {
    const ids = this.touched.get(entity);
    if (ids) ids.push(id);
    else this.touched.set(entity, [id]);
  }

  private live(entity: string, id: string): LocalRecord {
    const rec = this.store.getRecord(entity, id);
    if (!rec || rec.deletedAt !== null)
      throw new SyncClientError(
        SyncClientErrorCode.RECORD_NOT_FOUND,
        `${entity} ${id} does not exist locally`,
      );
    return rec;
  }

  create(entity: string, input: Record<string, unknown>, options: { id?: string } = {}): string {
    const { def, data } = checkWrite(entity, 'create', input);
    const id = options.id !== undefined ? checkId(options.id) : this.newId();
    const fields: Record<string, unknown> = {};
    for (const f of def.fields) fields[f.name] = data[f.name] ?? null;
    const changed = Object.keys(data);
    this.store.insertRecord(entity, {
      id,
      version: null,
      createdAt: this.now,
      updatedAt: this.now,
      deletedAt: null,
      status: 'created',
      changed,
      remote: {},
      fields,
    });
    this.queued.push({
      entity,
      recordId: id,
      op: 'create',
      baseVersion: null,
      data,
      changedFields: changed,
      occurredAt: this.now,
      createdAt: this.now,
    });
    this.touch(entity, id);
    return id;
  }

  update(entity: string, id: string, patch: Record<string, unknown>): void {
    const { data } = checkWrite(entity, 'update', patch);
    const keys = Object.keys(data);
    if (keys.length === 0)
      throw new SyncClientError(
        SyncClientErrorCode.INVALID_WRITE,
        'an update must change at least one field',
      );
    const rec = this.live(entity, id);
    const changed = [...new Set([...rec.changed, ...keys])];
    this.store.putRecord(entity, {
      ...rec,
      fields: { ...rec.fields, ...data },
      changed,
      updatedAt: this.now,
      status: rec.status === 'synced' ? 'updated' : rec.status,
    });
    this.queued.push({
      entity,
      recordId: id,
      op: 'update',
      baseVersion: rec.version,
      data,
      changedFields: keys,
      occurredAt: this.now,
      createdAt: this.now,
    });
    this.touch(entity, id);
  }

  delete(entity: string, id: string): void {
    checkWrite(entity, 'delete', {});
    const rec = this.live(entity, id);
    this.store.putRecord(entity, { ...rec, deletedAt: this.now, updatedAt: this.now, status: 'deleted' });
    this.queued.push({
      entity,
      recordId: id,
      op: 'delete',
      baseVersion: rec.version,
      data: {},
      changedFields: [],
      occurredAt: this.now,
      createdAt: this.now,
    });
    this.touch(entity, id);
  }

  get(entity: string, id: string): ClientRecord | undefined {
    const rec = this.store.getRecord(entity, id);
    return rec ? toClientRecord(rec) : undefined;
  }
}

export interface OnlineOp {
  entity: string;
  op: MutationOp;
  id: string;
  data: Record<string, unknown>;
  baseVersion?: number;
}

/** Online write transaction: collects the operations; the client pushes them as one batch. */
export class OnlineWriteTx implements WriteTx {
  readonly ops: OnlineOp[] = [];

  constructor(private readonly newId: () => string) {}

  create(entity: string, input: Record<string, unknown>, options: { id?: string } = {}): string {
    const { data } = checkWrite(entity, 'create', input);
    const id = checkId(options.id ?? this.newId());
    this.ops.push({ entity, op: 'create', id, data });
    return id;
  }

  update(
    entity: string,
    id: string,
    patch: Record<string, unknown>,
    options: { baseVersion?: number } = {},
  ): void {
    const { data } = checkWrite(entity, 'update', patch);
    if (Object.keys(data).length === 0)
      throw new SyncClientError(
        SyncClientErrorCode.INVALID_WRITE,
        'an update must change at least one field',
      );
    this.ops.push({ entity, op: 'update', id: checkId(id), data, baseVersion: options.baseVersion });
  }

  delete(entity: string, id: string, options: { baseVersion?: number } = {}): void {
    checkWrite(entity, 'delete', {});
    this.ops.push({ entity, op: 'delete', id: checkId(id), data: {}, baseVersion: options.baseVersion });
  }

  get(): ClientRecord | undefined {
    throw new SyncClientError(
      SyncClientErrorCode.ONLINE_MODE,
      'tx.get() reads the local store; in online mode use await client.get()',
    );
  }
}
