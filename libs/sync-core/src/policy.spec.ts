import fc from 'fast-check';
import { MutationRejectCode, MutationStatus } from '@clinisync/contracts';
import { POLICY_RULES, isAppendOnly, mergesFields } from './policy';
import { DependencyTracker } from './ordering';
import { Decision, MutationIntent, blocksDependents, decideMutation, dependencyRejection, readOnlyRejection, rejectedResult } from './decide';
import { ConflictPolicy, ENTITIES, EntityDef, getEntity } from './registry';
import { StoredRecord } from './records';

const NOW = '2026-11-21T10:00:01.123Z';
const ID = '0193f0c2-0000-7000-8000-000000000001';

function aRecord(def: EntityDef, version: number, deleted = false): StoredRecord {
  const fields: Record<string, unknown> = {};
  const fieldVersions: Record<string, number> = {};
  for (const f of def.fields) {
    fields[f.name] = f.name === 'facilityId' ? 'f-1' : null;
    if (f.name === 'facilityId') fieldVersions[f.name] = 1;
  }
  return { id: ID, version, createdAt: NOW, updatedAt: NOW, deletedAt: deleted ? NOW : null, fields, fieldVersions };
}

describe('conflict policies (PROTOCOL.md Push: conflict policy)', () => {
  it.each<[ConflictPolicy, boolean, boolean]>([
    ['reject', false, false],
    ['field-merge', false, true],
    ['append-only', true, false],
    // Clients send movements under server authority, never balances: a movement is an immutable fact.
    ['server-authority', true, false],
  ])('%s: creates only %s, merges fields %s', (policy, createsOnly, merges) => {
    expect(POLICY_RULES[policy]).toEqual({ createsOnly, mergesFields: merges });
    expect(isAppendOnly({ policy })).toBe(createsOnly);
    expect(mergesFields({ policy })).toBe(merges);
  });

  it.each([
    ['patients', false],
    ['visits', false],
    ['vitals', true],
    ['clinical_notes', true],
    ['dispensing_records', true],
    ['stock_movements', true],
    ['stock_levels', true],
  ])('isAppendOnly(%s) is %s', (name, expected) => {
    expect(isAppendOnly(getEntity(name))).toBe(expected);
  });

  it('server-authority: a client movement is created, and never updated, deleted or conflicted (APPEND_ONLY), even at its own version', () => {
    const def = getEntity('stock_movements');
    const current = aRecord(def, 1);
    const create: MutationIntent = { op: 'create', id: ID, data: { facilityId: 'f-1', quantity: 3 }, changedFields: ['facilityId', 'quantity'] };
    expect(decideMutation(def, create, undefined, NOW)).toMatchObject({ kind: 'write', status: 'applied', action: 'created' });
    for (const intent of [
      { op: 'update', id: ID, baseVersion: 1, data: { quantity: 4 }, changedFields: ['quantity'] },
      { op: 'delete', id: ID, baseVersion: 1, data: {}, changedFields: [] },
    ] as MutationIntent[]) {
      expect(decideMutation(def, intent, current, NOW)).toMatchObject({ kind: 'reject', code: MutationRejectCode.APPEND_ONLY });
    }
  });

  it('server-authority: what the server derives is READ_ONLY for every client write, before any other rule', () => {
    const def = getEntity('stock_levels');
    expect(readOnlyRejection(def)).toMatchObject({ kind: 'reject', code: MutationRejectCode.READ_ONLY, retryable: false });
    expect(readOnlyRejection(getEntity('stock_movements'))).toBeUndefined();
    expect(decideMutation(def, { op: 'create', id: ID, data: {}, changedFields: [] }, undefined, NOW)).toMatchObject({ code: MutationRejectCode.READ_ONLY });
  });

  it('no update or delete of a creates-only entity ever conflicts, whatever the record and base (property)', () => {
    const defs = ENTITIES.filter((e) => e.clientWritable && isAppendOnly(e));
    fc.assert(
      fc.property(
        fc.constantFrom(...defs),
        fc.constantFrom('update' as const, 'delete' as const),
        fc.option(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.boolean()), { nil: undefined }),
        fc.integer({ min: 0, max: 10 }),
        (def, op, cur, baseVersion) => {
          const current = cur ? aRecord(def, cur[0], cur[1]) : undefined;
          const changedFields = op === 'delete' ? [] : [def.fields[def.fields.length - 1].name];
          const intent: MutationIntent = { op, id: ID, baseVersion, data: {}, changedFields };
          const d: Decision = decideMutation(def, intent, current, NOW);
          expect(d).toMatchObject({ kind: 'reject', code: MutationRejectCode.APPEND_ONLY, retryable: false });
        },
      ),
    );
  });
});

describe('dependencyRejection and blocksDependents (PROTOCOL.md Push: ordering)', () => {
  const patient = { entity: 'patients', op: 'create', id: 'p-1', data: {} };
  const visit = { entity: 'visits', op: 'create', id: 'v-1', data: { patientId: 'p-1' } };
  const other = { entity: 'visits', op: 'create', id: 'v-2', data: { patientId: 'p-2' } };

  it.each([
    ['nothing failed', [] as string[], visit, undefined],
    ['its referenced record failed', ['p-1'], visit, 'p-1'],
    ['its own record failed earlier', ['v-1'], visit, 'v-1'],
    ['an unrelated record failed', ['p-1'], other, undefined],
    ['a root with nothing failed', ['v-1'], patient, undefined],
  ])('%s', (_case, failed, m, blocker) => {
    const tracker = new DependencyTracker();
    for (const id of failed) tracker.markFailed(id);
    const r = dependencyRejection(tracker, m);
    if (blocker === undefined) expect(r).toBeUndefined();
    else expect(r).toEqual({ kind: 'reject', code: MutationRejectCode.DEPENDENCY_FAILED, message: `depends on ${blocker}, whose mutation in this batch failed`, retryable: true });
  });

  it.each<[MutationStatus, boolean]>([
    ['applied', false],
    ['merged', false],
    ['conflict', true],
    ['rejected', true],
  ])('a %s mutation blocks its dependents: %s', (status, blocks) => {
    expect(blocksDependents(status)).toBe(blocks);
  });

  it('rejectedResult carries the refusal as the wire result', () => {
    const d = readOnlyRejection(getEntity('stock_levels'));
    if (!d) throw new Error('stock_levels must be read-only');
    expect(rejectedResult({ clientMutationId: 'k', id: 'r' }, d)).toEqual({
      clientMutationId: 'k',
      status: 'rejected',
      id: 'r',
      code: MutationRejectCode.READ_ONLY,
      message: 'stock_levels is derived by the server and cannot be written by clients',
      retryable: false,
    });
  });
});
