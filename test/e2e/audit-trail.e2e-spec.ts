import { StoredAuditEvent } from '@clinisync/contracts';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, push } from '../support/builders';
import { eventually } from '../support/streams';
import { AuditServiceHandle, auditGet, startAuditService } from '../support/audit-service';

type Page = { items: StoredAuditEvent[]; cursor: string; hasMore: boolean };

describe('audit trail end to end (PROTOCOL.md Audit trail: denied writes are audited)', () => {
  let p: Platform;
  let audit: AuditServiceHandle;

  beforeAll(async () => {
    p = await startPlatform();
    audit = await startAuditService({
      dbOwnerUrl: p.db.ownerUrl,
      natsUrl: p.nats.url,
      devIssuerDir: p.env.AUTH_DEV_ISSUER_DIR,
    });
  });

  afterAll(async () => {
    await audit?.stop();
    await p?.stop();
  });

  it("lets the auditor find a nurse's write denied at a facility outside her facilities, and the chain verifies", async () => {
    const nurse = await p.token({ tenantId: 't1', sub: 'u-nurse-7', roles: ['nurse'], facilities: ['f-1'] });
    const auditor = await p.token({ tenantId: 't1', sub: 'u-auditor', roles: ['auditor'], facilities: [] });
    const patient = aPatientCreate({ data: { facilityId: 'f-9' } });

    const r = await push(
      p.baseUrl,
      nurse,
      { deviceId: 'tablet-7', mutations: [patient] },
      { 'x-correlation-id': 'e2e-audit-1' },
    );
    expect(r.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });

    // patients outbox -> AUDIT stream (audit.t1.write-denied) -> audit-store consumer -> t1's chain
    let found: StoredAuditEvent | undefined;
    await eventually(
      async () => {
        const page = await auditGet<Page>(
          audit.baseUrl,
          `/api/v1/audit/events?type=write-denied&recordId=${patient.id}`,
          auditor,
        );
        found = page.json?.items?.[0];
        return found !== undefined;
      },
      30_000,
      'the write-denied event in the audit trail',
    );
    expect(found).toMatchObject({
      resourceType: 'AuditEvent',
      kind: 'write-denied',
      tenantId: 't1',
      correlationId: 'e2e-audit-1',
      clientMutationId: patient.clientMutationId,
      action: 'C',
      outcome: '4',
      source: { observer: { display: 'patients' }, site: 'f-9' },
      agent: [
        {
          who: { identifier: { value: 'u-nurse-7' } },
          requestor: true,
          role: [{ text: 'nurse' }],
          altId: 'tablet-7',
        },
      ],
      sequence: expect.any(Number),
      prevHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(found)).not.toContain('Amina'); // payloads are hashed, never copied

    const byPatient = await auditGet<Page>(
      audit.baseUrl,
      `/api/v1/audit/events?patientId=${patient.id}`,
      auditor,
    );
    expect(byPatient.json.items.map((e) => e.id)).toEqual([found?.id]);

    const verify = await auditGet<{ valid: boolean; checked: number; head: string }>(
      audit.baseUrl,
      '/api/v1/audit/verify',
      auditor,
    );
    expect(verify.status).toBe(200);
    expect(verify.json.valid).toBe(true);
    expect(verify.json.checked).toBeGreaterThanOrEqual(1);

    // The nurse herself may not read the trail; that refusal joins the chain too.
    const denied = await auditGet<{ error: { code: string } }>(audit.baseUrl, '/api/v1/audit/events', nurse);
    expect([denied.status, denied.json.error.code]).toEqual([403, 'FORBIDDEN']);
    const refusals = await auditGet<Page>(
      audit.baseUrl,
      '/api/v1/audit/events?type=access-denied&actor=u-nurse-7',
      auditor,
    );
    expect(refusals.json.items).toHaveLength(1);
    expect(
      (await auditGet<{ valid: boolean }>(audit.baseUrl, '/api/v1/audit/verify', auditor)).json.valid,
    ).toBe(true);
  });
});
