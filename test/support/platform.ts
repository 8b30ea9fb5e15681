import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DevIssuerKeys, ensureDevIssuerKeys, signDevToken, DevTokenClaims } from '@clinisync/auth';
import { startModuleService } from '@clinisync/module-runtime';
import { PatientsAppModule } from '../../services/patients/src/app.module';
import { patientsConfig } from '../../services/patients/src/config';
import { PharmacyAppModule } from '../../services/pharmacy/src/app.module';
import { pharmacyConfig } from '../../services/pharmacy/src/config';
import { InventoryAppModule } from '../../services/inventory/src/app.module';
import { inventoryConfig } from '../../services/inventory/src/config';
import { createSyncIngestApp } from '../../services/sync-ingest/src/bootstrap';
import { syncIngestConfig } from '../../services/sync-ingest/src/config';
import { PLATFORM_PLANS } from '../../tools/platform-plans';
import { TEST_ROLES, TestDatabase, createTestDatabase } from './database';
import { TestNats, freePort, startTestNats } from './nats-server';

export interface Platform {
  baseUrl: string;
  db: TestDatabase;
  nats: TestNats;
  keys: DevIssuerKeys;
  env: Record<string, string>;
  token(claims?: Partial<DevTokenClaims>): Promise<string>;
  /** Replaces the in-process patients service with a child process (e.g. with a failpoint). */
  runPatientsAsProcess(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  stopPatients(): Promise<void>;
  startPatients(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');

/**
 * The whole push path for real: a fresh database, a private JetStream server, the patients,
 * pharmacy and inventory modules and sync-ingest as Nest apps over HTTP and NATS. Nothing is mocked.
 */
export async function startPlatform(envOverrides: Record<string, string> = {}): Promise<Platform> {
  const db = await createTestDatabase(PLATFORM_PLANS);
  const nats = await startTestNats();
  const issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-issuer-'));
  const keys = await ensureDevIssuerKeys(issuerDir);
  const patientsPort = await freePort();
  const pharmacyPort = await freePort();
  const inventoryPort = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: db.ownerUrl,
    DATABASE_APP_USER: TEST_ROLES.app.user,
    DATABASE_APP_PASSWORD: TEST_ROLES.app.password ?? '',
    DATABASE_RELAY_USER: TEST_ROLES.relay.user,
    DATABASE_RELAY_PASSWORD: TEST_ROLES.relay.password ?? '',
    NATS_URL: nats.url,
    AUTH_DEV_ISSUER_DIR: issuerDir,
    MODULE_PATIENTS_URL: `http://127.0.0.1:${patientsPort}`,
    MODULE_PHARMACY_URL: `http://127.0.0.1:${pharmacyPort}`,
    MODULE_INVENTORY_URL: `http://127.0.0.1:${inventoryPort}`,
    MODULE_RPC_TIMEOUT_MS: '5000',
    OUTBOX_POLL_MS: '50',
    DB_POOL_SIZE: '10',
    ...envOverrides,
  };
  let patients: INestApplication | undefined;
  let patientsProcess: ChildProcess | undefined;
  const startPatients = async () => {
    const config = patientsConfig({ ...env, PORT: String(patientsPort) });
    patients = await startModuleService('patients', PatientsAppModule.forRoot(config), config);
  };
  const stopPatients = async () => {
    await patients?.close();
    patients = undefined;
    if (patientsProcess && patientsProcess.exitCode === null) {
      const exited = new Promise((r) => patientsProcess?.once('exit', r));
      patientsProcess.kill('SIGTERM');
      await exited;
    }
    patientsProcess = undefined;
  };
  await startPatients();
  const pharmacyCfg = pharmacyConfig({ ...env, PORT: String(pharmacyPort) });
  const pharmacy = await startModuleService('pharmacy', PharmacyAppModule.forRoot(pharmacyCfg), pharmacyCfg);
  const inventoryCfg = inventoryConfig({ ...env, PORT: String(inventoryPort) });
  const inventory = await startModuleService('inventory', InventoryAppModule.forRoot(inventoryCfg), inventoryCfg);
  const ingest = await createSyncIngestApp(syncIngestConfig(env));
  await ingest.listen(0, '127.0.0.1');
  const port = (ingest.getHttpServer().address() as { port: number }).port;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    nats,
    keys,
    env,
    token: (claims = {}) =>
      signDevToken(keys, { sub: 'u-1', tenantId: 't1', roles: ['nurse'], facilities: ['f-1'], ...claims }),
    startPatients,
    stopPatients,
    runPatientsAsProcess: async (extraEnv = {}) => {
      await stopPatients();
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'services/patients/src/main.ts')],
        { cwd: ROOT, env: { ...process.env, ...env, PORT: String(patientsPort), ...extraEnv }, stdio: 'ignore' },
      );
      patientsProcess = child;
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        try {
          if ((await fetch(`http://127.0.0.1:${patientsPort}/health/ready`)).ok) return child;
        } catch {
          // starting
        }
        if (child.exitCode !== null) throw new Error(`patients process exited with ${child.exitCode}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('patients process did not become ready');
    },
    stop: async () => {
      await ingest.close();
      await stopPatients();
      await pharmacy.close();
      await inventory.close();
      await nats.dispose();
      await db.drop();
      rmSync(issuerDir, { recursive: true, force: true });
    },
  };
}
