import { Tx } from '@clinisync/persistence';
import { EntityDef, FieldDef, FieldType, StoredRecord, syncRecordJsonWriter, syncRecordKeys } from '@clinisync/sync-core';

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

/** One feed row: the record as wire JSON, its feed position, and whether it is new to the caller. */
export interface FeedRow {
  id: string;
  deleted: boolean;
  json: string;
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
  private readonly writers = new Map<string, (values: readonly unknown[]) => string>();

  private table(def: EntityDef): string {
    return `${def.module}.${def.table}`;
  }

  /**
   * The select list of a record; `withFieldVersions` false for reads that only hand records out
   * (feed). Its order is `syncRecordKeys` order (then field versions): feed rows are read as arrays.
   */
  private columns(def: EntityDef, withFieldVersions = true): string {
    const key = `${def.name}:${withFieldVersions}`;
    let list = this.selectList.get(key);
    if (!list) {
      list = [
        'id::text AS id',
        'version',
        `to_char(created_at AT TIME ZONE 'UTC', ${ISO}) AS "createdAt"`,
        `to_char(updated_at AT TIME ZONE 'UTC', ${ISO}) AS "updatedAt"`,
        `to_char(deleted_at AT TIME ZONE 'UTC', ${ISO}) AS "deletedAt"`,
        ...(withFieldVersions ? ['field_versions AS "fieldVersions"'] : []),
        ...def.fields.map(selectExpr),
      ].join(', ');
      this.selectList.set(key, list);
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
   * One page of an entity's change feed: rows after `after` in (change_xid, change_seq) order,
   * written by transactions below `highWater` (and below this snapshot's xmin), so a late
   * commit is delivered late, never skipped. `facilities` null = every facility. Records come
   * without field versions (a feed hands records out, it decides nothing). A record counts as
   * created after the cursor when its creating transaction is later, or is the cursor's own
   * transaction and wrote the record's last change too: that transaction's rows were final when
   * the cursor passed (X, s), so a row now at (X, s' > s) was never handed out.
   */
  async feedPage(
    tx: Tx,
    def: EntityDef,
    tenantId: string,
    after: { xid: string; seq: string },
    highWater: string,
    limit: number,
    facilities: string[] | null,
  ): Promise<FeedRow[]> {
    const params: unknown[] = [tenantId, after.xid, after.seq, highWater, limit];
    let facilityFilter = '';
    if (def.facilityScoped && facilities) {
      params.push(facilities);
      facilityFilter = `AND facility_id = ANY($${params.length}::text[])`;
    }
    // Arrays, not objects: the record's values in wire order first (`syncRecordKeys`), then the
    // position and the created flag, written to JSON without an object per row.
    const rows = await tx.queryArrays(
      `SELECT ${this.columns(def, false)}, change_xid::text AS xid, change_seq::text AS seq,
              (created_xid > $2::xid8 OR (created_xid = $2::xid8 AND change_xid = $2::xid8)) AS "createdAfter"
         FROM ${this.table(def)}
        WHERE tenant_id = $1 AND (change_xid, change_seq) > ($2::xid8, $3::bigint)
          AND change_xid < LEAST($4::xid8, pg_snapshot_xmin(pg_current_snapshot())) ${facilityFilter}
        ORDER BY change_xid, change_seq LIMIT $5`,
      params,
    );
    const write = this.jsonWriter(def);
    const keys = syncRecordKeys(def);
    const [idAt, deletedAt, n] = [keys.indexOf('id'), keys.indexOf('deletedAt'), keys.length];
    return rows.map((r) => ({
      id: r[idAt] as string,
      deleted: r[deletedAt] !== null,
      json: write(r),
      xid: r[n] as string,
      seq: r[n + 1] as string,
      createdAfter: r[n + 2] as boolean,
    }));
  }

  private jsonWriter(def: EntityDef): (values: readonly unknown[]) => string {
    let w = this.writers.get(def.name);
    if (!w) {
      w = syncRecordJsonWriter(def);
      this.writers.set(def.name, w);
    }
    return w;
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
      ...def.fields.map((f) => `${f.column} ${sqlType(f)}`),
    ].join(', ');
  }

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
        };
        for (const f of def.fields) row[f.column] = r.fields[f.name] ?? null;
        return row;
      }),
    );
  }

  /** Inserts new records; returns how many were inserted (fewer: a concurrent create won). */
  async insert(tx: Tx, def: EntityDef, tenantId: string, records: StoredRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const cols = ['id', 'version', 'created_at', 'updated_at', 'deleted_at', 'field_versions', ...def.fields.map((f) => f.column)];
    const r = await tx.execute(
      `INSERT INTO ${this.table(def)} (tenant_id, ${cols.join(', ')})
       SELECT $1, ${cols.map((c) => `r.${c}`).join(', ')} FROM jsonb_to_recordset($2::jsonb) AS r(${this.recordset(def)})
       ON CONFLICT (tenant_id, id) DO NOTHING`,
      [tenantId, this.json(def, records)],
    );
    return r.rowCount;
  }

  /**
   * Writes new states of existing records, only where the stored version is still the one
   * the decision was based on; returns how many rows matched.
   */
  async update(tx: Tx, def: EntityDef, tenantId: string, records: { record: StoredRecord; expectedVersion: number }[]): Promise<number> {
    if (records.length === 0) return 0;
    const cols = ['version', 'updated_at', 'deleted_at', 'field_versions', ...def.fields.map((f) => f.column)];
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
