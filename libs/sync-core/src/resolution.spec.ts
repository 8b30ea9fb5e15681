import fc from 'fast-check';
import { MutationRejectCode, MutationResult, ResolutionCommand } from '@clinisync/contracts';
import { resolutionData, resolutionDecision, resolutionKey, resolutionOutcome } from './resolution';
import { StoredRecord } from './records';

const NOW = '2026-11-21T10:00:01.123Z';
const record = (version: number, deletedAt: string | null = null): StoredRecord => ({
  id: 'r1',
  version,
  createdAt: NOW,
  updatedAt: NOW,
  deletedAt,
  fields: { facilityId: 'f-1', givenName: 'Amina' },
  fieldVersions: { facilityId: 1, givenName: 1 },
});
const resolution = (kind: ResolutionCommand['resolution']): ResolutionCommand => ({ conflictId: 'c1', resolution: kind, conflictingFields: ['givenName'] });

describe('resolutionDecision (PROTOCOL.md Conflicts: at the version the resolver saw)', () => {
  it.each([
    ['client_wins at the seen version: decided as an update', resolution('client_wins'), 4, record(4), undefined],
    ['merge at the seen version: decided as an update', resolution('merge'), 4, record(4), undefined],
    ['server_wins at the seen version: keeps the record (noop)', resolution('server_wins'), 4, record(4), { kind: 'noop', record: record(4) }],
    ['a newer record: a new conflict on the contested fields', resolution('client_wins'), 4, record(5), { kind: 'conflict', serverRecord: record(5), conflictingFields: ['givenName'] }],
    ['server_wins on a newer record: a new conflict too', resolution('server_wins'), 4, record(5), { kind: 'conflict', serverRecord: record(5), conflictingFields: ['givenName'] }],
    ['a deleted record: a conflict (deletes never resurrect)', resolution('client_wins'), 4, record(4, NOW), { kind: 'conflict', serverRecord: record(4, NOW), conflictingFields: ['givenName'] }],
    ['no version seen: a conflict', resolution('merge'), undefined, record(4), { kind: 'conflict', serverRecord: record(4), conflictingFields: ['givenName'] }],
  ])('%s', (_case, r, seen, current, expected) => {
    expect(resolutionDecision(r, seen, current)).toEqual(expected);
  });

  it('never writes over a record other than the one the resolver saw (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('client_wins' as const, 'server_wins' as const, 'merge' as const), fc.nat(9), fc.nat(9), fc.boolean(), (kind, seen, version, deleted) => {
        const d = resolutionDecision(resolution(kind), seen, record(version, deleted ? NOW : null));
        if (seen !== version || deleted) expect(d?.kind).toBe('conflict');
        else expect(d === undefined || d.kind === 'noop').toBe(true);
      }),
    );
  });
});

describe('resolutionData', () => {
  const conflict = { clientData: { givenName: 'Amy', phone: '1', facilityId: 'f-1' }, changedFields: ['givenName', 'familyName'] };
  it.each([
    ['client_wins: the client edit of its changed fields', 'client_wins' as const, undefined, { givenName: 'Amy' }],
    ['merge: the resolver data', 'merge' as const, { givenName: 'Ami' }, { givenName: 'Ami' }],
    ['server_wins: nothing', 'server_wins' as const, undefined, {}],
    ['manual_review: nothing', 'manual_review' as const, undefined, {}],
  ])('%s', (_case, kind, merge, expected) => {
    expect(resolutionData(kind, conflict, merge)).toEqual(expected);
  });
});

describe('resolutionKey', () => {
  it('is a UUID, stable for one decision and different for another (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.nat(), fc.string(), (id, v, s) => {
        const k = resolutionKey(id, v, 'merge', { givenName: s });
        expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(resolutionKey(id, v, 'merge', { givenName: s })).toBe(k);
        expect(resolutionKey(id, v + 1, 'merge', { givenName: s })).not.toBe(k);
        expect(resolutionKey(id, v, 'client_wins', { givenName: s })).not.toBe(k);
      }),
    );
  });
});

describe('resolutionOutcome (the module answer to a resolution)', () => {
  const base = { clientMutationId: 'k', id: 'r1' };
  it.each<[string, MutationResult, unknown]>([
    ['applied: resolved', { ...base, status: 'applied', version: 5 }, { kind: 'resolved', version: 5 }],
    ['merged: resolved', { ...base, status: 'merged', version: 6, record: { id: 'r1', version: 6, createdAt: NOW, updatedAt: NOW, deletedAt: null } }, { kind: 'resolved', version: 6 }],
    ['conflict: stale', { ...base, status: 'conflict', conflictId: 'c', serverVersion: 7, conflictingFields: [], serverRecord: { id: 'r1', version: 7, createdAt: NOW, updatedAt: NOW, deletedAt: null } }, { kind: 'stale', serverVersion: 7, serverRecord: { id: 'r1', version: 7, createdAt: NOW, updatedAt: NOW, deletedAt: null } }],
    ['FORBIDDEN: forbidden', { ...base, status: 'rejected', code: MutationRejectCode.FORBIDDEN, message: 'm', retryable: false }, { kind: 'forbidden', message: 'm' }],
    ['retryable: unavailable', { ...base, status: 'rejected', code: MutationRejectCode.UNAVAILABLE, message: 'm', retryable: true }, { kind: 'unavailable', message: 'm' }],
    ['other refusal: refused', { ...base, status: 'rejected', code: MutationRejectCode.VALIDATION_FAILED, message: 'm', retryable: false }, { kind: 'refused', message: 'm' }],
  ])('%s', (_case, result, expected) => {
    expect(resolutionOutcome(result)).toEqual(expected);
  });
});
