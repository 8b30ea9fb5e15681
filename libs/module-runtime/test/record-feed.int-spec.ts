import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { TenantTransactions } from '@clinisync/persistence';
import { ENTITIES, EntityDef, FEED_START, FieldDef, StoredRecord, syncRecordJsonWriter, toSyncRecord } from '@clinisync/sync-core';
import { FeedRow, RecordRepository } from '@clinisync/module-runtime';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';
import { pharmacyDatabasePlan } from '../../../services/pharmacy/src/database';
import { inventoryDatabasePlan } from '../../../services/inventory/src/database';

// ---- builders -------------------------------------------------------------------------------

/** Text with what JSON and Postgres both escape: quotes, backslashes, control characters, non-ASCII. */
const aText = () =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u000b', '\u0001', '\u007f', '\u2028', 'é', '😀', "'", '\u001e', '\u001f'),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 40,
  });
const aDay = fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });

/** A value of field `f` as a module holds it; references point at `parents` (the rows exist). */
function aFieldValue(f: FieldDef, parents: Map<string, string[]>): fc.Arbitrary<unknown> {
  const orNull = <T>(a: fc.Arbitrary<T>) => (f.required ? a : fc.option(a, { nil: null }));
  if (f.references) {
    const ids = parents.get(f.references) ?? [];
    return orNull(ids.length > 0 ? fc.constantFrom(...ids) : fc.uuid().map((u) => u.toLowerCase()));
  }
  switch (f.type) {
    case 'string':
    case 'text':
      return orNull(aText());
    case 'enum':
      return orNull(fc.constantFrom(...(f.values ?? [])));
    case 'uuid':
      return orNull(fc.uuid().map((u) => u.toLowerCase()));
    case 'date':
      return orNull(aDay.map((d) => d.toISOString().slice(0, 10)));
    case 'datetime':
      return orNull(aDay.map((d) => d.toISOString()));
    case 'integer':
      return orNull(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }));
    case 'number':
      // -0 is stored as such; JSON.stringify writes it as 0, Postgres as -0 (the same number).
      return orNull(fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)));
    case 'boolean':
      return orNull(fc.boolean());
  }
}

function aRecord(def: EntityDef, parents: Map<string, string[]>): fc.Arbitrary<StoredRecord> {
  const fields = fc.record(Object.fromEntries(def.fields.map((f) => [f.name, aFieldValue(f, parents)])));
  return fc.record({ fields, version: fc.integer({ min: 1, max: 1_000 }), at: aDay, deleted: fc.boolean() }).map(({ fields: values, version, at, deleted }) => ({
    id: randomUUID(),
    version,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
    deletedAt: deleted ? at.toISOString() : null,
    fields: values,
    fieldVersions: {},
  }));
}

/** Numbers Postgres may write with another exponent form than JSON.stringify (1e-07 for 1e-7). */
const hasExponent = (r: StoredRecord) => Object.values(r.fields).some((v) => typeof v === 'number' && /e/.test(String(v)));

// ---- tests ----------------------------------------------------------------------------------

// Real parts: Postgres with the module migrations, the real record repository and tenant
// transactions (the app role, RLS forced).
describe('RecordRepository feed: stored wire JSON and the column fallback', () => {
  let db: TestDatabase;
  let app: DataSource;
  let owner: DataSource;
  let tx: TenantTransactions;
  const records = new RecordRepository();

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan, pharmacyDatabasePlan, inventoryDatabasePlan]);
    app = await db.appDataSource();
    owner = await db.ownerDataSource();
    tx = new TenantTransactions(app);
  });
  afterAll(async () => {
    await db?.drop();
  });

  // No waiting: a committed row is in the next read, whatever else is still in flight.
  const feed = async (tenant: string, def: EntityDef, limit = 5000, facilities: string[] | null = null): Promise<FeedRow[]> =>
    records.feedRows(await tx.readOnce(tenant, records.feedSql(tenant, [{ def, state: {}, facilities }], limit), 'REPEATABLE READ')).filter((r) => r.entity >= 0);

  it('hands out every entity exactly as written (JSON.stringify of the wire record), and formats the same text from the columns when none is stored', async () => {
    const parents = new Map<string, string[]>();
    // Registry order puts parents first, so references can point at rows written before.
    const tenant = 'wire-all';
    for (const def of ENTITIES) {
      const batch = fc.sample(aRecord(def, parents), { numRuns: 40, seed: 4242 });
      await tx.run(tenant, (t) => records.insert(t, def, tenant, batch));
      parents.set(def.name, batch.map((r) => r.id));

      const written = new Map(batch.map((r) => [r.id, r]));
      const stored = await feed(tenant, def);
      expect(stored).toHaveLength(batch.length);
      for (const row of stored) {
        const r = written.get(row.id) as StoredRecord;
        // A deleted record goes out as its id only.
        expect(row.json).toBe(r.deletedAt === null ? JSON.stringify(toSyncRecord(def, r)) : null);
        if (row.json !== null) expect(row.json).toBe(syncRecordJsonWriter(def)(r));
      }

      await owner.query(`UPDATE ${def.module}.${def.table} SET wire_json = NULL WHERE tenant_id = $1`, [tenant]);
      const formatted = await feed(tenant, def);
      expect(formatted.map((r) => r.id)).toEqual(stored.map((r) => r.id));
      formatted.forEach((row, k) => {
        const r = written.get(row.id) as StoredRecord;
        if (row.json === null || stored[k].json === null) return expect(row.json).toBe(stored[k].json);
        expect(JSON.parse(row.json)).toEqual(JSON.parse(stored[k].json as string));
        if (!hasExponent(r)) expect(row.json).toBe(stored[k].json);
      });
    }
  });

  it('stores the new state and wire JSON with every update', async () => {
    const phone = '+254 "700"';
    const def = ENTITIES.find((e) => e.name === 'patients') as EntityDef;
    const tenant = 'wire-update';
    const r: StoredRecord = { id: randomUUID(), version: 1, createdAt: '2026-11-21T10:00:00.000Z', updatedAt: '2026-11-21T10:00:00.000Z', deletedAt: null, fields: { facilityId: 'f-1', givenName: 'Amina' }, fieldVersions: {} };
    await tx.run(tenant, (t) => records.insert(t, def, tenant, [r]));
    const next = { ...r, version: 2, updatedAt: '2026-11-21T11:00:00.000Z', fields: { ...r.fields, phone }, fieldVersions: { phone: 2 } };
    // A stale expected version matches nothing.
    expect(await tx.run(tenant, (t) => records.update(t, def, tenant, [{ record: { ...next, version: 3 }, expectedVersion: 2 }]))).toBe(0);
    expect(await tx.run(tenant, (t) => records.update(t, def, tenant, [{ record: next, expectedVersion: 1 }]))).toBe(1);
    const [row] = await feed(tenant, def);
    expect(row.json).toBe(JSON.stringify(toSyncRecord(def, next)));
    const [loaded] = [...(await tx.run(tenant, (t) => records.loadForUpdate(t, def, tenant, [r.id]))).values()];
    expect(loaded).toEqual({ ...next, fields: Object.fromEntries(def.fields.map((f) => [f.name, (next.fields as Record<string, unknown>)[f.name] ?? null])) });
  });

  it('fills entities in order up to limit + 1 rows, later entities only as far as there is room', async () => {
    const [patients, visits] = ['patients', 'visits'].map((n) => ENTITIES.find((e) => e.name === n) as EntityDef);
    const tenant = 'wire-order';
    const at = '2026-11-21T10:00:00.000Z';
    const pts = Array.from({ length: 3 }, () => ({ id: randomUUID(), version: 1, createdAt: at, updatedAt: at, deletedAt: null, fields: { facilityId: 'f-1', givenName: 'P' }, fieldVersions: {} }));
    const vis = pts.map((p) => ({ id: randomUUID(), version: 1, createdAt: at, updatedAt: at, deletedAt: null, fields: { facilityId: 'f-1', patientId: p.id, startedAt: at }, fieldVersions: {} }));
    // Sequence numbers 98..103: across a power of ten, where a text sort ('100' < '98') would reorder them.
    await owner.query(`SELECT setval('patients.change_seq', 97)`);
    await tx.run(tenant, async (t) => {
      await records.insert(t, patients, tenant, pts);
      await records.insert(t, visits, tenant, vis);
    });
    const rows = async (limit: number) =>
      records
        .feedRows(await tx.readOnce(tenant, records.feedSql(tenant, [{ def: patients, state: {}, facilities: null }, { def: visits, state: {}, facilities: null }], limit)))
        .filter((r) => r.entity >= 0);
    expect((await rows(4)).map((r) => r.entity)).toEqual([0, 0, 0, 1, 1]);
    expect((await rows(2)).map((r) => r.entity)).toEqual([0, 0, 0]);
    expect((await rows(10)).map((r) => r.entity)).toEqual([0, 0, 0, 1, 1, 1]);
    // Positions are in the cursor's order (xid, then sequence as a number, never as text).
    expect((await rows(10)).map((r) => Number(r.seq))).toEqual([98, 99, 100, 101, 102, 103]);
  });

  it('inlines facility ids as literals without letting them out of their quotes', async () => {
    const def = ENTITIES.find((e) => e.name === 'patients') as EntityDef;
    const tenant = "wire-'quoted\\";
    const at = '2026-11-21T10:00:00.000Z';
    const odd = `f-'); DELETE FROM patients.patients; --\\`;
    const mk = (facilityId: string): StoredRecord => ({ id: randomUUID(), version: 1, createdAt: at, updatedAt: at, deletedAt: null, fields: { facilityId, givenName: 'F' }, fieldVersions: {} });
    const [a, b] = [mk(odd), mk('f-2')];
    await tx.run(tenant, (t) => records.insert(t, def, tenant, [a, b]));
    expect(await feed(tenant, def, 10, null)).toHaveLength(2);
    expect((await feed(tenant, def, 10, [odd])).map((r) => r.id)).toEqual([a.id]);
    expect((await feed(tenant, def, 10, ['f-2'])).map((r) => r.id)).toEqual([b.id]);
    expect(await feed(tenant, def, 10, [])).toEqual([]);
  });

  it('refuses a feed position or snapshot that is not well formed (they are written into the statement)', () => {
    const def = ENTITIES[0];
    const target = '10:12:11';
    expect(() => records.feedSql('t', [{ def, state: { window: { target, after: { xid: "1'::xid8) OR (true", seq: '0' } } }, facilities: null }], 10)).toThrow(/invalid feed position/);
    for (const bad of ["1:2:' OR true --", '5:3:', '1:5:7', '1:9:4,3', '1:9:4,4']) {
      expect(() => records.feedSql('t', [{ def, state: { done: bad }, facilities: null }], 10)).toThrow(/invalid feed snapshot/);
      expect(() => records.feedSql('t', [{ def, state: { window: { target: bad, after: FEED_START } }, facilities: null }], 10)).toThrow(/invalid feed snapshot/);
    }
    expect(() => records.feedSql('t', [{ def, state: {}, facilities: null }], -1)).toThrow(/invalid feed limit/);
  });
});
