/**
 * The platform a benchmark measures: a fresh database, a private JetStream server and the real
 * compiled sync-ingest and patients processes (from dist/, run `npm run build` first), so peak
 * RSS can be read per process. Shared by bench:push and bench:pull.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DevIssuerKeys, ensureDevIssuerKeys } from '@clinisync/auth';
import { PLATFORM_PLANS } from '../platform-plans';
import { TEST_ROLES, TestDatabase, createTestDatabase } from '../../test/support/database';
import { TestNats, freePort, startTestNats } from '../../test/support/nats-server';

const ROOT = resolve(__dirname, '..', '..');

export interface BenchPlatform {
  db: TestDatabase;
  nats: TestNats;
  keys: DevIssuerKeys;
  ingestUrl: string;
  /** Peak resident set size (VmHWM) of sync-ingest so far, in MB. */
  ingestPeakRssMb(): number;
  stop(): Promise<void>;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`service on ${port} did not become ready`);
}

export async function startBenchPlatform(): Promise<BenchPlatform> {
  const db = await createTestDatabase(PLATFORM_PLANS);
  const nats = await startTestNats();
  const issuerDir = mkdtempSync(join(tmpdir(), 'clinisync-bench-'));
  const keys = await ensureDevIssuerKeys(issuerDir);
  const [ingestPort, patientsPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.ownerUrl,
    DATABASE_APP_USER: TEST_ROLES.app.user,
    DATABASE_APP_PASSWORD: TEST_ROLES.app.password,
    DATABASE_RELAY_USER: TEST_ROLES.relay.user,
    DATABASE_RELAY_PASSWORD: TEST_ROLES.relay.password,
    NATS_URL: nats.url,
    AUTH_DEV_ISSUER_DIR: issuerDir,
    MODULE_PATIENTS_URL: `http://127.0.0.1:${patientsPort}`,
    DB_POOL_SIZE: '20',
  };
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the services.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const children: ChildProcess[] = [];
  const run = (name: string, port: number) => {
    const c = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/tools/runtime/run-service.js'), name], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(c);
    return c;
  };
  const stop = async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await nats.dispose();
    await db.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  };
  try {
    run('patients', patientsPort);
    const ingest = run('sync-ingest', ingestPort);
    await Promise.all([waitReady(patientsPort), waitReady(ingestPort)]);
    return { db, nats, keys, ingestUrl: `http://127.0.0.1:${ingestPort}`, ingestPeakRssMb: () => peakRssMb(ingest.pid as number), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
