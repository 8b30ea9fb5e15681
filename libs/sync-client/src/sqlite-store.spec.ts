import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTITIES } from '@clinisync/sync-core';
import { aLocalPatient, localStoreContract } from '../test/local-store.contract';
import { LOCAL_MIGRATIONS } from './schema';
import { SqliteStore } from './sqlite-store';

localStoreContract('SqliteStore :memory:', () => SqliteStore.open(':memory:'));

const dirs: string[] = [];
localStoreContract(
  'SqliteStore on a file (WAL)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-client-store-'));
    dirs.push(dir);
    return SqliteStore.open(join(dir, 'local.db'));
  },
  (s) => {
    s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
);

describe('SqliteStore local migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sync-client-mig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates one table per registry entity with the registry columns and the sync columns', () => {
    const store = SqliteStore.open(':memory:');
    for (const def of ENTITIES) {
      const cols = (store.db.prepare(`PRAGMA table_info("${def.name}")`).all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(cols).toEqual([
        'id',
        ...def.fields.map((f) => f.column),
        'version',
        'created_at',
        'updated_at',
        'deleted_at',
        '_status',
        '_changed',
        '_remote',
      ]);
    }
    const tables = (
      store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
    ).map((t) => t.name);
    expect(tables).toEqual(
      expect.arrayContaining(['outbox', 'sync_state', 'dead_letters', 'conflicts', 'schema_version']),
    );
    store.close();
  });

  it('runs each migration once and keeps data across reopening', () => {
    const path = join(dir, 'a.db');
    const first = SqliteStore.open(path);
    first.insertRecord('patients', aLocalPatient('0193f0c2-0000-7000-8000-000000000001'));
    first.close();
    const again = SqliteStore.open(path);
    expect(again.schemaVersion()).toBe(LOCAL_MIGRATIONS[LOCAL_MIGRATIONS.length - 1].version);
    expect((again.db.prepare('SELECT count(*) AS n FROM schema_version').get() as { n: number }).n).toBe(
      LOCAL_MIGRATIONS.length,
    );
    expect(again.getRecord('patients', '0193f0c2-0000-7000-8000-000000000001')).toBeDefined();
    again.close();
  });

  it('adds columns and tables the registry gained since the database was created', () => {
    const path = join(dir, 'old.db');
    SqliteStore.open(path).close();
    const raw = new Database(path);
    raw.exec('ALTER TABLE patients DROP COLUMN address');
    raw.exec('DROP TABLE stock_levels');
    raw.close();
    const store = SqliteStore.open(path);
    const cols = (store.db.prepare(`PRAGMA table_info("patients")`).all() as { name: string }[]).map(
      (c) => c.name,
    );
    expect(cols).toContain('address');
    expect(store.listRecords('stock_levels')).toEqual([]);
    store.close();
  });
});
