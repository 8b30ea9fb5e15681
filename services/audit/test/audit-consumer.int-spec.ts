// Real parts: Postgres with the audit migrations and the non-owner app role (RLS on), a private
// JetStream server, the audit service as a Nest app with its durable consumer. Nothing mocked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { ensureDevIssuerKeys } from '@clinisync/auth';
import { AUDIT_STREAM } from '@clinisync/contracts';
import { AUDIT_DURABLE } from '../src/audit-trail/audit-consumer';
import { TEST_ROLES, TestDatabase, createTestDatabase } from '../../../test/support/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import { eventually, readStream } from '../../../test/support/streams';
import {
  AuditServiceHandle,
  anAuditEvent,
  auditCloudEvent,
  publishAuditEvents,
  startAuditService,
} from '../../../test/support/audit-service';

describe('audit consumer (AUDIT stream, durable audit-store, explicit ack)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let audit: AuditServiceHandle;
  let owner: DataSource;
  let issuerDir: string;

  beforeAll(async () => {
    db = await createTestDatabase([]);
    nats = await startTestNats();
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-issuer-'));
    await ensureDevIssuerKeys(issuerDir);
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir });
    owner = await db.ownerDataSource();
  });

  afterAll(async () => {
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  const rowsOf = async (tenantId: string) =>
    owner.query<{ id: string; sequence: string }[]>(
      `SELECT id::text AS id, sequence::text AS sequence FROM audit.audit_events WHERE tenant_id = $1 ORDER BY audit_events.sequence`,
      [tenantId],
    );

  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${audit.baseUrl}/metrics`)).text();
    const m = new RegExp(`^${name}\\{service="audit"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  async function consumerState() {
    const nc = await connect({ servers: nats.url });
    try {
      const info = await (await nc.jetstreamManager()).consumers.info(AUDIT_STREAM, AUDIT_DURABLE);
      return { pending: info.num_pending, ackPending: info.num_ack_pending, config: info.config };
    } finally {
      await nc.close();
    }
  }

  it('provisions the AUDIT stream and a durable, explicitly acknowledged consumer filtered on audit.>', async () => {
    const state = await consumerState();
    expect(state.config).toMatchObject({
      durable_name: 'audit-store',
      ack_policy: 'explicit',
      filter_subject: 'audit.>',
    });
  });

  it('stores an event delivered twice by JetStream (a redelivery) once', async () => {
    const event = anAuditEvent({ tenantId: 't-redeliver' });
    // Two message ids defeat the stream's de-duplication, so the consumer really receives the event twice.
    await publishAuditEvents(nats.url, [
      { event, msgId: `${event.id}-a` },
      { event, msgId: `${event.id}-b` },
    ]);
    await eventually(
      async () => (await consumerState()).pending === 0 && (await consumerState()).ackPending === 0,
      20_000,
      'both deliveries acknowledged',
    );
    const inStream = (await readStream(nats.url, AUDIT_STREAM)).filter((m) => m.event.id === event.id);
    expect(inStream).toHaveLength(2);
    expect(await rowsOf('t-redeliver')).toEqual([{ id: event.id, sequence: '1' }]);
    expect(await metric('clinisync_audit_events_duplicate_total')).toBeGreaterThanOrEqual(1);
  });

  it('appends the same event handled twice, and five times concurrently, exactly once', async () => {
    const event = anAuditEvent({ tenantId: 't-handler' });
    const { subject, envelope } = auditCloudEvent(event);
    const first = await audit.consumer.handle(envelope, subject);
    const again = await audit.consumer.handle(envelope, subject);
    expect(first).toMatchObject({ stored: true, sequence: 1 });
    expect(again).toEqual({ stored: false });

    const other = anAuditEvent({ tenantId: 't-handler' });
    const c = auditCloudEvent(other);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => audit.consumer.handle(c.envelope, c.subject)),
    );
    expect(results.filter((r) => r.stored)).toHaveLength(1);
    expect(await rowsOf('t-handler')).toEqual([
      { id: event.id, sequence: '1' },
      { id: other.id, sequence: '2' },
    ]);
  });

  it('chains each tenant separately: concurrent appends of two tenants get gap-free sequences 1..n per tenant', async () => {
    const events = Array.from({ length: 24 }, (_, i) =>
      anAuditEvent({ tenantId: i % 2 ? 't-chain-a' : 't-chain-b' }),
    );
    await Promise.all(
      events.map((e) => audit.consumer.handle(auditCloudEvent(e).envelope, auditCloudEvent(e).subject)),
    );
    for (const tenant of ['t-chain-a', 't-chain-b']) {
      const rows = await rowsOf(tenant);
      expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const heads = await owner.query<{ sequence: string }[]>(
        `SELECT sequence::text AS sequence FROM audit.chain_heads WHERE tenant_id = $1`,
        [tenant],
      );
      expect(heads).toEqual([{ sequence: '12' }]);
    }
  });

  it('acknowledges a malformed message without storing it and keeps consuming', async () => {
    const bad = anAuditEvent({ tenantId: 't-malformed' });
    const good = anAuditEvent({ tenantId: 't-malformed' });
    const nc = await connect({ servers: nats.url });
    try {
      const { envelope } = auditCloudEvent(bad);
      // A resource claiming another tenant than its subject can never be stored.
      await nc
        .jetstream()
        .publish(
          'audit.t-malformed.write-denied',
          Buffer.from(JSON.stringify({ ...envelope, data: { ...envelope.data, tenantId: 't-other' } })),
        );
      await nc.jetstream().publish('audit.t-malformed.write-denied', Buffer.from('not json'));
    } finally {
      await nc.close();
    }
    await publishAuditEvents(nats.url, [{ event: good }]);
    await eventually(async () => (await rowsOf('t-malformed')).length === 1, 20_000, 'the good event stored');
    await eventually(
      async () => (await consumerState()).ackPending === 0,
      20_000,
      'nothing left unacknowledged',
    );
    expect(await rowsOf('t-malformed')).toEqual([{ id: good.id, sequence: '1' }]);
    expect(await rowsOf('t-other')).toEqual([]);
  });

  it('leaves an event whose append failed unacknowledged and stores it on redelivery', async () => {
    const app = `"${TEST_ROLES.app.user}"`;
    await owner.query(`REVOKE INSERT ON audit.audit_events FROM ${app}`);
    const event = anAuditEvent({ tenantId: 't-retry', id: uuidv7() });
    const failuresBefore = await metric('clinisync_audit_consumer_failures_total');
    try {
      await publishAuditEvents(nats.url, [{ event }]);
      await eventually(
        async () => (await metric('clinisync_audit_consumer_failures_total')) > failuresBefore,
        20_000,
        'a failed append',
      );
      expect(await rowsOf('t-retry')).toEqual([]);
    } finally {
      await owner.query(`GRANT INSERT ON audit.audit_events TO ${app}`);
    }
    await eventually(
      async () => (await rowsOf('t-retry')).length === 1,
      30_000,
      'the redelivered event stored',
    );
    expect(await rowsOf('t-retry')).toEqual([{ id: event.id, sequence: '1' }]);
  });
});
