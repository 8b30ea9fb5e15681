import { randomUUID } from 'node:crypto';
import { Mutation } from '@clinisync/contracts';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, newId, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

const create = (entity: string, data: Record<string, unknown>, id = newId()): Mutation => ({
  clientMutationId: randomUUID(),
  entity,
  op: 'create',
  id,
  data,
});
const update = (
  entity: string,
  id: string,
  baseVersion: number,
  data: Record<string, unknown>,
): Mutation => ({ clientMutationId: randomUUID(), entity, op: 'update', id, baseVersion, data });
const aDrug = (controlled: boolean) =>
  create('drug_catalogue', {
    code: `D-${newId().slice(-8)}`,
    name: controlled ? 'Morphine 10 mg' : 'Amoxicillin 500 mg',
    form: 'tablet',
    controlled,
  });
const aDispensing = (drugId: string, quantity = 2) =>
  create('dispensing_records', {
    patientId: newId(),
    drugId,
    quantity,
    dispensedAt: '2026-11-21T09:30:00Z',
    facilityId: 'f-1',
  });
const aPrescription = (patientId: string) =>
  create('prescriptions', {
    patientId,
    prescribedAt: '2026-11-21T09:00:00Z',
    status: 'active',
    facilityId: 'f-1',
  });
const anItem = (prescriptionId: string, drugId: string) =>
  create('prescription_items', {
    prescriptionId,
    drugId,
    dose: '1 tablet',
    frequency: 'tds',
    durationDays: 5,
    quantity: 15,
    facilityId: 'f-1',
  });

describe('pharmacy over push (PROTOCOL.md Entities, ARCHITECTURE.md Roles)', () => {
  let p: Platform;
  let admin: string;
  let clinician: string;
  let pharmacist: string;
  let licensed: string;
  let controlledDrug: string;
  let plainDrug: string;

  const rows = async (table: string, id: string) => {
    const ds = await p.db.ownerDataSource();
    try {
      return (await ds.query(`SELECT count(*)::int AS n FROM pharmacy.${table} WHERE id = $1`, [id]))[0]
        .n as number;
    } finally {
      await ds.destroy();
    }
  };
  const auditFor = async (kind: string, clientMutationId: string) =>
    (await readStream(p.nats.url, 'AUDIT')).filter(
      (m) =>
        m.subject === `audit.t1.${kind}` &&
        (m.event.data as unknown as { clientMutationId?: string }).clientMutationId === clientMutationId,
    );

  beforeAll(async () => {
    p = await startPlatform();
    admin = await p.token({ sub: 'u-admin', roles: ['admin'], facilities: ['*'] });
    clinician = await p.token({ sub: 'u-doc', roles: ['clinician'] });
    pharmacist = await p.token({ sub: 'u-ph', roles: ['pharmacist'] });
    licensed = await p.token({ sub: 'u-ph-lic', roles: ['pharmacist'], licences: ['controlled-substances'] });
    const drugs = [aDrug(true), aDrug(false)];
    const r = await push(p.baseUrl, admin, { mutations: drugs });
    expect(r.json.results?.map((x) => x.status)).toEqual(['applied', 'applied']);
    [controlledDrug, plainDrug] = drugs.map((d) => d.id);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('dispenses a controlled drug for a pharmacist holding the controlled-substances licence and audits it on AUDIT', async () => {
    const dispensing = aDispensing(controlledDrug);
    const r = await push(p.baseUrl, licensed, { deviceId: 'tab-ph', mutations: [dispensing] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'applied', id: dispensing.id, version: 1 });
    expect(await rows('dispensing_records', dispensing.id)).toBe(1);
    await eventually(
      async () => (await auditFor('controlled-dispensing', dispensing.clientMutationId)).length === 1,
      20_000,
      'controlled-dispensing audit event',
    );
    const [audit] = await auditFor('controlled-dispensing', dispensing.clientMutationId);
    expect(audit.event).toMatchObject({
      type: 'clinisync.audit.controlled-dispensing',
      source: 'clinisync/pharmacy',
      tenantid: 't1',
    });
    expect(audit.event.data).toMatchObject({
      resourceType: 'AuditEvent',
      kind: 'controlled-dispensing',
      outcome: '0',
      action: 'C',
    });
    expect(audit.msgId).toBe(audit.event.id);
  });

  it('rejects a controlled dispensing without the licence as FORBIDDEN and publishes a write-denied audit event on AUDIT', async () => {
    const dispensing = aDispensing(controlledDrug);
    const r = await push(p.baseUrl, pharmacist, { deviceId: 'tab-ph', mutations: [dispensing] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN', retryable: false });
    expect(await rows('dispensing_records', dispensing.id)).toBe(0);
    await eventually(
      async () => (await auditFor('write-denied', dispensing.clientMutationId)).length === 1,
      20_000,
      'write-denied audit event',
    );
    const [denied] = await auditFor('write-denied', dispensing.clientMutationId);
    expect(denied.event.data).toMatchObject({
      kind: 'write-denied',
      outcome: '4',
      action: 'C',
      agent: [{ who: { identifier: { value: 'u-ph' } }, altId: 'tab-ph' }],
    });
    expect(await auditFor('controlled-dispensing', dispensing.clientMutationId)).toEqual([]);
  });

  it('lets a pharmacist without the licence dispense an uncontrolled drug', async () => {
    const r = await push(p.baseUrl, pharmacist, { mutations: [aDispensing(plainDrug)] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'applied', version: 1 });
  });

  it('replays a retried dispensing push with the first result and no second row or audit event', async () => {
    const dispensing = aDispensing(controlledDrug);
    const first = await push(p.baseUrl, licensed, { mutations: [dispensing] });
    const second = await push(p.baseUrl, licensed, { mutations: [dispensing] });
    const { replayed, ...rest } = second.json.results?.[0] ?? {};
    expect(replayed).toBe(true);
    expect(JSON.stringify(rest)).toBe(JSON.stringify(first.json.results?.[0]));
    expect(await rows('dispensing_records', dispensing.id)).toBe(1);
    await eventually(
      async () => (await auditFor('controlled-dispensing', dispensing.clientMutationId)).length > 0,
      20_000,
      'controlled-dispensing audit event',
    );
    expect(await auditFor('controlled-dispensing', dispensing.clientMutationId)).toHaveLength(1);
  });

  it('rejects drug_catalogue writes by a non-admin as FORBIDDEN', async () => {
    for (const token of [pharmacist, licensed, clinician]) {
      const drug = aDrug(false);
      const edit = update('drug_catalogue', plainDrug, 1, { controlled: true });
      const r = await push(p.baseUrl, token, { mutations: [drug, edit] });
      expect(r.json.results?.map((x) => [x.status, x.code, x.retryable])).toEqual([
        ['rejected', 'FORBIDDEN', false],
        ['rejected', 'FORBIDDEN', false],
      ]);
      expect(await rows('drug_catalogue', drug.id)).toBe(0);
    }
    const ds = await p.db.ownerDataSource();
    const [stored] = await ds.query('SELECT controlled, version FROM pharmacy.drug_catalogue WHERE id = $1', [
      plainDrug,
    ]);
    await ds.destroy();
    expect(stored).toEqual({ controlled: false, version: 1 });
  });

  it('applies prescription items pushed in the same batch before their prescription after it', async () => {
    const patient = aPatientCreate();
    const prescription = aPrescription(patient.id);
    const items = [anItem(prescription.id, plainDrug), anItem(prescription.id, controlledDrug)];
    const r = await push(p.baseUrl, clinician, { mutations: [...items, prescription, patient] });
    expect(r.json.results?.map((x) => x.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(await rows('prescriptions', prescription.id)).toBe(1);
    expect(await rows('prescription_items', items[0].id)).toBe(1);
    // Had an item been decided before its prescription, the in-batch parent check would have
    // rejected it (PARENT_NOT_FOUND); and the rows were written parent first, in one transaction.
    const ds = await p.db.ownerDataSource();
    const written: { id: string; xid: string; seq: string }[] = await ds.query(
      `SELECT id::text, change_xid::text AS xid, change_seq::text AS seq FROM pharmacy.prescriptions WHERE id = $1
       UNION ALL SELECT id::text, change_xid::text, change_seq::text FROM pharmacy.prescription_items WHERE prescription_id = $1`,
      [prescription.id],
    );
    await ds.destroy();
    expect(written.map((w) => w.id)).toEqual(
      expect.arrayContaining([prescription.id, ...items.map((i) => i.id)]),
    );
    expect(new Set(written.map((w) => w.xid)).size).toBe(1);
    const seqOf = (id: string) => BigInt(written.find((w) => w.id === id)?.seq ?? '0');
    for (const item of items) expect(seqOf(item.id)).toBeGreaterThan(seqOf(prescription.id));
    const ids = [prescription.id, ...items.map((i) => i.id)];
    await eventually(
      async () =>
        (await readStream(p.nats.url, 'CLINICAL')).filter((m) => ids.includes(m.event.data.id)).length === 3,
      20_000,
      'prescription events',
    );
  });

  it('rejects an item whose prescription failed in the same batch as DEPENDENCY_FAILED (retryable)', async () => {
    const prescription = aPrescription(newId());
    const item = anItem(prescription.id, plainDrug);
    const r = await push(p.baseUrl, clinician, {
      mutations: [item, { ...prescription, data: { ...prescription.data, facilityId: 'f-9' } }],
    });
    expect(r.json.results?.map((x) => [x.status, x.code])).toEqual([
      ['rejected', 'DEPENDENCY_FAILED'],
      ['rejected', 'FORBIDDEN'],
    ]);
    expect(r.json.results?.[0].retryable).toBe(true);
  });

  it('returns conflict with the server record for a stale prescription update (reject policy)', async () => {
    const prescription = aPrescription(newId());
    await push(p.baseUrl, clinician, { mutations: [prescription] });
    const first = update('prescriptions', prescription.id, 1, { status: 'completed' });
    expect((await push(p.baseUrl, clinician, { mutations: [first] })).json.results?.[0]).toMatchObject({
      status: 'applied',
      version: 2,
    });
    const stale = update('prescriptions', prescription.id, 1, { status: 'cancelled' });
    const r = await push(p.baseUrl, clinician, { mutations: [stale] });
    expect(r.json.results?.[0]).toMatchObject({
      status: 'conflict',
      id: prescription.id,
      serverVersion: 2,
      conflictingFields: ['status'],
      serverRecord: { id: prescription.id, version: 2, status: 'completed' },
    });
  });

  it("hides another tenant's pharmacy records: an update by tenant t2 is NOT_FOUND, exactly like a missing record", async () => {
    const prescription = aPrescription(newId());
    expect((await push(p.baseUrl, clinician, { mutations: [prescription] })).json.results?.[0]).toMatchObject(
      { status: 'applied' },
    );
    const t2Clinician = await p.token({ tenantId: 't2', roles: ['clinician'] });
    const t2Admin = await p.token({ tenantId: 't2', roles: ['admin'], facilities: ['*'] });
    const strip = (r: Record<string, unknown> | undefined) => ({
      status: r?.status,
      code: r?.code,
      retryable: r?.retryable,
    });
    const foreign = await push(p.baseUrl, t2Clinician, {
      mutations: [update('prescriptions', prescription.id, 1, { status: 'cancelled' })],
    });
    const missing = await push(p.baseUrl, t2Clinician, {
      mutations: [update('prescriptions', newId(), 1, { status: 'cancelled' })],
    });
    expect(strip(foreign.json.results?.[0])).toEqual({
      status: 'rejected',
      code: 'NOT_FOUND',
      retryable: false,
    });
    expect(strip(foreign.json.results?.[0])).toEqual(strip(missing.json.results?.[0]));
    const foreignDrug = await push(p.baseUrl, t2Admin, {
      mutations: [update('drug_catalogue', controlledDrug, 1, { controlled: false })],
    });
    expect(strip(foreignDrug.json.results?.[0])).toEqual({
      status: 'rejected',
      code: 'NOT_FOUND',
      retryable: false,
    });
    // Nor can t2 dispense against t1's catalogue: the drug does not exist in t2.
    const t2Pharmacist = await p.token({
      tenantId: 't2',
      roles: ['pharmacist'],
      licences: ['controlled-substances'],
    });
    const dispensing = await push(p.baseUrl, t2Pharmacist, { mutations: [aDispensing(controlledDrug)] });
    expect(strip(dispensing.json.results?.[0])).toEqual({
      status: 'rejected',
      code: 'PARENT_NOT_FOUND',
      retryable: false,
    });
  });
});
