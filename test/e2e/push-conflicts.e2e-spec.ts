import { Platform, startPlatform } from '../support/platform';
import { aDelete, aPatientCreate, aPatientUpdate, aVisitCreate, push } from '../support/builders';
import { randomUUID } from 'node:crypto';

describe('push conflict policies (PROTOCOL.md Push: conflict policy)', () => {
  let p: Platform;
  let token: string;
  beforeAll(async () => {
    p = await startPlatform();
    token = await p.token({ roles: ['clinician'] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('returns conflict with the server record for a stale baseVersion under the reject policy', async () => {
    const patient = aPatientCreate();
    const visit = aVisitCreate(patient.id);
    await push(p.baseUrl, token, { mutations: [patient, visit] });
    const edit1 = { clientMutationId: randomUUID(), entity: 'visits', op: 'update', id: visit.id, baseVersion: 1, data: { reason: 'cough' } };
    expect((await push(p.baseUrl, token, { mutations: [edit1] })).json.results?.[0]).toMatchObject({ status: 'applied', version: 2 });
    const stale = { clientMutationId: randomUUID(), entity: 'visits', op: 'update', id: visit.id, baseVersion: 1, data: { endedAt: '2026-11-21T10:00:00Z' } };
    const r = await push(p.baseUrl, token, { mutations: [stale] });
    expect(r.json.results?.[0]).toMatchObject({
      status: 'conflict',
      id: visit.id,
      serverVersion: 2,
      conflictingFields: ['endedAt'],
      serverRecord: { id: visit.id, version: 2, reason: 'cough' },
    });
    expect(typeof r.json.results?.[0].conflictId).toBe('string');
  });

  it('merges disjoint field edits made from the same version (field-merge)', async () => {
    const patient = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [patient] });
    await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+254711111111' })] });
    const r = await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 1, { address: 'Kisumu' })] });
    expect(r.json.results?.[0]).toMatchObject({
      status: 'merged',
      version: 3,
      record: { phone: '+254711111111', address: 'Kisumu', givenName: 'Amina' },
    });
  });

  it('reports overlapping field edits as a conflict listing the overlap', async () => {
    const patient = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [patient] });
    await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+254711111111' })] });
    const r = await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 1, { phone: '+254722222222', address: 'Kisumu' })] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'conflict', conflictingFields: ['phone'], serverVersion: 2 });
  });

  it('treats an update after a delete as a conflict and never resurrects', async () => {
    const patient = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [patient] });
    expect((await push(p.baseUrl, token, { mutations: [aDelete('patients', patient.id, 1)] })).json.results?.[0]).toMatchObject({ status: 'applied', version: 2 });
    const r = await push(p.baseUrl, token, { mutations: [aPatientUpdate(patient.id, 2, { phone: '+254733333333' })] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'conflict', serverRecord: { id: patient.id } });
    expect(r.json.results?.[0].serverRecord).toHaveProperty('deletedAt');
    expect((r.json.results?.[0].serverRecord as { deletedAt: string | null }).deletedAt).not.toBeNull();
  });

  it('rejects DEPENDENCY_FAILED for a child whose parent failed in the same batch', async () => {
    const patient = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [patient] });
    const dup = { ...aPatientCreate(), id: patient.id };
    const child = aVisitCreate(patient.id);
    const r = await push(p.baseUrl, token, { mutations: [dup, child] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'ALREADY_EXISTS' });
    expect(r.json.results?.[1]).toMatchObject({ status: 'rejected', code: 'DEPENDENCY_FAILED', retryable: true });
  });

  it('keeps vitals append-only', async () => {
    const patient = aPatientCreate();
    const vital = { clientMutationId: randomUUID(), entity: 'vitals', op: 'create', id: randomUUID(), data: { patientId: patient.id, facilityId: 'f-1', recordedAt: '2026-11-21T09:05:00Z', systolic: 120 } };
    await push(p.baseUrl, token, { mutations: [patient, vital] });
    const edit = { clientMutationId: randomUUID(), entity: 'vitals', op: 'update', id: vital.id, baseVersion: 1, data: { systolic: 130 } };
    expect((await push(p.baseUrl, token, { mutations: [edit] })).json.results?.[0]).toMatchObject({ status: 'rejected', code: 'APPEND_ONLY' });
  });
});
