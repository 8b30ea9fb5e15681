import { execFileSync } from 'node:child_process';

/**
 * Where integration and e2e tests find Postgres: DATABASE_URL if set; else a testcontainers
 * Postgres when a Docker engine answers; else the local server on 127.0.0.1:5432. NATS servers
 * are started per suite (see nats-server.ts), so streams never collide between suites.
 */
function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  if (dockerAvailable()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PostgreSqlContainer } = require('@testcontainers/postgresql') as typeof import('@testcontainers/postgresql');
    const pg = await new PostgreSqlContainer('postgres:16-alpine').withUsername('postgres').withPassword('postgres').start();
    process.env.DATABASE_URL = pg.getConnectionUri();
    (globalThis as { __PG_CONTAINER__?: { stop(): Promise<unknown> } }).__PG_CONTAINER__ = pg;
    if (!process.env.NATS_URL) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { GenericContainer } = require('testcontainers') as typeof import('testcontainers');
      const nats = await new GenericContainer('nats:2.10').withCommand(['-js']).withExposedPorts(4222).start();
      process.env.NATS_URL = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
      (globalThis as { __NATS_CONTAINER__?: { stop(): Promise<unknown> } }).__NATS_CONTAINER__ = nats;
    }
    return;
  }
  process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
}
