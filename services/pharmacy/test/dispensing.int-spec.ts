import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApplyBatchCommand, AuditEventResource, CloudEvent, MutationCommand } from '@clinisync/contracts';
import { MutationLedgerRepository, OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { Principal } from '@clinisync/auth';
import { BatchApplier, RecordRepository } from '@clinisync/module-runtime';
import { mutationPayloadHash, payloadHash } from '@clinisync/sync-core';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { pharmacyDatabasePlan } from '../src/database';
import { DispensingRules } from '../src/dispensing/dispensing.rules';
import { DrugCatalogueRepository } from '../src/dispensing/drug-catalogue.repository';

// Real parts: Postgres with the pharmacy migrations, the runtime's BatchApplier and repositories,
// the pharmacy rules and the real CASL ability. Clock and event ids pinned. Nothing mocked.
describe('pharmacy dispensing rules (BatchApplier + DispensingRules)', () => {
  const NOW = '2026-11-21T10:00:00.000Z';
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  let applier: BatchApplier;
  let eventSeq = 0;

  const principal = (roles: Principal['roles'], licences: string[] = []): Principal => ({
    sub: 'u-ph',
    tenantId: 't1',
    roles,
    facilities: ['f-1'],
    licences,
  });
  const admin = principal(['admin']);
  const pharmacist = principal(['pharmacist']);
  const licensed = principal(['pharmacist'], ['controlled-substances']);

  const cmd = (entity: string, data: Record<string, unknown>, id = newId()): MutationCommand => {
    const c = {
      clientMutationId: randomUUID(),
      entity,
      op: 'create' as const,
      id,
      data,
      changedFields: Object.keys(data),
    };
    return { ...c, payloadHash: mutationPayloadHash(c) };
  };
  const batch = (...commands: MutationCommand[]): ApplyBatchCommand => ({
    tenantId: 't1',
    correlationId: 'corr-1',
    token: 'unused',
    deviceId: 'tab-1',
    commands,
  });
  const aDrug = (controlled: boolean) =>
    cmd('drug_catalogue', {
      code: `D-${newId().slice(-6)}`,
      name: controlled ? 'Morphine' : 'Paracetamol',
      controlled,
    });
  const aDispensing = (drugId: string, extra: Record<string, unknown> = {}) =>
    cmd('dispensing_records', {
      patientId: newId(),
      drugId,
      quantity: 2,
      dispensedAt: '2026-11-21T09:30:00Z',
      facilityId: 'f-1',
      ...extra,
    });

  const outbox = (aggregateId: string) =>
    tx.run('t1', (t) =>
      t.query<{ subject: string; payload: string }>(
        // Change events live in the mutation ledger, audit events in the outbox; both commit with the write.
        `SELECT subject, payload FROM (
           SELECT subject, event AS payload, 0 AS part, ord::bigint AS n FROM sync_ledger.mutations WHERE aggregate_id = $1 AND event IS NOT NULL
           UNION ALL SELECT subject, payload, 1, seq FROM pharmacy.outbox WHERE aggregate_id = $1) AS e ORDER BY part, n`,
        [aggregateId],
      ),
    );
  const dispensingRows = (id: string) =>
    tx.run(
      't1',
      async (t) =>
        (
          await t.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pharmacy.dispensing_records WHERE id = $1',
            [id],
          )
        )[0].n,
    );

  beforeAll(async () => {
    db = await createTestDatabase([pharmacyDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    const ids = { newEventId: () => `00000000-0000-7000-8000-${String(++eventSeq).padStart(12, '0')}` };
    applier = new BatchApplier(
      'pharmacy',
      tx,
      new RecordRepository(),
      new MutationLedgerRepository(),
      new OutboxRepository('pharmacy'),
      { now: () => NOW, ...ids },
      new DispensingRules(new DrugCatalogueRepository(), ids),
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('lets a licensed pharmacist dispense a controlled drug and emits a controlled-dispensing audit event in the same transaction', async () => {
    const drug = aDrug(true);
    await applier.apply(batch(drug), admin);
    const dispensing = aDispensing(drug.id);
    const reply = await applier.apply(batch(dispensing), licensed);
    expect(reply.results[0]).toMatchObject({ status: 'applied', version: 1 });
    const events = await outbox(dispensing.id);
    expect(events.map((e) => e.subject)).toEqual([
      'clinical.t1.pharmacy.dispensing_records.created',
      'audit.t1.controlled-dispensing',
    ]);
    const audit = JSON.parse(events[1].payload) as CloudEvent<AuditEventResource>;
    expect(audit).toMatchObject({
      specversion: '1.0',
      source: 'clinisync/pharmacy',
      type: 'clinisync.audit.controlled-dispensing',
      subject: `dispensing_records/${dispensing.id}`,
      tenantid: 't1',
      correlationid: 'corr-1',
      time: NOW,
    });
    expect(audit.data).toMatchObject({
      resourceType: 'AuditEvent',
      kind: 'controlled-dispensing',
      action: 'C',
      outcome: '0',
      recorded: NOW,
      tenantId: 't1',
      clientMutationId: dispensing.clientMutationId,
      source: { observer: { display: 'pharmacy' }, site: 'f-1' },
    });
    expect(audit.data.agent[0]).toMatchObject({
      who: { identifier: { value: 'u-ph' } },
      role: [{ text: 'pharmacist' }],
      altId: 'tab-1',
    });
    const refs = (audit.data.entity ?? []).map((e) => e.what.reference);
    expect(refs).toEqual([
      `Patient/${dispensing.data.patientId}`,
      `dispensing_records/${dispensing.id}/_history/1`,
    ]);
    // No clinical values in the audit trail: the record is hashed, not copied.
    const clinical = JSON.parse(events[0].payload) as CloudEvent<{ record: unknown }>;
    expect(audit.data.entity?.[1].detail).toContainEqual({
      type: 'afterHash',
      valueString: payloadHash(clinical.data.record),
    });
    expect(JSON.stringify(audit.data)).not.toContain('"quantity"');
  });

  it('rejects a controlled dispensing by a pharmacist without the licence as FORBIDDEN, writes nothing and records a write-denied audit event', async () => {
    const drug = aDrug(true);
    await applier.apply(batch(drug), admin);
    const dispensing = aDispensing(drug.id);
    const reply = await applier.apply(batch(dispensing), pharmacist);
    expect(reply.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN', retryable: false });
    expect(await dispensingRows(dispensing.id)).toBe(0);
    const events = await outbox(dispensing.id);
    expect(events.map((e) => e.subject)).toEqual(['audit.t1.write-denied']);
    expect(JSON.parse(events[0].payload).data).toMatchObject({
      kind: 'write-denied',
      outcome: '4',
      action: 'C',
    });
  });

  it('lets a pharmacist without the licence dispense an uncontrolled drug, with no controlled-dispensing audit event', async () => {
    const drug = aDrug(false);
    await applier.apply(batch(drug), admin);
    const dispensing = aDispensing(drug.id);
    const reply = await applier.apply(batch(dispensing), pharmacist);
    expect(reply.results[0]).toMatchObject({ status: 'applied', version: 1 });
    expect((await outbox(dispensing.id)).map((e) => e.subject)).toEqual([
      'clinical.t1.pharmacy.dispensing_records.created',
    ]);
  });

  it('leaves a drug missing from the catalogue to the parent check: PARENT_NOT_FOUND, not FORBIDDEN', async () => {
    const dispensing = aDispensing(newId());
    const reply = await applier.apply(batch(dispensing), pharmacist);
    expect(reply.results[0]).toMatchObject({
      status: 'rejected',
      code: 'PARENT_NOT_FOUND',
      retryable: false,
    });
    expect(await outbox(dispensing.id)).toEqual([]);
  });

  it('reads the controlled flag of a drug created earlier in the same batch (no bypass through an unsaved catalogue entry)', async () => {
    const adminPharmacist = principal(['admin', 'pharmacist']);
    const controlled = aDrug(true);
    const uncontrolled = aDrug(false);
    const denied = aDispensing(controlled.id);
    const allowed = aDispensing(uncontrolled.id);
    const reply = await applier.apply(batch(controlled, denied, uncontrolled, allowed), adminPharmacist);
    expect(reply.results.map((r) => (r.status === 'rejected' ? r.code : r.status))).toEqual([
      'applied',
      'FORBIDDEN',
      'applied',
      'applied',
    ]);
    expect(await dispensingRows(denied.id)).toBe(0);
    expect(await dispensingRows(allowed.id)).toBe(1);
  });

  it('answers a redelivered controlled dispensing from the mutation ledger with no second row or audit event', async () => {
    const drug = aDrug(true);
    await applier.apply(batch(drug), admin);
    const command = batch(aDispensing(drug.id));
    const first = await applier.apply(command, licensed);
    const second = await applier.apply(command, licensed);
    expect(second.results).toEqual(first.results.map((r) => ({ ...r, replayed: true })));
    const id = command.commands[0].id;
    expect(await dispensingRows(id)).toBe(1);
    expect((await outbox(id)).map((e) => e.subject)).toEqual([
      'clinical.t1.pharmacy.dispensing_records.created',
      'audit.t1.controlled-dispensing',
    ]);
  });
});
