import { DataSource } from 'typeorm';
import { TenantTransactions, revertLastMigration } from '@clinisync/persistence';
import { sqlType } from '@clinisync/module-runtime';
import { entitiesOfModule } from '@clinisync/sync-core';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { pharmacyDatabasePlan } from '../src/database';

// Real parts: Postgres (fresh database, the pharmacy migration, non-owner app role). Nothing mocked.
describe('pharmacy schema and row-level security', () => {
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  const insertDrug = (tenant: string, rowTenant = tenant) =>
    tx.run(tenant, (t) =>
      t.query(
        `INSERT INTO pharmacy.drug_catalogue (tenant_id, id, code, name, controlled, version, created_at, updated_at) VALUES ($1, $2, 'D1', 'Morphine', true, 1, now(), now())`,
        [rowTenant, newId()],
      ),
    );

  beforeAll(async () => {
    db = await createTestDatabase([pharmacyDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    await insertDrug('t1');
    await insertDrug('t2');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a query with no tenant filter returns no other tenant rows', async () => {
    const rows = await tx.run('t1', (t) =>
      t.query<{ tenant_id: string }>('SELECT tenant_id FROM pharmacy.drug_catalogue'),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.tenant_id === 't1')).toBe(true);
  });

  it('returns nothing at all when no tenant is set', async () => {
    expect(await tx.runUnscoped((t) => t.query('SELECT * FROM pharmacy.drug_catalogue'))).toEqual([]);
  });

  it('refuses to write a row for another tenant', async () => {
    await expect(insertDrug('t1', 't2')).rejects.toThrow(/row-level security/);
  });

  it('the app role is neither owner nor BYPASSRLS, and RLS is forced on all six pharmacy tables', async () => {
    const [role] = await app.query(
      'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
    const owner = await db.ownerDataSource();
    const tables: { relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[] =
      await owner.query(
        `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'pharmacy' AND c.relkind = 'r' ORDER BY c.relname`,
      );
    expect(tables.map((t) => t.relname)).toEqual([
      'dispensing_records',
      'drug_catalogue',
      'outbox',
      'prescription_items',
      'prescriptions',
    ]);
    for (const t of tables)
      expect([t.relname, t.relrowsecurity, t.relforcerowsecurity]).toEqual([t.relname, true, true]);
  });

  it('keeps every registry field of the pharmacy module as a column of the migrated schema', async () => {
    const owner = await db.ownerDataSource();
    const cols: { table_name: string; column_name: string; data_type: string }[] = await owner.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'pharmacy'`,
    );
    const defs = entitiesOfModule('pharmacy');
    expect(defs.map((d) => d.name)).toEqual([
      'drug_catalogue',
      'prescriptions',
      'prescription_items',
      'dispensing_records',
    ]);
    for (const def of defs) {
      for (const f of def.fields) {
        const col = cols.find((c) => c.table_name === def.table && c.column_name === f.column);
        expect([def.table, f.column, col?.data_type]).toEqual([
          def.table,
          f.column,
          sqlType(f).replace('timestamptz', 'timestamp with time zone'),
        ]);
      }
    }
  });

  it('references in-module parents by foreign key and other modules (patients, visits) by id only', async () => {
    const owner = await db.ownerDataSource();
    const fks: { child: string; parent: string }[] = await owner.query(
      `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'pharmacy' AND c.contype = 'f' ORDER BY 1, 2`,
    );
    expect(fks).toEqual([
      { child: 'pharmacy.dispensing_records', parent: 'pharmacy.drug_catalogue' },
      { child: 'pharmacy.dispensing_records', parent: 'pharmacy.prescription_items' },
      { child: 'pharmacy.prescription_items', parent: 'pharmacy.drug_catalogue' },
      { child: 'pharmacy.prescription_items', parent: 'pharmacy.prescriptions' },
    ]);
  });

  it('is reversible: down drops the pharmacy schema', async () => {
    const scratch = await createTestDatabase([pharmacyDatabasePlan]);
    try {
      const owner = await scratch.ownerDataSource();
      const wireColumns = async () =>
        (await owner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'pharmacy' AND column_name = 'wire_json'`))[0].n as number;
      expect(await wireColumns()).toBe(4);
      const inbox = async () =>
        (await owner.query(`SELECT c.relforcerowsecurity AS forced FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pharmacy' AND c.relname = 'inbox'`)) as { forced: boolean }[];
      expect(await inbox()).toEqual([]);
      // Each migration's down undoes its up: the retired inbox comes back (RLS forced), then the
      // stored wire JSON goes, then the schema.
      await revertLastMigration(scratch.ownerUrl, pharmacyDatabasePlan);
      expect(await inbox()).toEqual([{ forced: true }]);
      expect(await wireColumns()).toBeGreaterThan(0);
      await revertLastMigration(scratch.ownerUrl, pharmacyDatabasePlan);
      expect(await wireColumns()).toBe(0);
      await revertLastMigration(scratch.ownerUrl, pharmacyDatabasePlan);
      expect(await owner.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'pharmacy'`)).toEqual([]);
    } finally {
      await scratch.drop();
    }
  });
});
