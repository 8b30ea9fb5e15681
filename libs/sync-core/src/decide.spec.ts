import fc from 'fast-check';
import { MutationRejectCode } from '@clinisync/contracts';
import { Decision, MutationIntent, decideMutation } from './decide';
import { StoredRecord } from './records';
import { EntityDef, getEntity } from './registry';

// ---- builders -------------------------------------------------------------------------------

const NOW = '2026-11-21T10:00:01.123Z';
const CREATED = '2026-11-01T08:00:00.000Z';
const EARLIER = '2026-11-20T09:00:00.000Z';
const ID = '0193f0c2-0000-7000-8000-000000000001';

const patients = getEntity('patients'); // field-merge
const visits = getEntity('visits'); // reject
const vitals = getEntity('vitals'); // append-only
const stockMovements = getEntity('stock_movements'); // server-authority
const stockLevels = getEntity('stock_levels'); // server-authority, not client-writable

/**
 * A patient at version 5. Field history: facilityId, givenName, sex at 1; familyName at 2;
 * phone at 4; address at 5. dateOfBirth and nationalId were never set.
 */
function aPatientRecord(overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    id: ID,
    version: 5,
    createdAt: CREATED,
    updatedAt: EARLIER,
    deletedAt: null,
    fields: {
      facilityId: 'f-1',
      givenName: 'Amina',
      familyName: 'Otieno',
      sex: 'female',
      dateOfBirth: null,
      phone: '+254700000001',
      nationalId: null,
      address: 'Kisumu',
    },
    fieldVersions: { facilityId: 1, givenName: 1, sex: 1, familyName: 2, phone: 4, address: 5 },
    ...overrides,
  };
}

/** A visit at version 3: reason changed at 3, endedAt at 2. */
function aVisitRecord(overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    id: ID,
    version: 3,
    createdAt: CREATED,
    updatedAt: EARLIER,
    deletedAt: null,
    fields: {
      facilityId: 'f-1',
      patientId: '0193f0c2-0000-7000-8000-0000000000aa',
      startedAt: '2026-11-20T08:00:00.000Z',
      endedAt: '2026-11-20T09:00:00.000Z',
      reason: 'fever',
    },
    fieldVersions: { facilityId: 1, patientId: 1, startedAt: 1, endedAt: 2, reason: 3 },
    ...overrides,
  };
}

function anAppendOnlyRecord(): StoredRecord {
  return {
    id: ID,
    version: 1,
    createdAt: CREATED,
    updatedAt: CREATED,
    deletedAt: null,
    fields: { facilityId: 'f-1' },
    fieldVersions: { facilityId: 1 },
  };
}

function update(
  baseVersion: number | undefined,
  data: Record<string, unknown>,
  changedFields = Object.keys(data),
): MutationIntent {
  return { op: 'update', id: ID, baseVersion, data, changedFields };
}

function del(baseVersion: number): MutationIntent {
  return { op: 'delete', id: ID, baseVersion, data: {}, changedFields: [] };
}

function create(data: Record<string, unknown>): MutationIntent {
  return { op: 'create', id: ID, data, changedFields: Object.keys(data) };
}

function expectReject(decision: Decision, code: MutationRejectCode, retryable = false): void {
  expect(decision).toMatchObject({ kind: 'reject', code, retryable });
  if (decision.kind === 'reject') expect(decision.message).toEqual(expect.any(String));
}

// ---- table-driven ---------------------------------------------------------------------------

describe('decideMutation: create', () => {
  it('creates a new record at version 1 with every registry field (null when unset)', () => {
    const decision = decideMutation(
      patients,
      create({ facilityId: 'f-1', givenName: 'Amina', phone: '+2547' }),
      undefined,
      NOW,
    );
    expect(decision).toEqual({
      kind: 'write',
      status: 'applied',
      action: 'created',
      changedFields: ['facilityId', 'givenName', 'phone'],
      record: {
        id: ID,
        version: 1,
        createdAt: NOW,
        updatedAt: NOW,
        deletedAt: null,
        fields: {
          facilityId: 'f-1',
          givenName: 'Amina',
          familyName: null,
          sex: null,
          dateOfBirth: null,
          phone: '+2547',
          nationalId: null,
          address: null,
        },
        fieldVersions: { facilityId: 1, givenName: 1, phone: 1 },
      },
    });
  });

  it.each([
    ['field-merge', patients],
    ['reject', visits],
    ['append-only', vitals],
    ['server-authority', stockMovements],
  ])('creates under the %s policy', (_policy, def) => {
    const decision = decideMutation(def, create({ facilityId: 'f-1' }), undefined, NOW);
    expect(decision).toMatchObject({
      kind: 'write',
      status: 'applied',
      action: 'created',
      record: { version: 1 },
    });
  });

  it.each([
    ['field-merge', patients, aPatientRecord()],
    ['reject', visits, aVisitRecord()],
    ['append-only', vitals, anAppendOnlyRecord()],
    ['server-authority', stockMovements, anAppendOnlyRecord()],
    [
      'field-merge (deleted: deletes never resurrect)',
      patients,
      aPatientRecord({ deletedAt: EARLIER, version: 6 }),
    ],
  ])('rejects a create of an existing record under %s with ALREADY_EXISTS', (_policy, def, current) => {
    expectReject(
      decideMutation(def, create({ facilityId: 'f-1' }), current, NOW),
      MutationRejectCode.ALREADY_EXISTS,
    );
  });
});

describe('decideMutation: read-only entity (stock_levels)', () => {
  it.each([
    ['create', create({ facilityId: 'f-1', quantity: 3 }), undefined],
    ['update', update(1, { quantity: 3 }), anAppendOnlyRecord()],
    ['delete', del(1), anAppendOnlyRecord()],
  ])('rejects a %s with READ_ONLY', (_op, intent, current) => {
    expectReject(decideMutation(stockLevels, intent, current, NOW), MutationRejectCode.READ_ONLY);
  });
});

describe('decideMutation: append-only and server-authority', () => {
  it.each([
    ['vitals update', vitals, update(1, { facilityId: 'f-2' })],
    ['vitals delete', vitals, del(1)],
    ['stock_movements update', stockMovements, update(1, { facilityId: 'f-2' })],
    ['stock_movements delete', stockMovements, del(1)],
  ])('rejects a %s with APPEND_ONLY', (_case, def, intent) => {
    expectReject(decideMutation(def, intent, anAppendOnlyRecord(), NOW), MutationRejectCode.APPEND_ONLY);
  });

  it('rejects an update of a missing append-only record with APPEND_ONLY too (never conflicts)', () => {
    expectReject(
      decideMutation(vitals, update(1, { facilityId: 'f-2' }), undefined, NOW),
      MutationRejectCode.APPEND_ONLY,
    );
  });
});

describe('decideMutation: update', () => {
  it.each([
    ['field-merge', patients],
    ['reject', visits],
  ])('rejects an update of a missing record under %s with NOT_FOUND', (_policy, def) => {
    expectReject(
      decideMutation(def, update(1, { facilityId: 'f-2' }), undefined, NOW),
      MutationRejectCode.NOT_FOUND,
    );
  });

  it('applies an update at the current version: version + 1, only changed fields touched', () => {
    const current = aPatientRecord();
    const decision = decideMutation(
      patients,
      update(5, { phone: '+254711', familyName: 'Achieng' }),
      current,
      NOW,
    );
    expect(decision).toEqual({
      kind: 'write',
      status: 'applied',
      action: 'updated',
      changedFields: ['phone', 'familyName'],
      record: {
        ...current,
        version: 6,
        updatedAt: NOW,
        fields: { ...current.fields, phone: '+254711', familyName: 'Achieng' },
        fieldVersions: { ...current.fieldVersions, phone: 6, familyName: 6 },
      },
    });
  });

  it('applies an update at the current version under the reject policy', () => {
    const decision = decideMutation(visits, update(3, { reason: 'cough' }), aVisitRecord(), NOW);
    expect(decision).toMatchObject({
      kind: 'write',
      status: 'applied',
      action: 'updated',
      record: { version: 4 },
    });
  });

  it('merges a stale field-merge update on fields disjoint from the server changes', () => {
    const current = aPatientRecord();
    // Base 3: the server changed phone (4) and address (5) since; the client edits nationalId.
    const decision = decideMutation(patients, update(3, { nationalId: 'KE-123' }), current, NOW);
    expect(decision).toEqual({
      kind: 'write',
      status: 'merged',
      action: 'updated',
      changedFields: ['nationalId'],
      record: {
        ...current,
        version: 6,
        updatedAt: NOW,
        fields: { ...current.fields, nationalId: 'KE-123' },
        fieldVersions: { ...current.fieldVersions, nationalId: 6 },
      },
    });
    if (decision.kind === 'write') {
      expect(decision.record.fields.phone).toBe('+254700000001');
      expect(decision.record.fields.address).toBe('Kisumu');
    }
  });

  it('merges a stale update of a field changed on the server before baseVersion', () => {
    // familyName last changed at 2; base 3 -> not a server change since base.
    const decision = decideMutation(patients, update(3, { familyName: 'Achieng' }), aPatientRecord(), NOW);
    expect(decision).toMatchObject({
      kind: 'write',
      status: 'merged',
      record: { version: 6, fields: { familyName: 'Achieng' } },
    });
  });

  it('conflicts on overlapping fields and lists only the overlapping ones whose values differ', () => {
    const current = aPatientRecord();
    // phone (server 4) differs, address (server 5) has the same value, givenName (server 1) is not a server change.
    const intent = update(3, { phone: '+254799', address: 'Kisumu', givenName: 'Amina W.' });
    expect(decideMutation(patients, intent, current, NOW)).toEqual({
      kind: 'conflict',
      serverRecord: current,
      conflictingFields: ['phone'],
    });
  });

  it('lists every differing overlapping field, sorted', () => {
    const intent = update(3, { phone: '+254799', address: 'Nairobi' });
    expect(decideMutation(patients, intent, aPatientRecord(), NOW)).toMatchObject({
      kind: 'conflict',
      conflictingFields: ['address', 'phone'],
    });
  });

  it('merges when the overlap carries the same value the server already has', () => {
    const decision = decideMutation(
      patients,
      update(3, { phone: '+254700000001', address: 'Kisumu' }),
      aPatientRecord(),
      NOW,
    );
    expect(decision).toMatchObject({ kind: 'write', status: 'merged', record: { version: 6 } });
  });

  it('conflicts under field-merge when baseVersion is ahead of the server', () => {
    const current = aPatientRecord();
    expect(decideMutation(patients, update(9, { nationalId: 'KE-1' }), current, NOW)).toMatchObject({
      kind: 'conflict',
      serverRecord: current,
    });
  });

  it.each([
    ['disjoint fields', update(2, { endedAt: '2026-11-20T10:00:00.000Z' }), ['endedAt']],
    ['overlapping field', update(2, { reason: 'cough' }), ['reason']],
    [
      'several disjoint fields (all listed, sorted)',
      update(2, { startedAt: '2026-11-20T07:00:00.000Z', facilityId: 'f-2' }),
      ['facilityId', 'startedAt'],
    ],
    [
      'one overlapping and one disjoint field (only the overlap)',
      update(1, { startedAt: '2026-11-20T07:00:00.000Z', endedAt: null }),
      ['endedAt'],
    ],
  ])('conflicts on a stale update under the reject policy: %s', (_case, intent, fields) => {
    const current = aVisitRecord();
    expect(decideMutation(visits, intent, current, NOW)).toEqual({
      kind: 'conflict',
      serverRecord: current,
      conflictingFields: fields,
    });
  });

  it.each([
    ['field-merge at the tombstone version', patients, aPatientRecord({ version: 6, deletedAt: EARLIER }), 6],
    ['field-merge stale', patients, aPatientRecord({ version: 6, deletedAt: EARLIER }), 3],
    ['reject', visits, aVisitRecord({ version: 4, deletedAt: EARLIER }), 4],
  ])('conflicts on an update after delete (%s)', (_case, def, current, base) => {
    const decision = decideMutation(def, update(base, { facilityId: 'f-1' }), current, NOW);
    expect(decision).toEqual({ kind: 'conflict', serverRecord: current, conflictingFields: ['facilityId'] });
  });
});

describe('decideMutation: delete', () => {
  it.each([
    ['field-merge', patients, aPatientRecord()],
    ['reject', visits, aVisitRecord()],
  ])('tombstones at the current version under %s (deletedAt = now, version + 1)', (_policy, def, current) => {
    expect(decideMutation(def, del(current.version), current, NOW)).toEqual({
      kind: 'write',
      status: 'applied',
      action: 'deleted',
      changedFields: [],
      record: { ...current, version: current.version + 1, updatedAt: NOW, deletedAt: NOW },
    });
  });

  it.each([
    ['field-merge', patients, aPatientRecord(), 3, ['address', 'phone']],
    ['reject', visits, aVisitRecord(), 2, ['reason']],
  ])('conflicts on a stale delete under %s', (_policy, def, current, base, fields) => {
    expect(decideMutation(def, del(base), current, NOW)).toEqual({
      kind: 'conflict',
      serverRecord: current,
      conflictingFields: fields,
    });
  });

  it.each([
    ['at the tombstone version', 6],
    ['stale', 2],
  ])('is a noop for an already deleted record (%s)', (_case, base) => {
    const current = aPatientRecord({ version: 6, deletedAt: EARLIER });
    expect(decideMutation(patients, del(base), current, NOW)).toEqual({ kind: 'noop', record: current });
  });

  it('rejects a delete of a missing record with NOT_FOUND', () => {
    expectReject(decideMutation(visits, del(1), undefined, NOW), MutationRejectCode.NOT_FOUND);
  });
});

// ---- properties -----------------------------------------------------------------------------

/** Small value domain so that equal client and server values occur often. */
const value = fc.constantFrom<unknown>('a', 'b', 'c', null, 1);

/** A live record of `def` at some version, each field last changed at a version <= that. */
function storedRecordArb(def: EntityDef): fc.Arbitrary<StoredRecord> {
  const names = def.fields.map((f) => f.name);
  return fc.integer({ min: 1, max: 12 }).chain((version) =>
    fc
      .tuple(
        fc.tuple(...names.map(() => value)),
        fc.tuple(...names.map(() => fc.option(fc.integer({ min: 1, max: version }), { nil: undefined }))),
      )
      .map(([values, versions]) => {
        const fields: Record<string, unknown> = {};
        const fieldVersions: Record<string, number> = {};
        names.forEach((n, i) => {
          fields[n] = values[i];
          const v = versions[i];
          if (v !== undefined) fieldVersions[n] = v;
        });
        return {
          id: ID,
          version,
          createdAt: CREATED,
          updatedAt: EARLIER,
          deletedAt: null,
          fields,
          fieldVersions,
        };
      }),
  );
}

/** An update of `def` with a non-empty set of changed fields and a base around the record's version. */
function updateArb(def: EntityDef): fc.Arbitrary<MutationIntent> {
  const names = def.fields.map((f) => f.name);
  return fc
    .tuple(
      fc.integer({ min: 0, max: 14 }),
      fc.subarray(names, { minLength: 1 }),
      fc.tuple(...names.map(() => value)),
    )
    .map(([baseVersion, changedFields, values]) => {
      const data: Record<string, unknown> = {};
      for (const f of changedFields) data[f] = values[names.indexOf(f)];
      return { op: 'update' as const, id: ID, baseVersion, data, changedFields };
    });
}

/** Any intent (create, update, delete) against `def`. */
function intentArb(def: EntityDef): fc.Arbitrary<MutationIntent> {
  return fc.oneof(
    updateArb(def),
    updateArb(def).map((u) => ({ ...u, op: 'create' as const })),
    fc.integer({ min: 0, max: 14 }).map((b) => del(b)),
  );
}

function caseArb(def: EntityDef) {
  return fc.record({
    current: fc.option(
      fc
        .tuple(storedRecordArb(def), fc.boolean())
        .map(([r, deleted]) => (deleted ? { ...r, deletedAt: EARLIER } : r)),
      { nil: undefined },
    ),
    intent: intentArb(def),
  });
}

const DEFS = [patients, visits, vitals, stockMovements, stockLevels];
const anyCase = fc.constantFrom(...DEFS).chain((def) => caseArb(def).map((c) => ({ def, ...c })));

/** Independent model of the overlap: changed on the server since base, edited by the client, values differ. */
function modelOverlap(current: StoredRecord, intent: MutationIntent): string[] {
  const base = intent.baseVersion ?? 0;
  return intent.changedFields
    .filter((f) => (current.fieldVersions[f] ?? 0) > base)
    .filter((f) => JSON.stringify(intent.data[f] ?? null) !== JSON.stringify(current.fields[f] ?? null))
    .sort();
}

describe('decideMutation: properties', () => {
  const runs = { numRuns: 200 };

  it('is deterministic and never mutates its inputs', () => {
    fc.assert(
      fc.property(anyCase, ({ def, current, intent }) => {
        const currentCopy = structuredClone(current);
        const intentCopy = structuredClone(intent);
        const first = decideMutation(def, intent, current, NOW);
        const second = decideMutation(def, structuredClone(intent), structuredClone(current), NOW);
        expect(second).toEqual(first);
        expect(current).toEqual(currentCopy);
        expect(intent).toEqual(intentCopy);
      }),
      runs,
    );
  });

  it('an applied or merged update changes nothing outside changedFields and bumps the version by one', () => {
    const updates = fc
      .constantFrom(patients, visits)
      .chain((def) =>
        fc.record({ def: fc.constant(def), current: storedRecordArb(def), intent: updateArb(def) }),
      );
    fc.assert(
      fc.property(updates, ({ def, current, intent }) => {
        const decision = decideMutation(def, intent, current, NOW);
        if (decision.kind !== 'write') return;
        const { record } = decision;
        expect(record.version).toBe(current.version + 1);
        expect(record.id).toBe(current.id);
        expect(record.createdAt).toBe(current.createdAt);
        expect(record.deletedAt).toBeNull();
        expect(record.updatedAt).toBe(NOW);
        for (const f of def.fields.map((x) => x.name)) {
          if (intent.changedFields.includes(f)) {
            expect(record.fields[f]).toEqual(intent.data[f] ?? null);
            expect(record.fieldVersions[f]).toBe(record.version);
          } else {
            expect(record.fields[f]).toEqual(current.fields[f]);
            expect(record.fieldVersions[f]).toEqual(current.fieldVersions[f]);
          }
        }
      }),
      runs,
    );
  });

  it('field-merge: a stale update is merged iff the model overlap is empty; a conflict lists exactly the overlap', () => {
    const stale = fc
      .record({ current: storedRecordArb(patients), intent: updateArb(patients) })
      .filter(({ current, intent }) => (intent.baseVersion ?? 0) < current.version);
    fc.assert(
      fc.property(stale, ({ current, intent }) => {
        const overlap = modelOverlap(current, intent);
        const decision = decideMutation(patients, intent, current, NOW);
        if (overlap.length === 0) {
          expect(decision).toMatchObject({
            kind: 'write',
            status: 'merged',
            record: { version: current.version + 1 },
          });
        } else {
          expect(decision).toEqual({ kind: 'conflict', serverRecord: current, conflictingFields: overlap });
        }
      }),
      runs,
    );
  });

  it('reject policy: any update whose base is not the current version is a conflict', () => {
    const stale = fc
      .record({ current: storedRecordArb(visits), intent: updateArb(visits) })
      .filter(({ current, intent }) => intent.baseVersion !== current.version);
    fc.assert(
      fc.property(stale, ({ current, intent }) => {
        const decision = decideMutation(visits, intent, current, NOW);
        expect(decision.kind).toBe('conflict');
        if (decision.kind === 'conflict') {
          expect(decision.serverRecord).toBe(current);
          expect(decision.conflictingFields.length).toBeGreaterThan(0);
          for (const f of decision.conflictingFields) expect(intent.changedFields).toContain(f);
        }
      }),
      runs,
    );
  });

  it('an update at the current version of a live record is always applied', () => {
    const cases = fc
      .constantFrom(patients, visits)
      .chain((def) =>
        fc.record({ def: fc.constant(def), current: storedRecordArb(def), intent: updateArb(def) }),
      );
    fc.assert(
      fc.property(cases, ({ def, current, intent }) => {
        const decision = decideMutation(def, { ...intent, baseVersion: current.version }, current, NOW);
        expect(decision).toMatchObject({ kind: 'write', status: 'applied', action: 'updated' });
      }),
      runs,
    );
  });
});
