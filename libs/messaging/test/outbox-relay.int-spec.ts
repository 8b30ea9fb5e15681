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

  it('keeps the unacknowledged rest of a round in the outbox, and counts a re-published event once', async () => {
    const outbox = new OutboxRepository('patients');
    const tx = new TenantTransactions(app);
    const relayTx = new TenantTransactions(relayDb);
    const event = (subject: string) => ({ tenantId: 't4', id: newId(), aggregateId: newId(), subject, payload: JSON.stringify({ id: newId() }) });
    // The middle event's subject is outside every stream: nothing stores it, so nothing acks it.
    const events = [event('clinical.t4.patients.patients.created'), event('nowhere.t4.patients.created'), event('clinical.t4.patients.patients.updated')];
    await tx.run('t4', (t) => outbox.append(t, events));
    const relay = new OutboxRelay(relayTx, outbox, link, { published: () => undefined, lag: () => undefined, failed: () => undefined }, { batchSize: 500, pollIntervalMs: 250, publishTimeoutMs: 2_000 });
    await expect(relay.publishPending()).rejects.toThrow('published 1 of 3 outbox events');
    const left = await relayTx.runUnscoped((t) => t.query<{ id: string }>(`SELECT id::text AS id FROM patients.outbox WHERE tenant_id = 't4' ORDER BY seq`));
    expect(left.map((r) => r.id)).toEqual([events[1].id, events[2].id]);
    const stored = () => readStream(nats.url, 'CLINICAL').then((all) => all.filter((m) => m.subject.startsWith('clinical.t4.')).map((m) => m.msgId));
    // Publishing is pipelined, so the event after the failure may be stored already; it stays in
    // the outbox and its re-publish is de-duplicated by its Nats-Msg-Id.
    expect(await stored()).toEqual([events[0].id, events[2].id]);

    // A crash after publishing and before deleting: the same event is in the outbox again.
    await relayTx.runUnscoped((t) => t.query(`DELETE FROM patients.outbox WHERE tenant_id = 't4'`));
    await tx.run('t4', (t) => outbox.append(t, [{ ...events[0], id: events[0].id }]));
    expect(await relay.publishPending()).toBe(1);
    expect(await stored()).toEqual([events[0].id, events[2].id]);
    expect(await relayTx.runUnscoped((t) => t.query(`SELECT 1 FROM patients.outbox WHERE tenant_id = 't4'`))).toEqual([]);
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
