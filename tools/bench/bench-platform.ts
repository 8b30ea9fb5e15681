/**
 * The platform a benchmark measures: a fresh database, a private JetStream server and the real
 * compiled sync-ingest and patients processes (from dist/, run `npm run build` first), so peak
 * RSS can be read per process. Shared by bench:push and bench:pull.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { DevIssuerKeys, ensureDevIssuerKeys } from '@clinisync/auth';
import { PLATFORM_PLANS } from '../platform-plans';
import { serviceNodeArgs } from '../runtime/service-node-args';
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
  /**
   * Runs `work` and adds the CPU seconds each part used meanwhile to `into`: the services, the
   * private nats-server, the Postgres backends of the bench database (when Postgres runs on
   * this machine) and the bench client itself.
   */
  measureCpu<T>(into: Map<string, number>, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

type CpuReading = Map<string, number>;

// USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux this runs on.
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process, in seconds (undefined once it is gone or not on this machine). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Adds the CPU used between two readings to `into`, per part; Postgres backends that ended meanwhile are not counted. */
function addCpuBetween(into: Map<string, number>, before: CpuReading, after: CpuReading): void {
  for (const [key, t] of after) {
    const part = key.split('#')[0];
    into.set(part, (into.get(part) ?? 0) + t - (before.get(key) ?? 0));
  }
}

/**
 * CPU per item by part, in µs: where the time of a 2-core machine goes (Postgres backends are
 * counted only when Postgres runs on this machine).
 */
export function perItem(cpu: Map<string, number>, items: number, only?: string[]): string {
  const parts = [...cpu].filter(([part]) => !only || only.includes(part));
  const us = (s: number) => `${((s * 1e6) / items).toFixed(0)} µs`;
  const sum = parts.reduce((a, [, s]) => a + s, 0);
  return `${parts.map(([part, s]) => `${part} ${us(s)}`).join(', ')}; total ${us(sum)}`;
}

function isLocalPostgres(pid: number): boolean {
  try {
    return /postgres/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
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
    // Not production: that refuses the dev issuer and test roles the bench runs with.
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.ownerUrl,
    DATABASE_APP_USER: TEST_ROLES.app.user,
    DATABASE_APP_PASSWORD: TEST_ROLES.app.password,
    DATABASE_RELAY_USER: TEST_ROLES.relay.user,
    DATABASE_RELAY_PASSWORD: TEST_ROLES.relay.password,
    NATS_URL: nats.url,
    AUTH_DEV_ISSUER_DIR: issuerDir,
    MODULE_PATIENTS_URL: `http://127.0.0.1:${patientsPort}`,
    DB_POOL_SIZE: process.env.DB_POOL_SIZE ?? '20',
  };
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the services.
  // BENCH_NODE_ARGS_<SERVICE> (PATIENTS, SYNC_INGEST) adds options for one service only.
  const nodeArgs = (name: string) =>
    [process.env.BENCH_NODE_ARGS, process.env[`BENCH_NODE_ARGS_${name.toUpperCase().replace('-', '_')}`]].join(' ').split(' ').filter(Boolean);
  const children: ChildProcess[] = [];
  const run = (name: string, port: number) => {
    const c = spawn(process.execPath, [...serviceNodeArgs(name, env), ...nodeArgs(name), join(ROOT, 'dist/tools/runtime/run-service.js'), name], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', process.env.BENCH_SERVICE_STDOUT ? 'inherit' : 'ignore', 'inherit'],
    });
    children.push(c);
    return c;
  };
  const activity = new Pool({ connectionString: db.ownerUrl, max: 1 });
  const stop = async () => {
    await activity.end();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await nats.dispose();
    await db.drop();
    rmSync(issuerDir, { recursive: true, force: true });
  };
  try {
    const patients = run('patients', patientsPort);
    const ingest = run('sync-ingest', ingestPort);
    await Promise.all([waitReady(patientsPort), waitReady(ingestPort)]);
    const services = { 'sync-ingest': ingest.pid, patients: patients.pid };
    const cpuSeconds = async (): Promise<CpuReading> => {
      const reading: CpuReading = new Map();
      const add = (key: string, pid: number | undefined) => {
        const t = pid === undefined ? undefined : processCpuSeconds(pid);
        if (t !== undefined) reading.set(key, t);
      };
      for (const [name, pid] of Object.entries(services)) add(name, pid);
      add('nats', nats.pid());
      // A backend pid names a local process only when Postgres runs on this machine.
      const backends = await activity.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
      for (const { pid } of backends.rows) if (isLocalPostgres(pid)) add(`postgres#${pid}`, pid);
      return reading;
    };
    const measureCpu = async <T>(into: Map<string, number>, work: () => Promise<T>): Promise<T> => {
      const [before, client] = [await cpuSeconds(), process.cpuUsage()];
      const result = await work();
      const clientUsed = process.cpuUsage(client);
      addCpuBetween(into, before, await cpuSeconds());
      into.set('bench client', (into.get('bench client') ?? 0) + (clientUsed.user + clientUsed.system) / 1e6);
      return result;
    };
    return { db, nats, keys, ingestUrl: `http://127.0.0.1:${ingestPort}`, ingestPeakRssMb: () => peakRssMb(ingest.pid as number), measureCpu, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
