import { randomUUID } from 'node:crypto';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, newId, push } from '../support/builders';

// Real parts: the whole platform (sync-ingest, patients, pharmacy, inventory over NATS, Postgres
// with every migration). PROTOCOL.md Push: "a key is one mutation per tenant across every module".
describe('push spine v2: one key is one mutation across modules and spellings', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const count = async (sql: string, params: unknown[]) => {
    const ds = await p.db.ownerDataSource();
    const [r] = await ds.query(sql, params);
    await ds.destroy();
    return r.n as number;
  };

  it('one key pushed at the same moment for a patient and a prescription applies one, and no answer lies', async () => {
    const token = await p.token({ roles: ['clinician'] });
    const patient = aPatientCreate();
    expect((await push(p.baseUrl, token, { mutations: [patient] })).status).toBe(200);
    for (let round = 0; round < 10; round++) {
      const key = randomUUID();
      const pt = aPatientCreate({ clientMutationId: key });
      const rx = { clientMutationId: key, entity: 'prescriptions', op: 'create', id: newId(), data: { patientId: patient.id, facilityId: 'f-1', prescribedAt: '2026-11-21T09:00:00Z', status: 'active' } };
      const [a, b] = await Promise.all([push(p.baseUrl, token, { mutations: [pt] }), push(p.baseUrl, token, { mutations: [rx] })]);
      const patientRows = await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [pt.id]);
      const rxRows = await count('SELECT count(*)::int AS n FROM pharmacy.prescriptions WHERE id = $1', [rx.id]);
      expect(patientRows + rxRows).toBe(1);
      // Each answer tells the truth about its own write.
      for (const [res, rows] of [
        [a, patientRows],
        [b, rxRows],
      ] as const) {
        expect(res.status).toBe(200);
        const r = res.json.results?.[0];
        if (rows === 1) expect(r).toMatchObject({ status: 'applied' });
        else expect(r).toMatchObject({ status: 'rejected', code: 'IDEMPOTENCY_KEY_REUSED', retryable: false });
      }
    }
  });

  it('refuses one key spelled twice in a batch with 400 naming both items, and stores nothing', async () => {
    const token = await p.token();
    const key = randomUUID();
    const a = aPatientCreate({ clientMutationId: key });
    const b = aPatientCreate({ clientMutationId: key.toUpperCase() });
    const res = await push(p.baseUrl, token, { mutations: [a, b] });
    expect(res.status).toBe(400);
    expect(res.json.error?.code).toBe('VALIDATION_FAILED');
    expect(res.json.error?.details).toEqual([expect.objectContaining({ path: 'mutations[1].clientMutationId', message: expect.stringContaining('mutations[0]') })]);
    expect(await count('SELECT count(*)::int AS n FROM patients.patients WHERE id = ANY($1::uuid[])', [[a.id, b.id]])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1', [key])).toBe(0);
  });

  it('replays a key whatever its spelling, and writes two rows per applied mutation at most', async () => {
    const token = await p.token();
    const create = aPatientCreate({ clientMutationId: randomUUID().toUpperCase() });
    const first = await push(p.baseUrl, token, { mutations: [create] });
    expect(first.json.results?.[0]).toMatchObject({ status: 'applied', clientMutationId: create.clientMutationId.toLowerCase() });
    expect(typeof first.json.checkpoint).toBe('string');
    const again = await push(p.baseUrl, token, { mutations: [{ ...create, clientMutationId: create.clientMutationId.toLowerCase() }] });
    expect(again.json.results?.[0]).toEqual({ ...first.json.results?.[0], replayed: true });
    // The mutation's durable rows: the domain row and one ledger row; no queue, inbox or outbox row.
    const key = create.clientMutationId.toLowerCase();
    expect(await count('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = $1', [key])).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM sync_ingest.sync_mutations WHERE client_mutation_id = $1', [key])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM patients.outbox WHERE aggregate_id = $1', [create.id])).toBe(0);
  });
});
