import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, aPatientUpdate, aVisitCreate, newId, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

describe('push security (PROTOCOL.md Identity, tenant)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  it("treats another tenant's record id exactly like a missing record", async () => {
    const t1 = await p.token({ tenantId: 't1' });
    const t2 = await p.token({ tenantId: 't2' });
    const patient = aPatientCreate();
    await push(p.baseUrl, t1, { mutations: [patient] });
    const foreign = await push(p.baseUrl, t2, { mutations: [aPatientUpdate(patient.id, 1, { phone: '1' })] });
    const missing = await push(p.baseUrl, t2, { mutations: [aPatientUpdate(newId(), 1, { phone: '1' })] });
    const strip = (r: Record<string, unknown> | undefined) => ({ status: r?.status, code: r?.code, retryable: r?.retryable });
    expect(strip(foreign.json.results?.[0])).toEqual({ status: 'rejected', code: 'NOT_FOUND', retryable: false });
    expect(strip(foreign.json.results?.[0])).toEqual(strip(missing.json.results?.[0]));
  });

  it('refuses a body naming another tenant with 403 TENANT_MISMATCH', async () => {
    const t1 = await p.token({ tenantId: 't1' });
    const r = await push(p.baseUrl, t1, { tenantId: 't2', mutations: [aPatientCreate()] });
    expect(r.status).toBe(403);
    expect(r.json.error?.code).toBe('TENANT_MISMATCH');
    const inData = await push(p.baseUrl, t1, { mutations: [aPatientCreate({ data: { tenantId: 't2' } })] });
    expect(inData.status).toBe(403);
  });

  it('rejects an item the role may not write as FORBIDDEN', async () => {
    const clerk = await p.token({ roles: ['clerk'] });
    const patient = aPatientCreate();
    const r = await push(p.baseUrl, clerk, { mutations: [patient, aVisitCreate(patient.id)] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'applied' });
    expect(r.json.results?.[1]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN', retryable: false });
    // The denial is audited by sync-ingest (audit.<tenant>.write-denied).
    const visitId = (r.json.results?.[1] as { id: string }).id;
    await eventually(async () => (await readStream(p.nats.url, 'AUDIT')).some((m) => m.subject === 'audit.t1.write-denied' && JSON.stringify(m.event.data).includes(`visits/${visitId}`)));
  });

  it("rejects a write at a facility outside the caller's facilities as FORBIDDEN", async () => {
    const nurse = await p.token({ roles: ['nurse'], facilities: ['f-1'] });
    const r = await push(p.baseUrl, nurse, { mutations: [aPatientCreate({ data: { facilityId: 'f-9' } })] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
  });

  describe('answers 401 UNAUTHENTICATED for', () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases: [string, () => Promise<string | undefined>][] = [
      ['no token', async () => undefined],
      ['an expired token', () => p.token({ expiresIn: Math.floor(Date.now() / 1000) - 60 })],
      ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', tid: 't1', roles: ['admin'], facilities: ['*'], iss: 'clinisync-dev', aud: 'clinisync', exp: Math.floor(Date.now() / 1000) + 600 })}.`],
      ['a wrong audience', () => p.token({ audience: 'someone-else' })],
      [
        'an unknown key',
        async () => {
          const dir = mkdtempSync(join(tmpdir(), 'clinisync-other-'));
          try {
            return await signDevToken(await ensureDevIssuerKeys(dir), { sub: 'u', tenantId: 't1', roles: ['nurse'], facilities: ['f-1'] });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ],
    ];
    it.each(cases)('%s', async (_name, makeToken) => {
      const token = await makeToken();
      const r = await fetch(`${p.baseUrl}/api/v1/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ mutations: [aPatientCreate()] }),
      });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    });
  });
});
