import { SyncRecord } from '@clinisync/contracts';
import { FakePlatform } from '../test/fake-platform';
import { clientFor, patientData, visitData } from '../test/client-fixture';
import { SyncClientErrorCode } from './errors';
import { SyncClient } from './sync-client';

// Real parts: SqliteStore (:memory:), pull engine, integrity gate, per-column merge. Fake: the
// platform's pull endpoint (PROTOCOL.md pages), clock, randomness and sleep.

const T = '2026-11-21T10:00:00.000Z';
const P1 = '0193f0c2-0000-7000-8000-000000000001';
const P2 = '0193f0c2-0000-7000-8000-000000000002';
const V1 = '0193f0c2-0000-7000-8000-000000000011';

function wirePatient(id: string, version: number, fields: Record<string, unknown> = {}): SyncRecord {
  return {
    id,
    version,
    createdAt: T,
    updatedAt: T,
    deletedAt: null,
    facilityId: 'f-1',
    givenName: 'Amina',
    familyName: null,
    sex: null,
    dateOfBirth: null,
    phone: null,
    nationalId: null,
    address: null,
    ...fields,
  };
}
function wireVisit(id: string, patientId: string, version = 1): SyncRecord {
  return {
    id,
    version,
    createdAt: T,
    updatedAt: T,
    deletedAt: null,
    facilityId: 'f-1',
    patientId,
    startedAt: T,
    endedAt: null,
    reason: 'fever',
  };
}

describe('pull engine', () => {
  let platform: FakePlatform;
  let client: SyncClient;
  const pull = () => client.sync({ push: false });
  beforeEach(() => {
    platform = new FakePlatform();
    ({ client } = clientFor(platform, { pullLimit: 2 }));
  });
  afterEach(() => client.close());

  it('pages until hasMore is false, sending each page cursor, and stores the last cursor', async () => {
    for (let i = 0; i < 5; i++)
      platform.serverWrite(
        'patients',
        'create',
        `0193f0c2-0000-7000-8000-00000000010${i}`,
        patientData({ givenName: `P${i}` }),
      );
    const report = await pull();
    expect(platform.pullRequests).toEqual([
      { cursor: null, limit: 2 },
      { cursor: 'c2', limit: 2 },
      { cursor: 'c4', limit: 2 },
    ]);
    expect(report.pull).toMatchObject({ pages: 3, applied: 5, complete: true });
    expect(client.list('patients')).toHaveLength(5);
    expect(client.localStore.getSyncState().cursor).toBe('c5');
    await pull();
    expect(platform.pullRequests.at(-1)).toEqual({ cursor: 'c5', limit: 2 });
  });

  it('commits the cursor only after the page is applied and the integrity gate passes', async () => {
    platform.scriptedPages = [
      { changes: { patients: { created: [wirePatient(P1, 1)] } }, cursor: 'k1', hasMore: false },
      {
        changes: {
          visits: { created: [wireVisit(V1, P2)] },
          patients: { updated: [wirePatient(P1, 2, { phone: '9' })] },
        },
        cursor: 'k2',
        hasMore: false,
      },
    ];
    await pull();
    expect(client.localStore.getSyncState().cursor).toBe('k1');
    const err = await pull().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: SyncClientErrorCode.INTEGRITY_VIOLATION,
      details: [{ entity: 'visits', id: V1, field: 'patientId', references: 'patients', missingId: P2 }],
    });
    // Nothing of the failing page stays: neither its records nor its cursor.
    expect(client.localStore.getSyncState().cursor).toBe('k1');
    expect(await client.get('visits', V1)).toBeUndefined();
    expect(await client.get('patients', P1)).toMatchObject({ version: 1, phone: null });
    expect(client.status().state).toBe('error');
  });

  it('accepts a page whose children reference parents in the same page or already stored', async () => {
    platform.scriptedPages = [
      {
        changes: { visits: { created: [wireVisit(V1, P1)] }, patients: { created: [wirePatient(P1, 1)] } },
        cursor: 'k1',
        hasMore: true,
      },
      {
        changes: { visits: { created: [wireVisit('0193f0c2-0000-7000-8000-000000000012', P1)] } },
        cursor: 'k2',
        hasMore: false,
      },
    ];
    await pull();
    expect(client.list('visits')).toHaveLength(2);
    expect(client.localStore.getSyncState().cursor).toBe('k2');
  });

  it('does not gate references to another module (dispensing record to patient)', async () => {
    const drug = '0193f0c2-0000-7000-8000-0000000000d1';
    platform.scriptedPages = [
      {
        changes: {
          drug_catalogue: {
            created: [
              {
                id: drug,
                version: 1,
                createdAt: T,
                updatedAt: T,
                deletedAt: null,
                code: 'AMX',
                name: 'Amoxicillin',
                form: null,
                strength: null,
                controlled: false,
              },
            ],
          },
          dispensing_records: {
            created: [
              {
                id: '0193f0c2-0000-7000-8000-0000000000e1',
                version: 1,
                createdAt: T,
                updatedAt: T,
                deletedAt: null,
                facilityId: 'f-1',
                patientId: P2,
                prescriptionItemId: null,
                drugId: drug,
                quantity: 2,
                dispensedAt: T,
              },
            ],
          },
        },
        cursor: 'k1',
        hasMore: false,
      },
    ];
    await pull();
    expect(client.list('dispensing_records')).toHaveLength(1);
    expect(client.list('drug_catalogue')[0]).toMatchObject({ controlled: false });
  });

  it('keeps local edits column by column and a local delete, and tombstones server deletes', async () => {
    const a = await client.write((tx) => tx.create('patients', patientData()));
    const b = await client.write((tx) => tx.create('patients', patientData({ givenName: 'B' })));
    const c = await client.write((tx) => tx.create('patients', patientData({ givenName: 'C' })));
    await client.sync();
    platform.serverWrite('patients', 'update', a, { givenName: 'Amina-S', phone: 'server' });
    platform.serverWrite('patients', 'update', b, { phone: 'server' });
    platform.serverWrite('patients', 'delete', c);
    await client.write((tx) => {
      tx.update('patients', a, { phone: 'local' });
      tx.delete('patients', b);
    });
    await pull();
    expect(await client.get('patients', a)).toMatchObject({
      givenName: 'Amina-S',
      phone: 'local',
      version: 2,
      _status: 'updated',
      _changed: ['phone'],
    });
    expect(await client.get('patients', b, { includeDeleted: true })).toMatchObject({
      _status: 'deleted',
      phone: null,
    });
    expect(await client.get('patients', c)).toBeUndefined();
    expect(await client.get('patients', c, { includeDeleted: true })).toMatchObject({
      _status: 'synced',
      deletedAt: expect.any(String),
    });
  });

  it("sends the last push answer's checkpoint with the first page of the pull after it, and with no other", async () => {
    for (let i = 0; i < 3; i++) platform.serverWrite('patients', 'create', `0193f0c2-0000-7000-8000-00000000020${i}`, patientData());
    await client.write((tx) => tx.create('patients', patientData({ givenName: 'Mine' })));
    await client.sync();
    const [first, ...rest] = platform.pullRequests;
    expect(first.checkpoint).toBe(`cp${platform.log.length}`);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((r) => r.checkpoint === undefined)).toBe(true);
    // A sync that pushed nothing has no checkpoint to send.
    platform.pullRequests.length = 0;
    await client.sync();
    expect(platform.pullRequests.every((r) => r.checkpoint === undefined)).toBe(true);
  });

  it('never lets an older page overwrite a newer local version', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    await client.write((tx) => tx.update('patients', id, { phone: '1' }));
    await client.sync({ pull: false });
    platform.scriptedPages = [
      {
        changes: { patients: { updated: [wirePatient(id, 1, { phone: 'stale' })] } },
        cursor: 'old',
        hasMore: false,
      },
    ];
    const report = await pull();
    expect(report.pull?.skipped).toBe(1);
    expect(await client.get('patients', id)).toMatchObject({ version: 2, phone: '1' });
  });

  it('refuses a page that does not follow PROTOCOL.md and keeps the cursor', async () => {
    platform.scriptedPages = [
      { changes: { patients: { created: [{ id: P1 } as SyncRecord] } }, cursor: 'k1', hasMore: false },
    ];
    await expect(pull()).rejects.toMatchObject({ code: SyncClientErrorCode.PROTOCOL_ERROR });
    expect(client.localStore.getSyncState().cursor).toBeNull();
  });

  it('retries a pull that failed with 503 after its Retry-After', async () => {
    const { client: c, waits } = clientFor(platform);
    platform.serverWrite('patients', 'create', P1, patientData());
    platform.inject(/sync\/pull/, { kind: 'status', status: 503, retryAfter: '2' });
    await c.sync({ push: false });
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(c.list('patients')).toHaveLength(1);
    await c.close();
  });

  it('force download forgets the cursor so the next pull starts over and repairs local copies', async () => {
    platform.serverWrite('patients', 'create', P1, patientData());
    await pull();
    client.localStore.putRecord('patients', {
      ...(client.localStore.getRecord('patients', P1) as NonNullable<
        ReturnType<typeof client.localStore.getRecord>
      >),
      fields: { ...patientData(), givenName: 'corrupted' },
    });
    client.forceDownload();
    expect(client.localStore.getSyncState().cursor).toBeNull();
    await pull();
    expect(platform.pullRequests.at(-1)?.cursor).toBeNull();
    expect(await client.get('patients', P1)).toMatchObject({ givenName: 'Amina' });
  });

  it('applies a pull after a push: pulled changes of other devices merge over acknowledged records', async () => {
    const p = await client.write((tx) => tx.create('patients', patientData()));
    await client.write((tx) => tx.create('visits', visitData(p)));
    await client.sync();
    platform.serverWrite('patients', 'update', p, { address: 'Kisumu' });
    await client.sync();
    expect(await client.get('patients', p)).toMatchObject({
      address: 'Kisumu',
      version: 2,
      _status: 'synced',
    });
  });
});
