import { DatabasePlan, DatabaseRoles } from '@clinisync/persistence';
import { CreateAuditSchema1763856000000 } from './migrations/1763856000000-create-audit-schema';

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Exactly the access the audit service needs: it appends and reads events (never updates or
 * deletes them) and moves each tenant's chain head. Re-runnable: everything is revoked first.
 */
export function auditGrants(roles: DatabaseRoles): string[] {
  const app = ident(roles.app.user);
  return [
    `REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM ${app}`,
    `GRANT USAGE ON SCHEMA audit TO ${app}`,
    `GRANT SELECT, INSERT ON audit.audit_events TO ${app}`,
    `GRANT SELECT, INSERT, UPDATE ON audit.chain_heads TO ${app}`,
  ];
}

/** The audit schema, its migrations and the access of the app role (the relay role gets none). */
export const auditDatabasePlan: DatabasePlan = {
  service: 'audit',
  schema: 'audit',
  migrations: [CreateAuditSchema1763856000000],
  access: auditGrants,
};
