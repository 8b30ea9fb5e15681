import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DatabasePlan, DatabaseRoles, ledgerDatabasePlan, createDataSource, dropDatabase, ensureDatabase, ensureRoles, migrate, withCredentials, withDatabase } from '@clinisync/persistence';

export const TEST_ROLES: DatabaseRoles = {
  app: { user: 'clinisync_app', password: 'clinisync_app_dev' },
  relay: { user: 'clinisync_relay', password: 'clinisync_relay_dev' },
};

export interface TestDatabase {
  ownerUrl: string;
  appUrl: string;
  relayUrl: string;
  /** A connection as the non-owner app role (RLS applies). */
  appDataSource(): Promise<DataSource>;
  ownerDataSource(): Promise<DataSource>;
  drop(): Promise<void>;
}

/**
 * A fresh database (own name) on the test Postgres with the given plans migrated, after the
 * shared mutation ledger every module writes (unless `plans` is empty). Real SQL, real RLS.
 */
export async function createTestDatabase(requested: DatabasePlan[]): Promise<TestDatabase> {
  const plans = requested.length === 0 || requested.includes(ledgerDatabasePlan) ? requested : [ledgerDatabasePlan, ...requested];
  const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const ownerUrl = withDatabase(base, `clinisync_t_${randomBytes(5).toString('hex')}`);
  await ensureDatabase(ownerUrl);
  await ensureRoles(ownerUrl, TEST_ROLES);
  await migrate(ownerUrl, plans, TEST_ROLES);
  const opened: DataSource[] = [];
  const open = async (url: string) => {
    const ds = await createDataSource({ url, applicationName: 'test', poolSize: 5 }).initialize();
    opened.push(ds);
    return ds;
  };
  const appUrl = withCredentials(ownerUrl, TEST_ROLES.app.user, TEST_ROLES.app.password);
  return {
    ownerUrl,
    appUrl,
    relayUrl: withCredentials(ownerUrl, TEST_ROLES.relay.user, TEST_ROLES.relay.password),
    appDataSource: () => open(appUrl),
    ownerDataSource: () => open(ownerUrl),
    drop: async () => {
      await Promise.all(opened.map((d) => (d.isInitialized ? d.destroy() : undefined)));
      await dropDatabase(ownerUrl);
    },
  };
}
