/**
 * The contract every `LocalStore` adapter must pass (one shared suite, run against each
 * implementation). Call it from an adapter's spec with a factory for a fresh, migrated store.
 */
import { LocalRecord, LocalStore, NewOutboxEntry, StoredConflict } from '../src';

const T0 = '2026-11-21T10:00:00.000Z';

export function aLocalPatient(id: string, overrides: Partial<LocalRecord> = {}): LocalRecord {
  return {
    id,
    version: null,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    status: 'created',
    changed: ['givenName', 'facilityId'],
    remote: {},
    fields: {
      facilityId: 'f-1',
      givenName: 'Amina',
      familyName: null,
      sex: null,
      dateOfBirth: null,
      phone: null,
      nationalId: null,
      address: null,
    },
    ...overrides,
  };
}

function entry(recordId: string, overrides: Partial<NewOutboxEntry> = {}): NewOutboxEntry {
  return {
    entity: 'patients',
    recordId,
    op: 'update',
    baseVersion: 1,
    data: { phone: '1' },
    changedFields: ['phone'],
    occurredAt: T0,
    createdAt: T0,
    ...overrides,
  };
}

export function localStoreContract(
  name: string,
  open: () => LocalStore,
  cleanup: (s: LocalStore) => void = (s) => s.close(),
): void {
  describe(`LocalStore contract: ${name}`, () => {
    let store: LocalStore;
    beforeEach(() => {
      store = open();
    });
    afterEach(() => cleanup(store));

    it('is migrated to the latest local schema version', () => {
      expect(store.schemaVersion()).toBeGreaterThanOrEqual(1);
    });

    it('round-trips a record with its sync columns and typed values', () => {
      const rec = aLocalPatient('0193f0c2-0000-7000-8000-000000000001', {
        remote: { phone: '+2547' },
        changed: ['phone', 'givenName'],
      });
      store.insertRecord('patients', rec);
      expect(store.getRecord('patients', rec.id)).toEqual({ ...rec, changed: ['givenName', 'phone'] });
      const drug = {
        ...aLocalPatient('0193f0c2-0000-7000-8000-000000000002'),
        changed: [],
        status: 'synced' as const,
        version: 4,
        fields: { code: 'AMX', name: 'Amoxicillin', form: null, strength: '500mg', controlled: true },
      };
      store.putRecord('drug_catalogue', drug);
      expect(store.getRecord('drug_catalogue', drug.id)?.fields.controlled).toBe(true);
      const vital = {
        ...aLocalPatient('0193f0c2-0000-7000-8000-000000000003'),
        fields: {
          facilityId: 'f-1',
          patientId: rec.id,
          visitId: null,
          recordedAt: T0,
          systolic: 120,
          diastolic: 80,
          heartRate: null,
          temperatureC: 37.5,
          weightKg: null,
        },
      };
      store.insertRecord('vitals', vital);
      expect(store.getRecord('vitals', vital.id)?.fields).toMatchObject({
        systolic: 120,
        temperatureC: 37.5,
        heartRate: null,
      });
    });

    it('refuses to insert a record id twice and replaces it on put', () => {
      const rec = aLocalPatient('0193f0c2-0000-7000-8000-000000000004');
      store.insertRecord('patients', rec);
      expect(() => store.insertRecord('patients', rec)).toThrow();
      store.putRecord('patients', { ...rec, version: 2, status: 'synced', changed: [] });
      expect(store.getRecord('patients', rec.id)).toMatchObject({
        version: 2,
        status: 'synced',
        changed: [],
      });
    });

    it('writes only the sync columns with putRecordSyncState and reads several records at once', () => {
      const rec = aLocalPatient('0193f0c2-0000-7000-8000-000000000006');
      store.insertRecord('patients', rec);
      store.putRecordSyncState('patients', {
        ...rec,
        version: 3,
        status: 'updated',
        changed: ['phone'],
        remote: { phone: 'x' },
        fields: { ...rec.fields, givenName: 'ignored' },
      });
      expect(store.getRecord('patients', rec.id)).toMatchObject({
        version: 3,
        status: 'updated',
        changed: ['phone'],
        remote: { phone: 'x' },
        fields: rec.fields,
      });
      const many = store.getRecords('patients', [rec.id, 'missing']);
      expect([...many.keys()]).toEqual([rec.id]);
    });

    it('commits all of a transaction or nothing of it', () => {
      const id = '0193f0c2-0000-7000-8000-000000000005';
      expect(() =>
        store.transaction(() => {
          store.insertRecord('patients', aLocalPatient(id));
          store.appendOutbox(entry(id, { op: 'create' }));
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(store.getRecord('patients', id)).toBeUndefined();
      expect(store.outboxSummary().pending).toBe(0);
      store.transaction(() => {
        store.insertRecord('patients', aLocalPatient(id));
        store.appendOutbox(entry(id, { op: 'create' }));
      });
      expect(store.outboxSummary().pending).toBe(1);
    });

    it('lists live records with equality filters and finds records updated since an instant', () => {
      store.insertRecord(
        'patients',
        aLocalPatient('0193f0c2-0000-7000-8000-000000000010', {
          fields: { ...aLocalPatient('x').fields, givenName: 'A' },
        }),
      );
      store.insertRecord(
        'patients',
        aLocalPatient('0193f0c2-0000-7000-8000-000000000011', {
          deletedAt: T0,
          updatedAt: '2026-11-22T00:00:00.000Z',
        }),
      );
      expect(store.listRecords('patients').map((r) => r.id)).toEqual([
        '0193f0c2-0000-7000-8000-000000000010',
      ]);
      expect(store.listRecords('patients', { includeDeleted: true })).toHaveLength(2);
      expect(store.listRecords('patients', { where: { givenName: 'A' } })).toHaveLength(1);
      expect(store.recordsUpdatedSince('patients', '2026-11-21T12:00:00.000Z').map((r) => r.id)).toEqual([
        '0193f0c2-0000-7000-8000-000000000011',
      ]);
    });

    it('finds live children whose required parent is not stored', () => {
      const p = '0193f0c2-0000-7000-8000-000000000020';
      store.insertRecord('patients', aLocalPatient(p));
      const visit = (id: string, patientId: string, deletedAt: string | null = null) => ({
        ...aLocalPatient(id),
        deletedAt,
        fields: { facilityId: 'f-1', patientId, startedAt: T0, endedAt: null, reason: null },
      });
      store.insertRecord('visits', visit('0193f0c2-0000-7000-8000-000000000021', p));
      store.insertRecord('visits', visit('0193f0c2-0000-7000-8000-000000000022', 'missing-parent'));
      store.insertRecord('visits', visit('0193f0c2-0000-7000-8000-000000000023', 'missing-too', T0));
      const ids = [
        '0193f0c2-0000-7000-8000-000000000021',
        '0193f0c2-0000-7000-8000-000000000022',
        '0193f0c2-0000-7000-8000-000000000023',
      ];
      expect(store.findOrphans('visits', 'patientId', 'patients', ids)).toEqual([
        { id: '0193f0c2-0000-7000-8000-000000000022', missingId: 'missing-parent' },
      ]);
    });

    it('keeps the outbox in order and prepares entries with a fixed id and payload', () => {
      const a = store.appendOutbox(entry('a'));
      const b = store.appendOutbox(entry('b'));
      const a2 = store.appendOutbox(entry('a', { data: { address: 'x' }, changedFields: ['address'] }));
      expect(store.outboxForRecord('patients', 'a').map((e) => e.seq)).toEqual([a, a2]);
      expect(store.outboxForRecords(['b', 'a']).map((e) => e.seq)).toEqual([a, b, a2]);
      expect(store.sendablePendingRecords(10)).toEqual([
        { entity: 'patients', recordId: 'a' },
        { entity: 'patients', recordId: 'b' },
      ]);
      const mutation = {
        clientMutationId: '0193f0c2-0000-7000-8000-0000000000AA',
        entity: 'patients',
        op: 'update' as const,
        id: 'b',
        baseVersion: 1,
        data: { phone: '1' },
      };
      store.updateOutbox(b, { state: 'prepared', clientMutationId: mutation.clientMutationId, mutation });
      expect(store.outboxByMutationId(mutation.clientMutationId)).toMatchObject({
        seq: b,
        state: 'prepared',
        mutation,
      });
      expect(store.preparedOutbox(10).map((e) => e.seq)).toEqual([b]);
      // A record with a prepared entry waits for its result before more of it is sent.
      store.appendOutbox(entry('b', { data: { phone: '2' } }));
      expect(store.sendablePendingRecords(10)).toEqual([{ entity: 'patients', recordId: 'a' }]);
      expect(store.pendingOutboxFor([{ entity: 'patients', recordId: 'a' }]).map((e) => e.seq)).toEqual([
        a,
        a2,
      ]);
      store.removeOutbox([a, a2]);
      expect(store.outboxForRecord('patients', 'a')).toEqual([]);
      expect(store.outboxSummary()).toMatchObject({ pending: 2, failed: 0, oldestCreatedAt: T0 });
      store.updateOutbox(b, { attempts: 1, lastError: 'UNAVAILABLE: down' });
      expect(store.outboxSummary().failed).toBe(1);
    });

    it('appends several entries in order with one call', () => {
      const first = store.appendOutbox(entry('m0'));
      store.appendOutboxMany([
        entry('m1', {
          op: 'create',
          baseVersion: null,
          data: { givenName: 'A', facilityId: 'f-1' },
          changedFields: ['givenName', 'facilityId'],
        }),
        entry('m2', { data: { phone: null }, changedFields: ['phone'] }),
        entry('m1', { op: 'delete', data: {}, changedFields: [] }),
      ]);
      const all = store.pendingOutboxFor(
        ['m0', 'm1', 'm2'].map((recordId) => ({ entity: 'patients', recordId })),
      );
      expect(all.map((e) => [e.recordId, e.op])).toEqual([
        ['m0', 'update'],
        ['m1', 'create'],
        ['m2', 'update'],
        ['m1', 'delete'],
      ]);
      expect(all[0].seq).toBe(first);
      expect(all[1]).toMatchObject({
        baseVersion: null,
        data: { givenName: 'A', facilityId: 'f-1' },
        changedFields: ['givenName', 'facilityId'],
        state: 'pending',
        attempts: 0,
      });
      expect(all[2]).toMatchObject({ baseVersion: 1, data: { phone: null } });
    });

    it('tells which ids have a create queued', () => {
      store.appendOutbox(entry('p1', { op: 'create' }));
      store.appendOutbox(entry('p2'));
      expect([...store.queuedCreates(['p1', 'p2', 'p3'])]).toEqual(['p1']);
    });

    it('holds back pending entries of a record with an unresolved conflict', () => {
      store.appendOutbox(entry('c'));
      const conflict: StoredConflict = {
        conflictId: 'k1',
        entity: 'patients',
        recordId: 'c',
        clientMutationId: 'm1',
        mutation: {
          clientMutationId: 'm1',
          entity: 'patients',
          op: 'update',
          id: 'c',
          baseVersion: 1,
          data: { phone: '1' },
        },
        baseVersion: 1,
        serverVersion: 2,
        serverRecord: { id: 'c', version: 2, createdAt: T0, updatedAt: T0, deletedAt: null },
        localRecord: { phone: '1' },
        conflictingFields: ['phone'],
        status: 'open',
        resolution: null,
        detectedAt: T0,
        resolvedAt: null,
      };
      expect(store.insertConflict(conflict)).toBe(true);
      expect(store.insertConflict(conflict)).toBe(false);
      expect(store.sendablePendingRecords(10)).toEqual([]);
      expect(store.countUnresolvedConflicts()).toBe(1);
      expect(store.unresolvedConflictsFor('patients', 'c')).toHaveLength(1);
      store.updateConflict('k1', { status: 'resolved', resolution: 'server_wins', resolvedAt: T0 });
      expect(store.getConflict('k1')).toMatchObject({ status: 'resolved', resolution: 'server_wins' });
      expect(store.listConflicts(['open', 'manual_review'])).toEqual([]);
      expect(store.sendablePendingRecords(10)).toEqual([{ entity: 'patients', recordId: 'c' }]);
    });

    it('keeps dead letters until removed', () => {
      const id = store.addDeadLetter({
        clientMutationId: 'm',
        entity: 'patients',
        recordId: 'r',
        op: 'create',
        mutation: { clientMutationId: 'm', entity: 'patients', op: 'create', id: 'r', data: {} },
        code: 'FORBIDDEN',
        message: 'no',
        failedAt: T0,
      });
      expect(store.countDeadLetters()).toBe(1);
      expect(store.deadLettersFor('patients', 'r')).toHaveLength(1);
      expect(store.getDeadLetter(id)).toMatchObject({ code: 'FORBIDDEN', mutation: { op: 'create' } });
      store.removeDeadLetter(id);
      expect(store.listDeadLetters()).toEqual([]);
    });

    it('keeps the sync state: cursor, last pulled and synced instants, last error', () => {
      expect(store.getSyncState()).toEqual({
        cursor: null,
        lastPulledAt: null,
        lastSyncedAt: null,
        lastError: null,
      });
      store.setSyncState({ cursor: 'c1', lastPulledAt: T0 });
      store.setSyncState({ lastError: 'x' });
      expect(store.getSyncState()).toEqual({
        cursor: 'c1',
        lastPulledAt: T0,
        lastSyncedAt: null,
        lastError: 'x',
      });
      store.setSyncState({ cursor: null });
      expect(store.getSyncState().cursor).toBeNull();
    });
  });
}
