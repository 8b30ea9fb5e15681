import { findEntity, getEntity, referenceFields } from '@clinisync/sync-core';
import { LocalStore } from './local-store';

export interface IntegrityViolation {
  entity: string;
  id: string;
  field: string;
  references: string;
  missingId: string;
}

/**
 * The relations the gate checks for `entity`: required references to an entity of the same
 * module (the registry's relation graph). References across modules are not checked: another
 * module's records may legitimately not be stored on this device.
 */
export function gatedReferences(entity: string): { field: string; references: string }[] {
  const def = getEntity(entity);
  return referenceFields(def)
    .filter((f) => f.required && findEntity(f.references as string)?.module === def.module)
    .map((f) => ({ field: f.name, references: f.references as string }));
}

/**
 * Post-apply integrity gate: every live record touched by a pulled page must have its required
 * same-module parents stored locally (tombstones count: the server keeps them too). Returns the
 * violations; the caller rolls the page back and keeps the cursor when there are any.
 */
export function checkIntegrity(
  store: LocalStore,
  touched: ReadonlyMap<string, ReadonlySet<string>>,
): IntegrityViolation[] {
  const violations: IntegrityViolation[] = [];
  for (const [entity, ids] of touched) {
    if (ids.size === 0) continue;
    for (const rel of gatedReferences(entity)) {
      for (const o of store.findOrphans(entity, rel.field, rel.references, [...ids])) {
        violations.push({
          entity,
          id: o.id,
          field: rel.field,
          references: rel.references,
          missingId: o.missingId,
        });
      }
    }
  }
  return violations;
}
