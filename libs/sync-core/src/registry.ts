import { ModuleName } from '@clinisync/contracts';

/**
 * The entity registry: the single source of truth for entities, fields, PHI flags, owning
 * module, relation graph and conflict policy. Schemas, validation, authorization subjects,
 * ordering and pull all read it.
 */
export type ConflictPolicy = 'reject' | 'field-merge' | 'append-only' | 'server-authority';
export type FieldType = 'string' | 'text' | 'date' | 'datetime' | 'integer' | 'number' | 'boolean' | 'uuid' | 'enum';

export interface FieldDef {
  /** camelCase name on the wire. */
  name: string;
  /** snake_case column in the owning module's table. */
  column: string;
  type: FieldType;
  required: boolean;
  /** Protected health information: never copied into audit events or logs. */
  phi: boolean;
  values?: readonly string[];
  /** Entity this field references by id (the relation graph). */
  references?: string;
}

export interface EntityDef {
  name: string;
  module: ModuleName;
  /** Table name inside the module's Postgres schema (schema = module name). */
  table: string;
  policy: ConflictPolicy;
  /** Records carry facilityId and are visible only at the caller's facilities. */
  facilityScoped: boolean;
  /** Tenant-wide reference data readable by every user of the tenant. */
  referenceData: boolean;
  /** Derived by the server; clients may pull but never write it. */
  clientWritable: boolean;
  /** Clinical data about a patient (drives audit and role scoping). */
  clinical: boolean;
  fields: readonly FieldDef[];
}

type FieldSpec = Omit<FieldDef, 'column' | 'required' | 'phi'> & { required?: boolean; phi?: boolean };

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function field(spec: FieldSpec): FieldDef {
  return { ...spec, column: snake(spec.name), required: spec.required ?? false, phi: spec.phi ?? false };
}

const facility = field({ name: 'facilityId', type: 'string', required: true });
const patientRef = field({ name: 'patientId', type: 'uuid', required: true, references: 'patients' });

function entity(def: Omit<EntityDef, 'fields' | 'table'> & { table?: string; fields: FieldSpec[] }): EntityDef {
  const fields = def.fields.map(field);
  return {
    ...def,
    table: def.table ?? def.name,
    fields: def.facilityScoped ? [facility, ...fields] : fields,
  };
}

const clinicalDefaults = { facilityScoped: true, referenceData: false, clientWritable: true, clinical: true } as const;

export const ENTITIES: readonly EntityDef[] = [
  entity({
    name: 'patients',
    module: 'patients',
    policy: 'field-merge',
    ...clinicalDefaults,
    fields: [
      { name: 'givenName', type: 'string', required: true, phi: true },
      { name: 'familyName', type: 'string', phi: true },
      { name: 'sex', type: 'enum', values: ['female', 'male', 'other', 'unknown'], phi: true },
      { name: 'dateOfBirth', type: 'date', phi: true },
      { name: 'phone', type: 'string', phi: true },
      { name: 'nationalId', type: 'string', phi: true },
      { name: 'address', type: 'text', phi: true },
    ],
  }),
  entity({
    name: 'visits',
    module: 'patients',
    policy: 'reject',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'startedAt', type: 'datetime', required: true },
      { name: 'endedAt', type: 'datetime' },
      { name: 'reason', type: 'text', phi: true },
    ],
  }),
  entity({
    name: 'vitals',
    module: 'patients',
    policy: 'append-only',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'visitId', type: 'uuid', references: 'visits' },
      { name: 'recordedAt', type: 'datetime', required: true },
      { name: 'systolic', type: 'integer', phi: true },
      { name: 'diastolic', type: 'integer', phi: true },
      { name: 'heartRate', type: 'integer', phi: true },
      { name: 'temperatureC', type: 'number', phi: true },
      { name: 'weightKg', type: 'number', phi: true },
    ],
  }),
  entity({
    name: 'problems',
    module: 'patients',
    policy: 'reject',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'code', type: 'string', phi: true },
      { name: 'description', type: 'text', phi: true },
      { name: 'status', type: 'enum', values: ['active', 'inactive', 'resolved'] },
      { name: 'onsetDate', type: 'date', phi: true },
    ],
  }),
  entity({
    name: 'clinical_notes',
    module: 'patients',
    policy: 'append-only',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'visitId', type: 'uuid', references: 'visits' },
      { name: 'text', type: 'text', required: true, phi: true },
      { name: 'authoredAt', type: 'datetime', required: true },
    ],
  }),
  entity({
    name: 'appointments',
    module: 'patients',
    policy: 'reject',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'scheduledAt', type: 'datetime', required: true },
      { name: 'status', type: 'enum', values: ['booked', 'arrived', 'completed', 'cancelled', 'no-show'] },
      { name: 'reason', type: 'text', phi: true },
    ],
  }),
  entity({
    name: 'drug_catalogue',
    module: 'pharmacy',
    policy: 'reject',
    facilityScoped: false,
    referenceData: true,
    clientWritable: true,
    clinical: false,
    fields: [
      { name: 'code', type: 'string', required: true },
      { name: 'name', type: 'string', required: true },
      { name: 'form', type: 'string' },
      { name: 'strength', type: 'string' },
      { name: 'controlled', type: 'boolean', required: true },
    ],
  }),
  entity({
    name: 'prescriptions',
    module: 'pharmacy',
    policy: 'reject',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'visitId', type: 'uuid', references: 'visits' },
      { name: 'prescribedAt', type: 'datetime', required: true },
      { name: 'status', type: 'enum', values: ['active', 'completed', 'cancelled'] },
    ],
  }),
  entity({
    name: 'prescription_items',
    module: 'pharmacy',
    policy: 'reject',
    ...clinicalDefaults,
    fields: [
      { name: 'prescriptionId', type: 'uuid', required: true, references: 'prescriptions' },
      { name: 'drugId', type: 'uuid', required: true, references: 'drug_catalogue' },
      { name: 'dose', type: 'string', phi: true },
      { name: 'frequency', type: 'string', phi: true },
      { name: 'durationDays', type: 'integer', phi: true },
      { name: 'quantity', type: 'number', required: true },
    ],
  }),
  entity({
    name: 'dispensing_records',
    module: 'pharmacy',
    policy: 'append-only',
    ...clinicalDefaults,
    fields: [
      patientRef,
      { name: 'prescriptionItemId', type: 'uuid', references: 'prescription_items' },
      { name: 'drugId', type: 'uuid', required: true, references: 'drug_catalogue' },
      { name: 'quantity', type: 'number', required: true },
      { name: 'dispensedAt', type: 'datetime', required: true },
    ],
  }),
  entity({
    name: 'stock_movements',
    module: 'inventory',
    policy: 'server-authority',
    facilityScoped: true,
    referenceData: false,
    clientWritable: true,
    clinical: false,
    fields: [
      { name: 'drugId', type: 'uuid', required: true, references: 'drug_catalogue' },
      { name: 'kind', type: 'enum', required: true, values: ['receive', 'dispense', 'adjust', 'transfer-out', 'transfer-in'] },
      { name: 'quantity', type: 'number', required: true },
      { name: 'reason', type: 'text' },
      { name: 'occurredAt', type: 'datetime', required: true },
    ],
  }),
  entity({
    name: 'stock_levels',
    module: 'inventory',
    policy: 'server-authority',
    facilityScoped: true,
    referenceData: false,
    clientWritable: false,
    clinical: false,
    fields: [
      { name: 'drugId', type: 'uuid', required: true, references: 'drug_catalogue' },
      { name: 'quantity', type: 'number', required: true },
      { name: 'discrepancy', type: 'boolean', required: true },
    ],
  }),
];

const byName = new Map(ENTITIES.map((e) => [e.name, e]));

export function findEntity(name: string): EntityDef | undefined {
  return byName.get(name);
}

export function getEntity(name: string): EntityDef {
  const def = byName.get(name);
  if (!def) throw new Error(`Unknown entity "${name}"`);
  return def;
}

export function entitiesOfModule(module: ModuleName): EntityDef[] {
  return ENTITIES.filter((e) => e.module === module);
}

/** Fields of `def` that reference another entity (edges of the relation graph). */
export function referenceFields(def: EntityDef): FieldDef[] {
  return def.fields.filter((f) => f.references !== undefined);
}

/** Depth in the relation graph: 0 for roots, 1 + deepest parent otherwise. */
export function entityDepth(name: string, seen: ReadonlySet<string> = new Set()): number {
  const def = getEntity(name);
  if (seen.has(name)) throw new Error(`Relation graph cycle at ${name}`);
  const parents = referenceFields(def).map((f) => f.references as string);
  if (parents.length === 0) return 0;
  const next = new Set(seen).add(name);
  return 1 + Math.max(...parents.map((p) => entityDepth(p, next)));
}

let moduleOrderMemo: readonly ModuleName[] | undefined;

/** Modules in dependency order: a module whose entities reference another's comes after it. */
export function moduleOrder(): ModuleName[] {
  // The registry is fixed at load; every pull asks, so the order is worked out once.
  moduleOrderMemo ??= computeModuleOrder();
  return [...moduleOrderMemo];
}

function computeModuleOrder(): ModuleName[] {
  const depthOf = new Map<ModuleName, number>();
  for (const def of ENTITIES) {
    const d = entityDepth(def.name);
    depthOf.set(def.module, Math.min(depthOf.get(def.module) ?? Infinity, d));
  }
  // A module's rank is the deepest module it references, plus one.
  const rank = (m: ModuleName, seen: Set<ModuleName>): number => {
    if (seen.has(m)) return 0;
    seen.add(m);
    let r = 0;
    for (const def of entitiesOfModule(m)) {
      for (const f of referenceFields(def)) {
        const other = getEntity(f.references as string).module;
        if (other !== m) r = Math.max(r, 1 + rank(other, seen));
      }
    }
    return r;
  };
  return [...depthOf.keys()].sort((a, b) => rank(a, new Set()) - rank(b, new Set()));
}

export function snakeCase(name: string): string {
  return snake(name);
}
