import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DEFAULT_AUDIENCE, DEV_ISSUER, JwtVerifier, ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { FeedEntityPage, FeedStateWire, JsonArrayText } from '@clinisync/contracts';
import { TenantTransactions } from '@clinisync/persistence';
import { EntityDef, StoredRecord, findEntity, parseSnapshot, toSyncRecord } from '@clinisync/sync-core';
import { FeedService, RecordRepository } from '@clinisync/module-runtime';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';

// ---- builders -------------------------------------------------------------------------------

const AT = '2026-11-21T10:00:00.000Z';
const aPatient = (givenName: string): StoredRecord => ({
  id: randomUUID(),
  version: 1,
  createdAt: AT,
  updatedAt: AT,
  deletedAt: null,
  fields: { facilityId: 'f-1', givenName },
  fieldVersions: {},
});
const ids = (a: JsonArrayText): string[] => (JSON.parse(new TextDecoder().decode(a.json)) as { id: string }[]).map((r) => r.id).sort();
const sorted = (...records: StoredRecord[]) => records.map((r) => r.id).sort();

// ---- tests ----------------------------------------------------------------------------------

// Real parts: Postgres with the patients migrations, the feed service with its repository and
// tenant transactions (app role, RLS forced), a token from the dev issuer.
describe('FeedService: snapshot feed states', () => {
  let db: TestDatabase;
  let app: DataSource;
  let issuerDir: string;
  let tx: TenantTransactions;
  let feeds: FeedService;
  let token: (tenantId: string) => Promise<string>;
  const records = new RecordRepository();
  const patients = findEntity('patients') as EntityDef;

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-feed-'));
    const keys = await ensureDevIssuerKeys(issuerDir);
    const verifier = await JwtVerifier.create({ devIssuerDir: issuerDir, issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE });
    feeds = new FeedService('patients', verifier, tx, records);
    token = (tenantId) => signDevToken(keys, { sub: 'u-1', tenantId, roles: ['nurse'], facilities: ['f-1'] });
  });
  afterAll(async () => {
    await db?.drop();
    if (issuerDir) rmSync(issuerDir, { recursive: true, force: true });
  });

  const page = async (tenantId: string, state: FeedStateWire, limit = 100): Promise<FeedEntityPage> => {
    const reply = await feeds.feed({ tenantId, correlationId: 'c', token: await token(tenantId), limit, entities: [{ entity: 'patients', state }] });
    return reply.pages[0];
  };

  /** A transaction that has written `records` and stays open until `commit` is called. */
  async function openWriter(tenantId: string, written: StoredRecord[]) {
    let commit!: () => void;
    const held = new Promise<void>((r) => (commit = r));
    let wrote!: () => void;
    const ready = new Promise<void>((r) => (wrote = r));
    const done = tx.run(tenantId, async (t) => {
      await records.insert(t, patients, tenantId, written);
      wrote();
      await held;
    });
    await Promise.race([ready, done]);
    return { commit: () => (commit(), done) };
  }

  it('hands out what committed at once while an older transaction is still open, and what that one wrote on the next pull', async () => {
    const tenant = `snap-${randomUUID()}`;
    const [slow, quick] = [aPatient('Slow'), aPatient('Quick')];
    const writer = await openWriter(tenant, [slow]);
    // Another tenant's long transaction holds nothing up either.
    const elsewhere = await openWriter(`other-${randomUUID()}`, [aPatient('Elsewhere')]);
    try {
      await tx.run(tenant, (t) => records.insert(t, patients, tenant, [quick]));
      const first = await page(tenant, {});
      expect(ids(first.created)).toEqual(sorted(quick));
      expect(first.hasMore).toBe(false);
      const done = parseSnapshot(first.next.done as string);
      expect(done?.xip.length).toBeGreaterThanOrEqual(2); // both writers were in flight
      expect(first.next.window).toBeUndefined();

      // Nothing new while the writer is open.
      const idle = await page(tenant, first.next);
      expect([idle.created.count, idle.updated.count, idle.deleted.count]).toEqual([0, 0, 0]);

      await writer.commit();
      const second = await page(tenant, idle.next);
      expect(ids(second.created)).toEqual(sorted(slow));
      expect(second.updated.count).toBe(0);
      const third = await page(tenant, second.next);
      expect(third.created.count + third.updated.count).toBe(0);
    } finally {
      await writer.commit();
      await elsewhere.commit();
    }
  });

  it('pages a window at its target snapshot; what changed meanwhile comes in the next window, as an update or a creation', async () => {
    const tenant = `snap-${randomUUID()}`;
    const [a, b, c] = [aPatient('A'), aPatient('B'), aPatient('C')];
    await tx.run(tenant, (t) => records.insert(t, patients, tenant, [a, b, c]));
    const p1 = await page(tenant, {}, 2);
    expect(p1.created.count).toBe(2);
    expect(p1.hasMore).toBe(true);
    expect(p1.next.window).toBeDefined();
    const handed = new Set(ids(p1.created));
    const [seen, unseen] = [[a, b, c].find((r) => handed.has(r.id)) as StoredRecord, [a, b, c].find((r) => !handed.has(r.id)) as StoredRecord];

    // While the window is open: a record already handed out changes, and a new one commits.
    const d = aPatient('D');
    await tx.run(tenant, async (t) => {
      await records.update(t, patients, tenant, [{ record: { ...seen, version: 2, fields: { ...seen.fields, givenName: 'Seen again' } }, expectedVersion: 1 }]);
      await records.insert(t, patients, tenant, [d]);
    });
    const p2 = await page(tenant, p1.next, 10);
    expect(ids(p2.created)).toEqual(sorted(unseen));
    expect(p2.updated.count).toBe(0);
    // The window drained, but it was opened before those commits: pull again.
    expect(p2.hasMore).toBe(true);
    expect(p2.next).toEqual({ done: p1.next.window?.target });

    const p3 = await page(tenant, p2.next, 10);
    expect(ids(p3.created)).toEqual(sorted(d));
    expect(ids(p3.updated)).toEqual(sorted(seen));
    expect(p3.hasMore).toBe(false);
  });

  it('ends a page early where its records would outgrow one reply message, and goes on from there', async () => {
    const tenant = `snap-${randomUUID()}`;
    const written = Array.from({ length: 5 }, (_, i) => aPatient(`Wide ${i} ${'x'.repeat(300)}`));
    await tx.run(tenant, (t) => records.insert(t, patients, tenant, written));
    const one = JSON.stringify(toSyncRecord(patients, written[0])).length;
    // Room for two records per reply, whatever the limit.
    const small = new FeedService('patients', await JwtVerifier.create({ devIssuerDir: issuerDir, issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE }), tx, records, 2 * one + 10);
    const got: string[] = [];
    let state: FeedStateWire = {};
    for (let i = 0; i < 10; i++) {
      const [pg] = (await small.feed({ tenantId: tenant, correlationId: 'c', token: await token(tenant), limit: 100, entities: [{ entity: 'patients', state }] })).pages;
      expect(pg.created.count).toBeLessThanOrEqual(2);
      got.push(...ids(pg.created));
      state = pg.next;
      if (!pg.hasMore) break;
    }
    expect(got.sort()).toEqual(sorted(...written));
  });

  it('refuses a malformed state as a bad command, before reading anything', async () => {
    const tenant = `snap-${randomUUID()}`;
    await expect(page(tenant, { done: "1:2:' OR true" })).rejects.toThrow(/malformed feed request/);
    await expect(page(tenant, { window: { target: '9:3:', after: { xid: '1', seq: '1' } } })).rejects.toThrow(/malformed feed request/);
  });
});
