import { DataSource } from 'typeorm';
import { LedgerRetention, TenantTransactions, ledgerDatabasePlan } from '@clinisync/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';

// Real parts: Postgres (fresh database, the ledger migration, the non-owner relay role). Nothing mocked.
describe('mutation ledger retention', () => {
  let db: TestDatabase;
  let owner: DataSource;
  let relay: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase([ledgerDatabasePlan]);
    owner = await db.ownerDataSource();
    relay = await new DataSource({ type: 'postgres', url: db.relayUrl }).initialize();
  });
  afterAll(async () => {
    await relay.destroy();
    await db.drop();
  });

  /** A decided mutation `days` old, with or without a change event. */
  const row = async (tenant: string, days: number, withEvent: boolean, module = 'patients') => {
    const key = newId();
    await owner.query(
      `INSERT INTO sync_ledger.mutations (tenant_id, client_mutation_id, module, status, payload_hash, result, subject, event, event_id, created_at)
       VALUES ($1, $2, $3, 'applied', 'h', '{}', $4, $5, $6, now() - make_interval(days => $7::int))`,
      [tenant, key, module, withEvent ? 'clinical.x' : null, withEvent ? '{}' : null, withEvent ? newId() : null, days],
    );
    return key;
  };
  const keys = async () => {
    await owner.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    const rows = (await owner.query(`SELECT client_mutation_id::text AS k FROM sync_ledger.mutations`)) as { k: string }[];
    await owner.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);
    return new Set(rows.map((r) => r.k));
  };

  it('expires old rows of every tenant whose event is out, keeps young rows and any row whose event the relay has not published', async () => {
    await owner.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    const oldNoEventT1 = await row('t1', 45, false, 'sync-ingest');
    const oldPublishedT2 = await row('t2', 45, true);
    await owner.query(`INSERT INTO sync_ledger.relay_positions (module, done) VALUES ('patients', pg_current_snapshot())`);
    const oldUnpublished = await row('t1', 45, true);
    const young = await row('t2', 10, false);
    const oldOtherModule = await row('t1', 45, true, 'pharmacy'); // its relay has no position yet
    await owner.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);

    const retention = new LedgerRetention(new TenantTransactions(relay), { retentionDays: 30, batchSize: 1 });
    expect(await retention.sweep()).toBe(2);
    const left = await keys();
    expect([oldNoEventT1, oldPublishedT2].filter((k) => left.has(k))).toEqual([]);
    expect([oldUnpublished, young, oldOtherModule].every((k) => left.has(k))).toBe(true);
    expect(await retention.sweep()).toBe(0);
  });

  it('refuses a retention shorter than 30 days', () => {
    expect(() => new LedgerRetention(new TenantTransactions(relay), { retentionDays: 29 })).toThrow(/at least 30 days/);
  });
});
