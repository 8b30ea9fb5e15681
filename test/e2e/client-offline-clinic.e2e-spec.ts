// Real parts: the whole platform (fresh Postgres database, private JetStream, module services and
// sync-ingest over HTTP and NATS) and three client SDK instances with better-sqlite3 stores:
// the reception desktop (offline, file-backed), a nurse's tablet in online mode, and a
// clinician signing in on the desktop to resolve. Nothing is mocked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncClient } from '@clinisync/sync-client';
import { Platform, startPlatform } from '../support/platform';

describe('offline clinic day with the client SDK (PROTOCOL.md Push, Pull, Online-mode reads, Conflicts)', () => {
  let p: Platform;
  let dir: string;
  let clerkToken: string;
  let nurseToken: string;
  let clinicianToken: string;
  const clients: SyncClient[] = [];

  beforeAll(async () => {
    p = await startPlatform();
    clerkToken = await p.token({ sub: 'reception-1', roles: ['clerk'], facilities: ['f-1'] });
    // A nurse based at the district clinic (f-2) who also covers f-1.
    nurseToken = await p.token({ sub: 'nurse-2', roles: ['nurse'], facilities: ['f-2', 'f-1'] });
    clinicianToken = await p.token({ sub: 'clinician-3', roles: ['clinician'], facilities: ['f-1'] });
    dir = mkdtempSync(join(tmpdir(), 'offline-clinic-e2e-'));
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const ds = await p.db.ownerDataSource();
    try {
      return (await ds.query(sql, params)) as T[];
    } finally {
      await ds.destroy();
    }
  };

  /** The reception desktop (file-backed store) whose token can change hands, and the nurse's online tablet. */
  function devices(name: string) {
    let desktopToken = clerkToken;
    const desktop = SyncClient.open({
      database: join(dir, `${name}.db`),
      baseUrl: p.baseUrl,
      token: async () => desktopToken,
      deviceId: `reception-desktop-${name}`,
      backoff: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    const nurse = SyncClient.open({
      baseUrl: p.baseUrl,
      token: async () => nurseToken,
      deviceId: `nurse-tablet-${name}`,
    });
    nurse.setOnline(true);
    clients.push(desktop, nurse);
    return { desktop, nurse, signIn: (token: string) => (desktopToken = token) };
  }

  /** Morning, still online: the desktop registers Amina and pushes her. */
  async function morning(desktop: SyncClient): Promise<string> {
    const amina = await desktop.write((tx) =>
      tx.create('patients', {
        givenName: 'Amina',
        familyName: 'Otieno',
        facilityId: 'f-1',
        phone: '+254700000100',
      }),
    );
    await desktop.sync({ pull: false });
    return amina;
  }

  /** The connection drops: the receptionist registers 3 patients, books 2 appointments and corrects Amina's phone. */
  async function offlineMorning(desktop: SyncClient, amina: string) {
    const ids = await desktop.write((tx) => {
      const patients = ['Baraka', 'Chebet', 'Daudi'].map((givenName) =>
        tx.create('patients', { givenName, familyName: 'Kamau', facilityId: 'f-1' }),
      );
      const appointments = patients.slice(0, 2).map((patientId, i) =>
        tx.create('appointments', {
          patientId,
          facilityId: 'f-1',
          scheduledAt: `2026-11-2${5 + i}T09:00:00Z`,
          status: 'booked',
          reason: 'follow-up',
        }),
      );
      return { patients, appointments };
    });
    await desktop.write((tx) => tx.update('patients', amina, { phone: '+254700000111' }));
    return ids;
  }

  it('the receptionist offline creates 3 patients and 2 appointments; after reconnecting each reaches the server exactly once', async () => {
    const { desktop } = devices('creates');
    const amina = await morning(desktop);
    const ids = await offlineMorning(desktop, amina);
    expect(desktop.status()).toMatchObject({ pending: 6 });

    const report = await desktop.sync({ pull: false });

    expect(report.push).toMatchObject({ applied: 6, conflicts: 0, deadLettered: 0 });
    const patients = await query<{ id: string; n: number }>(
      `SELECT id::text AS id, count(*)::int AS n FROM patients.patients WHERE id = ANY($1::uuid[]) GROUP BY id`,
      [ids.patients],
    );
    expect(patients).toHaveLength(3);
    expect(patients.every((r) => r.n === 1)).toBe(true);
    const appointments = await query<{ id: string }>(
      `SELECT id::text AS id FROM patients.appointments WHERE id = ANY($1::uuid[])`,
      [ids.appointments],
    );
    expect(appointments.map((r) => r.id).sort()).toEqual([...ids.appointments].sort());
    expect(desktop.status()).toMatchObject({ pending: 0, deadLetters: 0, openConflicts: 0 });
  });

  it('a nurse at another clinic edits a patient online; the overlapping offline edit surfaces as a conflict on the desktop', async () => {
    const { desktop, nurse } = devices('conflict');
    const amina = await morning(desktop);
    await offlineMorning(desktop, amina);
    // The nurse works online: her write is pushed at once (base version given: she has just seen version 1).
    await nurse.write((tx) =>
      tx.update(
        'patients',
        amina,
        { phone: '+254700000122', address: 'Kisumu, Nyalenda B' },
        { baseVersion: 1 },
      ),
    );

    await desktop.sync({ pull: false });

    const [c] = desktop.conflicts();
    expect(c).toMatchObject({
      entity: 'patients',
      recordId: amina,
      conflictingFields: ['phone'],
      baseVersion: 1,
      serverVersion: 2,
      mine: { phone: '+254700000111' },
      server: expect.objectContaining({ phone: '+254700000122', address: 'Kisumu, Nyalenda B' }),
    });
    expect(await desktop.get('patients', amina)).toMatchObject({
      phone: '+254700000111',
      _status: 'updated',
    });
    expect(desktop.status()).toMatchObject({ pending: 0, openConflicts: 1 });
  });

  it('after pulling, the desktop shows the nurse non-overlapping change and keeps its own contested value', async () => {
    const { desktop, nurse } = devices('pull');
    const amina = await morning(desktop);
    const ids = await offlineMorning(desktop, amina);
    await nurse.write((tx) =>
      tx.update(
        'patients',
        amina,
        { phone: '+254700000122', address: 'Kisumu, Nyalenda B' },
        { baseVersion: 1 },
      ),
    );

    const report = await desktop.sync();

    expect(report.pull).toMatchObject({ complete: true });
    expect(await desktop.get('patients', amina)).toMatchObject({
      address: 'Kisumu, Nyalenda B',
      phone: '+254700000111',
      version: 2,
      _status: 'updated',
      _changed: ['phone'],
    });
    for (const id of ids.patients)
      expect(await desktop.get('patients', id)).toMatchObject({ _status: 'synced', version: 1 });
    expect(desktop.status()).toMatchObject({
      state: 'idle',
      openConflicts: 1,
      lastPulledAt: expect.any(String),
    });
  });

  it('a clinician resolves the conflict and the desktop and the nurse converge on the same record', async () => {
    const { desktop, nurse, signIn } = devices('resolve');
    const amina = await morning(desktop);
    await offlineMorning(desktop, amina);
    await nurse.write((tx) =>
      tx.update(
        'patients',
        amina,
        { phone: '+254700000122', address: 'Kisumu, Nyalenda B' },
        { baseVersion: 1 },
      ),
    );
    await desktop.sync();
    const [c] = desktop.conflicts();

    // The clinician signs in on the desktop, checks with Amina and keeps the receptionist's number.
    signIn(clinicianToken);
    const resolved = await desktop.resolveConflict(
      c.conflictId,
      'merge',
      { phone: '+254700000111' },
      'confirmed with the patient at the desk',
    );
    signIn(clerkToken);
    await desktop.sync();

    expect(resolved).toMatchObject({ version: 3 });
    expect(desktop.conflicts()).toEqual([]);
    const onDesktop = await desktop.get('patients', amina);
    const onServer = await nurse.get('patients', amina);
    expect(onDesktop).toMatchObject({
      phone: '+254700000111',
      address: 'Kisumu, Nyalenda B',
      version: 3,
      _status: 'synced',
      _changed: [],
    });
    expect(onServer).toMatchObject({ phone: '+254700000111', address: 'Kisumu, Nyalenda B', version: 3 });
    const fields = [
      'givenName',
      'familyName',
      'facilityId',
      'sex',
      'dateOfBirth',
      'phone',
      'nationalId',
      'address',
      'version',
      'deletedAt',
    ];
    for (const f of fields) expect(onDesktop?.[f]).toEqual(onServer?.[f]);
    expect(desktop.status()).toMatchObject({ pending: 0, openConflicts: 0, deadLetters: 0 });
  });
});
