import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, aPatientUpdate, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

describe('conflict resolution (PROTOCOL.md Conflicts)', () => {
  let p: Platform;
  let nurseA: string;
  let nurseB: string;
  let clinician: string;
  beforeAll(async () => {
    p = await startPlatform();
    nurseA = await p.token({ sub: 'nurse-a', roles: ['nurse'], facilities: ['f-1'] });
    nurseB = await p.token({ sub: 'nurse-b', roles: ['nurse'], facilities: ['f-1'] });
    clinician = await p.token({ sub: 'dr-c', roles: ['clinician'], facilities: ['f-1'] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function resolve(token: string, conflictId: string, body: unknown) {
    const res = await fetch(`${p.baseUrl}/api/v1/sync/conflicts/${conflictId}/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { error?: { code: string; serverRecord?: Record<string, unknown> } } };
  }

  /** Two devices edit the same patient field from version 1: the second gets a conflict. */
  async function conflictOnPhone() {
    const patient = aPatientCreate();
    await push(p.baseUrl, nurseA, { mutations: [patient] }, { 'x-device-id': 'tab-a' });
    const a = await push(p.baseUrl, nurseA, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+254700000001' })] }, { 'x-device-id': 'tab-a' });
    const b = await push(p.baseUrl, nurseB, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+254700000002', address: 'Kisumu' })] }, { 'x-device-id': 'tab-b' });
    return { patient, a: a.json.results?.[0], b: b.json.results?.[0] };
  }

  const record = async (id: string) => {
    const ds = await p.db.ownerDataSource();
    const [row] = await ds.query('SELECT version, phone, address FROM patients.patients WHERE id = $1', [id]);
    await ds.destroy();
    return row as { version: number; phone: string; address: string | null };
  };

  it('two devices edit one patient from the same version: one applied, one conflict, stored and listed', async () => {
    const { patient, a, b } = await conflictOnPhone();
    expect(a).toMatchObject({ status: 'applied', version: 2 });
    expect(b).toMatchObject({ status: 'conflict', conflictingFields: ['phone'], serverVersion: 2 });
    const list = await fetch(`${p.baseUrl}/api/v1/sync/conflicts?status=open&recordId=${patient.id}`, { headers: { authorization: `Bearer ${clinician}` } });
    const body = (await list.json()) as { items: Record<string, unknown>[] };
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      id: b?.conflictId,
      entity: 'patients',
      recordId: patient.id,
      baseVersion: 1,
      serverVersion: 2,
      conflictingFields: ['phone'],
      deviceId: 'tab-b',
      actorId: 'nurse-b',
      clientPayload: { data: { phone: '+254700000002', address: 'Kisumu' } },
      serverRecord: { phone: '+254700000001' },
    });
    await eventually(async () => (await readStream(p.nats.url, 'AUDIT')).some((m) => m.subject === 'audit.t1.conflict-detected' && (m.event.data as unknown as { clientMutationId?: string }).clientMutationId !== undefined));
  });

  it('client_wins applies the client edit at the current version and audits the resolution', async () => {
    const { patient, b } = await conflictOnPhone();
    const r = await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins', reason: 'patient confirmed new number' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'resolved', resolution: 'client_wins', version: 3 });
    expect(await record(patient.id)).toMatchObject({ version: 3, phone: '+254700000002', address: 'Kisumu' });
    await eventually(async () =>
      (await readStream(p.nats.url, 'AUDIT')).some((m) => m.subject === 'audit.t1.conflict-resolved' && JSON.stringify(m.event.data).includes(`patients/${patient.id}/_history/3`)),
    );
    const audit = (await readStream(p.nats.url, 'AUDIT')).find((m) => JSON.stringify(m.event.data).includes(`patients/${patient.id}/_history/3`));
    const text = JSON.stringify(audit?.event.data);
    expect(text).not.toContain('+254700000002'); // no clinical values in audit events
    expect(text).toContain('client_wins');
  });

  it('server_wins keeps the server record', async () => {
    const { patient, b } = await conflictOnPhone();
    const r = await resolve(clinician, b?.conflictId as string, { resolution: 'server_wins' });
    expect(r.json).toMatchObject({ status: 'resolved', resolution: 'server_wins', version: 2 });
    expect(await record(patient.id)).toMatchObject({ version: 2, phone: '+254700000001', address: null });
  });

  it('merge applies the resolver data', async () => {
    const { patient, b } = await conflictOnPhone();
    const r = await resolve(clinician, b?.conflictId as string, { resolution: 'merge', data: { phone: '+254700000009', address: 'Kisumu' } });
    expect(r.json).toMatchObject({ status: 'resolved', resolution: 'merge', version: 3 });
    expect(await record(patient.id)).toMatchObject({ version: 3, phone: '+254700000009', address: 'Kisumu' });
  });

  it('manual_review parks the conflict in the admin queue', async () => {
    const { b } = await conflictOnPhone();
    const r = await resolve(clinician, b?.conflictId as string, { resolution: 'manual_review', reason: 'needs the records office' });
    expect(r.json).toMatchObject({ status: 'manual_review' });
    const admin = await p.token({ sub: 'admin-1', roles: ['admin'], facilities: ['f-9'] });
    const queue = (await (await fetch(`${p.baseUrl}/api/v1/sync/conflicts?status=manual_review`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { items: { id: string }[] };
    expect(queue.items.map((i) => i.id)).toContain(b?.conflictId);
    const done = await resolve(admin, b?.conflictId as string, { resolution: 'server_wins' });
    expect(done.json).toMatchObject({ status: 'resolved' });
  });

  it('authorizes a resolution as resolve, not as its op: an admin who may not update patients applies client_wins at a facility outside its own', async () => {
    const { patient, b } = await conflictOnPhone();
    const admin = await p.token({ sub: 'admin-2', roles: ['admin'], facilities: ['f-9'] });
    // The same update as a plain push is refused to the admin, and changes nothing.
    const direct = await push(p.baseUrl, admin, { mutations: [aPatientUpdate(patient.id, 2, { phone: '+254700000003' })] });
    expect(direct.status).toBe(200);
    expect(direct.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    expect(await record(patient.id)).toMatchObject({ version: 2, phone: '+254700000001', address: null });
    // As a resolution (the module's op is `update`, the action checked is `resolve`) it is written,
    // at the record's facility f-1 which is not the admin's.
    const r = await resolve(admin, b?.conflictId as string, { resolution: 'client_wins', reason: 'records office decision' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'resolved', resolution: 'client_wins', version: 3 });
    expect(await record(patient.id)).toMatchObject({ version: 3, phone: '+254700000002', address: 'Kisumu' });
  });

  it('resolving twice is 409', async () => {
    const { b } = await conflictOnPhone();
    expect((await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins' })).status).toBe(200);
    const again = await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins' });
    expect(again.status).toBe(409);
    expect(again.json.error?.code).toBe('CONFLICT');
  });

  it('a stale resolution (record changed since detection) is 409 with the new server record', async () => {
    const { patient, b } = await conflictOnPhone();
    await push(p.baseUrl, nurseA, { mutations: [aPatientUpdate(patient.id, 2, { familyName: 'Wanjiru' })] });
    const r = await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins' });
    expect(r.status).toBe(409);
    expect(r.json.error?.serverRecord).toMatchObject({ id: patient.id, version: 3, familyName: 'Wanjiru' });
    expect(await record(patient.id)).toMatchObject({ version: 3, phone: '+254700000001' });
  });

  it('an unauthorised resolver gets 403 and the denial is audited', async () => {
    const { b } = await conflictOnPhone();
    const r = await resolve(nurseA, b?.conflictId as string, { resolution: 'client_wins' });
    expect(r.status).toBe(403);
    await eventually(async () =>
      (await readStream(p.nats.url, 'AUDIT')).some((m) => m.subject === 'audit.t1.write-denied' && JSON.stringify(m.event.data).includes('not allowed to resolve')),
    );
  });

  it('resolution and its audit event are atomic: when the audit write fails nothing is committed', async () => {
    const { patient, b } = await conflictOnPhone();
    const owner = await p.db.ownerDataSource();
    await owner.query(`CREATE OR REPLACE FUNCTION patients.fail_resolution_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.subject LIKE 'audit.%.conflict-resolved' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$`);
    await owner.query(`CREATE TRIGGER fail_resolution_audit BEFORE INSERT ON patients.outbox FOR EACH ROW EXECUTE FUNCTION patients.fail_resolution_audit()`);
    try {
      const r = await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins' });
      expect(r.status).toBe(503);
      expect(await record(patient.id)).toMatchObject({ version: 2, phone: '+254700000001' });
      const [conflict] = await owner.query('SELECT status FROM sync_ingest.conflicts WHERE id = $1', [b?.conflictId]);
      expect(conflict.status).toBe('open');
      const [events] = await owner.query(`SELECT count(*)::int AS n FROM patients.outbox WHERE aggregate_id = $1 AND subject LIKE 'audit.%'`, [patient.id]);
      expect(events.n).toBe(0);
    } finally {
      await owner.query('DROP TRIGGER fail_resolution_audit ON patients.outbox');
      await owner.destroy();
    }
    // Once the audit store works again, the same resolution goes through.
    expect((await resolve(clinician, b?.conflictId as string, { resolution: 'client_wins' })).status).toBe(200);
  });

  it('pages the list with a signed cursor: a tampered, hand-built or other tenant\'s cursor is 400 INVALID_CURSOR naming cursor', async () => {
    await conflictOnPhone();
    await conflictOnPhone();
    const list = async (token: string, query: string) => {
      const res = await fetch(`${p.baseUrl}/api/v1/sync/conflicts?status=open&${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: (await res.json()) as { items?: { id: string }[]; cursor?: string | null; error?: { code: string; details?: { path: string }[] } } };
    };
    const first = await list(clinician, 'limit=1');
    const cursor = first.json.cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await list(clinician, `limit=1&cursor=${cursor}`);
    expect(second.status).toBe(200);
    expect(second.json.items?.[0]?.id).not.toBe(first.json.items?.[0]?.id);
    const [body, mac] = cursor.split('.');
    const position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a: [string, string] };
    const forged = Buffer.from(JSON.stringify({ ...position, a: ['2000-01-01T00:00:00.000Z', position.a[1]] })).toString('base64url');
    const otherTenant = await p.token({ tenantId: 't9', sub: 'dr-t9', roles: ['clinician'], facilities: ['f-1'] });
    const answers = [
      await list(clinician, `cursor=${forged}.${mac}`),
      await list(clinician, `cursor=${Buffer.from(JSON.stringify(position.a)).toString('base64url')}`),
      await list(otherTenant, `cursor=${cursor}`),
    ];
    for (const a of answers) {
      expect([a.status, a.json.error?.code]).toEqual([400, 'INVALID_CURSOR']);
      expect(a.json.error?.details?.[0]?.path).toBe('cursor');
    }
  });

  it('validates the resolution body', async () => {
    const { b } = await conflictOnPhone();
    expect((await resolve(clinician, b?.conflictId as string, { resolution: 'whatever' })).status).toBe(400);
    expect((await resolve(clinician, b?.conflictId as string, { resolution: 'merge' })).status).toBe(400);
    expect((await resolve(clinician, '00000000-0000-4000-8000-000000000000', { resolution: 'client_wins' })).status).toBe(404);
  });
});
