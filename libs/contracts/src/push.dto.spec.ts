import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiErrorDetail } from './errors';
import { MAX_MUTATIONS_PER_PUSH } from './push';
import fc from 'fast-check';
import { PushRequestDto, passesPushRequestRules, toErrorDetails, toPushRequestDto } from './push.dto';

// ---- builders -------------------------------------------------------------------------------

const UUID_V7 = '0193f0c2-7a1b-7c3d-8e4f-0123456789ab';
const UUID_V4 = '3b241101-e2bb-4255-8caf-4136c566a962';

function uuidN(n: number): string {
  return `0193f0c2-0000-7000-8000-${String(n).padStart(12, '0')}`;
}

function aCreate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clientMutationId: UUID_V7,
    entity: 'patients',
    op: 'create',
    id: UUID_V4,
    data: { givenName: 'Amina', facilityId: 'f-1' },
    ...overrides,
  };
}

function anUpdate(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clientMutationId: uuidN(2),
    entity: 'patients',
    op: 'update',
    id: UUID_V4,
    baseVersion: 3,
    data: { phone: '+254700' },
    changedFields: ['phone'],
    occurredAt: '2026-11-21T10:00:00Z',
    ...overrides,
  };
}

function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = obj;
  return rest;
}

function validate(body: unknown): ApiErrorDetail[] {
  return toErrorDetails(validateSync(plainToInstance(PushRequestDto, body as object)));
}

const paths = (body: unknown) => [...new Set(validate(body).map((d) => d.path))];

// ---- table-driven ---------------------------------------------------------------------------

describe('PushRequestDto', () => {
  it('accepts the PROTOCOL.md example batch', () => {
    expect(validate({ deviceId: 'tablet-7', mutations: [aCreate(), anUpdate()] })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a v7 clientMutationId and id', aCreate({ clientMutationId: UUID_V7, id: UUID_V7 })],
    ['a v4 clientMutationId', aCreate({ clientMutationId: UUID_V4 })],
    ['an upper-case UUID', aCreate({ clientMutationId: UUID_V7.toUpperCase() })],
    [
      'a delete with baseVersion and no data',
      { clientMutationId: UUID_V7, entity: 'patients', op: 'delete', id: UUID_V4, baseVersion: 4 },
    ],
    ['a create with an optional baseVersion', aCreate({ baseVersion: 1 })],
    ['an update without changedFields', without(anUpdate(), 'changedFields')],
    ['occurredAt with an offset and fraction', anUpdate({ occurredAt: '2026-11-21T10:00:00.123+03:00' })],
  ])('accepts %s', (_case, mutation) => {
    expect(validate({ mutations: [mutation] })).toEqual([]);
  });

  it(`accepts exactly ${MAX_MUTATIONS_PER_PUSH} mutations`, () => {
    const mutations = Array.from({ length: MAX_MUTATIONS_PER_PUSH }, (_, i) =>
      aCreate({ clientMutationId: uuidN(i) }),
    );
    expect(validate({ mutations })).toEqual([]);
  });

  describe('batch size', () => {
    it('rejects 0 mutations at `mutations`', () => {
      expect(validate({ mutations: [] })).toEqual([
        { path: 'mutations', message: 'mutations must contain at least 1 mutation' },
      ]);
    });

    it(`rejects ${MAX_MUTATIONS_PER_PUSH + 1} mutations at \`mutations\``, () => {
      const mutations = Array.from({ length: MAX_MUTATIONS_PER_PUSH + 1 }, (_, i) =>
        aCreate({ clientMutationId: uuidN(i) }),
      );
      expect(validate({ mutations })).toEqual([
        { path: 'mutations', message: 'mutations must contain at most 500 mutations' },
      ]);
    });

    it.each<[string, unknown]>([
      ['missing', undefined],
      ['null', null],
      ['a string', 'all of them'],
    ])('rejects mutations %s at `mutations`', (_case, mutations) => {
      expect(paths({ mutations })).toEqual(['mutations']);
    });

    it('rejects an object in place of the array at `mutations`', () => {
      expect(paths({ mutations: { 0: aCreate() } })).toContain('mutations');
    });

    it.each([
      ['an empty array', []],
      ['an array', [aCreate()]],
      ['null', null],
      ['a number', 1],
    ])('rejects %s in place of a mutation at its index (toPushRequestDto, as the push builds it)', (_case, item) => {
      const body = { mutations: [aCreate(), item] };
      const details = toErrorDetails(validateSync(toPushRequestDto(body), { whitelist: true, forbidNonWhitelisted: true }));
      expect([...new Set(details.map((d) => d.path))]).toEqual(['mutations[1]']);
      expect(passesPushRequestRules(body)).toBe(false);
    });
  });

  describe('one mutation', () => {
    it.each<[string, Record<string, unknown>, string]>([
      ['an unknown op', aCreate({ op: 'upsert' }), 'mutations[0].op'],
      ['an upper-case op', aCreate({ op: 'CREATE' }), 'mutations[0].op'],
      ['a missing op', without(aCreate(), 'op'), 'mutations[0].op'],
      ['an update without baseVersion', without(anUpdate(), 'baseVersion'), 'mutations[0].baseVersion'],
      [
        'a delete without baseVersion',
        { clientMutationId: UUID_V7, entity: 'patients', op: 'delete', id: UUID_V4 },
        'mutations[0].baseVersion',
      ],
      ['a baseVersion of 0', anUpdate({ baseVersion: 0 }), 'mutations[0].baseVersion'],
      ['a fractional baseVersion', anUpdate({ baseVersion: 1.5 }), 'mutations[0].baseVersion'],
      ['a baseVersion as a string', anUpdate({ baseVersion: '3' }), 'mutations[0].baseVersion'],
      [
        'a non-UUID clientMutationId',
        aCreate({ clientMutationId: 'mutation-1' }),
        'mutations[0].clientMutationId',
      ],
      ['a missing clientMutationId', without(aCreate(), 'clientMutationId'), 'mutations[0].clientMutationId'],
      [
        'a UUID with trailing garbage',
        aCreate({ clientMutationId: `${UUID_V7}x` }),
        'mutations[0].clientMutationId',
      ],
      ['a non-UUID id', aCreate({ id: '42' }), 'mutations[0].id'],
      ['an empty entity', aCreate({ entity: '' }), 'mutations[0].entity'],
      ['a non-string entity', aCreate({ entity: 7 }), 'mutations[0].entity'],
      ['data as an array', aCreate({ data: [1, 2] }), 'mutations[0].data'],
      ['data as a string', aCreate({ data: 'givenName=Amina' }), 'mutations[0].data'],
      ['changedFields not an array', anUpdate({ changedFields: 'phone' }), 'mutations[0].changedFields'],
      [
        'changedFields with a non-string',
        anUpdate({ changedFields: ['phone', 3] }),
        'mutations[0].changedFields',
      ],
      ['occurredAt not a date', anUpdate({ occurredAt: 'yesterday' }), 'mutations[0].occurredAt'],
      [
        'occurredAt on 2026-02-30',
        anUpdate({ occurredAt: '2026-02-30T10:00:00Z' }),
        'mutations[0].occurredAt',
      ],
    ])('rejects %s at its path', (_case, mutation, path) => {
      expect(paths({ mutations: [mutation] })).toEqual([path]);
    });

    it('names the index of the offending mutation', () => {
      expect(paths({ mutations: [aCreate(), anUpdate(), aCreate({ op: 'merge' })] })).toEqual([
        'mutations[2].op',
      ]);
    });

    it('reports every problem of every mutation', () => {
      const body = { mutations: [aCreate({ id: 'x' }), without(anUpdate({ op: 'nope' }), 'baseVersion')] };
      expect(paths(body).sort()).toEqual(['mutations[0].id', 'mutations[1].op'].sort());
    });

    it('carries a readable message for a missing baseVersion', () => {
      expect(validate({ mutations: [without(anUpdate(), 'baseVersion')] })).toContainEqual({
        path: 'mutations[0].baseVersion',
        message: 'baseVersion must be an integer (required for update and delete)',
      });
    });

    it.each<[string, unknown]>([
      ['null', null],
      ['a string', 'create patient'],
    ])('rejects a mutation that is %s at `mutations[0]`', (_case, mutation) => {
      expect(paths({ mutations: [mutation] })).toEqual(['mutations[0]']);
    });
  });

  describe('request fields', () => {
    it('rejects a deviceId over 200 characters', () => {
      expect(paths({ deviceId: 'd'.repeat(201), mutations: [aCreate()] })).toEqual(['deviceId']);
    });

    it('rejects a non-string tenantId', () => {
      expect(paths({ tenantId: 7, mutations: [aCreate()] })).toEqual(['tenantId']);
    });
  });
});

describe('toErrorDetails', () => {
  it('flattens nested errors into dotted paths with array indices', () => {
    expect(
      toErrorDetails([
        {
          property: 'mutations',
          children: [
            {
              property: '3',
              children: [{ property: 'op', constraints: { isIn: 'op must be one of' }, children: [] }],
            },
          ],
        },
        { property: 'deviceId', constraints: { isString: 'a', maxLength: 'b' }, children: [] },
      ]),
    ).toEqual([
      { path: 'mutations[3].op', message: 'op must be one of' },
      { path: 'deviceId', message: 'a' },
      { path: 'deviceId', message: 'b' },
    ]);
  });

  it('is empty for no errors', () => {
    expect(toErrorDetails([])).toEqual([]);
  });
});

describe('passesPushRequestRules (the fast path in front of validateSync)', () => {
  // Exactly how sync-ingest validates a push body.
  const strict = (body: Record<string, unknown>) => validateSync(toPushRequestDto(body), { whitelist: true, forbidNonWhitelisted: true });

  // Values each member may take: valid ones and near misses of every rule.
  const anyValue = fc.constantFrom<unknown>(undefined, null, '', 'x', 0, 1, 2, -1, 1.5, '1', true, [], ['a'], [1], {}, { a: 1 }, UUID_V4, UUID_V7, 'not-a-uuid',
    `${UUID_V4}x`, UUID_V4.toUpperCase(), 'create', 'update', 'delete', 'upsert', 'patients', '2026-11-21T10:00:00Z', '2026-13-01', '2026-02-30T10:00:00Z', 'x'.repeat(201));
  // Mostly valid members, now and then a near miss or a missing one, so both sides are reached.
  const member = (valid: fc.Arbitrary<unknown>) => fc.oneof({ weight: 40, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
  const rarely = fc.oneof({ weight: 60, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: anyValue });
  const dropUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined || k === 'baseVersion'));
  const mutation = fc
    .record({
      clientMutationId: member(fc.uuid()),
      entity: member(fc.constantFrom('patients', 'visits')),
      op: member(fc.constantFrom('create', 'update', 'delete')),
      id: member(fc.uuid()),
      baseVersion: member(fc.integer({ min: 1, max: 50 })),
      data: member(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }))),
      changedFields: member(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
      occurredAt: member(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString())),
      extra: rarely,
    })
    .map(dropUndefined);
  const request = fc
    .record({
      deviceId: member(fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.constantFrom('x'.repeat(200), 'x'.repeat(201), '😀'.repeat(100), '😀'.repeat(101)) })),
      tenantId: member(fc.constant('t1')),
      mutations: member(fc.array(fc.oneof({ weight: 40, arbitrary: mutation }, { weight: 1, arbitrary: anyValue }), { maxLength: 4 })),
      other: rarely,
    })
    .map(dropUndefined);

  // The converse nearly holds too: validateSync also lets arrays and `undefined` through as
  // mutations (the registry check refuses them next), which the fast path sends the slow way.
  it('never passes what validateSync rejects', () => {
    let passed = 0;
    fc.assert(
      fc.property(request, (body) => {
        const fast = passesPushRequestRules(body);
        const errors = strict(structuredClone(body));
        if (fast) passed++;
        if (fast) expect(errors).toEqual([]);
        else if (errors.length === 0) expect((body.mutations as unknown[]).some((m) => m === undefined || Array.isArray(m))).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the accepting side too, or the property says little.
    expect(passed).toBeGreaterThan(300);
  });

  it('passes a full 500-mutation batch and refuses 501', () => {
    const batch = Array.from({ length: MAX_MUTATIONS_PER_PUSH }, (_, i) => aCreate({ clientMutationId: uuidN(i) }));
    expect(passesPushRequestRules({ deviceId: 'tablet-7', mutations: batch })).toBe(true);
    expect(passesPushRequestRules({ mutations: [...batch, aCreate()] })).toBe(false);
  });
});
