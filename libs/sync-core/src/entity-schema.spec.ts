import fc from 'fast-check';
import { ApiErrorDetail, Mutation } from '@clinisync/contracts';
import { ENTITIES, EntityDef, FieldDef, findEntity, getEntity } from './registry';
import {
  DataShape,
  MAX_STRING_LENGTH,
  MAX_TEXT_LENGTH,
  SYSTEM_FIELDS,
  buildEntityDataSchema,
  compiledEntitySchema,
  dataIssues,
  entityDataSchema,
} from './entity-schema';
import { checkFieldValue, validateMutationData } from './validation';

const ID = '0193f0c2-0000-7000-8000-000000000001';
const PATIENT_ID = '0193f0c2-0000-7000-8000-0000000000aa';
const runs = { numRuns: 300 };

/** Issues of `data` as the compiled validator reports them (empty when valid). */
function issuesOf(entity: string, shape: DataShape, data: Record<string, unknown>) {
  const def = getEntity(entity);
  const c = compiledEntitySchema(def, shape);
  return c.validate(data) ? [] : dataIssues(def, shape, data, c.validate.errors ?? [], c.fields);
}

// ---- schema generation (table-driven) ------------------------------------------------------

describe('buildEntityDataSchema', () => {
  it.each<[string, string, string, unknown]>([
    ['a required string: non-blank, at most 1000', 'patients', 'givenName', { type: 'string', maxLength: MAX_STRING_LENGTH, pattern: '\\S' }],
    ['an optional string: nullable', 'patients', 'phone', { type: 'string', maxLength: MAX_STRING_LENGTH, nullable: true }],
    ['text: at most 20000', 'patients', 'address', { type: 'string', maxLength: MAX_TEXT_LENGTH, nullable: true }],
    ['an optional enum: null among the values', 'patients', 'sex', { type: 'string', enum: ['female', 'male', 'other', 'unknown', null], nullable: true }],
    ['a required enum', 'stock_movements', 'kind', { type: 'string', enum: ['receive', 'dispense', 'adjust', 'transfer-out', 'transfer-in'] }],
    ['a date', 'patients', 'dateOfBirth', { type: 'string', format: 'date', nullable: true }],
    ['a date-time', 'visits', 'startedAt', { type: 'string', format: 'date-time', description: expect.stringContaining('time zone') }],
    ['a reference: uuid', 'visits', 'patientId', { type: 'string', format: 'uuid', description: 'id of a patients record' }],
    ['an integer: safe range', 'vitals', 'systolic', { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, nullable: true }],
    ['a number', 'vitals', 'temperatureC', { type: 'number', nullable: true }],
    ['a boolean', 'drug_catalogue', 'controlled', { type: 'boolean' }],
    ['the facility of a facility-scoped entity', 'visits', 'facilityId', { type: 'string', maxLength: MAX_STRING_LENGTH, pattern: '\\S' }],
  ])('describes %s (%s.%s)', (_case, entity, fieldName, expected) => {
    expect(buildEntityDataSchema(getEntity(entity), 'create').properties[fieldName]).toEqual(expected);
  });

  it.each<[string, DataShape, string[] | undefined]>([
    ['patients', 'create', ['facilityId', 'givenName']],
    ['visits', 'create', ['facilityId', 'patientId', 'startedAt']],
    ['drug_catalogue', 'create', ['code', 'name', 'controlled']],
    ['patients', 'update', undefined],
    ['stock_movements', 'update', undefined],
  ])('requires on %s %s exactly the required fields of the registry', (entity, shape, required) => {
    expect(buildEntityDataSchema(getEntity(entity), shape).required).toEqual(required);
  });

  it.each(ENTITIES.map((e) => e.name))('lists exactly the fields of %s plus tenantId, nothing else allowed', (entity) => {
    const def = getEntity(entity);
    const schema = buildEntityDataSchema(def, 'create');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual([...def.fields.map((f) => f.name), 'tenantId']);
    for (const system of SYSTEM_FIELDS.filter((f) => f !== 'tenantId')) expect(schema.properties[system]).toBeUndefined();
    expect(schema.description).toContain('managed by the server');
  });

  it('serves the schema it compiled, once per entity and shape', () => {
    const def = getEntity('patients');
    expect(entityDataSchema(def, 'create')).toBe(compiledEntitySchema(def, 'create').schema);
    expect(compiledEntitySchema(def, 'update').validate).toBe(compiledEntitySchema(def, 'update').validate);
    expect(entityDataSchema(def, 'create')).toEqual(buildEntityDataSchema(def, 'create'));
  });
});

// ---- ajv errors to details (table-driven) --------------------------------------------------

describe('dataIssues (ajv errors to the messages of the registry)', () => {
  const astral = '\u{1F600}'; // two UTF-16 code units
  it.each<[string, string, DataShape, Record<string, unknown>, { key: string; message: string }[]]>([
    ['a wrong type', 'patients', 'update', { givenName: 42 }, [{ key: 'givenName', message: 'givenName must be a string' }]],
    ['a blank required string', 'patients', 'update', { givenName: ' \t\n' }, [{ key: 'givenName', message: 'givenName must not be empty' }]],
    ['a long blank string: the length first', 'patients', 'update', { givenName: ' '.repeat(1001) }, [{ key: 'givenName', message: 'givenName must be at most 1000 characters' }]],
    ['length in UTF-16 code units', 'patients', 'update', { phone: astral.repeat(501) }, [{ key: 'phone', message: 'phone must be at most 1000 characters' }]],
    ['a text over 20000', 'patients', 'update', { address: 'x'.repeat(20_001) }, [{ key: 'address', message: 'address must be at most 20000 characters' }]],
    ['a bad uuid', 'visits', 'update', { patientId: 'p-1' }, [{ key: 'patientId', message: 'patientId must be a UUID' }]],
    ['a uuid of another type', 'visits', 'update', { patientId: 7 }, [{ key: 'patientId', message: 'patientId must be a UUID' }]],
    ['a date that does not exist', 'patients', 'update', { dateOfBirth: '2023-02-29' }, [{ key: 'dateOfBirth', message: 'dateOfBirth must be a date (YYYY-MM-DD)' }]],
    ['a date-time without zone', 'visits', 'update', { startedAt: '2026-11-21T10:00:00' }, [{ key: 'startedAt', message: 'startedAt must be an ISO 8601 date-time with a time zone' }]],
    ['an unsafe integer', 'vitals', 'update', { heartRate: 2 ** 53 }, [{ key: 'heartRate', message: 'heartRate must be an integer' }]],
    ['a fraction for an integer', 'vitals', 'update', { heartRate: 1.5 }, [{ key: 'heartRate', message: 'heartRate must be an integer' }]],
    ['NaN', 'vitals', 'update', { weightKg: Number.NaN }, [{ key: 'weightKg', message: 'weightKg must be a finite number' }]],
    ['an enum of another type', 'patients', 'update', { sex: 1 }, [{ key: 'sex', message: 'sex must be one of female, male, other, unknown' }]],
    ['null for a required field (update)', 'patients', 'update', { givenName: null }, [{ key: 'givenName', message: 'givenName is required and cannot be null' }]],
    [
      'null for a required field (create): twice, as before',
      'patients',
      'create',
      { facilityId: 'f-1', givenName: null },
      [
        { key: 'givenName', message: 'givenName is required and cannot be null' },
        { key: 'givenName', message: 'givenName is required' },
      ],
    ],
    ['a server-owned field', 'patients', 'update', { version: 2 }, [{ key: 'version', message: 'version is managed by the server' }]],
    ['an unknown field', 'patients', 'update', { colour: 'blue' }, [{ key: 'colour', message: 'unknown field "colour" for entity patients' }]],
    ['any tenantId (the push checks it against the token)', 'patients', 'update', { tenantId: 5, phone: '1' }, []],
    [
      'several: in the order of data, then missing required fields in registry order',
      'visits',
      'create',
      { reason: 3, zzz: 1, startedAt: 'noon', id: ID },
      [
        { key: 'reason', message: 'reason must be a string' },
        { key: 'zzz', message: 'unknown field "zzz" for entity visits' },
        { key: 'startedAt', message: 'startedAt must be an ISO 8601 date-time with a time zone' },
        { key: 'id', message: 'id is managed by the server' },
        { key: 'facilityId', message: 'facilityId is required' },
        { key: 'patientId', message: 'patientId is required' },
      ],
    ],
  ])('maps %s', (_case, entity, shape, data, expected) => {
    expect(issuesOf(entity, shape, data)).toEqual(expected);
  });
});

// ---- the validator and the registry agree (properties) -------------------------------------

/** A valid value for a field, drawn from its registry definition. */
function validValue(f: FieldDef): fc.Arbitrary<unknown> {
  switch (f.type) {
    case 'string':
      return f.required ? fc.string({ minLength: 1, maxLength: 40 }).map((s) => `x${s}`) : fc.string({ maxLength: 40 });
    case 'text':
      return fc.string({ maxLength: 200 }).map((s) => (f.required ? `x${s}` : s));
    case 'uuid':
      return fc.uuid();
    case 'date':
      return fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'datetime':
      return fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'integer':
      return fc.integer({ min: -1e6, max: 1e6 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...(f.values ?? []));
  }
}

/** A JSON value of another JSON type than the field takes (so it is invalid whatever it holds). */
function wrongTypeValue(f: FieldDef): fc.Arbitrary<unknown> {
  const stringy = ['string', 'text', 'uuid', 'date', 'datetime', 'enum'].includes(f.type);
  const options: fc.Arbitrary<unknown>[] = [fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 })];
  if (!stringy) options.push(fc.string());
  if (f.type !== 'boolean') options.push(fc.boolean());
  if (stringy || f.type === 'boolean') options.push(fc.integer());
  if (f.type === 'integer') options.push(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)));
  return fc.oneof(...options);
}

/** A valid create of `def`: every required field, any optional ones (some null). */
function validCreate(def: EntityDef): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of def.fields) model[f.name] = f.required ? validValue(f) : fc.option(validValue(f), { nil: null });
  const requiredKeys = def.fields.filter((f) => f.required).map((f) => f.name);
  return fc.record(model, { requiredKeys });
}

const anEntity = fc.constantFrom(...ENTITIES);

describe('the ajv validator agrees with the registry (properties)', () => {
  it('accepts every valid create generated from the registry', () => {
    fc.assert(
      fc.property(anEntity.chain((def) => fc.tuple(fc.constant(def), validCreate(def))), ([def, data]) => {
        expect(issuesOf(def.name, 'create', data)).toEqual([]);
        expect(issuesOf(def.name, 'update', data)).toEqual([]);
      }),
      runs,
    );
  });

  it('fails a field of the wrong type at that field, and only there', () => {
    const arb = anEntity.chain((def) =>
      fc.tuple(fc.constant(def), validCreate(def), fc.constantFrom(...def.fields)).chain(([d, data, f]) =>
        fc.tuple(fc.constant(d), fc.constant(data), fc.constant(f), wrongTypeValue(f)),
      ),
    );
    fc.assert(
      fc.property(arb, ([def, data, f, bad]) => {
        const broken = { ...data, [f.name]: bad };
        expect(issuesOf(def.name, 'create', broken)).toEqual([{ key: f.name, message: checkFieldValue(f, bad) }]);
        const m: Mutation = { clientMutationId: ID, entity: def.name, op: 'create', id: ID, data: broken };
        expect(validateMutationData(m)).toEqual([{ path: `data.${f.name}`, message: checkFieldValue(f, bad) }]);
      }),
      runs,
    );
  });

  it('agrees with checkFieldValue (the per-value rule of the SDK) on any value of any field', () => {
    const fieldAndValue = anEntity
      .chain((def) => fc.constantFrom(...def.fields))
      .chain((f) => fc.tuple(fc.constant(f), fc.oneof(validValue(f), wrongTypeValue(f), tricky(f), fc.jsonValue())));
    fc.assert(
      fc.property(fieldAndValue, ([f, value]) => {
        const def = ENTITIES.find((e) => e.fields.includes(f))!;
        const expected = checkFieldValue(f, value);
        expect(issuesOf(def.name, 'update', { [f.name]: value })).toEqual(expected === undefined ? [] : [{ key: f.name, message: expected }]);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Values near a field's edges: blank, at and over the length limit, bad calendar dates, unsafe integers. */
function tricky(f: FieldDef): fc.Arbitrary<unknown> {
  const max = f.type === 'text' ? MAX_TEXT_LENGTH : MAX_STRING_LENGTH;
  return fc.constantFrom<unknown>(
    null,
    '',
    ' ',
    '\u00a0\u2028\ufeff',
    'x'.repeat(max),
    'x'.repeat(max + 1),
    '\u{1F600}'.repeat(max / 2),
    '\u{1F600}'.repeat(max / 2 + 1),
    ` ${'x'.repeat(max)}`,
    ' '.repeat(max + 1),
    '2024-02-29',
    '2023-02-29',
    '2026-11-21T10:00Z',
    '2026-11-21T24:00:00Z',
    '2026-11-21T10:00:00.123456789+03:00',
    '0193F0C2-0000-7000-8000-0000000000AA',
    `urn:uuid:${PATIENT_ID}`,
    2 ** 53 - 1,
    2 ** 53,
    -(2 ** 53),
    -0,
    1e21,
    0.1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    ...(f.values ?? []).map((v) => v.toUpperCase()),
  );
}

// ---- wire behaviour unchanged: the hand-written validator as the oracle (property) ---------

/** validateMutationData before the JSON Schema (issue 19, item 10), kept as the oracle. */
function referenceValidateMutationData(mutation: Mutation): ApiErrorDetail[] {
  const def = findEntity(mutation.entity);
  if (!def) return [{ path: 'entity', message: `unknown entity "${mutation.entity}"` }];
  if (mutation.op === 'delete') return [];
  const issues: ApiErrorDetail[] = [];
  const data = mutation.data;
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
    return [{ path: 'data', message: `data is required for ${mutation.op}` }];
  }
  const system = SYSTEM_FIELDS as readonly string[];
  const fieldsByName = new Map(def.fields.map((f) => [f.name, f]));
  for (const [key, value] of Object.entries(data)) {
    if (system.includes(key)) {
      if (key !== 'tenantId') issues.push({ path: `data.${key}`, message: `${key} is managed by the server` });
      continue;
    }
    const f = fieldsByName.get(key);
    if (!f) {
      issues.push({ path: `data.${key}`, message: `unknown field "${key}" for entity ${def.name}` });
      continue;
    }
    const problem = referenceCheckFieldValue(f, value);
    if (problem) issues.push({ path: `data.${key}`, message: problem });
  }
  if (mutation.op === 'create') {
    for (const f of def.fields) {
      if (f.required && (data[f.name] === undefined || data[f.name] === null)) issues.push({ path: `data.${f.name}`, message: `${f.name} is required` });
    }
  } else {
    const changed = mutation.changedFields ?? Object.keys(data);
    if (changed.length === 0) issues.push({ path: 'data', message: 'an update must change at least one field' });
    changed.forEach((name, i) => {
      if (!(name in data)) issues.push({ path: `changedFields[${i}]`, message: `changed field "${name}" is missing from data` });
      else if (!fieldsByName.has(name) && !system.includes(name)) issues.push({ path: `changedFields[${i}]`, message: `unknown field "${name}" for entity ${def.name}` });
    });
  }
  return issues;
}

function referenceCheckFieldValue(def: FieldDef, value: unknown): string | undefined {
  const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
  const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const validDate = (v: string) => {
    const m = DATE.exec(v);
    if (!m) return false;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
  };
  if (value === null) return def.required ? `${def.name} is required and cannot be null` : undefined;
  switch (def.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string') return `${def.name} must be a string`;
      const max = def.type === 'string' ? 1000 : 20_000;
      if (value.length > max) return `${def.name} must be at most ${max} characters`;
      if (def.required && value.trim() === '') return `${def.name} must not be empty`;
      return undefined;
    }
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? undefined : `${def.name} must be a UUID`;
    case 'date':
      return typeof value === 'string' && validDate(value) ? undefined : `${def.name} must be a date (YYYY-MM-DD)`;
    case 'datetime':
      return typeof value === 'string' && DATETIME.test(value) && validDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value))
        ? undefined
        : `${def.name} must be an ISO 8601 date-time with a time zone`;
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : `${def.name} must be an integer`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${def.name} must be a finite number`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${def.name} must be a boolean`;
    case 'enum':
      return typeof value === 'string' && (def.values ?? []).includes(value) ? undefined : `${def.name} must be one of ${(def.values ?? []).join(', ')}`;
  }
}

describe('validateMutationData gives the same details as the hand-written validator (property)', () => {
  /** Data keys: the entity's fields, server-owned ones, unknown ones (incl. prototype names). */
  const aKey = (def: EntityDef) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...def.fields.map((f) => f.name)) },
      { weight: 1, arbitrary: fc.constantFrom<string>(...SYSTEM_FIELDS) },
      { weight: 1, arbitrary: fc.constantFrom('foo', 'Givenname', '__proto__', 'constructor', 'toString', '') },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    );
  const aValue = (def: EntityDef, key: string) => {
    const f = def.fields.find((x) => x.name === key);
    return f ? fc.oneof(validValue(f), validValue(f), wrongTypeValue(f), tricky(f), fc.jsonValue({ maxDepth: 1 })) : fc.jsonValue({ maxDepth: 1 });
  };
  const aData = (def: EntityDef) =>
    fc
      .uniqueArray(aKey(def), { maxLength: 8 })
      .chain((keys) => fc.tuple(...keys.map((k) => aValue(def, k))).map((values) => Object.fromEntries(keys.map((k, i) => [k, values[i]]))));
  const aMutation = fc
    .constantFrom(...ENTITIES)
    .chain((def) =>
      fc.record({
        entity: fc.oneof({ weight: 9, arbitrary: fc.constant(def.name) }, { weight: 1, arbitrary: fc.constant('widgets') }),
        op: fc.constantFrom<Mutation['op']>('create', 'update', 'delete'),
        // Start from a valid create half the time, so single faults are common.
        data: fc.oneof(aData(def), fc.tuple(validCreate(def), aData(def)).map(([base, extra]) => ({ ...base, ...extra }))),
        changedFields: fc.option(fc.array(fc.oneof(aKey(def), fc.constant('phone')), { maxLength: 4 }), { nil: undefined }),
      }),
    )
    .map((m): Mutation => ({ clientMutationId: ID, id: ID, baseVersion: m.op === 'create' ? undefined : 1, ...m }));

  it('for any mutation: the same paths and messages in the same order', () => {
    fc.assert(
      fc.property(aMutation, (m) => {
        expect(validateMutationData(m)).toEqual(referenceValidateMutationData(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('for data that is not an object', () => {
    for (const data of [undefined, null, [], 'x', 3] as unknown[]) {
      const m = { clientMutationId: ID, entity: 'patients', op: 'create', id: ID, data } as Mutation;
      expect(validateMutationData(m)).toEqual(referenceValidateMutationData(m));
    }
  });
});
