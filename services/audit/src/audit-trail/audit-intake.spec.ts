import { CloudEvent } from '@clinisync/contracts';
import { buildAuditEvent } from '@clinisync/sync-core';
import { readAuditCloudEvent } from './audit-intake';

const ID = '0193f0c2-0000-7000-8000-000000000001';

function anEnvelope(data: Record<string, unknown> = {}, envelope: Partial<CloudEvent> = {}): CloudEvent {
  const resource = buildAuditEvent({
    id: ID,
    kind: 'write-denied',
    recorded: '2026-11-21T10:00:00.000Z',
    tenantId: 't1',
    correlationId: 'corr-1',
    actor: { sub: 'u-1', roles: ['nurse'] },
    service: 'patients',
    action: 'C',
    outcome: '4',
  });
  return {
    specversion: '1.0',
    id: ID,
    source: 'clinisync/patients',
    type: 'clinisync.audit.write-denied',
    subject: 'patients/x',
    time: '2026-11-21T10:00:00.000Z',
    datacontenttype: 'application/json',
    tenantid: 't1',
    correlationid: 'corr-1',
    data: { ...resource, ...data },
    ...envelope,
  };
}

describe('readAuditCloudEvent (AUDIT stream intake)', () => {
  it('accepts a FHIR AuditEvent whose subject, envelope and resource agree on tenant and kind', () => {
    const r = readAuditCloudEvent(anEnvelope(), 'audit.t1.write-denied');
    expect(r).toMatchObject({ ok: true, event: { id: ID, tenantId: 't1', kind: 'write-denied' } });
  });

  const refused: [string, CloudEvent, string][] = [
    ['a subject outside audit.<tenant>.<kind>', anEnvelope(), 'clinical.t1.patients.patients.created'],
    [
      'a resource of another tenant than the subject',
      anEnvelope({ tenantId: 't2' }),
      'audit.t1.write-denied',
    ],
    [
      'an envelope of another tenant than the subject',
      anEnvelope({}, { tenantid: 't2' }),
      'audit.t1.write-denied',
    ],
    ['a kind other than the subject kind', anEnvelope({ kind: 'access-denied' }), 'audit.t1.write-denied'],
    ['an unknown kind', anEnvelope({ kind: 'coffee-break' }), 'audit.t1.coffee-break'],
    ['an id that is not a UUID', anEnvelope({ id: 'ev-1' }), 'audit.t1.write-denied'],
    [
      'a resource that is not an AuditEvent',
      anEnvelope({ resourceType: 'Patient' }),
      'audit.t1.write-denied',
    ],
    ['a recorded time that is not ISO 8601', anEnvelope({ recorded: 'yesterday' }), 'audit.t1.write-denied'],
    ['an unknown outcome', anEnvelope({ outcome: '3' }), 'audit.t1.write-denied'],
    ['no agent', anEnvelope({ agent: [] }), 'audit.t1.write-denied'],
    ['an agent without who', anEnvelope({ agent: [{ requestor: true }] }), 'audit.t1.write-denied'],
    ['no source observer', anEnvelope({ source: {} }), 'audit.t1.write-denied'],
    ['a reserved chain field', anEnvelope({ hash: 'f'.repeat(64) }), 'audit.t1.write-denied'],
    ['data that is not an object', { ...anEnvelope(), data: 'hello' }, 'audit.t1.write-denied'],
  ];
  it.each(refused)('refuses %s', (_name, envelope, subject) => {
    const r = readAuditCloudEvent(envelope, subject);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toEqual(expect.any(String));
  });
});
