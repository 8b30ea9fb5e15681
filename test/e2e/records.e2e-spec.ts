import { Platform, startPlatform } from '../support/platform';
import { aDelete, aPatientCreate, aVisitCreate, newId, push } from '../support/builders';

describe('online-mode reads (PROTOCOL.md Online-mode reads)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const get = async (token: string, path: string) => {
    const res = await fetch(`${p.baseUrl}/api/v1/records/${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { items?: { id: string }[]; cursor?: string | null; error?: { code: string } } };
  };

  it('returns a record, and 404 alike for missing, deleted, foreign-tenant and other-facility records', async () => {
    const nurse = await p.token({ tenantId: 'r1', roles: ['nurse'], facilities: ['*'] });
    const kept = aPatientCreate();
    const gone = aPatientCreate();
    const elsewhere = aPatientCreate({ data: { facilityId: 'f-2' } });
    await push(p.baseUrl, nurse, { mutations: [kept, gone, elsewhere] });
    await push(p.baseUrl, nurse, { mutations: [aDelete('patients', gone.id, 1)] });
    expect((await get(nurse, `patients/${kept.id}`)).json).toMatchObject({ id: kept.id, version: 1, givenName: 'Amina' });
    const other = await p.token({ tenantId: 'r2', roles: ['nurse'], facilities: ['*'] });
    const f1Only = await p.token({ tenantId: 'r1', roles: ['nurse'], facilities: ['f-1'] });
    const answers = [
      await get(nurse, `patients/${newId()}`),
      await get(nurse, `patients/${gone.id}`),
      await get(other, `patients/${kept.id}`),
      await get(f1Only, `patients/${elsewhere.id}`),
    ];
    for (const a of answers) expect([a.status, a.json.error?.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('lists by patient with a keyset cursor', async () => {
    const nurse = await p.token({ tenantId: 'r3', roles: ['nurse'], facilities: ['*'] });
    const patient = aPatientCreate();
    const visits = Array.from({ length: 5 }, () => aVisitCreate(patient.id));
    await push(p.baseUrl, nurse, { mutations: [patient, ...visits, aVisitCreate((await (async () => { const o = aPatientCreate(); await push(p.baseUrl, nurse, { mutations: [o] }); return o.id; })()))] });
    const first = await get(nurse, `visits?patientId=${patient.id}&limit=3`);
    expect(first.json.items).toHaveLength(3);
    const second = await get(nurse, `visits?patientId=${patient.id}&limit=3&cursor=${first.json.cursor}`);
    expect(second.json.items).toHaveLength(2);
    expect(second.json.cursor).toBeNull();
    expect(new Set([...(first.json.items ?? []), ...(second.json.items ?? [])].map((v) => v.id))).toEqual(new Set(visits.map((v) => v.id)));
  });

  it('refuses a tampered, hand-built, other-list or other-tenant cursor with 400 INVALID_CURSOR naming cursor', async () => {
    const nurse = await p.token({ tenantId: 'r4', roles: ['nurse'], facilities: ['*'] });
    const patient = aPatientCreate();
    await push(p.baseUrl, nurse, { mutations: [patient, aVisitCreate(patient.id), aVisitCreate(patient.id)] });
    const first = await get(nurse, `visits?patientId=${patient.id}&limit=1`);
    const cursor = first.json.cursor as string;
    expect(cursor).toEqual(expect.any(String));
    expect((await get(nurse, `visits?patientId=${patient.id}&limit=1&cursor=${cursor}`)).status).toBe(200);
    const [body, mac] = cursor.split('.');
    const position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a: [string, string] };
    const forged = Buffer.from(JSON.stringify({ ...position, a: [position.a[0], newId()] })).toString('base64url');
    const other = await p.token({ tenantId: 'r5', roles: ['nurse'], facilities: ['*'] });
    const answers = [
      await get(nurse, `visits?patientId=${patient.id}&cursor=${forged}.${mac}`),
      // The unsigned form these lists used to hand out: a bare base64url position.
      await get(nurse, `visits?patientId=${patient.id}&cursor=${Buffer.from(JSON.stringify(position.a)).toString('base64url')}`),
      await get(nurse, `patients?cursor=${cursor}`),
      await get(other, `visits?patientId=${patient.id}&cursor=${cursor}`),
    ];
    for (const a of answers) {
      expect([a.status, a.json.error?.code]).toEqual([400, 'INVALID_CURSOR']);
      expect((a.json.error as { details?: { path: string }[] }).details?.[0]?.path).toBe('cursor');
    }
  });
});
