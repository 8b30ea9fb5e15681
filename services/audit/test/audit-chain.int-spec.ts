// Real parts: Postgres with the audit migrations, the non-owner app role (RLS on) and the owner
// (who tampers), a private JetStream server, the audit service over HTTP. Nothing mocked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DevIssuerKeys, ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { AuditEventResource } from '@clinisync/contracts';
import { migrate, revertLastMigration, TenantTransactions } from '@clinisync/persistence';
import { auditDatabasePlan } from '../src/database';
import { TEST_ROLES, TestDatabase, createTestDatabase } from '../../../test/support/database';
import { TestNats, startTestNats } from '../../../test/support/nats-server';
import {
  AuditServiceHandle,
  anAuditEvent,
  auditCloudEvent,
  auditGet,
  startAuditService,
} from '../../../test/support/audit-service';

type Verification = {
  valid: boolean;
  checked: number;
  head?: string;
  brokenAt?: { sequence: number; id?: string; reason: string };
};

describe('audit chain storage (append-only, hash-chained per tenant)', () => {
  let db: TestDatabase;
  let nats: TestNats;
  let audit: AuditServiceHandle;
  let owner: DataSource;
  let app: DataSource;
  let keys: DevIssuerKeys;
  let issuerDir: string;

  beforeAll(async () => {
    db = await createTestDatabase([]);
    nats = await startTestNats();
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-issuer-'));
    keys = await ensureDevIssuerKeys(issuerDir);
    audit = await startAuditService({ dbOwnerUrl: db.ownerUrl, natsUrl: nats.url, devIssuerDir: issuerDir });
    owner = await db.ownerDataSource();
    app = await db.appDataSource();
  });

  afterAll(async () => {
    await audit?.stop();
    await nats?.dispose();
    await db?.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  const auditor = (tenantId: string) =>
    signDevToken(keys, { sub: 'u-auditor', tenantId, roles: ['auditor'], facilities: [] });

  async function seed(tenantId: string, n: number): Promise<AuditEventResource[]> {
    const events: AuditEventResource[] = [];
    for (let i = 0; i < n; i++) {
      const event = anAuditEvent({ tenantId });
      const { subject, envelope } = auditCloudEvent(event);
      await audit.consumer.handle(envelope, subject);
      events.push(event);
    }
    return events;
  }

  async function verify(tenantId: string, query = ''): Promise<Verification> {
    const r = await auditGet<Verification>(
      audit.baseUrl,
      `/api/v1/audit/verify${query}`,
      await auditor(tenantId),
    );
    expect(r.status).toBe(200);
    return r.json;
  }

  /** As the database owner: the only way to change a stored event is to switch the trigger off first. */
  async function asOwnerWithoutTrigger(sql: string, params: unknown[]): Promise<void> {
    await owner.transaction(async (m) => {
      await m.query('ALTER TABLE audit.audit_events DISABLE TRIGGER audit_events_append_only');
      await m.query(sql, params);
      await m.query('ALTER TABLE audit.audit_events ENABLE TRIGGER audit_events_append_only');
    });
  }

  it('stores each event with its sequence, prevHash and hash and verifies an untouched chain as valid up to the head', async () => {
    const events = await seed('t-valid', 3);
    const rows = await owner.query<{ id: string; sequence: string; prev_hash: string; hash: string }[]>(
      `SELECT id::text AS id, sequence::text AS sequence, prev_hash, hash FROM audit.audit_events WHERE tenant_id = 't-valid' ORDER BY audit_events.sequence`,
    );
    expect(rows.map((r) => [r.id, r.sequence])).toEqual(events.map((e, i) => [e.id, String(i + 1)]));
    expect(rows[0].prev_hash).toBe('0'.repeat(64));
    expect(rows[1].prev_hash).toBe(rows[0].hash);
    expect(await verify('t-valid')).toEqual({ valid: true, checked: 3, head: rows[2].hash });
  });

  it('reports an event whose json the owner edited (trigger disabled, then re-enabled) as a hash mismatch at that event', async () => {
    const events = await seed('t-edit', 4);
    await asOwnerWithoutTrigger(
      `UPDATE audit.audit_events SET event = jsonb_set(event::jsonb, '{outcome}', '"0"')::json WHERE tenant_id = 't-edit' AND id = $1`,
      [events[2].id],
    );
    expect(await verify('t-edit')).toMatchObject({
      valid: false,
      checked: 2,
      brokenAt: { sequence: 3, id: events[2].id, reason: 'hash mismatch' },
    });
  });

  it('reports a deleted event as a sequence gap at the event after it', async () => {
    const events = await seed('t-delete', 4);
    await asOwnerWithoutTrigger(`DELETE FROM audit.audit_events WHERE tenant_id = 't-delete' AND id = $1`, [
      events[1].id,
    ]);
    expect(await verify('t-delete')).toMatchObject({
      valid: false,
      checked: 1,
      brokenAt: { sequence: 3, id: events[2].id, reason: 'sequence gap' },
    });
  });

  it('reports a deleted newest event against the recorded chain head', async () => {
    const events = await seed('t-delete-last', 3);
    await asOwnerWithoutTrigger(
      `DELETE FROM audit.audit_events WHERE tenant_id = 't-delete-last' AND id = $1`,
      [events[2].id],
    );
    const result = await verify('t-delete-last');
    expect(result).toMatchObject({
      valid: false,
      checked: 2,
      brokenAt: { sequence: 3, reason: 'sequence gap' },
    });
  });

  it('reports two reordered events as a prevHash mismatch at the first of them', async () => {
    const events = await seed('t-reorder', 4);
    // Swap sequences 2 and 3 (through a free number: (tenant_id, sequence) is unique).
    for (const [from, to] of [
      [2, 1000],
      [3, 2],
      [1000, 3],
    ]) {
      await asOwnerWithoutTrigger(
        `UPDATE audit.audit_events SET sequence = $2 WHERE tenant_id = 't-reorder' AND sequence = $1`,
        [from, to],
      );
    }
    expect(await verify('t-reorder')).toMatchObject({
      valid: false,
      checked: 1,
      brokenAt: { sequence: 2, id: events[2].id, reason: 'prevHash mismatch' },
    });
  });

  it('reports an edited query column (an actor hidden from searches) at that event', async () => {
    const events = await seed('t-column', 2);
    await asOwnerWithoutTrigger(
      `UPDATE audit.audit_events SET actor = 'nobody' WHERE tenant_id = 't-column' AND id = $1`,
      [events[0].id],
    );
    expect(await verify('t-column')).toMatchObject({
      valid: false,
      checked: 0,
      brokenAt: { sequence: 1, id: events[0].id, reason: 'hash mismatch' },
    });
  });

  it('verifies only the window recorded in [from, to) when asked, chained to the event before it', async () => {
    const times = [
      '2026-01-01T10:00:00.000Z',
      '2026-01-02T10:00:00.000Z',
      '2026-01-03T10:00:00.000Z',
      '2026-01-04T10:00:00.000Z',
    ];
    for (const recorded of times) {
      const event = anAuditEvent({ tenantId: 't-window', recorded });
      await audit.consumer.handle(auditCloudEvent(event).envelope, auditCloudEvent(event).subject);
    }
    expect(await verify('t-window', '?from=2026-01-02T00:00:00Z&to=2026-01-04T00:00:00Z')).toMatchObject({
      valid: true,
      checked: 2,
    });
    expect(await verify('t-window', '?from=2026-01-03T00:00:00Z')).toMatchObject({ valid: true, checked: 2 });
    expect(await verify('t-window', '?from=2027-01-01T00:00:00Z')).toMatchObject({ valid: true, checked: 0 });
    expect(await verify('t-window')).toMatchObject({ valid: true, checked: 4 });
  });

  it('refuses UPDATE and DELETE of an event even to the owner while the trigger is on', async () => {
    const [event] = await seed('t-trigger', 1);
    await expect(
      owner.query(`UPDATE audit.audit_events SET outcome = '0' WHERE tenant_id = 't-trigger' AND id = $1`, [
        event.id,
      ]),
    ).rejects.toThrow(/append-only/);
    await expect(
      owner.query(`DELETE FROM audit.audit_events WHERE tenant_id = 't-trigger' AND id = $1`, [event.id]),
    ).rejects.toThrow(/append-only/);
    await expect(owner.query(`TRUNCATE audit.audit_events`)).rejects.toThrow(/append-only/);
    expect(await verify('t-trigger')).toMatchObject({ valid: true, checked: 1 });
  });

  it('grants the app role only INSERT and SELECT on events (plus SELECT, INSERT, UPDATE on chain heads), so it cannot change an event', async () => {
    const grants = await owner.query<{ table_name: string; privilege_type: string }[]>(
      `SELECT table_name, privilege_type FROM information_schema.role_table_grants
        WHERE grantee = $1 AND table_schema = 'audit' ORDER BY table_name, privilege_type`,
      [TEST_ROLES.app.user],
    );
    expect(grants.map((g) => `${g.table_name}:${g.privilege_type}`)).toEqual([
      'audit_events:INSERT',
      'audit_events:SELECT',
      'chain_heads:INSERT',
      'chain_heads:SELECT',
      'chain_heads:UPDATE',
    ]);
    const [event] = await seed('t-app-role', 1);
    const tx = new TenantTransactions(app);
    await expect(
      tx.run('t-app-role', (t) =>
        t.query(`UPDATE audit.audit_events SET outcome = '0' WHERE id = $1`, [event.id]),
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(
      tx.run('t-app-role', (t) => t.query(`DELETE FROM audit.audit_events WHERE id = $1`, [event.id])),
    ).rejects.toThrow(/permission denied/);
  });

  it('forces row-level security on both tables: the app role sees only its tenant, and nothing without one', async () => {
    await seed('t-rls-a', 2);
    await seed('t-rls-b', 1);
    const forced = await owner.query<
      { relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }[]
    >(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'audit' AND c.relkind = 'r' ORDER BY c.relname`,
    );
    expect(forced).toEqual([
      { relname: 'audit_events', relrowsecurity: true, relforcerowsecurity: true },
      { relname: 'chain_heads', relrowsecurity: true, relforcerowsecurity: true },
    ]);
    const tx = new TenantTransactions(app);
    const seen = await tx.run('t-rls-a', (t) =>
      t.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM audit.audit_events`),
    );
    expect(seen).toEqual([{ tenant_id: 't-rls-a' }]);
    expect(
      await tx.runUnscoped((t) =>
        t.query(`SELECT 1 FROM audit.audit_events UNION ALL SELECT 1 FROM audit.chain_heads`),
      ),
    ).toEqual([]);
    await expect(
      tx.run('t-rls-a', (t) =>
        t.query(`INSERT INTO audit.chain_heads (tenant_id, sequence, hash) VALUES ('t-rls-b', 0, $1)`, [
          '0'.repeat(64),
        ]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('has a reversible migration', async () => {
    const other = await createTestDatabase([auditDatabasePlan]);
    try {
      const ds = await other.ownerDataSource();
      await revertLastMigration(other.ownerUrl, auditDatabasePlan);
      expect(await ds.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'audit'`)).toEqual([]);
      await migrate(other.ownerUrl, [auditDatabasePlan], TEST_ROLES);
      expect(await ds.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'audit'`)).toHaveLength(1);
    } finally {
      await other.drop();
    }
  });
});
