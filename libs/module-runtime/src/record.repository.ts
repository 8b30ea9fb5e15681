import { escapeLiteral } from 'pg';
import { Tx } from '@clinisync/persistence';
import { EntityDef, FeedState, FieldDef, FieldType, StoredRecord, parseSnapshot, recordJson, snapshotText } from '@clinisync/sync-core';

const SQL_TYPE: Record<FieldType, string> = {
  string: 'text',
  text: 'text',
  enum: 'text',
  uuid: 'uuid',
  date: 'date',
  datetime: 'timestamptz',
  integer: 'integer',
  number: 'double precision',
  boolean: 'boolean',
};

export function sqlType(f: FieldDef): string {
  return SQL_TYPE[f.type];
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

function selectExpr(f: FieldDef): string {
  switch (f.type) {
    case 'date':
      return `to_char(${f.column}, 'YYYY-MM-DD') AS "${f.name}"`;
    case 'datetime':
      return `to_char(${f.column} AT TIME ZONE 'UTC', ${ISO}) AS "${f.name}"`;
    case 'uuid':
      return `${f.column}::text AS "${f.name}"`;
    case 'string':
    case 'text':
    case 'enum':
    case 'integer':
    case 'number':
    case 'boolean':
      return `${f.column} AS "${f.name}"`;
  }
}

/**
 * A field's value as JSON text in SQL, the same text `JSON.stringify` writes for the value a
 * module holds (numbers: the same value; Postgres may write an exponent differently, 1e-07
 * for 1e-7). NULL for a NULL column.
 */
function jsonValueExpr(f: FieldDef): string {
  switch (f.type) {
    case 'string':
    case 'text':
    case 'enum':
      return `to_json(${f.column})::text`;
    case 'uuid':
      return `'"' || ${f.column}::text || '"'`;
    case 'date':
      return `'"' || to_char(${f.column}, 'YYYY-MM-DD') || '"'`;
    case 'datetime':
      return `'"' || to_char(${f.column} AT TIME ZONE 'UTC', ${ISO}) || '"'`;
    case 'integer':
    case 'number':
    case 'boolean':
      return `${f.column}::text`;
  }
}

/**
 * The record as wire JSON formatted from its columns: the same text as `syncRecordJsonWriter`,
 * for rows whose stored `wire_json` is NULL (written before it existed, or by a writer that
 * does not set it).
 */
function wireJsonExpr(def: EntityDef): string {
  const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;
  return [
    `'{"id":"' || id::text || '"'`,
    `',"version":' || version::text`,
    `',"createdAt":"' || ${iso('created_at')} || '"'`,
    `',"updatedAt":"' || ${iso('updated_at')} || '"'`,
    `',"deletedAt":' || COALESCE('"' || ${iso('deleted_at')} || '"', 'null')`,
    ...def.fields.map((f) => `',${JSON.stringify(f.name)}:' || COALESCE(${jsonValueExpr(f)}, 'null')`),
    `'}'`,
  ].join(' || ');
}

/** One entity's part of a feed statement: where its last page ended, whose facilities (null: all). */
export interface FeedEntityQuery {
  def: EntityDef;
  state: FeedState;
  facilities: string[] | null;
}

/** A feed position part (xid or sequence): digits only, it is written into SQL as a literal. */
function position(value: string): string {
  if (!/^\d{1,20}$/.test(value)) throw new Error(`invalid feed position ${JSON.stringify(value)}`);
  return value;
}

/** A snapshot written into SQL as a literal: well formed or refused. */
function snapshot(text: string): { text: string; xmax: string; xip: string[] } {
  const s = parseSnapshot(text);
  if (!s) throw new Error(`invalid feed snapshot ${JSON.stringify(text)}`);
  return { text: snapshotText(s), xmax: String(s.xmax), xip: s.xip.map(String) };
}

/** One feed row: the record as wire JSON, its feed position, and whether it is new to the caller. */
export interface FeedRow {
  /** Index of the row's entity in the statement's entity list. */
  entity: number;
  id: string;
  /** The record's wire JSON; null for a deleted record (a feed sends only its id). */
  json: string | null;
  xid: string;
  seq: string;
  createdAfter: boolean;
}

interface Row {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  fieldVersions: Record<string, number>;
  [field: string]: unknown;
}

/**
 * Registry-driven SQL for a module's entity tables (`<module>.<table>`): every column comes
 * from the entity registry, so schema, validation and storage cannot drift apart.
 */
export class RecordRepository {
  private readonly selectList = new Map<string, string>();
  private readonly wireJson = new Map<string, string>();

  private table(def: EntityDef): string {
    return `${def.module}.${def.table}`;
  }

  /** The select list of a record, with its field versions (what a decision needs). */
  private columns(def: EntityDef): string {
    let list = this.selectList.get(def.name);
    if (!list) {
      list = [
        'id::text AS id',
        'version',
        `to_char(created_at AT TIME ZONE 'UTC', ${ISO}) AS "createdAt"`,
        `to_char(updated_at AT TIME ZONE 'UTC', ${ISO}) AS "updatedAt"`,
        `to_char(deleted_at AT TIME ZONE 'UTC', ${ISO}) AS "deletedAt"`,
        'field_versions AS "fieldVersions"',
        ...def.fields.map(selectExpr),
      ].join(', ');
      this.selectList.set(def.name, list);
    }
    return list;
  }

  private toStored(def: EntityDef, row: Row): StoredRecord {
    const fields: Record<string, unknown> = {};
    for (const f of def.fields) fields[f.name] = row[f.name] ?? null;
    return {
      id: row.id,
      version: row.version,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      deletedAt: row.deletedAt,
      fields,
      fieldVersions: row.fieldVersions ?? {},
    };
  }

  /** Loads and row-locks the records (deleted ones included) so concurrent batches serialise per record. */
  async loadForUpdate(tx: Tx, def: EntityDef, tenantId: string, ids: string[]): Promise<Map<string, StoredRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await tx.query<Row>(
      `SELECT ${this.columns(def)} FROM ${this.table(def)}
        WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [tenantId, [...new Set(ids)].sort()],
    );
    return new Map(rows.map((r) => [r.id, this.toStored(def, r)]));
  }

  async findOne(tx: Tx, def: EntityDef, tenantId: string, id: string): Promise<StoredRecord | undefined> {
    const rows = await tx.query<Row>(`SELECT ${this.columns(def)} FROM ${this.table(def)} WHERE tenant_id = $1 AND id = $2::uuid`, [
      tenantId,
      id,
    ]);
    return rows[0] ? this.toStored(def, rows[0]) : undefined;
  }

  /**
   * One page of the change feeds of several entities, as one statement (sent with the
   * transaction in one round trip: `TenantTransactions.readOnce`). Its first row (entity -1)
   * carries the statement's snapshot (`pg_current_snapshot()`); then each entity's rows not
   * yet held (written by a transaction not visible in its state's `done`), in (change_xid,
   * change_seq) order. A carried-over window keeps to its target snapshot and starts after its
   * position; a new one sees what this snapshot sees. Transactions in flight are simply not
   * visible yet: they come in a later window and hold nothing up. Entities in the given order,
   * `limit + 1` rows in all (the extra row says where more remain). The rows not visible in
   * `done` are read as two index ranges: its in-flight xids, then xids from its xmax on. Values
   * are inlined as checked literals. A record is handed out as the wire JSON stored with it
   * (formatted from its columns where none is stored); it counts as created when the caller's
   * `done` does not hold its creating transaction.
   */
  feedSql(tenantId: string, entities: readonly FeedEntityQuery[], limit: number): string {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`invalid feed limit ${limit}`);
    const branches: string[] = [];
    entities.forEach(({ def, state, facilities }, k) => {
      const done = state.done === undefined ? undefined : snapshot(state.done);
      const target = state.window ? snapshot(state.window.target) : undefined;
      const after = state.window ? [position(state.window.after.xid), position(state.window.after.seq)] : undefined;
      const conditions = [`t.tenant_id = ${escapeLiteral(tenantId)}`];
      if (def.facilityScoped && facilities) conditions.push(`t.facility_id = ANY(ARRAY[${facilities.map(escapeLiteral).join(', ') || 'NULL'}]::text[])`);
      if (after) conditions.push(`(t.change_xid, t.change_seq) > ('${after[0]}'::xid8, '${after[1]}'::bigint)`);
      if (target) conditions.push(`t.change_xid < '${target.xmax}'::xid8`, `pg_visible_in_snapshot(t.change_xid, '${target.text}'::pg_snapshot)`);
      const created = done ? `NOT pg_visible_in_snapshot(t.created_xid, '${done.text}'::pg_snapshot)` : 'true';
      // Every xip xid is below xmax, so the two ranges, each in order, are in order one after the other.
      const ranges = !done ? ['true'] : [...(done.xip.length > 0 ? [`t.change_xid = ANY(ARRAY[${done.xip.map((x) => `'${x}'`).join(', ')}]::xid8[])`] : []), `t.change_xid >= '${done.xmax}'::xid8`];
      for (const range of ranges) {
        // Every output is named and ORDER BY names the table's columns: an unnamed
        // `change_xid::text` would take the column's name and turn the ordering into a text sort.
        branches.push(`(SELECT ${k} AS entity, CASE WHEN t.deleted_at IS NULL THEN COALESCE(t.wire_json, ${this.wireJsonSql(def)}) END AS json,
              t.id::text AS id, t.change_xid::text AS xid, t.change_seq::text AS seq, ${created} AS created_after
         FROM ${this.table(def)} AS t
        WHERE ${[range, ...conditions].join(' AND ')}
        ORDER BY t.change_xid, t.change_seq LIMIT ${limit + 1})`);
      }
    });
    // Append runs its branches in order and LIMIT stops it: a later entity is read only as far
    // as the page still has room.
    const snap = `(SELECT -1 AS entity, pg_current_snapshot()::text AS json, NULL::text AS id, NULL::text AS xid, NULL::text AS seq, NULL::boolean AS created_after)`;
    return branches.length === 0 ? snap : `${snap}\nUNION ALL\n(SELECT * FROM (${branches.join('\nUNION ALL\n')}) AS feed LIMIT ${limit + 1})`;
  }

  /** The rows of `feedSql`, in order. */
  feedRows(rows: readonly unknown[][]): FeedRow[] {
    return rows.map((r) => ({
      entity: r[0] as number,
      json: r[1] as string | null,
      id: r[2] as string,
      xid: r[3] as string,
      seq: r[4] as string,
      createdAfter: r[5] as boolean,
    }));
  }

  private wireJsonSql(def: EntityDef): string {
    let sql = this.wireJson.get(def.name);
    if (!sql) {
      sql = wireJsonExpr(def);
      this.wireJson.set(def.name, sql);
    }
    return sql;
  }

  /** Live records for online-mode reads, keyset-paged on (updated_at, id). */
  async list(
    tx: Tx,
    def: EntityDef,
    tenantId: string,
    q: { facilities: string[] | null; patientId?: string; facilityId?: string; updatedSince?: string; after?: { updatedAt: string; id: string }; limit: number },
  ): Promise<StoredRecord[]> {
    const params: unknown[] = [tenantId, q.limit];
    const where = ['tenant_id = $1', 'deleted_at IS NULL'];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace(/\?/g, `$${params.length}`));
    };
    if (def.facilityScoped && q.facilities) add('facility_id = ANY(?::text[])', q.facilities);
    if (q.facilityId && def.facilityScoped) add('facility_id = ?', q.facilityId);
    if (q.patientId && def.fields.some((f) => f.name === 'patientId')) add('patient_id = ?::uuid', q.patientId);
    if (q.updatedSince) add('updated_at >= ?::timestamptz', q.updatedSince);
    if (q.after) {
      params.push(q.after.updatedAt, q.after.id);
      where.push(`(updated_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const rows = await tx.query<Row>(`SELECT ${this.columns(def)} FROM ${this.table(def)} WHERE ${where.join(' AND ')} ORDER BY updated_at, id LIMIT $2`, params);
    return rows.map((r) => this.toStored(def, r));
  }

  /** Ids among `ids` that exist and are not deleted. */
  async liveIds(tx: Tx, def: EntityDef, tenantId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await tx.query<{ id: string }>(
      `SELECT id::text AS id FROM ${this.table(def)} WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`,
      [tenantId, [...new Set(ids)]],
    );
    return new Set(rows.map((r) => r.id));
  }

  private recordset(def: EntityDef): string {
    return [
      'id uuid',
      'version integer',
      'created_at timestamptz',
      'updated_at timestamptz',
      'deleted_at timestamptz',
      'field_versions jsonb',
      'wire_json text',
      ...def.fields.map((f) => `${f.column} ${sqlType(f)}`),
    ].join(', ');
  }

  /** Rows for `jsonb_to_recordset`, each with the record's wire JSON (`wire_json`). */
  private json(def: EntityDef, records: StoredRecord[]): string {
    return JSON.stringify(
      records.map((r) => {
        const row: Record<string, unknown> = {
          id: r.id,
          version: r.version,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
          deleted_at: r.deletedAt,
          field_versions: r.fieldVersions,
          wire_json: recordJson(def, r),
        };
        for (const f of def.fields) row[f.column] = r.fields[f.name] ?? null;
        return row;
      }),
    );
  }

  /**
   * Inserts new records. An id that exists already fails the statement (unique violation): the
   * batch applier re-runs the batch against it, which a plain INSERT lets Postgres check once per
   * row (ON CONFLICT checks twice and logs a confirmation per row). Rows go as one JSON document:
   * as joined text columns (`textColumns`, used for the queue, inbox and outbox) these wide rows
   * cost patients more CPU than they saved Postgres, which then planned the update's join worse
   * under load.
   */
  async insert(tx: Tx, def: EntityDef, tenantId: string, records: StoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    await tx.execute(this.insertSql(def), [tenantId, this.json(def, records)]);
  }

  /** Inserts the records whose id is new; returns how many were inserted. */
  async insertIfAbsent(tx: Tx, def: EntityDef, tenantId: string, records: StoredRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const r = await tx.execute(`${this.insertSql(def)} ON CONFLICT (tenant_id, id) DO NOTHING`, [tenantId, this.json(def, records)]);
    return r.rowCount;
  }

  private insertSql(def: EntityDef): string {
    const cols = ['id', 'version', 'created_at', 'updated_at', 'deleted_at', 'field_versions', 'wire_json', ...def.fields.map((f) => f.column)];
    return `INSERT INTO ${this.table(def)} (tenant_id, ${cols.join(', ')})
       SELECT $1, ${cols.map((c) => `r.${c}`).join(', ')} FROM jsonb_to_recordset($2::jsonb) AS r(${this.recordset(def)})`;
  }

  /**
   * Writes new states of existing records, only where the stored version is still the one
   * the decision was based on; returns how many rows matched.
   */
  async update(tx: Tx, def: EntityDef, tenantId: string, records: { record: StoredRecord; expectedVersion: number }[]): Promise<number> {
    if (records.length === 0) return 0;
    const cols = ['version', 'updated_at', 'deleted_at', 'field_versions', 'wire_json', ...def.fields.map((f) => f.column)];
    const expected = JSON.stringify(Object.fromEntries(records.map((r) => [r.record.id, r.expectedVersion])));
    const r = await tx.execute(
      `UPDATE ${this.table(def)} AS t SET ${cols.map((c) => `${c} = r.${c}`).join(', ')},
              change_xid = pg_current_xact_id(), change_seq = nextval('${def.module}.change_seq')
         FROM jsonb_to_recordset($2::jsonb) AS r(${this.recordset(def)})
        WHERE t.tenant_id = $1 AND t.id = r.id AND t.version = (($3::jsonb) ->> r.id::text)::integer`,
      [tenantId, this.json(def, records.map((r) => r.record)), expected],
    );
    return r.rowCount;
  }
}
