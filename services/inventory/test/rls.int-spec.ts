import { DataSource } from 'typeorm';
import { TenantTransactions, revertLastMigration } from '@clinisync/persistence';
import { sqlType } from '@clinisync/module-runtime';
import { entitiesOfModule } from '@clinisync/sync-core';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { inventoryDatabasePlan } from '../src/database';
import { ProcessedEventsRepository } from '../src/dispensing-feed/processed-events.repository';

// Real parts: Postgres (fresh database, the inventory migration, non-owner app role). Nothing mocked.
describe('inventory schema and row-level security', () => {
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  const insertLevel = (tenant: string, rowTenant = tenant, facility = 'f-1', drug = newId()) =>
    tx.run(tenant, (t) =>
      t.query(
        `INSERT INTO inventory.stock_levels (tenant_id, id, facility_id, drug_id, quantity, discrepancy, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, false, 1, now(), now())`,
        [rowTenant, newId(), facility, drug],
      ),
    );

  beforeAll(async () => {
    db = await createTestDatabase([inventoryDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    await insertLevel('t1');
    await insertLevel('t2');
    await tx.run('t1', (t) =>
      new ProcessedEventsRepository().markProcessed(
        t,
        't1',
        'e-1',
        'clinical.t1.pharmacy.dispensing_records.created',
      ),
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a query with no tenant filter returns no other tenant rows', async () => {
    const rows = await tx.run('t1', (t) =>
      t.query<{ tenant_id: string }>('SELECT tenant_id FROM inventory.stock_levels'),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.tenant_id === 't1')).toBe(true);
  });

  it('returns nothing at all when no tenant is set, processed events included', async () => {
    expect(await tx.runUnscoped((t) => t.query('SELECT * FROM inventory.stock_levels'))).toEqual([]);
    expect(await tx.runUnscoped((t) => t.query('SELECT * FROM inventory.processed_events'))).toEqual([]);
  });

  it("keeps processed events per tenant: another tenant's identical event id is not a duplicate", async () => {
    expect(
      await tx.run('t2', (t) =>
        new ProcessedEventsRepository().markProcessed(
          t,
          't2',
          'e-1',
          'clinical.t2.pharmacy.dispensing_records.created',
        ),
      ),
    ).toBe(true);
    expect(
      await tx.run('t1', (t) =>
        new ProcessedEventsRepository().markProcessed(
          t,
          't1',
          'e-1',
          'clinical.t1.pharmacy.dispensing_records.created',
        ),
      ),
    ).toBe(false);
  });

  it('refuses to write a row for another tenant', async () => {
    await expect(insertLevel('t1', 't2')).rejects.toThrow(/row-level security/);
  });

  it('allows one stock level per tenant, facility and drug', async () => {
    const drug = newId();
    await insertLevel('t1', 't1', 'f-7', drug);
    await expect(insertLevel('t1', 't1', 'f-7', drug)).rejects.toThrow(/stock_levels_facility_drug/);
  });

  it('the app role is neither owner nor BYPASSRLS, and RLS is forced on all five inventory tables', async () => {
    const [role] = await app.query(
      'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user',
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
    const owner = await db.ownerDataSource();
    const tables: { relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[] =
      await owner.query(
        `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'inventory' AND c.relkind = 'r' ORDER BY c.relname`,
      );
    expect(tables.map((t) => t.relname)).toEqual([
      'outbox',
      'processed_events',
      'stock_levels',
      'stock_movements',
    ]);
    for (const t of tables)
      expect([t.relname, t.relrowsecurity, t.relforcerowsecurity]).toEqual([t.relname, true, true]);
  });

  it('keeps every registry field of the inventory module as a column of the migrated schema', async () => {
    const owner = await db.ownerDataSource();
    const cols: { table_name: string; column_name: string; data_type: string }[] = await owner.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'inventory'`,
    );
    const defs = entitiesOfModule('inventory');
    expect(defs.map((d) => d.name)).toEqual(['stock_movements', 'stock_levels']);
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

  it('is reversible: down drops the inventory schema', async () => {
    const scratch = await createTestDatabase([inventoryDatabasePlan]);
    try {
      const owner = await scratch.ownerDataSource();
      const wireColumns = async () =>
        (await owner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'inventory' AND column_name = 'wire_json'`))[0].n as number;
      expect(await wireColumns()).toBe(2);
      const inbox = async () =>
        (await owner.query(`SELECT c.relforcerowsecurity AS forced FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'inventory' AND c.relname = 'inbox'`)) as { forced: boolean }[];
      expect(await inbox()).toEqual([]);
      // Each migration's down undoes its up: the retired inbox comes back (RLS forced), then the
      // stored wire JSON goes, then the schema.
      await revertLastMigration(scratch.ownerUrl, inventoryDatabasePlan);
      expect(await inbox()).toEqual([{ forced: true }]);
      expect(await wireColumns()).toBeGreaterThan(0);
      await revertLastMigration(scratch.ownerUrl, inventoryDatabasePlan);
      expect(await wireColumns()).toBe(0);
      await revertLastMigration(scratch.ownerUrl, inventoryDatabasePlan);
      expect(await owner.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'inventory'`)).toEqual([]);
    } finally {
      await scratch.drop();
    }
  });
});
