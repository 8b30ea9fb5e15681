import { DataSource, MigrationInterface } from 'typeorm';

export interface DataSourceOptions {
  url: string;
  applicationName: string;
  poolSize?: number;
  migrations?: (new () => MigrationInterface)[];
  migrationsTableName?: string;
}

/** A TypeORM data source over pg. Schema changes only ever come from explicit migrations. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    applicationName: options.applicationName,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    entities: [],
    migrations: options.migrations ?? [],
    migrationsTableName: options.migrationsTableName,
    migrationsTransactionMode: 'each',
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  });
}

/** The same server and database as `url`, connecting as another user. */
export function withCredentials(url: string, user: string, password: string | undefined): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = password ? encodeURIComponent(password) : '';
  return u.toString();
}

/** The same server with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** The database settings every service reads from its validated environment. */
export interface DatabaseEnv {
  DATABASE_URL: string;
  DATABASE_APP_USER: string;
  DATABASE_APP_PASSWORD?: string;
  DATABASE_RELAY_USER: string;
  DATABASE_RELAY_PASSWORD?: string;
}

/**
 * An initialised data source connecting as one of the non-owner roles: `app` (tenant-scoped by
 * RLS) or `relay` (reads outboxes across tenants, nothing else).
 */
export function connectAs(env: DatabaseEnv, role: 'app' | 'relay', applicationName: string, poolSize: number): Promise<DataSource> {
  const [user, password] = role === 'app' ? [env.DATABASE_APP_USER, env.DATABASE_APP_PASSWORD] : [env.DATABASE_RELAY_USER, env.DATABASE_RELAY_PASSWORD];
  return createDataSource({ url: withCredentials(env.DATABASE_URL, user, password), applicationName, poolSize }).initialize();
}
