/**
 * `npm run migrate [-- --down <service>]`: creates the database and the non-owner roles, runs
 * every service's pending migrations as the owner and applies grants. `--down` reverts the
 * last migration of one service.
 */
import 'reflect-metadata';
import { CommonConfig, loadConfig } from '@clinisync/observability';
import { DatabaseRoles, ensureDatabase, ensureRoles, migrate, revertLastMigration } from '@clinisync/persistence';
import { PLATFORM_PLANS } from '../platform-plans';

export function rolesFrom(config: CommonConfig): DatabaseRoles {
  return {
    app: { user: config.DATABASE_APP_USER, password: config.DATABASE_APP_PASSWORD },
    relay: { user: config.DATABASE_RELAY_USER, password: config.DATABASE_RELAY_PASSWORD },
  };
}

export async function migratePlatform(config: CommonConfig, log: (line: string) => void = () => undefined): Promise<void> {
  await ensureDatabase(config.DATABASE_URL);
  const roles = rolesFrom(config);
  await ensureRoles(config.DATABASE_URL, roles);
  const applied = await migrate(config.DATABASE_URL, PLATFORM_PLANS, roles);
  log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

async function main(): Promise<void> {
  // migrate never connects to NATS: production needs no NATS credential here.
  const config = loadConfig(CommonConfig, process.env, { nats: false });
  const downIdx = process.argv.indexOf('--down');
  if (downIdx >= 0) {
    const service = process.argv[downIdx + 1];
    const plan = PLATFORM_PLANS.find((p) => p.service === service);
    if (!plan) throw new Error(`--down needs one of: ${PLATFORM_PLANS.map((p) => p.service).join(', ')}`);
    await revertLastMigration(config.DATABASE_URL, plan);
    console.log(`reverted the last migration of ${service}`);
    return;
  }
  await migratePlatform(config, (l) => console.log(l));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`migrate failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
