// Real parts: the whole platform (fresh Postgres database, private JetStream, patients module and
// sync-ingest over HTTP and NATS) and the client SDK with better-sqlite3 stores. The only
// interference is a fetch wrapper that loses one response after the server processed it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { FetchLike, OpenSyncClientOptions, SyncClient } from '@clinisync/sync-client';
import { Platform, startPlatform } from '../support/platform';
import { aPatientUpdate, push } from '../support/builders';

const ROOT = resolve(__dirname, '..', '..');

describe('sync-client push against the real platform (PROTOCOL.md Push)', () => {
  let p: Platform;
  let token: string;
  let dir: string;
  const clients: SyncClient[] = [];

  beforeAll(async () => {
    p = await startPlatform();
    token = await p.token({ sub: 'nurse-1', roles: ['nurse'], facilities: ['f-1'] });
    dir = mkdtempSync(join(tmpdir(), 'client-push-e2e-'));
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const openClient = (overrides: Partial<OpenSyncClientOptions> = {}): SyncClient => {
    const c = SyncClient.open({
      baseUrl: p.baseUrl,
      token: async () => token,
      deviceId: 'tablet-e2e',
      backoff: { baseDelayMs: 20, maxDelayMs: 200 },
      ...overrides,
    });
    clients.push(c);
    return c;
  };

  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const ds = await p.db.ownerDataSource();
    try {
      return (await ds.query(sql, params)) as T[];
    } finally {
      await ds.destroy();
    }
  };
  const serverRows = (table: string, ids: string[]) =>
    query<{ id: string; version: number; phone?: string | null; address?: string | null }>(
      `SELECT t.id::text AS id, t.version${table === 'patients' ? ', t.phone, t.address' : ''} FROM patients.${table} t WHERE t.id = ANY($1::uuid[]) ORDER BY t.id`,
      [ids],
    );
  const mutationsFor = (ids: string[]) =>
    query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE aggregate_id = ANY($1::uuid[])`,
      [ids],
    ).then((r) => r[0].n);

  it('offline writes then sync: every record arrives exactly once', async () => {
    const client = openClient();
    const ids = await client.write((tx) => {
      const patients = [0, 1, 2].map((i) =>
        tx.create('patients', { givenName: `Offline ${i}`, familyName: 'Mwangi', facilityId: 'f-1' }),
      );
      const visits = patients.slice(0, 2).map((patientId) =>
        tx.create('visits', {
          patientId,
          facilityId: 'f-1',
          startedAt: '2026-11-21T09:00:00Z',
          reason: 'fever',
        }),
      );
      return { patients, visits };
    });
    await client.write((tx) => tx.update('patients', ids.patients[0], { phone: '+254700000001' }));
    const mistake = await client.write((tx) =>
      tx.create('patients', { givenName: 'Typo', facilityId: 'f-1' }),
    );
    await client.write((tx) => tx.delete('patients', mistake));
    expect(client.status().pending).toBe(8);

    const report = await client.sync({ pull: false });

    expect(report.push).toMatchObject({
      applied: 5,
      conflicts: 0,
      deadLettered: 0,
      requests: 1,
      cancelled: 2,
    });
    const patients = await serverRows('patients', [...ids.patients, mistake]);
    expect(patients.map((r) => r.id).sort()).toEqual([...ids.patients].sort());
    expect(patients.every((r) => r.version === 1)).toBe(true);
    expect(patients.find((r) => r.id === ids.patients[0])?.phone).toBe('+254700000001');
    expect((await serverRows('visits', ids.visits)).map((r) => r.id).sort()).toEqual([...ids.visits].sort());
    expect(await mutationsFor([...ids.patients, ...ids.visits, mistake])).toBe(5);
    expect(client.status()).toMatchObject({ pending: 0, failed: 0, deadLetters: 0, openConflicts: 0 });
    expect(client.list('patients').every((r) => r._status === 'synced' && r.version === 1)).toBe(true);

    const again = await client.sync({ pull: false });
    expect(again.push?.requests).toBe(0);
    expect(await mutationsFor([...ids.patients, ...ids.visits])).toBe(5);
  });

  it('a response lost on the way back, then the push retried: the same ids are re-sent and nothing is duplicated', async () => {
    const sent: { clientMutationId: string; id: string }[][] = [];
    const answered: unknown[][] = [];
    let lose = true;
    const lossyFetch: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (!url.endsWith('/api/v1/sync/push')) return res;
      sent.push(
        (
          JSON.parse(String(init?.body)) as { mutations: { clientMutationId: string; id: string }[] }
        ).mutations.map((m) => ({ clientMutationId: m.clientMutationId, id: m.id })),
      );
      const body = (await res.clone().json()) as { results: unknown[] };
      answered.push(body.results);
      if (lose) {
        lose = false;
        throw new TypeError('fetch failed: connection reset after the server had answered');
      }
      return res;
    };
    const client = openClient({ fetch: lossyFetch });
    const ids = await client.write((tx) => {
      const a = tx.create('patients', { givenName: 'Lost', familyName: 'Response', facilityId: 'f-1' });
      const b = tx.create('patients', { givenName: 'Second', facilityId: 'f-1' });
      const v = tx.create('visits', { patientId: a, facilityId: 'f-1', startedAt: '2026-11-21T10:00:00Z' });
      return [a, b, v];
    });

    const report = await client.sync({ pull: false });

    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(answered[0]).toEqual(
      sent[0].map(() => expect.objectContaining({ status: 'applied', version: 1 })),
    );
    expect(answered[1]).toEqual(
      sent[0].map(() => expect.objectContaining({ status: 'applied', version: 1, replayed: true })),
    );
    expect(report.push).toMatchObject({ applied: 3, requests: 1 });
    expect((await serverRows('patients', ids)).map((r) => [r.id, r.version])).toEqual(
      [ids[0], ids[1]].sort().map((id) => [id, 1]),
    );
    expect(await serverRows('visits', [ids[2]])).toHaveLength(1);
    expect(await mutationsFor(ids)).toBe(3);
    expect(client.status()).toMatchObject({ pending: 0, failed: 0 });
  });

  it('the client process killed between local write and push: the mutations are still queued and sync once', async () => {
    const database = join(dir, 'desk-killed.db');
    const writer = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        join(ROOT, 'libs/sync-client/test/offline-writer.ts'),
        database,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => writer.once('exit', r));
    const line = await new Promise<string>((done, fail) => {
      createInterface({ input: writer.stdout }).once('line', done);
      writer.once('exit', (code) => fail(new Error(`offline writer exited with ${code} before writing`)));
    });
    const ids = JSON.parse(line) as { patient: string; visit: string };
    writer.kill('SIGKILL');
    await exited;

    const client = openClient({ database });
    expect(client.status()).toMatchObject({ pending: 3, oldestPendingAt: expect.any(String) });
    expect(await client.get('patients', ids.patient)).toMatchObject({
      _status: 'created',
      phone: '+254700000077',
      version: null,
    });

    const report = await client.sync({ pull: false });

    expect(report.push).toMatchObject({ applied: 2, requests: 1 });
    expect(await serverRows('patients', [ids.patient])).toEqual([
      expect.objectContaining({ id: ids.patient, version: 1, phone: '+254700000077' }),
    ]);
    expect(await serverRows('visits', [ids.visit])).toHaveLength(1);
    expect(await client.get('patients', ids.patient)).toMatchObject({ _status: 'synced', version: 1 });
    expect(client.status().pending).toBe(0);
  });

  it('an overlapping edit surfaces as a conflict in client.conflicts() and keeps the local edit', async () => {
    const client = openClient();
    const id = await client.write((tx) =>
      tx.create('patients', { givenName: 'Wanjiru', facilityId: 'f-1', phone: '+254700000010' }),
    );
    await client.sync({ pull: false });
    // Another device edits the same field online first.
    const other = await push(
      p.baseUrl,
      await p.token({ sub: 'nurse-2', roles: ['nurse'], facilities: ['f-1'] }),
      {
        mutations: [aPatientUpdate(id, 1, { phone: '+254700000020' })],
      },
    );
    expect(other.json.results?.[0]).toMatchObject({ status: 'applied', version: 2 });
    await client.write((tx) => tx.update('patients', id, { phone: '+254700000030', address: 'Nakuru' }));
    const conflicts: string[] = [];
    client.on('conflict', (c) => conflicts.push(c.conflictId));

    const report = await client.sync({ pull: false });

    expect(report.push?.conflicts).toBe(1);
    const [c] = client.conflicts();
    expect(c).toMatchObject({
      entity: 'patients',
      recordId: id,
      status: 'open',
      conflictingFields: ['phone'],
      baseVersion: 1,
      serverVersion: 2,
      mine: { phone: '+254700000030', address: 'Nakuru' },
      server: expect.objectContaining({ id, version: 2, phone: '+254700000020' }),
    });
    expect(conflicts).toEqual([c.conflictId]);
    expect(await client.get('patients', id)).toMatchObject({
      phone: '+254700000030',
      address: 'Nakuru',
      _status: 'updated',
      version: 1,
    });
    expect(client.status()).toMatchObject({ pending: 0, openConflicts: 1 });
    expect(await serverRows('patients', [id])).toEqual([
      expect.objectContaining({ version: 2, phone: '+254700000020', address: null }),
    ]);
  });

  it('a rejected mutation is dead-lettered with its reason and does not block the rest of the queue', async () => {
    const client = openClient();
    const ids = await client.write((tx) => {
      const patient = tx.create('patients', { givenName: 'Baraka', facilityId: 'f-1' });
      // Nurses may not book appointments (clerk role): FORBIDDEN, not retryable.
      const appointment = tx.create('appointments', {
        patientId: patient,
        facilityId: 'f-1',
        scheduledAt: '2026-11-28T09:00:00Z',
        status: 'booked',
      });
      const other = tx.create('patients', { givenName: 'Zawadi', facilityId: 'f-1' });
      return { patient, appointment, other };
    });

    const report = await client.sync({ pull: false });

    expect(report.push).toMatchObject({ applied: 2, deadLettered: 1 });
    expect(client.deadLetters()).toEqual([
      expect.objectContaining({ entity: 'appointments', recordId: ids.appointment, code: 'FORBIDDEN' }),
    ]);
    expect((await serverRows('patients', [ids.patient, ids.other])).length).toBe(2);
    expect(await serverRows('appointments', [ids.appointment])).toEqual([]);
    expect(client.status()).toMatchObject({ pending: 0, deadLetters: 1 });
  });
});
