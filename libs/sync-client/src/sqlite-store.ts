import Database from 'better-sqlite3';
import { Mutation, MutationOp, SyncRecord } from '@clinisync/contracts';
import { EntityDef, FieldDef, getEntity } from '@clinisync/sync-core';
import { ListOptions, LocalStore, OrphanRow, OutboxSummary } from './local-store';
import {
  LOCAL_MIGRATIONS,
  SCHEMA_VERSION_DDL,
  SYSTEM_COLUMNS,
  quote,
  registryReconciliation,
} from './schema';
import {
  ConflictPatch,
  ConflictStatus,
  DeadLetter,
  LocalRecord,
  NewDeadLetter,
  NewOutboxEntry,
  OutboxEntry,
  OutboxPatch,
  OutboxState,
  RecordStatus,
  StoredConflict,
  SyncStateRow,
} from './types';

export interface SqliteStoreOptions {
  /** `synchronous` pragma; NORMAL (the default) is durable across app crashes in WAL mode. */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL';
}

type Row = Record<string, unknown>;

/** Column layout of one entity table, with field <-> column maps. */
interface TableLayout {
  def: EntityDef;
  table: string;
  columns: string[];
  fieldByColumn: Map<string, FieldDef>;
  columnByField: Map<string, string>;
  insertSql: string;
  upsertSql: string;
  syncStateSql: string;
  selectSql: string;
}

const OUTBOX_COLUMNS =
  'seq, entity, record_id, op, base_version, data, changed_fields, occurred_at, created_at, state, client_mutation_id, mutation, attempts, next_attempt_at, last_error';

/**
 * The better-sqlite3 adapter of `LocalStore`. Opening runs the local migrations and the registry
 * reconciliation; every statement is prepared once and cached.
 */
export class SqliteStore implements LocalStore {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly layouts = new Map<string, TableLayout>();
  private readonly runInTransaction: (fn: () => unknown) => unknown;
  private closed = false;

  private constructor(readonly db: Database.Database) {
    this.runInTransaction = db.transaction((fn: () => unknown) => fn());
  }

  /** Opens (creating if needed) a store at `path`; `:memory:` gives a private in-memory database. */
  static open(path = ':memory:', options: SqliteStoreOptions = {}): SqliteStore {
    const db = new Database(path);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    // Referential integrity is checked by the integrity gate against the registry, not by SQLite:
    // pulled pages may legitimately reference records of other modules that are never stored here.
    db.pragma('foreign_keys = OFF');
    const store = new SqliteStore(db);
    store.migrate();
    return store;
  }

  transaction<T>(fn: () => T): T {
    return this.runInTransaction(fn) as T;
  }

  schemaVersion(): number {
    return (
      this.db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_version').get() as { v: number }
    ).v;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private migrate(): void {
    this.db.exec(SCHEMA_VERSION_DDL);
    const current = this.schemaVersion();
    for (const m of LOCAL_MIGRATIONS.filter((x) => x.version > current)) {
      this.transaction(() => {
        for (const sql of m.statements()) this.db.exec(sql);
        this.db
          .prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, new Date().toISOString());
      });
    }
    this.transaction(() => {
      for (const sql of registryReconciliation((t) => this.tableColumns(t))) this.db.exec(sql);
    });
  }

  private tableColumns(table: string): Set<string> | undefined {
    const rows = this.db.prepare(`PRAGMA table_info(${quote(table)})`).all() as { name: string }[];
    return rows.length === 0 ? undefined : new Set(rows.map((r) => r.name));
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private layout(entity: string): TableLayout {
    let l = this.layouts.get(entity);
    if (!l) {
      const def = getEntity(entity);
      const table = quote(def.name);
      const columns = ['id', ...def.fields.map((f) => f.column), ...SYSTEM_COLUMNS.filter((c) => c !== 'id')];
      const cols = columns.map(quote);
      const insertSql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
      l = {
        def,
        table,
        columns,
        fieldByColumn: new Map(def.fields.map((f) => [f.column, f])),
        columnByField: new Map(def.fields.map((f) => [f.name, f.column])),
        insertSql,
        upsertSql: `${insertSql} ON CONFLICT (id) DO UPDATE SET ${cols
          .filter((c) => c !== '"id"')
          .map((c) => `${c} = excluded.${c}`)
          .join(', ')}`,
        selectSql: `SELECT * FROM ${table} WHERE id = ?`,
        syncStateSql: `UPDATE ${table} SET "version" = ?, "created_at" = ?, "updated_at" = ?, "deleted_at" = ?, "_status" = ?, "_changed" = ?, "_remote" = ? WHERE id = ?`,
      };
      this.layouts.set(entity, l);
    }
    return l;
  }

  // ---- records ----

  private toRow(l: TableLayout, r: LocalRecord): unknown[] {
    const values: unknown[] = [r.id];
    for (const f of l.def.fields) values.push(toSql(f, r.fields[f.name]));
    const changed = r.changed
      .map((name) => l.columnByField.get(name) ?? name)
      .sort()
      .join(',');
    const remote = Object.keys(r.remote).length > 0 ? JSON.stringify(r.remote) : null;
    values.push(r.version, r.createdAt, r.updatedAt, r.deletedAt, r.status, changed, remote);
    return values;
  }

  private fromRow(l: TableLayout, row: Row): LocalRecord {
    const fields: Record<string, unknown> = {};
    for (const f of l.def.fields) fields[f.name] = fromSql(f, row[f.column]);
    const changedRaw = row._changed as string;
    return {
      id: row.id as string,
      version: (row.version as number | null) ?? null,
      createdAt: row.created_at as string,
      updatedAt: row.updated_at as string,
      deletedAt: (row.deleted_at as string | null) ?? null,
      status: row._status as RecordStatus,
      changed: changedRaw ? changedRaw.split(',').map((c) => l.fieldByColumn.get(c)?.name ?? c) : [],
      remote: row._remote ? (JSON.parse(row._remote as string) as Record<string, unknown>) : {},
      fields,
    };
  }

  getRecord(entity: string, id: string): LocalRecord | undefined {
    const l = this.layout(entity);
    const row = this.stmt(l.selectSql).get(id) as Row | undefined;
    return row ? this.fromRow(l, row) : undefined;
  }

  getRecords(entity: string, ids: readonly string[]): Map<string, LocalRecord> {
    const l = this.layout(entity);
    const out = new Map<string, LocalRecord>();
    if (ids.length === 0) return out;
    for (const row of this.stmt(`SELECT * FROM ${l.table} WHERE id IN (SELECT value FROM json_each(?))`).all(
      JSON.stringify(ids),
    ) as Row[]) {
      const r = this.fromRow(l, row);
      out.set(r.id, r);
    }
    return out;
  }

  insertRecord(entity: string, record: LocalRecord): void {
    const l = this.layout(entity);
    this.stmt(l.insertSql).run(this.toRow(l, record));
  }

  putRecord(entity: string, record: LocalRecord): void {
    const l = this.layout(entity);
    this.stmt(l.upsertSql).run(this.toRow(l, record));
  }

  putRecordSyncState(entity: string, record: LocalRecord): void {
    const l = this.layout(entity);
    const row = this.toRow(l, record);
    this.stmt(l.syncStateSql).run(...row.slice(l.def.fields.length + 1), record.id);
  }

  removeRecord(entity: string, id: string): void {
    const l = this.layout(entity);
    this.stmt(`DELETE FROM ${l.table} WHERE id = ?`).run(id);
  }

  listRecords(entity: string, options: ListOptions = {}): LocalRecord[] {
    const l = this.layout(entity);
    const where: string[] = [];
    const params: unknown[] = [];
    if (!options.includeDeleted) where.push('deleted_at IS NULL');
    for (const [name, value] of Object.entries(options.where ?? {})) {
      const f = l.def.fields.find((x) => x.name === name);
      if (!f) throw new Error(`unknown field ${name} of ${entity}`);
      if (value === null) {
        where.push(`${quote(f.column)} IS NULL`);
      } else {
        where.push(`${quote(f.column)} = ?`);
        params.push(toSql(f, value));
      }
    }
    const sql = `SELECT * FROM ${l.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id${options.limit ? ` LIMIT ${Math.floor(options.limit)}` : ''}`;
    return (this.db.prepare(sql).all(params) as Row[]).map((r) => this.fromRow(l, r));
  }

  recordsUpdatedSince(entity: string, since: string): LocalRecord[] {
    const l = this.layout(entity);
    return (
      this.stmt(
        `SELECT * FROM ${l.table} WHERE updated_at >= ? OR created_at >= ? ORDER BY created_at, id`,
      ).all(since, since) as Row[]
    ).map((r) => this.fromRow(l, r));
  }

  findOrphans(entity: string, field: string, parentEntity: string, ids: readonly string[]): OrphanRow[] {
    if (ids.length === 0) return [];
    const l = this.layout(entity);
    const p = this.layout(parentEntity);
    const col = quote(l.columnByField.get(field) ?? field);
    return this.stmt(
      `SELECT c.id AS id, c.${col} AS missingId FROM ${l.table} c
       WHERE c.id IN (SELECT value FROM json_each(?)) AND c.deleted_at IS NULL AND c.${col} IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM ${p.table} p WHERE p.id = c.${col})`,
    ).all(JSON.stringify(ids)) as OrphanRow[];
  }

  // ---- outbox ----

  appendOutbox(e: NewOutboxEntry): number {
    const r = this.stmt(
      `INSERT INTO outbox (entity, record_id, op, base_version, data, changed_fields, occurred_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.entity,
      e.recordId,
      e.op,
      e.baseVersion,
      JSON.stringify(e.data),
      JSON.stringify(e.changedFields),
      e.occurredAt,
      e.createdAt,
    );
    return Number(r.lastInsertRowid);
  }

  appendOutboxMany(entries: readonly NewOutboxEntry[]): void {
    // Multi-row INSERTs of up to 50 entries (400 parameters): fewer statement steps per write.
    for (let i = 0; i < entries.length; i += 50) {
      const chunk = entries.slice(i, i + 50);
      if (chunk.length === 1) {
        this.appendOutbox(chunk[0]);
        continue;
      }
      const params: unknown[] = [];
      for (const e of chunk)
        params.push(
          e.entity,
          e.recordId,
          e.op,
          e.baseVersion,
          JSON.stringify(e.data),
          JSON.stringify(e.changedFields),
          e.occurredAt,
          e.createdAt,
        );
      this.stmt(
        `INSERT INTO outbox (entity, record_id, op, base_version, data, changed_fields, occurred_at, created_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ).run(params);
    }
  }

  private outboxFromRow(row: Row): OutboxEntry {
    return {
      seq: row.seq as number,
      entity: row.entity as string,
      recordId: row.record_id as string,
      op: row.op as MutationOp,
      baseVersion: (row.base_version as number | null) ?? null,
      data: JSON.parse(row.data as string) as Record<string, unknown>,
      changedFields: JSON.parse(row.changed_fields as string) as string[],
      occurredAt: row.occurred_at as string,
      createdAt: row.created_at as string,
      state: row.state as OutboxState,
      clientMutationId: (row.client_mutation_id as string | null) ?? null,
      mutation: row.mutation ? (JSON.parse(row.mutation as string) as Mutation) : null,
      attempts: row.attempts as number,
      nextAttemptAt: (row.next_attempt_at as string | null) ?? null,
      lastError: (row.last_error as string | null) ?? null,
    };
  }

  outboxForRecord(entity: string, recordId: string): OutboxEntry[] {
    return (
      this.stmt(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE entity = ? AND record_id = ? ORDER BY seq`).all(
        entity,
        recordId,
      ) as Row[]
    ).map((r) => this.outboxFromRow(r));
  }

  outboxForRecords(recordIds: readonly string[]): OutboxEntry[] {
    if (recordIds.length === 0) return [];
    return (
      this.stmt(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE record_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      ).all(JSON.stringify(recordIds)) as Row[]
    ).map((r) => this.outboxFromRow(r));
  }

  outboxByMutationId(clientMutationId: string): OutboxEntry | undefined {
    const row = this.stmt(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE client_mutation_id = ?`).get(
      clientMutationId.toLowerCase(),
    ) as Row | undefined;
    return row ? this.outboxFromRow(row) : undefined;
  }

  preparedOutbox(limit: number): OutboxEntry[] {
    return (
      this.stmt(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'prepared' ORDER BY seq LIMIT ?`).all(
        limit,
      ) as Row[]
    ).map((r) => this.outboxFromRow(r));
  }

  sendablePendingRecords(limit: number): { entity: string; recordId: string }[] {
    // Records held back: a prepared entry awaits its result, or a conflict is unresolved (both small sets).
    const held = new Set(
      (
        this.stmt(
          `SELECT record_id AS id FROM outbox WHERE state = 'prepared' UNION SELECT record_id AS id FROM conflicts WHERE status <> 'resolved'`,
        ).all() as { id: string }[]
      ).map((r) => r.id),
    );
    // Walk pending entries in outbox order and stop once `limit` records are found.
    const out: { entity: string; recordId: string }[] = [];
    const seen = new Set<string>();
    for (const row of this.stmt(
      `SELECT entity, record_id FROM outbox WHERE state = 'pending' ORDER BY seq`,
    ).iterate() as IterableIterator<{
      entity: string;
      record_id: string;
    }>) {
      if (held.has(row.record_id)) continue;
      const key = `${row.entity}\u0000${row.record_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ entity: row.entity, recordId: row.record_id });
      if (out.length >= limit) break;
    }
    return out;
  }

  pendingOutboxFor(records: readonly { entity: string; recordId: string }[]): OutboxEntry[] {
    if (records.length === 0) return [];
    const wanted = new Set(records.map((r) => `${r.entity}\u0000${r.recordId}`));
    return (
      this.stmt(
        `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND record_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      ).all(JSON.stringify(records.map((r) => r.recordId))) as Row[]
    )
      .filter((r) => wanted.has(`${r.entity as string}\u0000${r.record_id as string}`))
      .map((r) => this.outboxFromRow(r));
  }

  queuedCreates(ids: readonly string[]): Set<string> {
    if (ids.length === 0) return new Set();
    const rows = this.stmt(
      `SELECT DISTINCT record_id AS id FROM outbox WHERE op = 'create' AND record_id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  updateOutbox(seq: number, patch: OutboxPatch): void {
    const sets: string[] = [];
    const params: unknown[] = [];
    const set = (col: string, value: unknown) => {
      sets.push(`${col} = ?`);
      params.push(value);
    };
    if (patch.state !== undefined) set('state', patch.state);
    if (patch.clientMutationId !== undefined)
      set('client_mutation_id', patch.clientMutationId?.toLowerCase() ?? null);
    if (patch.mutation !== undefined)
      set('mutation', patch.mutation === null ? null : JSON.stringify(patch.mutation));
    if (patch.op !== undefined) set('op', patch.op);
    if (patch.baseVersion !== undefined) set('base_version', patch.baseVersion);
    if (patch.data !== undefined) set('data', JSON.stringify(patch.data));
    if (patch.changedFields !== undefined) set('changed_fields', JSON.stringify(patch.changedFields));
    if (patch.occurredAt !== undefined) set('occurred_at', patch.occurredAt);
    if (patch.attempts !== undefined) set('attempts', patch.attempts);
    if (patch.nextAttemptAt !== undefined) set('next_attempt_at', patch.nextAttemptAt);
    if (patch.lastError !== undefined) set('last_error', patch.lastError);
    if (sets.length === 0) return;
    this.stmt(`UPDATE outbox SET ${sets.join(', ')} WHERE seq = ?`).run(...params, seq);
  }

  removeOutbox(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    if (seqs.length === 1) {
      this.stmt('DELETE FROM outbox WHERE seq = ?').run(seqs[0]);
      return;
    }
    this.stmt('DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))').run(JSON.stringify(seqs));
  }

  outboxSummary(): OutboxSummary {
    const r = this.stmt(
      `SELECT count(*) AS pending, coalesce(sum(CASE WHEN state = 'prepared' AND last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS failed, min(created_at) AS oldest FROM outbox`,
    ).get() as { pending: number; failed: number; oldest: string | null };
    return { pending: r.pending, failed: r.failed, oldestCreatedAt: r.oldest ?? null };
  }

  // ---- sync state ----

  getSyncState(): SyncStateRow {
    const r = this.stmt(
      'SELECT cursor, last_pulled_at, last_synced_at, last_error FROM sync_state WHERE id = 1',
    ).get() as Row;
    return {
      cursor: (r.cursor as string | null) ?? null,
      lastPulledAt: (r.last_pulled_at as string | null) ?? null,
      lastSyncedAt: (r.last_synced_at as string | null) ?? null,
      lastError: (r.last_error as string | null) ?? null,
    };
  }

  setSyncState(patch: Partial<SyncStateRow>): void {
    const cols: Record<keyof SyncStateRow, string> = {
      cursor: 'cursor',
      lastPulledAt: 'last_pulled_at',
      lastSyncedAt: 'last_synced_at',
      lastError: 'last_error',
    };
    const keys = (Object.keys(patch) as (keyof SyncStateRow)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return;
    this.stmt(`UPDATE sync_state SET ${keys.map((k) => `${cols[k]} = ?`).join(', ')} WHERE id = 1`).run(
      ...keys.map((k) => patch[k]),
    );
  }

  // ---- dead letters ----

  addDeadLetter(d: NewDeadLetter): number {
    const r = this.stmt(
      'INSERT INTO dead_letters (client_mutation_id, entity, record_id, op, mutation, code, message, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      d.clientMutationId,
      d.entity,
      d.recordId,
      d.op,
      JSON.stringify(d.mutation),
      d.code,
      d.message,
      d.failedAt,
    );
    return Number(r.lastInsertRowid);
  }

  private deadLetterFromRow(r: Row): DeadLetter {
    return {
      id: r.id as number,
      clientMutationId: (r.client_mutation_id as string | null) ?? null,
      entity: r.entity as string,
      recordId: r.record_id as string,
      op: r.op as MutationOp,
      mutation: JSON.parse(r.mutation as string) as Mutation,
      code: r.code as string,
      message: r.message as string,
      failedAt: r.failed_at as string,
    };
  }

  getDeadLetter(id: number): DeadLetter | undefined {
    const r = this.stmt('SELECT * FROM dead_letters WHERE id = ?').get(id) as Row | undefined;
    return r ? this.deadLetterFromRow(r) : undefined;
  }

  listDeadLetters(): DeadLetter[] {
    return (this.stmt('SELECT * FROM dead_letters ORDER BY id').all() as Row[]).map((r) =>
      this.deadLetterFromRow(r),
    );
  }

  deadLettersFor(entity: string, recordId: string): DeadLetter[] {
    return (
      this.stmt('SELECT * FROM dead_letters WHERE entity = ? AND record_id = ? ORDER BY id').all(
        entity,
        recordId,
      ) as Row[]
    ).map((r) => this.deadLetterFromRow(r));
  }

  removeDeadLetter(id: number): void {
    this.stmt('DELETE FROM dead_letters WHERE id = ?').run(id);
  }

  countDeadLetters(): number {
    return (this.stmt('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  // ---- conflicts ----

  insertConflict(c: StoredConflict): boolean {
    const r = this.stmt(
      `INSERT INTO conflicts (conflict_id, entity, record_id, client_mutation_id, mutation, base_version, server_version, server_record, local_record,
         conflicting_fields, status, resolution, detected_at, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conflict_id) DO NOTHING`,
    ).run(
      c.conflictId,
      c.entity,
      c.recordId,
      c.clientMutationId,
      JSON.stringify(c.mutation),
      c.baseVersion,
      c.serverVersion,
      JSON.stringify(c.serverRecord),
      JSON.stringify(c.localRecord),
      JSON.stringify(c.conflictingFields),
      c.status,
      c.resolution,
      c.detectedAt,
      c.resolvedAt,
    );
    return r.changes === 1;
  }

  private conflictFromRow(r: Row): StoredConflict {
    return {
      conflictId: r.conflict_id as string,
      entity: r.entity as string,
      recordId: r.record_id as string,
      clientMutationId: r.client_mutation_id as string,
      mutation: JSON.parse(r.mutation as string) as Mutation,
      baseVersion: (r.base_version as number | null) ?? null,
      serverVersion: r.server_version as number,
      serverRecord: JSON.parse(r.server_record as string) as SyncRecord,
      localRecord: JSON.parse(r.local_record as string) as Record<string, unknown>,
      conflictingFields: JSON.parse(r.conflicting_fields as string) as string[],
      status: r.status as ConflictStatus,
      resolution: (r.resolution as string | null) ?? null,
      detectedAt: r.detected_at as string,
      resolvedAt: (r.resolved_at as string | null) ?? null,
    };
  }

  getConflict(conflictId: string): StoredConflict | undefined {
    const r = this.stmt('SELECT * FROM conflicts WHERE conflict_id = ?').get(conflictId) as Row | undefined;
    return r ? this.conflictFromRow(r) : undefined;
  }

  listConflicts(statuses: readonly ConflictStatus[]): StoredConflict[] {
    return (
      this.stmt(
        'SELECT * FROM conflicts WHERE status IN (SELECT value FROM json_each(?)) ORDER BY detected_at, conflict_id',
      ).all(JSON.stringify(statuses)) as Row[]
    ).map((r) => this.conflictFromRow(r));
  }

  updateConflict(conflictId: string, patch: ConflictPatch): void {
    const current = this.getConflict(conflictId);
    if (!current) return;
    this.stmt(
      'UPDATE conflicts SET status = ?, resolution = ?, resolved_at = ?, server_version = ?, server_record = ? WHERE conflict_id = ?',
    ).run(
      patch.status ?? current.status,
      patch.resolution !== undefined ? patch.resolution : current.resolution,
      patch.resolvedAt !== undefined ? patch.resolvedAt : current.resolvedAt,
      patch.serverVersion ?? current.serverVersion,
      JSON.stringify(patch.serverRecord ?? current.serverRecord),
      conflictId,
    );
  }

  unresolvedConflictsFor(entity: string, recordId: string): StoredConflict[] {
    return (
      this.stmt(
        `SELECT * FROM conflicts WHERE entity = ? AND record_id = ? AND status <> 'resolved' ORDER BY detected_at`,
      ).all(entity, recordId) as Row[]
    ).map((r) => this.conflictFromRow(r));
  }

  countUnresolvedConflicts(): number {
    return (
      this.stmt(`SELECT count(*) AS n FROM conflicts WHERE status <> 'resolved'`).get() as { n: number }
    ).n;
  }
}

function toSql(f: FieldDef, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (f.type === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

function fromSql(f: FieldDef, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (f.type === 'boolean') return value === 1 || value === true;
  return value;
}
