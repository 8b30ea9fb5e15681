import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { EntityDef, FieldDef, FieldType } from './registry';

/**
 * JSON Schema of a mutation's `data`, generated from the entity registry, and the ajv
 * validators compiled from it. The schemas use the subset JSON Schema (ajv) and OpenAPI 3.0
 * share: `nullable` instead of a type array, `null` listed in a nullable `enum`.
 */
export interface FieldSchema {
  type: 'string' | 'integer' | 'number' | 'boolean';
  nullable?: true;
  format?: 'uuid' | 'date' | 'date-time';
  enum?: (string | null)[];
  maxLength?: number;
  /** Set on required string fields: at least one non-blank character. */
  pattern?: string;
  minimum?: number;
  maximum?: number;
  description?: string;
}

export interface EntityDataSchema {
  type: 'object';
  description: string;
  additionalProperties: false;
  /** The fields a client may write; server-owned fields (SYSTEM_FIELDS) are left out. */
  properties: Record<string, FieldSchema | { description: string }>;
  required?: string[];
}

/** Which shape of `data`: a create carries every required field, an update any subset. */
export type DataShape = 'create' | 'update';

/** Fields the server owns; a client may never set them. */
export const SYSTEM_FIELDS = ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'tenantId'] as const;

/** Longest `string` / `text` value, in UTF-16 code units (JavaScript `length`). */
export const MAX_STRING_LENGTH = 1_000;
export const MAX_TEXT_LENGTH = 20_000;

/** A required string must hold a non-blank character (`\s` is the set `trim()` removes). */
const NOT_BLANK = '\\S';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A calendar date that exists (`2026-02-30` does not). */
export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** ISO 8601 date-time with a time zone; seconds optional (`2026-11-21T10:00Z`). */
export function isDateTime(value: string): boolean {
  return DATETIME.test(value) && isDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

function fieldSchema(def: FieldDef): FieldSchema {
  const s = ((): FieldSchema => {
    switch (def.type) {
      case 'string':
      case 'text':
        return { type: 'string', maxLength: def.type === 'string' ? MAX_STRING_LENGTH : MAX_TEXT_LENGTH, ...(def.required ? { pattern: NOT_BLANK } : {}) };
      case 'uuid':
        return { type: 'string', format: 'uuid' };
      case 'date':
        return { type: 'string', format: 'date' };
      case 'datetime':
        return { type: 'string', format: 'date-time', description: 'ISO 8601 with a time zone; seconds optional' };
      case 'integer':
        return { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
      case 'number':
        return { type: 'number' };
      case 'boolean':
        return { type: 'boolean' };
      case 'enum':
        return { type: 'string', enum: [...(def.values ?? [])] };
    }
  })();
  if (def.references) s.description = `id of a ${def.references} record`;
  if (def.required) return s;
  // An optional field may be cleared with null.
  return { ...s, nullable: true, ...(s.enum ? { enum: [...s.enum, null] } : {}) };
}

/** The JSON Schema of `data` for a create or an update of `def`. */
export function buildEntityDataSchema(def: EntityDef, shape: DataShape): EntityDataSchema {
  const properties: EntityDataSchema['properties'] = {};
  for (const f of def.fields) properties[f.name] = fieldSchema(f);
  properties.tenantId = { description: "optional; only the token's tenant is accepted (else 403 TENANT_MISMATCH)" };
  const required = def.fields.filter((f) => f.required).map((f) => f.name);
  return {
    type: 'object',
    description:
      `${shape === 'create' ? 'a new' : 'changed fields of a'} ${def.name} record` +
      (shape === 'create' ? '' : ' (any subset; required fields cannot be set to null)') +
      `; ${SYSTEM_FIELDS.filter((f) => f !== 'tenantId').join(', ')} are managed by the server`,
    additionalProperties: false,
    properties,
    ...(shape === 'create' && required.length > 0 ? { required } : {}),
  };
}

/** The validator of one entity and shape: compiled once, on first use. */
export interface CompiledEntitySchema {
  schema: EntityDataSchema;
  validate: ValidateFunction;
  fields: ReadonlyMap<string, FieldDef>;
}

let ajv: Ajv | undefined;

function theAjv(): Ajv {
  ajv ??= new Ajv({
    allErrors: true,
    strict: true,
    // NaN and ±Infinity are not numbers here (they are not JSON either).
    strictNumbers: true,
    // maxLength counts UTF-16 code units, as the hand-written rule did (JSON Schema counts code
    // points: 501 emoji would pass a limit of 1,000). The option is deprecated but honoured;
    // logger: false silences that notice; strict mode still throws on any schema mistake.
    unicode: false,
    logger: false,
    // Messages are the registry's own (dataIssues), so ajv need not build its own.
    messages: false,
    formats: { uuid: isUuid, date: isDate, 'date-time': isDateTime },
  });
  return ajv;
}

const compiled = new Map<string, CompiledEntitySchema>();

export function compiledEntitySchema(def: EntityDef, shape: DataShape): CompiledEntitySchema {
  const key = `${def.name}\u0000${shape}`;
  let c = compiled.get(key);
  if (!c) {
    const schema = buildEntityDataSchema(def, shape);
    c = { schema, validate: theAjv().compile(schema), fields: new Map(def.fields.map((f) => [f.name, f])) };
    compiled.set(key, c);
  }
  return c;
}

/** The JSON Schema of `data` (e.g. for the OpenAPI document); do not mutate it. */
export function entityDataSchema(def: EntityDef, shape: DataShape): EntityDataSchema {
  return compiledEntitySchema(def, shape).schema;
}

/** What a value of this type must be, as told to the client. */
export function fieldTypeMessage(name: string, type: FieldType, values?: readonly string[]): string {
  switch (type) {
    case 'string':
    case 'text':
      return `${name} must be a string`;
    case 'uuid':
      return `${name} must be a UUID`;
    case 'date':
      return `${name} must be a date (YYYY-MM-DD)`;
    case 'datetime':
      return `${name} must be an ISO 8601 date-time with a time zone`;
    case 'integer':
      return `${name} must be an integer`;
    case 'number':
      return `${name} must be a finite number`;
    case 'boolean':
      return `${name} must be a boolean`;
    case 'enum':
      return `${name} must be one of ${(values ?? []).join(', ')}`;
  }
}

/** The message for one ajv error on field `def` holding `value`. */
export function fieldIssueMessage(def: FieldDef, keyword: string, value: unknown): string {
  if (value === null) return `${def.name} is required and cannot be null`;
  if (keyword === 'maxLength') return `${def.name} must be at most ${def.type === 'string' ? MAX_STRING_LENGTH : MAX_TEXT_LENGTH} characters`;
  if (keyword === 'pattern') return `${def.name} must not be empty`;
  return fieldTypeMessage(def.name, def.type, def.values);
}

/** When a value breaks several keywords, the one the client hears about (lower first). */
const KEYWORD_RANK: Record<string, number> = { type: 0, maxLength: 1 };
const rankOf = (keyword: string) => KEYWORD_RANK[keyword] ?? 2;

/** A `data` problem at `data.<key>`, or a required field missing on create. */
export interface DataIssue {
  key: string;
  message: string;
}

/**
 * Maps ajv's errors for `data` to one issue per offending key, in the order of `data`'s keys,
 * then (create) one per missing required field in registry order. A required field sent as null
 * is reported twice, as before: it cannot be null, and (create) it is required.
 */
export function dataIssues(
  def: EntityDef,
  shape: DataShape,
  data: Record<string, unknown>,
  errors: readonly ErrorObject[],
  fields: ReadonlyMap<string, FieldDef>,
): DataIssue[] {
  const byKey = new Map<string, { rank: number; message: string }>();
  const missing = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'required') {
      missing.add((e.params as { missingProperty: string }).missingProperty);
      continue;
    }
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const message = (SYSTEM_FIELDS as readonly string[]).includes(key)
        ? `${key} is managed by the server`
        : `unknown field "${key}" for entity ${def.name}`;
      byKey.set(key, { rank: -1, message });
      continue;
    }
    // instancePath is "/<field>": registry names are camelCase, never escaped in a JSON pointer.
    const key = e.instancePath.slice(1);
    const f = fields.get(key);
    if (!f) continue;
    const rank = rankOf(e.keyword);
    const seen = byKey.get(key);
    if (!seen || rank < seen.rank) byKey.set(key, { rank, message: fieldIssueMessage(f, e.keyword, data[key]) });
  }
  const issues: DataIssue[] = [];
  for (const key of Object.keys(data)) {
    const found = byKey.get(key);
    if (found) issues.push({ key, message: found.message });
  }
  if (shape === 'create') {
    for (const f of def.fields) {
      if (f.required && (missing.has(f.name) || data[f.name] === null)) issues.push({ key: f.name, message: `${f.name} is required` });
    }
  }
  return issues;
}
