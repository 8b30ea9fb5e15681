import { DataSource } from 'typeorm';
import { OutboxRepository, TenantTransactions, createDataSource } from '@clinisync/persistence';
import { NatsLink, OutboxRelay, clinicalStream, ensureStream } from '@clinisync/messaging';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import { readStream } from '../../../test/support/streams';
import { newId } from '../../../test/support/builders';

// Real parts: Postgres (relay role across tenants), a private JetStream server.
describe('outbox relay', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let link: NatsLink;
  let app: DataSource;
  let relayDb: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
    nats = await startTestNats();
    link = await NatsLink.connect({ servers: [nats.url], name: 'relay-test' });
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

  it('publishes every tenant’s events in commit order with Nats-Msg-Id and never twice', async () => {
    const outbox = new OutboxRepository('patients');
    const tx = new TenantTransactions(app);
    const events = ['t1', 't2', 't1'].map((tenant, i) => ({ tenantId: tenant, id: newId(), aggregateId: newId(), subject: `clinical.${tenant}.patients.patients.created`, payload: JSON.stringify({ id: `e${i}`, data: { id: `r${i}` } }) }));
    for (const e of events) await tx.run(e.tenantId, (t) => outbox.append(t, [e]));
    const metrics = { published: 0 };
    const relay = new OutboxRelay(new TenantTransactions(relayDb), outbox, link, { published: (n) => (metrics.published += n), lag: () => undefined, failed: () => undefined });
    expect(await relay.publishPending()).toBe(3);
    expect(await relay.publishPending()).toBe(0);
    // Published events leave the outbox (JetStream keeps them).
    expect(await new TenantTransactions(relayDb).runUnscoped((t) => t.query('SELECT * FROM patients.outbox'))).toEqual([]);
    const stored = await readStream(nats.url, 'CLINICAL');
    expect(stored.map((m) => m.msgId)).toEqual(events.map((e) => e.id));
    expect(stored.map((m) => m.subject)).toEqual(events.map((e) => e.subject));
    expect(metrics.published).toBe(3);
  });

  it('the app role cannot read the outbox without a tenant, the relay role can', async () => {
    const tx = new TenantTransactions(app);
    const pendingEvent = { tenantId: 't3', id: newId(), aggregateId: newId(), subject: 'clinical.t3.patients.patients.created', payload: '{}' };
    await tx.run('t3', (t) => new OutboxRepository('patients').append(t, [pendingEvent]));
    expect(await tx.runUnscoped((t) => t.query('SELECT * FROM patients.outbox'))).toEqual([]);
    const relayTx = new TenantTransactions(relayDb);
    expect((await relayTx.runUnscoped((t) => t.query('SELECT * FROM patients.outbox'))).length).toBeGreaterThan(0);
  });
});
