import { ApiErrorDetail, Mutation } from '@clinisync/contracts';
import { EntityDef, FieldDef, findEntity } from './registry';
import { MAX_STRING_LENGTH, MAX_TEXT_LENGTH, SYSTEM_FIELDS, compiledEntitySchema, dataIssues, fieldTypeMessage, isDate, isDateTime, isUuid } from './entity-schema';

export { SYSTEM_FIELDS } from './entity-schema';

/**
 * Checks one value against its field definition; returns a message or undefined. The same rule
 * as the generated JSON Schema (entity-schema.ts), for callers holding one value (the SDK's
 * write transactions); a property test keeps the two in agreement.
 */
export function checkFieldValue(def: FieldDef, value: unknown): string | undefined {
  if (value === null) return def.required ? `${def.name} is required and cannot be null` : undefined;
  const wrongType = fieldTypeMessage(def.name, def.type, def.values);
  switch (def.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string') return wrongType;
      const max = def.type === 'string' ? MAX_STRING_LENGTH : MAX_TEXT_LENGTH;
      if (value.length > max) return `${def.name} must be at most ${max} characters`;
      if (def.required && value.trim() === '') return `${def.name} must not be empty`;
      return undefined;
    }
    case 'uuid':
      return typeof value === 'string' && isUuid(value) ? undefined : wrongType;
    case 'date':
      return typeof value === 'string' && isDate(value) ? undefined : wrongType;
    case 'datetime':
      return typeof value === 'string' && isDateTime(value) ? undefined : wrongType;
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : wrongType;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : wrongType;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : wrongType;
    case 'enum':
      return typeof value === 'string' && (def.values ?? []).includes(value) ? undefined : wrongType;
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
  // data against the entity's JSON Schema (ajv, compiled once per entity and shape).
  const shape = mutation.op === 'create' ? 'create' : 'update';
  const schema = compiledEntitySchema(def, shape);
  if (!schema.validate(data)) {
    for (const issue of dataIssues(def, shape, data, schema.validate.errors ?? [], schema.fields)) {
      issues.push({ path: `data.${issue.key}`, message: issue.message });
    }
  }
  const fieldsByName = schema.fields;
  if (mutation.op !== 'create') {
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
