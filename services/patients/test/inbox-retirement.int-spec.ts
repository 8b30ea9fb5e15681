import { ledgerDatabasePlan, migrate, revertLastMigration } from '@clinisync/persistence';
import { createTestDatabase, TEST_ROLES, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { patientsDatabasePlan } from '../src/database';

// Real parts: Postgres (fresh database, the ledger and patients migrations). Nothing mocked.
describe('patients inbox retirement (push spine v2 migration)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('moves an inbox row the ledger lacks into the ledger, then drops the inbox; down brings an empty inbox back', async () => {
    const owner = await db.ownerDataSource();
    const inboxExists = async () => ((await owner.query(`SELECT to_regclass('patients.inbox') IS NOT NULL AS present`)) as { present: boolean }[])[0].present;
    expect(await inboxExists()).toBe(false);

    // An old module wrote its inbox after the ledger migration had copied the inboxes.
    await revertLastMigration(db.ownerUrl, patientsDatabasePlan);
    expect(await inboxExists()).toBe(true);
    const key = newId();
    const held = newId();
    const record = newId();
    await owner.query(`ALTER TABLE patients.inbox NO FORCE ROW LEVEL SECURITY`);
    await owner.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    await owner.query(
      `INSERT INTO patients.inbox (tenant_id, client_mutation_id, payload_hash, result) VALUES
        ('t1', $1, 'h1', $2::json), ('t1', $3, 'h2', '{"status":"applied","id":"${record}","version":9}'::json)`,
      [key, JSON.stringify({ clientMutationId: key, status: 'applied', id: record, version: 2 }), held],
    );
    // One key the ledger already holds keeps the ledger's answer.
    await owner.query(`INSERT INTO sync_ledger.mutations (tenant_id, client_mutation_id, module, status, payload_hash, result) VALUES ('t1', $1, 'patients', 'rejected', 'h2', '{}')`, [held]);
    await owner.query(`ALTER TABLE patients.inbox FORCE ROW LEVEL SECURITY`);
    await owner.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);

    await migrate(db.ownerUrl, [ledgerDatabasePlan, patientsDatabasePlan], TEST_ROLES);
    expect(await inboxExists()).toBe(false);
    await owner.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    const rows = (await owner.query(
      `SELECT client_mutation_id::text AS key, module, status, payload_hash AS hash, aggregate_id::text AS id, version FROM sync_ledger.mutations WHERE tenant_id = 't1' ORDER BY status`,
    )) as { key: string; module: string; status: string; hash: string; id: string | null; version: number | null }[];
    await owner.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);
    expect(rows).toEqual([
      { key, module: 'patients', status: 'applied', hash: 'h1', id: record, version: 2 },
      { key: held, module: 'patients', status: 'rejected', hash: 'h2', id: null, version: null },
    ]);
  });
});
