import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MutationLedgerRepository, NewLedgerEntry, OutboxMessage, OutboxRepository, TenantTransactions, isLedgerKeyRace } from '@clinisync/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';

// Real parts: Postgres (patients migrations, the app role under RLS), the real repositories.
describe('outbox and mutation ledger writes (joined text columns, and the other way when a value holds a separator)', () => {
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  const outbox = new OutboxRepository('patients');
  const ledger = new MutationLedgerRepository();

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const aMessage = (tenantId: string, payload: string): OutboxMessage => ({ tenantId, id: randomUUID(), aggregateId: randomUUID(), subject: `clinical.${tenantId}.patients.patients.created`, payload });
  const stored = (tenant: string) =>
    tx.run(tenant, (t) => t.query<{ id: string; payload: string; subject: string }>(`SELECT id::text AS id, payload, subject FROM patients.outbox ORDER BY seq`));

  it.each([
    ['joined columns', 'ob-joined', '{"text":"quote \\" backslash \\\\ ünïcødé 😀 \\u0001"}'],
    ['a payload holding a separator', 'ob-separator', 'not JSON: \u001e and \u001f'],
  ])('keeps every event, its exact text and its order (%s)', async (_how, tenant, odd) => {
    const messages = [aMessage(tenant, '{"n":1}'), aMessage(tenant, odd), aMessage(tenant, '{"n":3}')];
    await tx.run(tenant, (t) => outbox.append(t, messages));
    expect(await stored(tenant)).toEqual(messages.map((m) => ({ id: m.id, payload: m.payload, subject: m.subject })));
  });

  it.each([
    ['joined columns', 'ib-joined', 'h'.repeat(64)],
    ['a value holding a separator', 'ib-separator', 'h\u001eh'],
  ])('records ledger entries once: a second insert of a key fails as a key race, or is skipped (%s)', async (_how, tenant, payloadHash) => {
    const result = JSON.stringify({ status: 'applied', message: 'quote " and \u001e escaped' });
    const entry = (clientMutationId: string): NewLedgerEntry => ({ clientMutationId, module: 'patients', status: 'applied', payloadHash, result, entity: 'patients', aggregateId: randomUUID() });
    const entries = [randomUUID(), randomUUID()].map(entry);
    const first = await tx.run(tenant, (t) => ledger.insert(t, tenant, entries));
    expect(first.keys.size).toBe(2);
    expect(first.xid).toMatch(/^\d+$/);
    const again = [...entries, entry(randomUUID())];
    const error = await tx.run(tenant, (t) => ledger.insert(t, tenant, again)).catch((e: unknown) => e);
    expect(isLedgerKeyRace(error)).toBe(true);
    expect((await tx.run(tenant, (t) => ledger.insert(t, tenant, again, 'skip'))).keys).toEqual(new Set([again[2].clientMutationId]));
    const found = await tx.run(tenant, (t) => ledger.find(t, tenant, again.map((e) => e.clientMutationId)));
    expect([...found.values()].map((e) => JSON.parse(e.result) as unknown)).toEqual(again.map(() => JSON.parse(result) as unknown));
    // Another tenant sees none of them (RLS).
    expect((await tx.run('someone-else', (t) => ledger.find(t, 'someone-else', again.map((e) => e.clientMutationId)))).size).toBe(0);
  });
});
