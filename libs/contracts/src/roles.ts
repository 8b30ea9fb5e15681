/** Roles a token may carry (ARCHITECTURE.md, RBAC table). */
export const ROLES = ['clerk', 'nurse', 'clinician', 'pharmacist', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Licence that unlocks controlled-substance dispensing for pharmacists. */
export const LICENCE_CONTROLLED_SUBSTANCES = 'controlled-substances';

/** Facility wildcard: every facility of the tenant. */
export const ALL_FACILITIES = '*';
