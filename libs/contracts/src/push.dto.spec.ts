import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiErrorDetail } from './errors';
import { MAX_MUTATIONS_PER_PUSH } from './push';
import { PushRequestDto, toErrorDetails } from './push.dto';

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
