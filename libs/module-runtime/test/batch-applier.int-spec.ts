import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApplyBatchCommand } from '@clinisync/contracts';
import { MutationLedgerRepository, OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { ENTITIES, changeEventIdFor, entitiesOfModule, mutationPayloadHash } from '@clinisync/sync-core';
import { Principal } from '@clinisync/auth';
import { BatchApplier, RecordRepository, aggregateGroups, sqlType } from '@clinisync/module-runtime';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';
import { pharmacyDatabasePlan } from '../../../services/pharmacy/src/database';
import { newId } from '../../../test/support/builders';

// Real parts: Postgres with the ledger, patients and pharmacy migrations, the real repositories. Clock and ids pinned.
describe('BatchApplier with the mutation ledger', () => {
  let db: TestDatabase;
  let app: DataSource;
  let applier: BatchApplier;
  let pharmacy: BatchApplier;
  let tx: TenantTransactions;
  const nurse: Principal = { sub: 'u-1', tenantId: 't1', roles: ['nurse'], facilities: ['f-1'], licences: [] };
  let eventSeq = 0;

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan, pharmacyDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    const ports = { now: () => '2026-11-21T10:00:00.000Z', newEventId: () => `00000000-0000-7000-8000-${String(++eventSeq).padStart(12, '0')}` };
    applier = new BatchApplier('patients', tx, new RecordRepository(), new MutationLedgerRepository(), new OutboxRepository('patients'), ports);
    pharmacy = new BatchApplier('pharmacy', tx, new RecordRepository(), new MutationLedgerRepository(), new OutboxRepository('pharmacy'), ports);
  });
  afterAll(async () => {
    await db?.drop();
  });

  const command = (data: Record<string, unknown>, id = newId()): ApplyBatchCommand => {
    const c = { clientMutationId: randomUUID(), entity: 'patients', op: 'create' as const, id, data, changedFields: Object.keys(data) };
    return { tenantId: 't1', correlationId: 'c-1', token: 'unused', commands: [{ ...c, payloadHash: mutationPayloadHash(c) }] };
  };
  const count = async (sql: string, params: unknown[]) => (await tx.run('t1', (t) => t.query<{ n: number }>(sql, params)))[0].n;

  it('answers a redelivered command from the ledger and never applies it twice', async () => {
    const cmd = command({ givenName: 'Amina', facilityId: 'f-1' });
    const first = await applier.apply(cmd, nurse);
    const second = await applier.apply(cmd, nurse);
    expect(second.results[0]).toEqual({ ...first.results[0], replayed: true });
    expect(first.results[0]).toMatchObject({ status: 'applied', version: 1 });
    expect(first.xid).toMatch(/^\d+$/);
    expect(second.xid).toBeUndefined();
    const id = cmd.commands[0].id;
    const key = cmd.commands[0].clientMutationId;
    expect(await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [id])).toBe(1);
    // One ledger row holds result and change event: no outbox row, no inbox row.
    expect(await count('SELECT count(*)::int AS n FROM patients.outbox WHERE aggregate_id = $1', [id])).toBe(0);
    const rows = await tx.run('t1', (t) => t.query<{ module: string; status: string; event_id: string; subject: string }>('SELECT module, status, event_id::text, subject FROM sync_ledger.mutations WHERE client_mutation_id = $1', [key]));
    expect(rows).toEqual([{ module: 'patients', status: 'applied', event_id: changeEventIdFor('t1', key), subject: 'clinical.t1.patients.patients.created' }]);
  });

  it('answers a redelivered update from the ledger after the record moved on, writing nothing again', async () => {
    const created = command({ givenName: 'Amina', phone: '+254 1', facilityId: 'f-1' });
    await applier.apply(created, nurse);
    const id = created.commands[0].id;
    const update = (data: Record<string, unknown>): ApplyBatchCommand => {
      const c = { clientMutationId: randomUUID(), entity: 'patients', op: 'update' as const, id, baseVersion: 1, data, changedFields: Object.keys(data) };
      return { tenantId: 't1', correlationId: 'c-2', token: 'unused', commands: [{ ...c, payloadHash: mutationPayloadHash(c) }] };
    };
    const phone = update({ phone: '+254 2' });
    const first = await applier.apply(phone, nurse);
    expect(first.results[0]).toMatchObject({ status: 'applied', version: 2 });
    // Another device's edit of another field (merged at version 3), then the first update again.
    expect((await applier.apply(update({ givenName: 'Amina W.' }), nurse)).results[0]).toMatchObject({ status: 'merged', version: 3 });
    const again = await applier.apply(phone, nurse);
    expect(again.results[0]).toEqual({ ...first.results[0], replayed: true });
    const [row] = await tx.run('t1', (t) => t.query<{ version: number; phone: string }>('SELECT version, phone FROM patients.patients WHERE id = $1', [id]));
    expect(row).toEqual({ version: 3, phone: '+254 2' });
    expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1', [phone.commands[0].clientMutationId])).toBe(1);
  });

  it('applies one key once when the same batch is applied twice at the same time', async () => {
    for (let round = 0; round < 5; round++) {
      const id = newId();
      const good = command({ givenName: 'Baraka', facilityId: 'f-1' }, id);
      const key = good.commands[0].clientMutationId;
      const results = (await Promise.all([applier.apply(good, nurse), applier.apply(good, nurse)])).map((r) => r.results[0]);
      expect(results.map((r) => r.status)).toEqual(['applied', 'applied']);
      // One committed, the other was answered with that same first result, marked as a replay.
      expect(results.filter((r) => r.replayed).length).toBe(1);
      const [first, replay] = results[0].replayed ? [results[1], results[0]] : [results[0], results[1]];
      expect(replay).toEqual({ ...first, replayed: true });
      expect(first).toMatchObject({ clientMutationId: key, id, version: 1 });
      expect(await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [id])).toBe(1);
      // One ledger row, holding exactly the result both callers got.
      const ledger = await tx.run('t1', (t) => t.query<{ result: string }>('SELECT result::text AS result FROM sync_ledger.mutations WHERE client_mutation_id = $1', [key]));
      expect(ledger.map((r) => JSON.parse(r.result) as unknown)).toEqual([first]);
    }
  });

  it('holds a key once across modules: the same key for a patient and a prescription at the same time applies one of them', async () => {
    const clinician: Principal = { ...nurse, roles: ['clinician'] };
    for (let round = 0; round < 5; round++) {
      const patient = command({ givenName: 'Chiku', facilityId: 'f-1' });
      await applier.apply(patient, clinician);
      const key = randomUUID();
      const visitless = { patientId: patient.commands[0].id, facilityId: 'f-1', prescribedAt: '2026-11-21T09:00:00Z', status: 'active' };
      const rx = { clientMutationId: key, entity: 'prescriptions', op: 'create' as const, id: newId(), data: visitless, changedFields: Object.keys(visitless) };
      const pt = { clientMutationId: key, entity: 'patients', op: 'create' as const, id: newId(), data: { givenName: 'Dalia', facilityId: 'f-1' }, changedFields: ['givenName', 'facilityId'] };
      const [a, b] = await Promise.all([
        applier.apply({ ...patient, commands: [{ ...pt, payloadHash: mutationPayloadHash(pt) }] }, clinician),
        pharmacy.apply({ ...patient, commands: [{ ...rx, payloadHash: mutationPayloadHash(rx) }] }, clinician),
      ]);
      const statuses = [a.results[0], b.results[0]].map((r) => (r.status === 'rejected' ? r.code : r.status)).sort();
      expect(statuses).toEqual(['IDEMPOTENCY_KEY_REUSED', 'applied']);
      const written =
        (await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [pt.id])) + (await count('SELECT count(*)::int AS n FROM pharmacy.prescriptions WHERE id = $1', [rx.id]));
      expect(written).toBe(1);
      // The answer that says applied names the write that exists.
      const winner = a.results[0].status === 'applied' ? pt.id : rx.id;
      expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1 AND aggregate_id = $2', [key, winner])).toBe(1);
    }
  });

  it('isolates a failing aggregate: the others of the batch commit, its own mutations leave no row and come back retryable', async () => {
    const owner = await db.ownerDataSource();
    await owner.query(`CREATE FUNCTION patients.refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.given_name = 'Boom' THEN RAISE EXCEPTION 'storage refused this row'; END IF; RETURN NEW; END $$`);
    await owner.query('CREATE TRIGGER refuse_boom BEFORE INSERT ON patients.patients FOR EACH ROW EXECUTE FUNCTION patients.refuse_boom()');
    try {
      const good = command({ givenName: 'Good', facilityId: 'f-1' });
      const bad = command({ givenName: 'Boom', facilityId: 'f-1' });
      const visitData = { patientId: bad.commands[0].id, facilityId: 'f-1', startedAt: '2026-11-21T09:00:00Z' };
      const visit = { clientMutationId: randomUUID(), entity: 'visits', op: 'create' as const, id: newId(), data: visitData, changedFields: Object.keys(visitData) };
      const batch: ApplyBatchCommand = { ...good, commands: [good.commands[0], bad.commands[0], { ...visit, payloadHash: mutationPayloadHash(visit) }] };
      expect(aggregateGroups(batch.commands)).toEqual([[0], [1, 2]]);
      const reply = await applier.apply(batch, nurse);
      expect(reply.results.map((r) => [r.status, r.status === 'rejected' ? r.retryable : null])).toEqual([
        ['applied', null],
        ['rejected', true],
        ['rejected', true],
      ]);
      expect(await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [good.commands[0].id])).toBe(1);
      expect(await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [bad.commands[0].id])).toBe(0);
      // The failed aggregate left nothing: no domain row, no ledger row (its retry is a fresh apply).
      expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1', [bad.commands[0].clientMutationId])).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1', [good.commands[0].clientMutationId])).toBe(1);
    } finally {
      await owner.query('DROP TRIGGER refuse_boom ON patients.patients');
    }
  });

  it('commits a batch all or nothing: a write the database refuses mid-batch leaves none of its domain rows and no ledger row', async () => {
    const owner = await db.ownerDataSource();
    // Refuses a visit only once its patient, written earlier in the same transaction, is visible:
    // the failure happens mid-batch, after a domain row of the batch was written.
    await owner.query(`CREATE FUNCTION patients.refuse_visit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM patients.patients WHERE id = NEW.patient_id) THEN RAISE EXCEPTION 'visit refused after its patient was written'; END IF;
        RETURN NEW;
      END $$`);
    await owner.query('CREATE TRIGGER refuse_visit BEFORE INSERT ON patients.visits FOR EACH ROW EXECUTE FUNCTION patients.refuse_visit()');
    const patient = command({ givenName: 'Esther', facilityId: 'f-1' });
    const patientId = patient.commands[0].id;
    const visitData = { patientId, facilityId: 'f-1', startedAt: '2026-11-21T09:00:00Z' };
    const visit = { clientMutationId: randomUUID(), entity: 'visits', op: 'create' as const, id: newId(), data: visitData, changedFields: Object.keys(visitData) };
    const batch: ApplyBatchCommand = { ...patient, commands: [patient.commands[0], { ...visit, payloadHash: mutationPayloadHash(visit) }] };
    const keys = batch.commands.map((c) => c.clientMutationId);
    const written = async () => ({
      patients: await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [patientId]),
      visits: await count('SELECT count(*)::int AS n FROM patients.visits WHERE id = $1', [visit.id]),
      ledger: await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = ANY($1::uuid[])', [keys]),
      outbox: await count('SELECT count(*)::int AS n FROM patients.outbox WHERE aggregate_id = ANY($1::uuid[])', [[patientId, visit.id]]),
    });
    try {
      // One aggregate (the visit references the patient), so there is no per-aggregate fallback.
      expect(aggregateGroups(batch.commands)).toEqual([[0, 1]]);
      await expect(applier.apply(batch, nurse)).rejects.toThrow('visit refused after its patient was written');
      expect(await written()).toEqual({ patients: 0, visits: 0, ledger: 0, outbox: 0 });
    } finally {
      await owner.query('DROP TRIGGER refuse_visit ON patients.visits');
      await owner.query('DROP FUNCTION patients.refuse_visit()');
    }
    // Nothing of the failed attempt is left to block its retry, which applies as a fresh batch.
    const retry = await applier.apply(batch, nurse);
    expect(retry.results.map((r) => [r.status, r.replayed ?? false])).toEqual([
      ['applied', false],
      ['applied', false],
    ]);
    expect(await written()).toEqual({ patients: 1, visits: 1, ledger: 2, outbox: 0 });
  });

  it('keeps every registry field of the patients module as a column of the migrated schema', async () => {
    const owner = await db.ownerDataSource();
    const cols: { table_name: string; column_name: string; data_type: string }[] = await owner.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'patients'`,
    );
    for (const def of entitiesOfModule('patients')) {
      for (const f of def.fields) {
        const col = cols.find((c) => c.table_name === def.table && c.column_name === f.column);
        expect([def.table, f.column, col?.data_type]).toEqual([def.table, f.column, sqlType(f).replace('timestamptz', 'timestamp with time zone')]);
      }
    }
    expect(ENTITIES.length).toBeGreaterThan(0);
  });
});
