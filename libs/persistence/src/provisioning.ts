import { Client } from 'pg';
import { MigrationInterface } from 'typeorm';
import { createDataSource, databaseName, withDatabase } from './data-source';

export interface DatabaseRoles {
  app: { user: string; password?: string };
  relay: { user: string; password?: string };
}

/**
 * What one service owns in the database: its schema, its migrations (run as the owner) and
 * the grants/policies that give the non-owner roles exactly the access they need.
 */
export interface DatabasePlan {
  service: string;
  schema: string;
  migrations: (new () => MigrationInterface)[];
  /** Idempotent statements run after migrations (grants and role-specific policies). */
  access(roles: DatabaseRoles): string[];
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in `ownerUrl` if it does not exist (connecting to `postgres`). */
export async function ensureDatabase(ownerUrl: string): Promise<void> {
  const name = databaseName(ownerUrl);
  await withClient(withDatabase(ownerUrl, 'postgres'), async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    try {
      await c.query(`CREATE DATABASE ${ident(name)}`);
    } catch (e) {
      if ((e as { code?: string }).code !== '42P04') throw e; // created concurrently
    }
  });
}

export async function dropDatabase(ownerUrl: string): Promise<void> {
  const name = databaseName(ownerUrl);
  await withClient(withDatabase(ownerUrl, 'postgres'), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  });
}

/** Creates (or fixes) the login roles the services use: never superuser, never BYPASSRLS. */
export async function ensureRoles(ownerUrl: string, roles: DatabaseRoles): Promise<void> {
  await withClient(ownerUrl, async (c) => {
    for (const role of [roles.app, roles.relay]) {
      await c.query(
        `DO $$ BEGIN CREATE ROLE ${ident(role.user)}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
      );
      const password = role.password ? `PASSWORD ${literal(role.password)}` : 'PASSWORD NULL';
      await c.query(`ALTER ROLE ${ident(role.user)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE ${password}`);
    }
  });
}

function migrationsTable(plan: DatabasePlan): string {
  return `${plan.schema}_migrations`;
}

/** Runs pending migrations of each plan as the owner, then applies its access statements. */
export async function migrate(ownerUrl: string, plans: DatabasePlan[], roles: DatabaseRoles): Promise<string[]> {
  const applied: string[] = [];
  for (const plan of plans) {
    const ds = createDataSource({
      url: ownerUrl,
      applicationName: `migrate:${plan.service}`,
      poolSize: 1,
      migrations: plan.migrations,
      migrationsTableName: migrationsTable(plan),
    });
    await ds.initialize();
    try {
      const ran = await ds.runMigrations({ transaction: 'each' });
      applied.push(...ran.map((m) => `${plan.service}: ${m.name}`));
      for (const sql of plan.access(roles)) await ds.query(sql);
    } finally {
      await ds.destroy();
    }
  }
  return applied;
}

/** Reverts the most recent migration of a plan (migrations are reversible). */
export async function revertLastMigration(ownerUrl: string, plan: DatabasePlan): Promise<void> {
  const ds = createDataSource({
    url: ownerUrl,
    applicationName: `migrate:${plan.service}`,
    poolSize: 1,
    migrations: plan.migrations,
    migrationsTableName: migrationsTable(plan),
  });
  await ds.initialize();
  try {
    await ds.undoLastMigration({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

/** SQL that FORCEs tenant Row-Level Security on a table whose rows carry `tenant_id`. */
export function tenantRlsStatements(table: string): string[] {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  ];
}

/** Standard grants: the app role may read and write every table of the schema, nothing more. */
export function appGrants(schema: string, roles: DatabaseRoles): string[] {
  const app = ident(roles.app.user);
  return [
    `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${app}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${ident(schema)} TO ${app}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${ident(schema)} TO ${app}`,
  ];
}

/**
 * The outbox relay publishes every tenant's events: it may read and mark the outbox of
 * `schema` across tenants, and nothing else.
 */
export function relayGrants(schema: string, roles: DatabaseRoles, outboxTable = 'outbox'): string[] {
  const relay = ident(roles.relay.user);
  const table = `${ident(schema)}.${ident(outboxTable)}`;
  return [
    `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${relay}`,
    `GRANT SELECT, UPDATE, DELETE ON ${table} TO ${relay}`,
    `DROP POLICY IF EXISTS relay_access ON ${table}`,
    `CREATE POLICY relay_access ON ${table} TO ${relay} USING (true) WITH CHECK (true)`,
  ];
}
