import { StoredAuditEvent } from '@clinisync/contracts';
import { buildAuditEvent } from '@clinisync/sync-core';
import { CLINISYNC_EXTENSION_BASE, FhirBundleWriter, toFhirAuditEvent } from './fhir-export';

function aStoredEvent(n: number): StoredAuditEvent {
  const e = buildAuditEvent({
    id: `0193f0c2-0000-7000-8000-00000000000${n}`,
    kind: 'conflict-resolved',
    recorded: '2026-11-21T10:00:00.000Z',
    tenantId: 't1',
    correlationId: 'corr-1',
    clientMutationId: '0193f0c2-0000-7000-8000-0000000000aa',
    actor: { sub: 'u-1', roles: ['clinician'], deviceId: 'tablet-7', address: '10.0.0.7' },
    service: 'sync-ingest',
    action: 'U',
    outcome: '0',
    record: {
      entity: 'patients',
      id: 'p-1',
      beforeVersion: 3,
      afterVersion: 4,
      before: { phone: '1' },
      after: { phone: '2' },
    },
  });
  return { ...e, sequence: n, prevHash: '0'.repeat(64), hash: 'a'.repeat(64) };
}

describe('FHIR R4 export', () => {
  it('moves the CliniSync and chain fields of a stored event into extensions, leaving only R4 AuditEvent elements', () => {
    const fhir = toFhirAuditEvent(aStoredEvent(1));
    expect(Object.keys(fhir).sort()).toEqual([
      'action',
      'agent',
      'entity',
      'extension',
      'id',
      'outcome',
      'recorded',
      'resourceType',
      'source',
      'subtype',
      'type',
    ]);
    const ext = Object.fromEntries(
      (fhir.extension ?? []).map((x) => [
        x.url.replace(CLINISYNC_EXTENSION_BASE, ''),
        x.valueString ?? x.valueInteger,
      ]),
    );
    expect(ext).toEqual({
      'tenant-id': 't1',
      kind: 'conflict-resolved',
      'correlation-id': 'corr-1',
      'client-mutation-id': '0193f0c2-0000-7000-8000-0000000000aa',
      'chain-sequence': 1,
      'chain-prev-hash': '0'.repeat(64),
      'chain-hash': 'a'.repeat(64),
    });
  });

  it('streams a collection Bundle whose text parses, with urn:uuid full URLs, and omits entry when empty', () => {
    const writer = new FhirBundleWriter('2026-11-21T10:00:00.000Z');
    const text =
      writer.open() +
      writer.entries([aStoredEvent(1), aStoredEvent(2)]) +
      writer.entries([]) +
      writer.entries([aStoredEvent(3)]) +
      writer.close();
    const bundle = JSON.parse(text) as {
      resourceType: string;
      type: string;
      entry: { fullUrl: string; resource: { id: string } }[];
    };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry.map((e) => e.fullUrl)).toEqual(
      [1, 2, 3].map((n) => `urn:uuid:0193f0c2-0000-7000-8000-00000000000${n}`),
    );
    const empty = new FhirBundleWriter('2026-11-21T10:00:00.000Z');
    expect(JSON.parse(empty.open() + empty.close())).toEqual({
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: '2026-11-21T10:00:00.000Z',
    });
  });
});
