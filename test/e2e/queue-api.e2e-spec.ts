import { randomUUID } from 'node:crypto';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, newId, push } from '../support/builders';

describe('single-operation queue API (PROTOCOL.md Single-operation queue)', () => {
  let p: Platform;
  let nurse: string;
  beforeAll(async () => {
    p = await startPlatform();
    nurse = await p.token({ sub: 'nurse-q', roles: ['nurse', 'clinician'], facilities: ['f-1'] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${p.baseUrl}/api/v1/sync/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { items?: Record<string, unknown>[] } };
  };
  const rows = async (id: string) => {
    const ds = await p.db.ownerDataSource();
    const [r] = await ds.query('SELECT count(*)::int AS n, max(version) AS v FROM patients.patients WHERE id = $1', [id]);
    await ds.destroy();
    return r as { n: number; v: number };
  };

  it('create -> process -> conflict -> resolve, through the same pipeline as push', async () => {
    const patientId = newId();
    const created = await call('POST', 'queue', nurse, { deviceId: 'kiosk-1', operation: 'CREATE', resourceType: 'patients', resourceId: patientId, data: { givenName: 'Zawadi', facilityId: 'f-1' }, createdAtClient: '2026-11-21T08:00:00Z', version: 0 });
    expect(created.status).toBe(202);
    expect(created.json).toMatchObject({ status: 'PENDING' });
    const pending = await call('GET', 'pending?deviceId=kiosk-1', nurse);
    expect(pending.json.items?.map((i) => i.id)).toContain(created.json.id);
    const processed = await call('POST', `process/${created.json.id}`, nurse);
    expect(processed.json).toMatchObject({ status: 'SYNCED', result: { status: 'applied', version: 1 } });

    // Someone else edits the phone online; the kiosk's queued edit from version 1 then conflicts.
    await push(p.baseUrl, nurse, { mutations: [{ clientMutationId: randomUUID(), entity: 'patients', op: 'update', id: patientId, baseVersion: 1, data: { phone: '+1' } }] });
    const edit = await call('POST', 'queue', nurse, { deviceId: 'kiosk-1', operation: 'UPDATE', resourceType: 'patients', resourceId: patientId, data: { phone: '+2' }, createdAtClient: '2026-11-21T08:05:00Z', version: 1 });
    const conflict = await call('POST', `process/${edit.json.id}`, nurse);
    expect(conflict.json).toMatchObject({ status: 'CONFLICT', resolutionOptions: ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'] });
    const resolved = await call('PATCH', `resolve/${edit.json.id}?resolution=CLIENT_WINS`, nurse);
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({ status: 'resolved', resolution: 'client_wins', version: 3 });
  });

  it('replaying a queued operation with the same clientMutationId applies it once', async () => {
    const id = newId();
    const clientMutationId = randomUUID();
    const body = { deviceId: 'kiosk-2', operation: 'CREATE', resourceType: 'patients', resourceId: id, data: { givenName: 'Imani', facilityId: 'f-1' }, createdAtClient: '2026-11-21T08:00:00Z', clientMutationId };
    const a = await call('POST', 'queue', nurse, body);
    const b = await call('POST', 'queue', nurse, body);
    expect(b.json.id).toBe(a.json.id);
    const first = await call('POST', `process/${clientMutationId}`, nurse);
    const second = await call('POST', `process/${clientMutationId}`, nurse);
    expect(first.json).toMatchObject({ status: 'SYNCED' });
    expect(second.json).toMatchObject({ status: 'SYNCED', result: { replayed: true } });
    // The same key through push replays too.
    const viaPush = await push(p.baseUrl, nurse, { mutations: [{ clientMutationId, entity: 'patients', op: 'create', id, data: { givenName: 'Imani', facilityId: 'f-1' }, occurredAt: '2026-11-21T08:00:00Z' }] });
    expect(viaPush.json.results?.[0]).toMatchObject({ status: 'applied', replayed: true });
    expect(await rows(id)).toEqual({ n: 1, v: 1 });
    const reused = await call('POST', 'queue', nurse, { ...body, data: { givenName: 'Other', facilityId: 'f-1' } });
    expect(reused.status).toBe(409);
  });

  it('keeps a queued mutation\'s payload until it is decided, then its hash and first result only', async () => {
    const stored = async (clientMutationId: string) => {
      const ds = await p.db.ownerDataSource();
      const [r] = await ds.query('SELECT status, payload IS NOT NULL AS "hasPayload", payload_hash AS hash, result FROM sync_ingest.sync_mutations WHERE client_mutation_id = $1', [clientMutationId]);
      await ds.destroy();
      return r as { status: string; hasPayload: boolean; hash: string; result: unknown };
    };
    const clientMutationId = randomUUID();
    await call('POST', 'queue', nurse, { deviceId: 'kiosk-3', operation: 'CREATE', resourceType: 'patients', resourceId: newId(), data: { givenName: 'Neema', facilityId: 'f-1' }, clientMutationId });
    expect(await stored(clientMutationId)).toMatchObject({ status: 'pending', hasPayload: true, result: null });
    const processed = await call('POST', `process/${clientMutationId}`, nurse);
    const decided = await stored(clientMutationId);
    expect(decided).toMatchObject({ status: 'applied', hasPayload: false, result: processed.json.result });
    expect(decided.hash).toMatch(/^[0-9a-f]{64}$/);
    // A decided queued operation answers its first result again.
    expect((await call('POST', `process/${clientMutationId}`, nurse)).json).toMatchObject({ status: 'SYNCED', result: { ...(processed.json.result as Record<string, unknown>), replayed: true } });
    // A pushed mutation is decided at once and lives in the mutation ledger only: it is no queued operation.
    const pushed = aPatientCreate();
    await push(p.baseUrl, nurse, { mutations: [pushed] });
    expect(await stored(pushed.clientMutationId)).toBeUndefined();
    expect((await call('POST', `process/${pushed.clientMutationId}`, nurse)).status).toBe(404);
  });

  it('retry re-runs failed operations of a device, and stats are for admins', async () => {
    const q = await call('POST', 'queue', nurse, { deviceId: 'kiosk-3', operation: 'CREATE', resourceType: 'patients', resourceId: newId(), data: { givenName: 'Baraka', facilityId: 'f-1' } });
    const retried = await call('POST', 'retry?deviceId=kiosk-3', nurse);
    expect(retried.json).toMatchObject({ retried: 1 });
    expect((retried.json.items as { id: string; status: string }[])[0]).toMatchObject({ id: q.json.id, status: 'SYNCED' });
    expect((await call('GET', 'stats', nurse)).status).toBe(403);
    const admin = await p.token({ roles: ['admin'], facilities: ['*'] });
    const stats = await call('GET', 'stats', admin);
    expect(stats.status).toBe(200);
    expect(stats.json).toMatchObject({ pending: 0 });
    expect(stats.json.total as number).toBeGreaterThan(0);
    expect(stats.json.syncRate as number).toBeGreaterThan(0);
  });

  it("keeps a queued operation private to the user who queued it (and admins)", async () => {
    const q = await call('POST', 'queue', nurse, { deviceId: 'kiosk-4', operation: 'CREATE', resourceType: 'patients', resourceId: newId(), data: { givenName: 'Neema', facilityId: 'f-1' } });
    const colleague = await p.token({ sub: 'someone-else', roles: ['nurse', 'clinician'], facilities: ['f-1'] });
    expect((await call('POST', `process/${q.json.id}`, colleague)).status).toBe(404);
    expect((await call('GET', 'pending?deviceId=kiosk-4', colleague)).json.items).toEqual([]);
    expect((await call('POST', `process/${q.json.id}`, nurse)).json).toMatchObject({ status: 'SYNCED' });
  });

  it('validates a queued operation like push, with the queue field names', async () => {
    type Detail = { path: string; message: string };
    const errorOf = (json: Record<string, unknown>) => json.error as { code: string; details?: Detail[] };
    const bad = await call('POST', 'queue', nurse, { deviceId: 'k-val', operation: 'UPSERT', resourceType: 'patients', resourceId: newId(), data: {} });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.json)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'operation' }] });
    const badType = await call('POST', 'queue', nurse, { deviceId: 'k-val', operation: 'CREATE', resourceType: 'spaceships', resourceId: newId(), data: {} });
    expect(badType.status).toBe(400);
    expect(errorOf(badType.json).code).toBe('VALIDATION_FAILED');
    expect(errorOf(badType.json).details?.map((d) => d.path)).toContain('resourceType');

    // The same invalid operation as a push mutation: the same failures, at the push paths.
    const invalid = { resourceId: 'not-a-uuid', data: { facilityId: 'f-1' }, createdAtClient: 'yesterday' };
    const queued = await call('POST', 'queue', nurse, { deviceId: 'k-val', operation: 'UPDATE', resourceType: 'patients', version: 'one', ...invalid });
    const pushed = await push(p.baseUrl, nurse, { deviceId: 'k-val', mutations: [{ clientMutationId: randomUUID(), entity: 'patients', op: 'update', id: invalid.resourceId, baseVersion: 'one', data: invalid.data, occurredAt: invalid.createdAtClient }] });
    expect([queued.status, pushed.status]).toEqual([400, 400]);
    const queueDetails = errorOf(queued.json).details ?? [];
    const pushDetails = (pushed.json as unknown as { error: { details?: Detail[] } }).error.details ?? [];
    expect(queueDetails.map((d) => d.path)).toEqual(expect.arrayContaining(['resourceId', 'version', 'createdAtClient']));
    expect(queueDetails.some((d) => d.path.startsWith('mutations'))).toBe(false);
    const queueNames: Record<string, string> = { id: 'resourceId', baseVersion: 'version', occurredAt: 'createdAtClient', entity: 'resourceType', op: 'operation' };
    const asQueue = (d: Detail) => ({ path: d.path.replace(/^mutations\[0\]\.?/, '').replace(/^(\w+)/, (m) => queueNames[m] ?? m), message: d.message });
    expect(queueDetails).toEqual(pushDetails.map(asQueue));

    // Nothing invalid was queued.
    expect((await call('GET', 'pending?deviceId=k-val', nurse)).json.items).toEqual([]);
  });
});
