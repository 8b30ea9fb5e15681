import { ApiErrorDetail, Mutation } from '@clinisync/contracts';
import { EntityDef, FieldDef, findEntity } from './registry';

/** Fields the server owns; a client may never set them. */
export const SYSTEM_FIELDS = ['id', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'tenantId'] as const;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_STRING = 1_000;
const MAX_TEXT = 20_000;

function validDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Checks one value against its field definition; returns a message or undefined. */
export function checkFieldValue(def: FieldDef, value: unknown): string | undefined {
  if (value === null) return def.required ? `${def.name} is required and cannot be null` : undefined;
  switch (def.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string') return `${def.name} must be a string`;
      const max = def.type === 'string' ? MAX_STRING : MAX_TEXT;
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
      return typeof value === 'string' && (def.values ?? []).includes(value)
        ? undefined
        : `${def.name} must be one of ${(def.values ?? []).join(', ')}`;
  }
}

/**
 * Validates a mutation's entity and `data` against the registry. Paths are relative to the
 * mutation (`entity`, `data.givenName`, `changedFields[1]`); the caller prefixes them.
 */
export function validateMutationData(mutation: Mutation): ApiErrorDetail[] {
  const def = findEntity(mutation.entity);
  if (!def) return [{ path: 'entity', message: `unknown entity "${mutation.entity}"` }];
  if (mutation.op === 'delete') return [];
  const issues: ApiErrorDetail[] = [];
  const data = mutation.data;
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
    return [{ path: 'data', message: `data is required for ${mutation.op}` }];
  }
  const fieldsByName = new Map(def.fields.map((f) => [f.name, f]));
  for (const [key, value] of Object.entries(data)) {
    if ((SYSTEM_FIELDS as readonly string[]).includes(key)) {
      if (key !== 'tenantId') issues.push({ path: `data.${key}`, message: `${key} is managed by the server` });
      continue;
    }
    const f = fieldsByName.get(key);
    if (!f) {
      issues.push({ path: `data.${key}`, message: `unknown field "${key}" for entity ${def.name}` });
      continue;
    }
    const problem = checkFieldValue(f, value);
    if (problem) issues.push({ path: `data.${key}`, message: problem });
  }
  if (mutation.op === 'create') {
    for (const f of def.fields) {
      if (f.required && (data[f.name] === undefined || data[f.name] === null)) {
        issues.push({ path: `data.${f.name}`, message: `${f.name} is required` });
      }
    }
  } else {
    const changed = mutation.changedFields ?? Object.keys(data);
    if (changed.length === 0) issues.push({ path: 'data', message: 'an update must change at least one field' });
    changed.forEach((name, i) => {
      if (!(name in data)) {
        issues.push({ path: `changedFields[${i}]`, message: `changed field "${name}" is missing from data` });
      } else if (!fieldsByName.has(name) && !(SYSTEM_FIELDS as readonly string[]).includes(name)) {
        issues.push({ path: `changedFields[${i}]`, message: `unknown field "${name}" for entity ${def.name}` });
      }
    });
  }
  return issues;
}

export function changedFieldsOf(mutation: Pick<Mutation, 'op' | 'data' | 'changedFields'>, def: EntityDef): string[] {
  if (mutation.op === 'delete') return [];
  const names = mutation.changedFields ?? Object.keys(mutation.data ?? {});
  const known = new Set(def.fields.map((f) => f.name));
  return [...new Set(names)].filter((n) => known.has(n));
}
