import { DataSource } from 'typeorm';
import { TenantTransactions } from '@clinisync/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../src/database';
import { newId } from '../../../test/support/builders';

// Real parts: Postgres (fresh database, migrations, non-owner app role). Nothing mocked.
describe('patients row-level security', () => {
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  const insert = (tenant: string, id: string) =>
    tx.run(tenant, (t) =>
      t.query(
        `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, version, created_at, updated_at) VALUES ($1, $2, 'f-1', 'A', 1, now(), now())`,
        [tenant, id],
      ),
    );

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    await insert('t1', newId());
    await insert('t2', newId());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a query with no tenant filter returns no other tenant rows', async () => {
    const rows = await tx.run('t1', (t) => t.query<{ tenant_id: string }>('SELECT tenant_id FROM patients.patients'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.tenant_id === 't1')).toBe(true);
  });

  it('returns nothing at all when no tenant is set', async () => {
    const rows = await tx.runUnscoped((t) => t.query('SELECT * FROM patients.patients'));
    expect(rows).toEqual([]);
  });

  it('refuses to write a row for another tenant', async () => {
    await expect(
      tx.run('t1', (t) =>
        t.query(
          `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, version, created_at, updated_at) VALUES ('t2', $1, 'f-1', 'B', 1, now(), now())`,
          [newId()],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('the app role is neither owner nor BYPASSRLS, and RLS is forced on every tenant table', async () => {
    const [role] = await app.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user');
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
    const owner = await db.ownerDataSource();
    const tables: { relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[] = await owner.query(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'patients' AND c.relkind = 'r'`,
    );
    expect(tables.map((t) => t.relname).sort()).toEqual(['appointments', 'clinical_notes', 'outbox', 'patients', 'problems', 'visits', 'vitals']);
    for (const t of tables) expect([t.relname, t.relrowsecurity, t.relforcerowsecurity]).toEqual([t.relname, true, true]);
  });
});
