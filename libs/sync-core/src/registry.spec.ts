import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { ModuleName } from '@clinisync/contracts';
import { StoredRecord, conflictIdFor, fieldsChangedSince, normaliseData, syncRecordJsonWriter, toSyncRecord } from './records';
import {
  ConflictPolicy,
  ENTITIES,
  entitiesOfModule,
  entityDepth,
  findEntity,
  getEntity,
  moduleOrder,
  referenceFields,
  snakeCase,
} from './registry';

/** PROTOCOL.md "Entities": entity | module | minimum fields | policy. */
const PROTOCOL_ENTITIES: [string, ModuleName, ConflictPolicy, string[]][] = [
  [
    'patients',
    'patients',
    'field-merge',
    ['givenName', 'familyName', 'sex', 'dateOfBirth', 'phone', 'nationalId', 'address'],
  ],
  ['visits', 'patients', 'reject', ['patientId', 'startedAt', 'endedAt', 'reason']],
  [
    'vitals',
    'patients',
    'append-only',
    ['patientId', 'visitId', 'recordedAt', 'systolic', 'diastolic', 'heartRate', 'temperatureC', 'weightKg'],
  ],
  ['problems', 'patients', 'reject', ['patientId', 'code', 'description', 'status', 'onsetDate']],
  ['clinical_notes', 'patients', 'append-only', ['patientId', 'visitId', 'text', 'authoredAt']],
  ['appointments', 'patients', 'reject', ['patientId', 'scheduledAt', 'status', 'reason']],
  ['drug_catalogue', 'pharmacy', 'reject', ['code', 'name', 'form', 'strength', 'controlled']],
  ['prescriptions', 'pharmacy', 'reject', ['patientId', 'visitId', 'prescribedAt', 'status']],
  [
    'prescription_items',
    'pharmacy',
    'reject',
    ['prescriptionId', 'drugId', 'dose', 'frequency', 'durationDays', 'quantity'],
  ],
  [
    'dispensing_records',
    'pharmacy',
    'append-only',
    ['patientId', 'prescriptionItemId', 'drugId', 'quantity', 'dispensedAt'],
  ],
  [
    'stock_movements',
    'inventory',
    'server-authority',
    ['drugId', 'kind', 'quantity', 'reason', 'occurredAt'],
  ],
  ['stock_levels', 'inventory', 'server-authority', ['drugId', 'quantity', 'discrepancy']],
];

/** records.ts NAMESPACE_HEX as a UUID. */
const CONFLICT_NAMESPACE = '6f0c3b8e-9a1d-4c2b-8e7f-5a4d3c2b1a09';

const SYSTEM_KEYS = ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt'];

describe('entity registry vs PROTOCOL.md', () => {
  it.each(PROTOCOL_ENTITIES)(
    '%s lives in module %s with policy %s and the protocol fields',
    (name, module, policy, fields) => {
      const def = getEntity(name);
      expect(def.module).toBe(module);
      expect(def.policy).toBe(policy);
      const names = def.fields.map((f) => f.name);
      for (const f of fields) expect(names).toContain(f);
    },
  );

  it('holds no entity the protocol does not list', () => {
    expect(ENTITIES.map((e) => e.name).sort()).toEqual(PROTOCOL_ENTITIES.map(([n]) => n).sort());
  });

  it('gives every clinical record a required facilityId, and the drug catalogue none', () => {
    for (const def of ENTITIES.filter((e) => e.clinical)) {
      expect(def.facilityScoped).toBe(true);
      expect(def.fields.find((f) => f.name === 'facilityId')).toMatchObject({ required: true });
    }
    const catalogue = getEntity('drug_catalogue');
    expect(catalogue).toMatchObject({ facilityScoped: false, referenceData: true });
    expect(catalogue.fields.map((f) => f.name)).not.toContain('facilityId');
  });

  it('makes stock_levels read-only for clients and every other entity writable', () => {
    for (const def of ENTITIES) expect(def.clientWritable).toBe(def.name !== 'stock_levels');
  });

  it.each<[string, string, string[]]>([
    ['patients', 'sex', ['female', 'male', 'other', 'unknown']],
    ['stock_movements', 'kind', ['receive', 'dispense', 'adjust', 'transfer-out', 'transfer-in']],
  ])('%s.%s is an enum of the protocol values', (entity, field, values) => {
    expect(getEntity(entity).fields.find((f) => f.name === field)).toMatchObject({ type: 'enum', values });
  });

  it.each<[string, string, string]>([
    ['patients', 'dateOfBirth', 'date'],
    ['visits', 'startedAt', 'datetime'],
    ['visits', 'patientId', 'uuid'],
    ['drug_catalogue', 'controlled', 'boolean'],
    ['vitals', 'systolic', 'integer'],
    ['vitals', 'temperatureC', 'number'],
  ])('%s.%s has type %s', (entity, field, type) => {
    expect(getEntity(entity).fields.find((f) => f.name === field)?.type).toBe(type);
  });

  it('never declares a system field as an entity field, nor a field twice', () => {
    for (const def of ENTITIES) {
      const names = def.fields.map((f) => f.name);
      expect(new Set(names).size).toBe(names.length);
      for (const s of [...SYSTEM_KEYS, 'tenantId']) expect(names).not.toContain(s);
    }
  });

  it('derives snake_case columns and tables', () => {
    for (const def of ENTITIES) {
      expect(def.table).toMatch(/^[a-z_]+$/);
      for (const f of def.fields) expect(f.column).toBe(snakeCase(f.name));
    }
    expect(snakeCase('temperatureC')).toBe('temperature_c');
    expect(snakeCase('prescriptionItemId')).toBe('prescription_item_id');
  });
});

describe('relation graph', () => {
  it('points every reference at an existing entity through a uuid field', () => {
    for (const def of ENTITIES) {
      for (const f of referenceFields(def)) {
        expect(findEntity(f.references as string)).toBeDefined();
        expect(f.type).toBe('uuid');
      }
    }
  });

  it.each<[string, string, string]>([
    ['visits', 'patientId', 'patients'],
    ['vitals', 'visitId', 'visits'],
    ['prescription_items', 'prescriptionId', 'prescriptions'],
    ['prescription_items', 'drugId', 'drug_catalogue'],
    ['dispensing_records', 'prescriptionItemId', 'prescription_items'],
    ['stock_movements', 'drugId', 'drug_catalogue'],
  ])('%s.%s references %s', (entity, field, target) => {
    expect(getEntity(entity).fields.find((f) => f.name === field)?.references).toBe(target);
  });

  it('has a finite depth for every entity, deeper than each of its parents', () => {
    for (const def of ENTITIES) {
      const depth = entityDepth(def.name);
      expect(Number.isInteger(depth)).toBe(true);
      expect(depth).toBeGreaterThanOrEqual(0);
      for (const f of referenceFields(def))
        expect(depth).toBeGreaterThan(entityDepth(f.references as string));
    }
  });

  it.each([
    ['patients', 0],
    ['drug_catalogue', 0],
    ['visits', 1],
    ['vitals', 2],
    ['prescription_items', 3],
    ['dispensing_records', 4],
  ])('depth of %s is %i', (name, depth) => {
    expect(entityDepth(name)).toBe(depth);
  });

  it('orders modules patients, pharmacy, inventory', () => {
    expect(moduleOrder()).toEqual(['patients', 'pharmacy', 'inventory']);
  });

  it('lists the entities of a module', () => {
    expect(entitiesOfModule('inventory').map((e) => e.name)).toEqual(['stock_movements', 'stock_levels']);
  });

  it('throws for an unknown entity in getEntity and entityDepth, undefined from findEntity', () => {
    expect(() => getEntity('widgets')).toThrow('widgets');
    expect(() => entityDepth('widgets')).toThrow();
    expect(findEntity('widgets')).toBeUndefined();
  });
});

describe('conflictIdFor', () => {
  const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const tenant = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

  it('is deterministic and UUID (v5) shaped (property)', () => {
    fc.assert(
      fc.property(tenant, fc.uuid(), (t, key) => {
        const id = conflictIdFor(t, key);
        expect(id).toMatch(UUID_V5);
        expect(conflictIdFor(t, key)).toBe(id);
      }),
      { numRuns: 200 },
    );
  });

  it('differs across tenants and across keys (property)', () => {
    fc.assert(
      fc.property(tenant, tenant, fc.uuid(), fc.uuid(), (t1, t2, k1, k2) => {
        fc.pre(t1 !== t2 || k1 !== k2);
        expect(conflictIdFor(t1, k1)).not.toBe(conflictIdFor(t2, k2));
      }),
      { numRuns: 200 },
    );
  });

  it('is a standard UUID v5 of "<tenant>:<key>" in the CliniSync namespace (any client can derive it)', () => {
    fc.assert(
      fc.property(tenant, fc.uuid(), (t, key) => {
        expect(conflictIdFor(t, key)).toBe(uuidv5(`${t}:${key}`, CONFLICT_NAMESPACE));
      }),
      { numRuns: 100 },
    );
    expect(conflictIdFor('t1', '0193f0c2-0000-7000-8000-000000000001')).toBe(
      'ef80444e-7b89-544f-bd46-8843ce992aca',
    );
  });
});

describe('toSyncRecord', () => {
  const record: StoredRecord = {
    id: '0193f0c2-0000-7000-8000-000000000001',
    version: 4,
    createdAt: '2026-11-01T08:00:00.000Z',
    updatedAt: '2026-11-20T09:00:00.000Z',
    deletedAt: null,
    fields: { phone: '+254700', givenName: 'Amina', facilityId: 'f-1', familyName: undefined },
    fieldVersions: { phone: 4, givenName: 1, facilityId: 1 },
  };

  it.each(ENTITIES.map((e) => [e.name]))(
    'puts system fields first, then every registry field of %s',
    (name) => {
      const def = getEntity(name);
      const out = toSyncRecord(def, record);
      expect(Object.keys(out)).toEqual([...SYSTEM_KEYS, ...def.fields.map((f) => f.name)]);
    },
  );

  it('copies system fields and values, null for unset fields', () => {
    expect(toSyncRecord(getEntity('patients'), record)).toEqual({
      id: record.id,
      version: 4,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      deletedAt: null,
      facilityId: 'f-1',
      givenName: 'Amina',
      familyName: null,
      sex: null,
      dateOfBirth: null,
      phone: '+254700',
      nationalId: null,
      address: null,
    });
  });

  it('carries deletedAt of a tombstone', () => {
    const tombstone = { ...record, deletedAt: '2026-11-21T10:00:00.000Z' };
    expect(toSyncRecord(getEntity('patients'), tombstone).deletedAt).toBe('2026-11-21T10:00:00.000Z');
  });
});

describe('fieldsChangedSince', () => {
  const record = {
    fieldVersions: { phone: 4, address: 5, givenName: 1, familyName: 3 },
  } as unknown as StoredRecord;

  it.each<[number, string[]]>([
    [0, ['address', 'familyName', 'givenName', 'phone']],
    [3, ['address', 'phone']],
    [4, ['address']],
    [5, []],
    [9, []],
  ])('since %i -> %j (sorted, strictly newer)', (base, expected) => {
    expect(fieldsChangedSince(record, base)).toEqual(expected);
  });
});

describe('normaliseData', () => {
  it('normalises datetime fields to UTC with milliseconds and leaves the rest alone', () => {
    const input = {
      startedAt: '2026-11-21T13:00:00+03:00',
      reason: '2026-11-21T13:00:00+03:00',
      endedAt: null,
    };
    const out = normaliseData(getEntity('visits'), input);
    expect(out).toEqual({
      startedAt: '2026-11-21T10:00:00.000Z',
      reason: '2026-11-21T13:00:00+03:00',
      endedAt: null,
    });
    expect(input.startedAt).toBe('2026-11-21T13:00:00+03:00');
  });

  it('writes UUID references in lower case, as Postgres returns them', () => {
    const out = normaliseData(getEntity('visits'), { patientId: '0193F0C2-AAAA-7000-8000-00000000000B', reason: 'ABC' });
    expect(out).toEqual({ patientId: '0193f0c2-aaaa-7000-8000-00000000000b', reason: 'ABC' });
  });
});

describe('syncRecordJsonWriter (the wire JSON modules store with each write)', () => {
  // Any values a record may hold: strings (uuids, timestamps, text with any characters),
  // integers, doubles, booleans, nulls; a field may also be absent.
  const aValue = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
  );

  it.each(ENTITIES.map((e) => [e.name]))('writes the same text as JSON.stringify(toSyncRecord(...)) for %s', (name) => {
    const def = getEntity(name);
    const write = syncRecordJsonWriter(def);
    const aTime = fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.integer({ min: 1 }),
        aTime,
        aTime,
        fc.option(aTime, { nil: null }),
        fc.array(aValue, { minLength: def.fields.length, maxLength: def.fields.length }),
        (id, version, createdAt, updatedAt, deletedAt, values) => {
          const fields = Object.fromEntries(def.fields.map((f, i) => [f.name, values[i]]).filter(([, v]) => v !== undefined));
          const record: StoredRecord = { id, version, createdAt, updatedAt, deletedAt, fields, fieldVersions: {} };
          expect(write(record)).toBe(JSON.stringify(toSyncRecord(def, record)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
