import { ENTITIES, EntityDef, FieldDef, FieldType } from '@clinisync/sync-core';

/**
 * The local SQLite schema, generated from the entity registry: one table per entity with the
 * registry's columns plus the sync columns, and the sync metadata tables. Numbered migrations
 * run once each (tracked in `schema_version`); afterwards `registryReconciliation` adds tables and
 * columns the registry gained since, so a device never has to drop local data to follow it.
 */

const SQLITE_TYPE: Record<FieldType, string> = {
  string: 'TEXT',
  text: 'TEXT',
  enum: 'TEXT',
  uuid: 'TEXT',
  date: 'TEXT',
  datetime: 'TEXT',
  integer: 'INTEGER',
  number: 'REAL',
  boolean: 'INTEGER',
};

/** Columns every entity table has besides the registry's fields. */
export const SYSTEM_COLUMNS = [
  'id',
  'version',
  'created_at',
  'updated_at',
  'deleted_at',
  '_status',
  '_changed',
  '_remote',
] as const;

export function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

export function columnDdl(f: FieldDef): string {
  if ((SYSTEM_COLUMNS as readonly string[]).includes(f.column)) {
    throw new Error(`registry field ${f.name} maps to reserved local column ${f.column}`);
  }
  return `${quote(f.column)} ${SQLITE_TYPE[f.type]}`;
}

/**
 * CREATE TABLE and indexes for one entity (idempotent), named after the entity. Registry
 * constraints (required, enum values) are checked at write time, not by SQLite.
 */
export function entityTableDdl(def: EntityDef): string[] {
  const t = quote(def.name);
  const cols = [
    `"id" TEXT PRIMARY KEY NOT NULL`,
    ...def.fields.map(columnDdl),
    `"version" INTEGER`,
    `"created_at" TEXT NOT NULL`,
    `"updated_at" TEXT NOT NULL`,
    `"deleted_at" TEXT`,
    `"_status" TEXT NOT NULL DEFAULT 'synced' CHECK ("_status" IN ('created', 'updated', 'deleted', 'synced'))`,
    `"_changed" TEXT NOT NULL DEFAULT ''`,
    `"_remote" TEXT`,
  ];
  return [`CREATE TABLE IF NOT EXISTS ${t} (\n  ${cols.join(',\n  ')}\n)`, ...entityIndexDdl(def)];
}

export function entityIndexDdl(def: EntityDef): string[] {
  const t = quote(def.name);
  const idx = (suffix: string) => quote(`${def.name}_${suffix}`);
  return [
    `CREATE INDEX IF NOT EXISTS ${idx('updated_at')} ON ${t} ("updated_at")`,
    ...def.fields
      .filter((f) => f.references)
      .map((f) => `CREATE INDEX IF NOT EXISTS ${idx(f.column)} ON ${t} (${quote(f.column)})`),
  ];
}

const META_V1 = [
  // seq is the rowid: always above every entry still queued, which is all the order needs.
  // No CHECK constraints here: they cost more than the insert on every local write, and only
  // SqliteStore writes this table (op: create|update|delete; state: pending|prepared, a prepared
  // entry always carrying client_mutation_id and mutation).
  `CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    base_version INTEGER,
    data TEXT NOT NULL DEFAULT '{}',
    changed_fields TEXT NOT NULL DEFAULT '[]',
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    client_mutation_id TEXT,
    mutation TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT
  )`,
  // Partial indexes: a local write (a pending entry) maintains only outbox_record.
  `CREATE INDEX outbox_record ON outbox (record_id)`,
  `CREATE INDEX outbox_prepared ON outbox (seq) WHERE state = 'prepared'`,
  `CREATE UNIQUE INDEX outbox_client_mutation_id ON outbox (client_mutation_id) WHERE client_mutation_id IS NOT NULL`,
  `CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT,
    last_pulled_at TEXT,
    last_synced_at TEXT,
    last_error TEXT
  )`,
  `INSERT INTO sync_state (id) VALUES (1)`,
  `CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_mutation_id TEXT,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL,
    mutation TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    failed_at TEXT NOT NULL
  )`,
  `CREATE INDEX dead_letters_record ON dead_letters (entity, record_id)`,
  `CREATE TABLE conflicts (
    conflict_id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    client_mutation_id TEXT NOT NULL,
    mutation TEXT NOT NULL,
    base_version INTEGER,
    server_version INTEGER NOT NULL,
    server_record TEXT NOT NULL,
    local_record TEXT NOT NULL,
    conflicting_fields TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'manual_review', 'resolved')),
    resolution TEXT,
    detected_at TEXT NOT NULL,
    resolved_at TEXT
  )`,
  `CREATE INDEX conflicts_record ON conflicts (entity, record_id, status)`,
];

export interface LocalMigration {
  version: number;
  name: string;
  statements(): string[];
}

/** Append only; a landed migration is never edited. */
export const LOCAL_MIGRATIONS: readonly LocalMigration[] = [
  {
    version: 1,
    name: 'sync metadata (outbox, sync_state, dead_letters, conflicts) and one table per registry entity',
    statements: () => [...META_V1, ...ENTITIES.flatMap(entityTableDdl)],
  },
];

export const SCHEMA_VERSION_DDL = `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

/**
 * Additive statements that bring an existing database up to the current registry: missing
 * entity tables and indexes, and missing columns (given the columns each table has now).
 */
export function registryReconciliation(
  existingColumns: (table: string) => ReadonlySet<string> | undefined,
): string[] {
  const out: string[] = [];
  for (const def of ENTITIES) {
    const have = existingColumns(def.name);
    if (!have) {
      out.push(...entityTableDdl(def));
      continue;
    }
    for (const f of def.fields) {
      if (!have.has(f.column)) out.push(`ALTER TABLE ${quote(def.name)} ADD COLUMN ${columnDdl(f)}`);
    }
    out.push(...entityIndexDdl(def));
  }
  return out;
}
