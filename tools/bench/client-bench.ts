/**
 * `npm run bench:client`: the client SDK's costs, as figures (not assertions).
 * 1. Local writes/s through `client.write` (record + outbox entry in one SQLite transaction,
 *    registry validation, UUIDv7 ids) against plain better-sqlite3 INSERTs of the same rows into
 *    a table with the same columns, same pragmas (WAL, synchronous=NORMAL), same run. Two
 *    granularities: one row per transaction, and 100 rows per transaction. Target ratio >= 0.5.
 * 2. Time to push 10,000 queued local mutations through a running platform (CLINISYNC_URL,
 *    default http://127.0.0.1:3100; tokens from the dev issuer in AUTH_DEV_ISSUER_DIR, default
 *    .data/dev-issuer). Skipped, with a message, when no platform answers.
 * Env: BENCH_WRITES (default 20000), BENCH_PUSH (default 10000).
 * Without `npm start`, a private platform: `node -r ts-node/register/transpile-only -r
 * tsconfig-paths/register libs/sync-client/test/serve-platform.ts` prints the URL and issuer dir.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { loadDevIssuerKeys, signDevToken } from '@clinisync/auth';
import { SyncClient, SyncReport, entityTableDdl } from '@clinisync/sync-client';
import { getEntity } from '@clinisync/sync-core';

const WRITES = Number(process.env.BENCH_WRITES ?? 20_000);
const PUSH = Number(process.env.BENCH_PUSH ?? 10_000);
const BASE_URL = (process.env.CLINISYNC_URL ?? 'http://127.0.0.1:3100').replace(/\/+$/, '');
const ROOT = resolve(__dirname, '..', '..');

type Row = Record<string, string>;

function rows(n: number, offset = 0): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    givenName: `Bench${i + offset}`,
    familyName: 'Patient',
    sex: i % 2 ? 'female' : 'male',
    dateOfBirth: '1990-01-01',
    phone: `+2547${String(i + offset).padStart(8, '0')}`,
    facilityId: 'f-1',
  }));
}

function rate(n: number, ms: number): number {
  return (n / ms) * 1000;
}

/** Plain better-sqlite3: the same table shape as the client's `patients` table, prepared INSERT. */
function plainStore(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const sql of entityTableDdl(getEntity('patients'))) db.exec(sql);
  const insert = db.prepare(
    `INSERT INTO patients (id, facility_id, given_name, family_name, sex, date_of_birth, phone, version, created_at, updated_at, _status, _changed)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 'created', 'facility_id,family_name,given_name,sex,date_of_birth,phone')`,
  );
  const one = (r: Row) => {
    const now = new Date().toISOString();
    insert.run(uuidv7(), r.facilityId, r.givenName, r.familyName, r.sex, r.dateOfBirth, r.phone, now, now);
  };
  const many = db.transaction((batch: Row[]) => {
    for (const r of batch) one(r);
  });
  return { one, many, close: () => db.close() };
}

async function localWrites(dir: string): Promise<string[]> {
  const out: string[] = [];
  const data = rows(WRITES);
  const warm = rows(2_000, WRITES);
  for (const [label, perTx] of [
    ['1 row per transaction', 1],
    ['100 rows per transaction', 100],
  ] as const) {
    const tag = perTx === 1 ? 'single' : 'batch';
    const client = SyncClient.open({
      database: join(dir, `client-${tag}.db`),
      baseUrl: 'http://127.0.0.1:9',
      token: async () => 'offline',
      deviceId: 'bench',
    });
    const plain = plainStore(join(dir, `plain-${tag}.db`));
    const runClient = async (input: Row[]) => {
      for (let i = 0; i < input.length; i += perTx) {
        const chunk = input.slice(i, i + perTx);
        await client.write((tx) => {
          for (const r of chunk) tx.create('patients', r);
        });
      }
    };
    const runPlain = (input: Row[]) => {
      for (let i = 0; i < input.length; i += perTx) {
        if (perTx === 1) plain.one(input[i]);
        else plain.many(input.slice(i, i + perTx));
      }
    };
    // Warm up both paths (JIT, statement caches), then measure, alternating halves to share noise.
    await runClient(warm);
    runPlain(warm);
    const half = Math.floor(data.length / 2);
    let clientMs = 0;
    let plainMs = 0;
    for (const part of [data.slice(0, half), data.slice(half)]) {
      let t = performance.now();
      runPlain(part);
      plainMs += performance.now() - t;
      t = performance.now();
      await runClient(part);
      clientMs += performance.now() - t;
    }
    const c = rate(data.length, clientMs);
    const p = rate(data.length, plainMs);
    out.push(
      `local writes (${label}): client.write ${c.toFixed(0)} rows/s, plain better-sqlite3 ${p.toFixed(0)} rows/s, ratio ${(c / p).toFixed(2)} (target >= 0.5)`,
    );
    if (client.status().pending !== data.length + warm.length)
      throw new Error('bench: outbox does not hold one entry per write');
    await client.close();
    plain.close();
  }
  return out;
}

async function reachable(): Promise<boolean> {
  try {
    const res = await fetch(`${BASE_URL}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function pushThroughPlatform(dir: string): Promise<string[]> {
  if (!(await reachable())) {
    return [
      `push ${PUSH} mutations: skipped, no platform answers at ${BASE_URL} (start one with \`npm start\` or set CLINISYNC_URL)`,
    ];
  }
  const issuerDir = resolve(ROOT, process.env.AUTH_DEV_ISSUER_DIR ?? '.data/dev-issuer');
  if (!existsSync(join(issuerDir, 'jwks.json'))) {
    return [
      `push ${PUSH} mutations: skipped, no dev issuer keys in ${issuerDir} (set AUTH_DEV_ISSUER_DIR to the platform's)`,
    ];
  }
  const keys = await loadDevIssuerKeys(issuerDir);
  const tenantId = `bench-${Date.now().toString(36)}`;
  const token = await signDevToken(keys, {
    sub: 'bench-client',
    tenantId,
    roles: ['nurse'],
    facilities: ['f-1'],
    issuer: process.env.AUTH_ISSUER,
    audience: process.env.AUTH_AUDIENCE,
  });
  let waitingMs = 0;
  const timedFetch = async (input: string, init?: RequestInit) => {
    const t = performance.now();
    try {
      const res = await fetch(input, init);
      await res.clone().arrayBuffer();
      return res;
    } finally {
      waitingMs += performance.now() - t;
    }
  };
  const client = SyncClient.open({
    database: join(dir, 'push.db'),
    baseUrl: BASE_URL,
    token: async () => token,
    deviceId: 'bench-tablet',
    fetch: timedFetch,
  });
  // Queue PUSH mutations offline: 60% patient creates, 40% visits of them.
  const patients = Math.ceil(PUSH * 0.6);
  const ids: string[] = [];
  await client.write((tx) => {
    for (const r of rows(patients)) ids.push(tx.create('patients', r));
    for (let i = 0; i < PUSH - patients; i++) {
      tx.create('visits', {
        patientId: ids[i % ids.length],
        facilityId: 'f-1',
        startedAt: '2026-11-21T09:00:00Z',
        reason: 'bench visit',
      });
    }
  });
  const queued = client.status().pending;
  const t0 = performance.now();
  let report: SyncReport;
  try {
    report = await client.sync({ pull: false });
  } catch (e) {
    await client.close();
    return [
      `push ${queued} mutations through ${BASE_URL}: failed: ${e instanceof Error ? e.message : String(e)}`,
    ];
  }
  const ms = performance.now() - t0;
  const r = report.push;
  await client.close();

  // A second device of the same tenant downloads what was pushed (first sync, pages of 1,000).
  const pushWaitMs = waitingMs;
  waitingMs = 0;
  const reader = SyncClient.open({ database: join(dir, 'pull.db'), baseUrl: BASE_URL, token: async () => token, deviceId: 'bench-reader', fetch: timedFetch });
  const p0 = performance.now();
  let pulled = 0;
  for (let i = 0; i < 50 && pulled < PUSH; i++) {
    await reader.sync({ push: false });
    pulled = reader.list('patients').length + reader.list('visits').length;
  }
  const pullMs = performance.now() - p0;
  await reader.close();
  return [
    `push ${queued} queued mutations through ${BASE_URL}: ${(ms / 1000).toFixed(2)} s, ${rate(queued, ms).toFixed(0)} mutations/s, ` +
      `${r?.requests} requests, applied ${r?.applied}, merged ${r?.merged}, conflicts ${r?.conflicts}, dead-lettered ${r?.deadLettered}, retryable ${r?.retryableRejections} (tenant ${tenantId})`,
    `  of which waiting for the platform (push) ${(pushWaitMs / 1000).toFixed(2)} s, client-side work (coalesce, prepare, settle) ${((ms - pushWaitMs) / 1000).toFixed(2)} s`,
    `pull ${pulled} records on a second device (first sync): ${(pullMs / 1000).toFixed(2)} s, ${rate(pulled, pullMs).toFixed(0)} records/s, of which waiting for the platform ${(waitingMs / 1000).toFixed(2)} s`,
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'client-bench-'));
  try {
    const lines = [
      `bench:client  writes=${WRITES} push=${PUSH}`,
      ...(await localWrites(dir)),
      ...(await pushThroughPlatform(dir)),
    ];
    console.log(lines.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
