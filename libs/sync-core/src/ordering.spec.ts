import fc from 'fast-check';
import { DependencyTracker, OrderableMutation, orderBatch, referencedIds } from './ordering';

// ---- builders -------------------------------------------------------------------------------

/** Readable, UUID-shaped ids: uid('p', 1) = 00000000-0000-7000-8000-p00000000001 style. */
function uid(kind: 'p' | 'v' | 't' | 'x', n: number): string {
  const code = { p: 'a', v: 'b', t: 'c', x: 'd' }[kind];
  return `00000000-0000-7000-8000-${code}${String(n).padStart(11, '0')}`;
}

const P1 = uid('p', 1);
const P2 = uid('p', 2);
const V1 = uid('v', 1);
const T1 = uid('t', 1);
const EXTERNAL = uid('x', 99);

const createPatient = (id: string): OrderableMutation => ({
  entity: 'patients',
  op: 'create',
  id,
  data: { givenName: 'A' },
});
const updatePatient = (id: string): OrderableMutation => ({
  entity: 'patients',
  op: 'update',
  id,
  data: { phone: '1' },
});
const createVisit = (id: string, patientId: string): OrderableMutation => ({
  entity: 'visits',
  op: 'create',
  id,
  data: { patientId },
});
const createVital = (id: string, visitId: string | undefined, patientId: string): OrderableMutation => ({
  entity: 'vitals',
  op: 'create',
  id,
  data: visitId === undefined ? { patientId } : { patientId, visitId },
});

// ---- table-driven ---------------------------------------------------------------------------

describe('orderBatch', () => {
  it.each<[string, OrderableMutation[], number[]]>([
    ['an empty batch', [], []],
    [
      'a child create before its parent create: parent first',
      [createVisit(V1, P1), createPatient(P1)],
      [1, 0],
    ],
    [
      'a grandchild before child before parent: reversed',
      [createVital(T1, V1, P1), createVisit(V1, P1), createPatient(P1)],
      [2, 1, 0],
    ],
    [
      'mutations of one record keep array order',
      [createPatient(P1), updatePatient(P1), { ...updatePatient(P1), op: 'delete' }],
      [0, 1, 2],
    ],
    [
      'an update listed before the create of the same record keeps array order',
      [updatePatient(P1), createPatient(P1)],
      [0, 1],
    ],
    [
      'unrelated mutations keep array order',
      [createPatient(P2), updatePatient(P1), createPatient(P1), createVisit(V1, EXTERNAL)],
      [0, 1, 2, 3],
    ],
    [
      'a reference to a record not created in the batch imposes nothing',
      [createVisit(V1, EXTERNAL), createPatient(P1)],
      [0, 1],
    ],
    [
      'only the blocked child waits; free mutations go in array order',
      [createVisit(V1, P1), updatePatient(P2), createPatient(P1)],
      [1, 2, 0],
    ],
    [
      'a child waits for the create, not for earlier updates of its parent',
      [updatePatient(P1), createVisit(V1, P1), createPatient(P1)],
      [0, 2, 1],
    ],
    [
      'a duplicate create of the parent: the child follows the first create only',
      [createVisit(V1, P1), createPatient(P1), createPatient(P1)],
      [1, 0, 2],
    ],
    [
      'an unknown entity is ordered by id only',
      [{ entity: 'widgets', op: 'create', id: V1, data: { patientId: P1 } }, createPatient(P1)],
      [0, 1],
    ],
  ])('%s', (_case, batch, expected) => {
    expect(orderBatch(batch)).toEqual(expected);
  });
});

describe('referencedIds', () => {
  it.each<[string, OrderableMutation, string[]]>([
    ['a visit references its patient', createVisit(V1, P1), [P1]],
    ['a vital references patient and visit', createVital(T1, V1, P1), [P1, V1]],
    ['a patient references nothing', createPatient(P1), []],
    ['a mutation without data references nothing', { entity: 'visits', op: 'delete', id: V1 }, []],
    [
      'non-string reference values are ignored',
      { entity: 'visits', op: 'update', id: V1, data: { patientId: null } },
      [],
    ],
    [
      'an unknown entity references nothing',
      { entity: 'widgets', op: 'create', id: V1, data: { patientId: P1 } },
      [],
    ],
  ])('%s', (_case, m, expected) => {
    expect(referencedIds(m).sort()).toEqual([...expected].sort());
  });
});

describe('DependencyTracker', () => {
  it('blocks nothing before a failure', () => {
    expect(new DependencyTracker().blockedBy(createVisit(V1, P1))).toBeUndefined();
  });

  it.each<[string, OrderableMutation, string | undefined]>([
    ['a later mutation of the same record', updatePatient(P1), P1],
    ['a mutation referencing the failed record', createVisit(V1, P1), P1],
    ['a grandchild referencing the failed record directly', createVital(T1, undefined, P1), P1],
    ['an unrelated record', updatePatient(P2), undefined],
    ['a visit of another patient', createVisit(V1, P2), undefined],
  ])('after patient P1 failed: %s', (_case, m, expected) => {
    const tracker = new DependencyTracker();
    tracker.markFailed(P1);
    expect(tracker.blockedBy(m)).toBe(expected);
  });

  it('blocks a vital whose visit failed', () => {
    const tracker = new DependencyTracker();
    tracker.markFailed(V1);
    expect(tracker.blockedBy(createVital(T1, V1, P2))).toBe(V1);
  });
});

// ---- properties -----------------------------------------------------------------------------

/**
 * A batch of patient, visit and vital creates, plus patient and visit updates. Visits reference
 * generated patients (or an outside one), vitals reference generated visits and patients; visit
 * updates may re-point patientId. Returned in a random permutation.
 */
const batchArb: fc.Arbitrary<OrderableMutation[]> = fc
  .record({
    patients: fc.integer({ min: 1, max: 5 }),
    visits: fc.integer({ min: 0, max: 5 }),
    vitals: fc.integer({ min: 0, max: 6 }),
  })
  .chain(({ patients, visits, vitals }) => {
    const patientIds = Array.from({ length: patients }, (_, i) => uid('p', i));
    const visitIds = Array.from({ length: visits }, (_, i) => uid('v', i));
    const patientRef = fc.constantFrom(...patientIds, EXTERNAL);
    const visitRef =
      visits > 0
        ? fc.option(fc.constantFrom(...visitIds, EXTERNAL), { nil: undefined })
        : fc.constant(undefined);
    const visitCreates = fc.tuple(...visitIds.map((id) => patientRef.map((p) => createVisit(id, p))));
    const vitalCreates = fc.tuple(
      ...Array.from({ length: vitals }, (_, i) =>
        fc.tuple(visitRef, patientRef).map(([v, p]) => createVital(uid('t', i), v, p)),
      ),
    );
    const patientUpdate = fc.constantFrom(...patientIds).map(updatePatient);
    const visitUpdate =
      visits > 0
        ? fc
            .tuple(fc.constantFrom(...visitIds), fc.option(patientRef, { nil: undefined }))
            .map(([id, p]): OrderableMutation => ({
              entity: 'visits',
              op: 'update',
              id,
              data: p === undefined ? { reason: 'r' } : { patientId: p },
            }))
        : patientUpdate;
    const updates = fc.array(fc.oneof(patientUpdate, visitUpdate), { maxLength: 8 });
    return fc
      .tuple(visitCreates, vitalCreates, updates)
      .map(([vc, tc, up]) => [...patientIds.map(createPatient), ...vc, ...tc, ...up])
      .chain((all) => fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }));
  });

/** Independent model of the parent edges: ids a mutation references (by the registry's reference fields). */
function modelRefs(m: OrderableMutation): string[] {
  const data = m.data ?? {};
  const keys = m.entity === 'visits' ? ['patientId'] : m.entity === 'vitals' ? ['patientId', 'visitId'] : [];
  return keys.map((k) => data[k]).filter((v): v is string => typeof v === 'string');
}

describe('orderBatch: properties', () => {
  const runs = { numRuns: 200 };

  it('returns a permutation of the indices', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const order = orderBatch(batch);
        expect([...order].sort((a, b) => a - b)).toEqual(batch.map((_, i) => i));
      }),
      runs,
    );
  });

  it('puts every mutation referencing a record created in the batch after that create', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const order = orderBatch(batch);
        const position = new Map(order.map((index, pos) => [index, pos]));
        const createIndex = new Map<string, number>();
        batch.forEach((m, i) => m.op === 'create' && createIndex.set(m.id, i));
        batch.forEach((m, i) => {
          for (const ref of modelRefs(m)) {
            const parent = createIndex.get(ref);
            if (parent !== undefined) expect(position.get(parent)).toBeLessThan(position.get(i) as number);
          }
        });
      }),
      runs,
    );
  });

  it('keeps the relative array order of mutations of the same record', () => {
    fc.assert(
      fc.property(batchArb, (batch) => {
        const order = orderBatch(batch);
        const seenOf = new Map<string, number>();
        for (const index of order) {
          const previous = seenOf.get(batch[index].id);
          if (previous !== undefined) expect(index).toBeGreaterThan(previous);
          seenOf.set(batch[index].id, index);
        }
      }),
      runs,
    );
  });

  it('is the identity when nothing in the batch depends on anything else', () => {
    const independent = fc
      .uniqueArray(fc.integer({ min: 0, max: 999 }), { maxLength: 30 })
      .chain((ns) =>
        fc.tuple(
          ...ns.map((n) =>
            fc.constantFrom(
              createPatient(uid('p', n)),
              updatePatient(uid('p', n)),
              createVisit(uid('v', n), EXTERNAL),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(independent, (batch) => {
        expect(orderBatch(batch)).toEqual(batch.map((_, i) => i));
      }),
      runs,
    );
  });
});
