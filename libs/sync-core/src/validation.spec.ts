import { Mutation } from '@clinisync/contracts';
import { getEntity } from './registry';
import { SYSTEM_FIELDS, changedFieldsOf, checkFieldValue, validateMutationData } from './validation';

// ---- builders -------------------------------------------------------------------------------

const ID = '0193f0c2-0000-7000-8000-000000000001';
const PATIENT_ID = '0193f0c2-0000-7000-8000-0000000000aa';
const DRUG_ID = '0193f0c2-0000-7000-8000-0000000000dd';

/** Valid create data per entity, used as the base every case breaks in one place. */
const VALID: Record<string, Record<string, unknown>> = {
  patients: { facilityId: 'f-1', givenName: 'Amina' },
  visits: { facilityId: 'f-1', patientId: PATIENT_ID, startedAt: '2026-11-21T10:00:00Z' },
  vitals: {
    facilityId: 'f-1',
    patientId: PATIENT_ID,
    recordedAt: '2026-11-21T10:00:00Z',
    systolic: 120,
    temperatureC: 37.2,
  },
  drug_catalogue: { code: 'AMX500', name: 'Amoxicillin', controlled: false },
  stock_movements: {
    facilityId: 'f-1',
    drugId: DRUG_ID,
    kind: 'receive',
    quantity: 10,
    occurredAt: '2026-11-21T10:00:00Z',
  },
};

function aCreate(entity: string, data: Record<string, unknown> = {}): Mutation {
  return { clientMutationId: ID, entity, op: 'create', id: ID, data: { ...VALID[entity], ...data } };
}

function anUpdate(entity: string, data: Record<string, unknown>, changedFields?: string[]): Mutation {
  return { clientMutationId: ID, entity, op: 'update', id: ID, baseVersion: 1, data, changedFields };
}

const paths = (m: Mutation) => validateMutationData(m).map((d) => d.path);

// ---- table-driven ---------------------------------------------------------------------------

describe('validateMutationData', () => {
  it.each(Object.keys(VALID))('accepts a valid create of %s', (entity) => {
    expect(validateMutationData(aCreate(entity))).toEqual([]);
  });

  it('rejects an unknown entity at path `entity`', () => {
    expect(validateMutationData({ ...aCreate('patients'), entity: 'widgets' })).toEqual([
      { path: 'entity', message: expect.stringContaining('widgets') },
    ]);
  });

  it('rejects an unknown field at `data.<field>`', () => {
    expect(validateMutationData(aCreate('patients', { foo: 1 }))).toEqual([
      { path: 'data.foo', message: expect.stringContaining('foo') },
    ]);
  });

  describe('field types', () => {
    it.each<[string, string, Record<string, unknown>]>([
      // string / text
      ['string: a number', 'patients', { givenName: 42 }],
      ['string: required and blank', 'patients', { givenName: '   ' }],
      ['string: over 1000 characters', 'patients', { phone: 'x'.repeat(1001) }],
      ['text: over 20000 characters', 'patients', { address: 'x'.repeat(20_001) }],
      ['string: an object', 'patients', { familyName: { first: 'a' } }],
      // uuid
      ['uuid: not a UUID', 'visits', { patientId: 'patient-1' }],
      ['uuid: a number', 'visits', { patientId: 1 }],
      ['uuid: braces', 'visits', { patientId: `{${PATIENT_ID}}` }],
      // date
      ['date: 2026-02-30 does not exist', 'patients', { dateOfBirth: '2026-02-30' }],
      ['date: 2023-02-29 (not a leap year)', 'patients', { dateOfBirth: '2023-02-29' }],
      ['date: month 13', 'patients', { dateOfBirth: '2026-13-01' }],
      ['date: unpadded', 'patients', { dateOfBirth: '2026-1-5' }],
      ['date: a date-time', 'patients', { dateOfBirth: '2026-01-05T00:00:00Z' }],
      ['date: a number', 'patients', { dateOfBirth: 20260105 }],
      // datetime
      ['datetime: no time zone', 'visits', { startedAt: '2026-11-21T10:00:00' }],
      ['datetime: a date only', 'visits', { startedAt: '2026-11-21' }],
      ['datetime: space separator', 'visits', { startedAt: '2026-11-21 10:00:00Z' }],
      ['datetime: hour 25', 'visits', { startedAt: '2026-11-21T25:00:00Z' }],
      ['datetime: epoch millis', 'visits', { startedAt: 1_790_000_000_000 }],
      // integer
      ['integer: a fraction', 'vitals', { systolic: 120.5 }],
      ['integer: a numeric string', 'vitals', { systolic: '120' }],
      ['integer: beyond safe range', 'vitals', { heartRate: 2 ** 53 }],
      // number
      ['number: NaN', 'vitals', { temperatureC: Number.NaN }],
      ['number: Infinity', 'vitals', { weightKg: Number.POSITIVE_INFINITY }],
      ['number: a numeric string', 'vitals', { temperatureC: '37.2' }],
      // boolean
      ['boolean: the string "true"', 'drug_catalogue', { controlled: 'true' }],
      ['boolean: 0', 'drug_catalogue', { controlled: 0 }],
      // enum
      ['enum: a value outside the list', 'patients', { sex: 'M' }],
      ['enum: wrong case', 'patients', { sex: 'Female' }],
      ['enum: stock movement kind', 'stock_movements', { kind: 'steal' }],
    ])('rejects %s', (_case, entity, data) => {
      const [field] = Object.keys(data);
      expect(paths(aCreate(entity, data))).toEqual([`data.${field}`]);
    });

    it.each<[string, string, Record<string, unknown>]>([
      ['string: exactly 1000 characters', 'patients', { phone: 'x'.repeat(1000) }],
      ['text: 20000 characters', 'patients', { address: 'x'.repeat(20_000) }],
      ['date: 2024-02-29 (leap year)', 'patients', { dateOfBirth: '2024-02-29' }],
      ['datetime: Z', 'visits', { startedAt: '2026-11-21T10:00:00Z' }],
      ['datetime: offset and fraction', 'visits', { startedAt: '2026-11-21T10:00:00.123+03:00' }],
      ['datetime: minutes only', 'visits', { startedAt: '2026-11-21T10:00Z' }],
      ['uuid: upper case', 'visits', { patientId: PATIENT_ID.toUpperCase() }],
      ['integer: negative', 'vitals', { diastolic: -1 }],
      ['number: an integer', 'vitals', { weightKg: 70 }],
      ['boolean: true', 'drug_catalogue', { controlled: true }],
      ['enum: a listed value', 'patients', { sex: 'unknown' }],
      ['null for an optional field', 'patients', { phone: null }],
    ])('accepts %s', (_case, entity, data) => {
      expect(validateMutationData(aCreate(entity, data))).toEqual([]);
    });
  });

  describe('create', () => {
    it.each<[string, Record<string, unknown>, string[]]>([
      ['patients', { facilityId: 'f-1' }, ['data.givenName']],
      ['patients', { givenName: 'Amina' }, ['data.facilityId']],
      ['visits', { reason: 'fever' }, ['data.facilityId', 'data.patientId', 'data.startedAt']],
      ['drug_catalogue', { code: 'X', name: 'Y' }, ['data.controlled']],
      [
        'stock_movements',
        { facilityId: 'f-1', drugId: DRUG_ID, quantity: 1, occurredAt: '2026-11-21T10:00:00Z' },
        ['data.kind'],
      ],
    ])('of %s missing required fields reports each at its path', (entity, data, expected) => {
      const m: Mutation = { clientMutationId: ID, entity, op: 'create', id: ID, data };
      expect(paths(m).sort()).toEqual(expected);
    });

    it('treats a required field sent as null as missing', () => {
      const issues = paths(aCreate('patients', { givenName: null }));
      expect(new Set(issues)).toEqual(new Set(['data.givenName']));
    });

    it.each([
      ['without data', undefined],
      ['with an array as data', [] as unknown as Record<string, unknown>],
    ])('requires data (%s)', (_case, data) => {
      expect(paths({ clientMutationId: ID, entity: 'patients', op: 'create', id: ID, data })).toEqual([
        'data',
      ]);
    });
  });

  describe('update', () => {
    it('accepts a partial update (required fields need not be present)', () => {
      expect(validateMutationData(anUpdate('patients', { phone: '+2547' }, ['phone']))).toEqual([]);
    });

    it('defaults changedFields to the keys of data', () => {
      expect(validateMutationData(anUpdate('patients', { phone: '+2547', familyName: 'O' }))).toEqual([]);
    });

    it.each<[string, Record<string, unknown>, string[], string[]]>([
      ['the only changed field missing from data', { familyName: 'O' }, ['phone'], ['changedFields[0]']],
      [
        'the second changed field missing from data',
        { familyName: 'O' },
        ['familyName', 'phone'],
        ['changedFields[1]'],
      ],
      ['an unknown changed field present in data', { foo: 1 }, ['foo'], ['data.foo', 'changedFields[0]']],
      ['no changed field at all', { phone: '1' }, [], ['data']],
    ])('rejects %s', (_case, data, changedFields, expected) => {
      expect(paths(anUpdate('patients', data, changedFields))).toEqual(expected);
    });

    it('rejects an update with empty data', () => {
      expect(paths(anUpdate('patients', {}))).toEqual(['data']);
    });

    it('rejects null for a required field', () => {
      expect(paths(anUpdate('patients', { givenName: null }))).toEqual(['data.givenName']);
    });

    it('checks field types on update too', () => {
      expect(paths(anUpdate('patients', { dateOfBirth: '2026-02-30' }))).toEqual(['data.dateOfBirth']);
    });
  });

  describe('system fields', () => {
    it.each(SYSTEM_FIELDS.filter((f) => f !== 'tenantId'))(
      'rejects %s in data as managed by the server',
      (name) => {
        expect(validateMutationData(aCreate('patients', { [name]: 'x' }))).toEqual([
          { path: `data.${name}`, message: expect.stringContaining('server') },
        ]);
      },
    );

    it('rejects system fields in update data', () => {
      expect(paths(anUpdate('patients', { phone: '1', version: 7 }, ['phone']))).toEqual(['data.version']);
    });
  });

  describe('delete', () => {
    it('needs no data', () => {
      expect(
        validateMutationData({
          clientMutationId: ID,
          entity: 'patients',
          op: 'delete',
          id: ID,
          baseVersion: 2,
        }),
      ).toEqual([]);
    });

    it('still rejects an unknown entity', () => {
      expect(
        paths({ clientMutationId: ID, entity: 'widgets', op: 'delete', id: ID, baseVersion: 2 }),
      ).toEqual(['entity']);
    });
  });
});

describe('checkFieldValue', () => {
  const patients = getEntity('patients');
  const field = (name: string) => patients.fields.find((f) => f.name === name)!;

  it.each<[string, unknown, boolean]>([
    ['givenName', null, false],
    ['phone', null, true],
    ['sex', 'other', true],
    ['sex', null, true],
    ['dateOfBirth', '2000-12-31', true],
    ['dateOfBirth', '2000-11-31', false],
  ])('%s = %p valid: %p', (name, value, valid) => {
    expect(checkFieldValue(field(name), value) === undefined).toBe(valid);
  });
});

describe('changedFieldsOf', () => {
  const patients = getEntity('patients');

  it.each<[string, Pick<Mutation, 'op' | 'data' | 'changedFields'>, string[]]>([
    [
      'defaults to the keys of data',
      { op: 'update', data: { phone: '1', familyName: 'O' } },
      ['phone', 'familyName'],
    ],
    [
      'uses changedFields when given',
      { op: 'update', data: { phone: '1', familyName: 'O' }, changedFields: ['phone'] },
      ['phone'],
    ],
    [
      'drops unknown and duplicate names',
      { op: 'update', data: { phone: '1' }, changedFields: ['phone', 'foo', 'phone'] },
      ['phone'],
    ],
    ['drops system fields', { op: 'update', data: { phone: '1', version: 3 } }, ['phone']],
    ['is empty for a delete', { op: 'delete', data: { phone: '1' } }, []],
    ['is empty without data', { op: 'update' }, []],
  ])('%s', (_case, m, expected) => {
    expect(changedFieldsOf(m, patients)).toEqual(expected);
  });
});
