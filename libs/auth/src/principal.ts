import { ALL_FACILITIES, Role, isRole } from '@clinisync/contracts';
import { AuthError } from './auth.errors';

/** The authenticated caller. Tenant, roles, facilities and licences come from the token only. */
export interface Principal {
  sub: string;
  tenantId: string;
  roles: Role[];
  facilities: string[];
  licences: string[];
}

/** Tenant ids become NATS subject tokens and cursor parts: keep them to a safe alphabet. */
export const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function stringArray(value: unknown, claim: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new AuthError(`claim "${claim}" must be an array of strings`);
  }
  return value as string[];
}

/** Builds a principal from verified JWT claims (PROTOCOL.md "Identity"). */
export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const { sub, tid } = claims;
  if (typeof sub !== 'string' || sub === '') throw new AuthError('claim "sub" is required');
  if (typeof tid !== 'string' || !TENANT_ID.test(tid)) throw new AuthError('claim "tid" (tenant) is required: letters, digits, _ or -');
  const roles = stringArray(claims.roles, 'roles');
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length > 0) throw new AuthError(`unknown role(s): ${unknown.join(', ')}`);
  const lic = typeof claims.lic === 'string' ? [claims.lic] : stringArray(claims.lic, 'lic');
  return { sub, tenantId: tid, roles: roles as Role[], facilities: stringArray(claims.facilities, 'facilities'), licences: lic };
}

export function worksAtFacility(p: Principal, facilityId: string): boolean {
  return p.facilities.includes(ALL_FACILITIES) || p.facilities.includes(facilityId);
}
