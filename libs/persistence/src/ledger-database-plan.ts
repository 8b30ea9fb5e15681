import { CreateMutationLedger1796601600000 } from './migrations/1796601600000-create-mutation-ledger';
import { DatabasePlan, DatabaseRoles } from './provisioning';

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The mutation ledger is shared by every module (one key is one mutation across modules), so
 * it is its own plan, migrated before the services'. The app role reads and appends it (under
 * RLS); the relay reads every tenant's change events and moves its own positions.
 */
export const ledgerDatabasePlan: DatabasePlan = {
  service: 'ledger',
  schema: 'sync_ledger',
  migrations: [CreateMutationLedger1796601600000],
  access: (roles: DatabaseRoles) => {
    const app = ident(roles.app.user);
    const relay = ident(roles.relay.user);
    return [
      `GRANT USAGE ON SCHEMA sync_ledger TO ${app}, ${relay}`,
      `GRANT SELECT, INSERT ON sync_ledger.mutations TO ${app}`,
      `GRANT SELECT ON sync_ledger.mutations TO ${relay}`,
      `DROP POLICY IF EXISTS relay_access ON sync_ledger.mutations`,
      `CREATE POLICY relay_access ON sync_ledger.mutations FOR SELECT TO ${relay} USING (true)`,
      `GRANT SELECT, INSERT, UPDATE ON sync_ledger.relay_positions TO ${relay}`,
      // Retention (LedgerRetention) expires old, published rows of every tenant.
      `GRANT DELETE ON sync_ledger.mutations TO ${relay}`,
      `DROP POLICY IF EXISTS relay_retention ON sync_ledger.mutations`,
      `CREATE POLICY relay_retention ON sync_ledger.mutations FOR DELETE TO ${relay} USING (true)`,
    ];
  },
};
