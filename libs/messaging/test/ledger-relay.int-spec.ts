import { DataSource } from 'typeorm';
import { LedgerRelaySource, MutationLedgerRepository, NewLedgerEntry, TenantTransactions, createDataSource, ledgerDatabasePlan } from '@clinisync/persistence';
import { NatsLink, OutboxRelay, clinicalStream, ensureStream } from '@clinisync/messaging';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import { readStream } from '../../../test/support/streams';
import { newId } from '../../../test/support/builders';

// ---- builders -------------------------------------------------------------------------------

/** A ledger row of an applied change, with its change event. */
function anApplied(tenantId: string, module = 'patients'): NewLedgerEntry {
  const id = newId();
  const aggregateId = newId();
  return {
    clientMutationId: id,
    module,
    status: 'applied',
    payloadHash: 'h',
    result: '{}',
    entity: 'patients',
    aggregateId,
    version: 1,
    subject: `clinical.${tenantId}.${module}.patients.created`,
    event: JSON.stringify({ id, data: { id: aggregateId } }),
    eventId: newId(),
  };
}

// ---- tests ----------------------------------------------------------------------------------

// Real parts: Postgres with the ledger plan (relay role across tenants), a private JetStream.
describe('ledger relay (snapshot windows over sync_ledger.mutations)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let link: NatsLink;
  let app: DataSource;
  let relayDb: DataSource;
  const ledger = new MutationLedgerRepository();
  const noMetrics = { published: () => undefined, lag: () => undefined, failed: () => undefined };

  beforeAll(async () => {
    db = await createTestDatabase([ledgerDatabasePlan]);
    nats = await startTestNats();
    link = await NatsLink.connect({ servers: [nats.url], name: 'ledger-relay-test' });
    await ensureStream(link.nc, clinicalStream());
    app = await db.appDataSource();
    relayDb = await createDataSource({ url: db.relayUrl, applicationName: 'relay', poolSize: 2 }).initialize();
  });
  afterAll(async () => {
    await relayDb?.destroy();
    await link?.close();
    await nats?.dispose();
    await db?.drop();
  });

  const stored = (tenant: string) => readStream(nats.url, 'CLINICAL').then((all) => all.filter((m) => m.subject.startsWith(`clinical.${tenant}.`)).map((m) => m.msgId));
  const position = async (module: string) => {
    const owner = await db.ownerDataSource();
    try {
      const [row] = await owner.query<{ done: string; target: string | null; updated: string }[]>(
        `SELECT done::text AS done, target::text AS target, updated_at::text AS updated FROM sync_ledger.relay_positions WHERE module = $1`,
        [module],
      );
      return row;
    } finally {
      await owner.destroy();
    }
  };

  it('publishes what committed while an older transaction is still open, and that one when it commits', async () => {
    const tenant = `lr-${newId()}`;
    const tx = new TenantTransactions(app);
    const relay = new OutboxRelay(new TenantTransactions(relayDb), new LedgerRelaySource('patients'), link, noMetrics);
    const [slow, quick] = [anApplied(tenant), anApplied(tenant)];
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let wrote!: () => void;
    const ready = new Promise<void>((r) => (wrote = r));
    const open = tx.run(tenant, async (t) => {
      await ledger.insert(t, tenant, [slow]);
      wrote();
      await held;
    });
    await Promise.race([ready, open]);
    try {
      await tx.run(tenant, (t) => ledger.insert(t, tenant, [quick]));
      expect(await relay.publishPending()).toBe(1);
      expect(await stored(tenant)).toEqual([quick.eventId]);
    } finally {
      commit();
      await open;
    }
    expect(await relay.publishPending()).toBe(1);
    expect(await relay.publishPending()).toBe(0);
    expect(await stored(tenant)).toEqual([quick.eventId, slow.eventId]);
  });

  it('writes its position once per round that published, and not at all in a round that found nothing', async () => {
    const tenant = `lr-${newId()}`;
    const module = 'idle-module';
    const tx = new TenantTransactions(app);
    const relay = new OutboxRelay(new TenantTransactions(relayDb), new LedgerRelaySource(module), link, noMetrics);
    await tx.run(tenant, (t) => ledger.insert(t, tenant, [anApplied(tenant, module), anApplied(tenant, module)]));
    expect(await relay.publishPending()).toBe(2);
    const after = await position(module);
    expect(after.target).toBeNull();
    for (let i = 0; i < 3; i++) expect(await relay.publishPending()).toBe(0);
    expect(await position(module)).toEqual(after);
  });

  it('keeps a window it could not finish (page limit, or events not acknowledged) and goes on from where it stopped', async () => {
    const tenant = `lr-${newId()}`;
    const module = 'paged-module';
    const tx = new TenantTransactions(app);
    const relay = new OutboxRelay(new TenantTransactions(relayDb), new LedgerRelaySource(module), link, noMetrics, { batchSize: 2, pollIntervalMs: 250, publishTimeoutMs: 2_000 });
    const events = [anApplied(tenant, module), anApplied(tenant, module), anApplied(tenant, module)];
    await tx.run(tenant, (t) => ledger.insert(t, tenant, events));
    expect(await relay.publishPending()).toBe(2);
    const mid = await position(module);
    expect(mid.target).not.toBeNull(); // the window is stored with where it stopped
    // Committed after the window opened: it belongs to the next window, not this one.
    const later = anApplied(tenant, module);
    await tx.run(tenant, (t) => ledger.insert(t, tenant, [later]));
    expect(await relay.publishPending()).toBe(1);
    expect((await position(module)).done).toBe(mid.target);
    expect(await relay.publishPending()).toBe(1);
    expect(await relay.publishPending()).toBe(0);
    // Ledger rows are written in key order, so a page's order is the key order of one transaction.
    const ids = await stored(tenant);
    expect(ids.slice(0, 3).sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(ids[3]).toBe(later.eventId);
  });
});
