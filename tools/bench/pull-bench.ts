/**
 * `npm run bench:pull`: seeds N records (patients, visits, vitals; one tenant) through the
 * patients module's record repository, then times a first sync in pages of 1,000 through the real sync-ingest and
 * patients processes, and in the same run reads the same rows with a plain keyset SELECT
 * through pg. Prints records/s, the ratio, and sync-ingest peak RSS, at 10k and 100k records
 * (the cost should grow linearly). At 10k it also counts the bytes on the wire of the first
 * sync plain, gzip and br (`Accept-Encoding`, PROTOCOL.md "Transport"). Figures, not assertions.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { signDevToken } from '@clinisync/auth';
import { RecordRepository } from '@clinisync/module-runtime';
import { TenantTransactions } from '@clinisync/persistence';
import { StoredRecord, getEntity } from '@clinisync/sync-core';
import { perItem, startBenchPlatform } from './bench-platform';

const SIZES = (process.env.BENCH_PULL_SIZES ?? '10000,100000').split(',').map(Number);

/**
 * Seeds `total` records split patients 40% / visits 30% / vitals 30% for tenant `tenant`,
 * through the modules' own record repository (as the app role, under RLS), so rows are stored
 * exactly as the platform writes them, wire JSON included.
 */
async function seed(transactions: TenantTransactions, tenant: string, total: number): Promise<void> {
  const records = new RecordRepository();
  const now = new Date().toISOString();
  const record = (fields: Record<string, unknown>): StoredRecord => ({ id: randomUUID(), version: 1, createdAt: now, updatedAt: now, deletedAt: null, fields: { facilityId: 'f-1', ...fields }, fieldVersions: {} });
  const p = Math.floor(total * 0.4);
  const v = Math.floor(total * 0.3);
  const patients = Array.from({ length: p }, (_, g) => record({ givenName: `Given ${g}`, familyName: `Family ${g}`, sex: 'female' }));
  const visits = patients.slice(0, v).map((pt) => record({ patientId: pt.id, startedAt: now, reason: 'check-up' }));
  const vitals = patients.slice(0, total - p - v).map((pt) => record({ patientId: pt.id, recordedAt: now, systolic: 120, diastolic: 80 }));
  for (const [entity, rows] of [['patients', patients], ['visits', visits], ['vitals', vitals]] as const) {
    for (let i = 0; i < rows.length; i += 5_000) {
      await transactions.run(tenant, (tx) => records.insert(tx, getEntity(entity), tenant, rows.slice(i, i + 5_000)));
    }
  }
}

const ROUNDS = Number(process.env.BENCH_PULL_ROUNDS ?? 3);

/** A first sync through sync-ingest in pages of 1,000, as a client would do it. */
async function firstSync(ingestUrl: string, token: string): Promise<{ records: number; seconds: number }> {
  let cursor: string | undefined;
  let records = 0;
  const started = performance.now();
  for (;;) {
    const qs = new URLSearchParams({ limit: '1000', entities: 'patients,visits,vitals', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${ingestUrl}/api/v1/sync/pull?${qs}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { changes: Record<string, { created: unknown[]; updated: unknown[]; deleted: unknown[] }>; cursor: string; hasMore: boolean };
    for (const c of Object.values(body.changes)) records += c.created.length + c.updated.length + c.deleted.length;
    cursor = body.cursor;
    if (!body.hasMore) break;
  }
  return { records, seconds: (performance.now() - started) / 1000 };
}

/** One GET, its body as received (before inflating) and its Content-Encoding. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; encoding: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: String(res.headers['content-encoding'] ?? 'identity'), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The bytes on the wire (response bodies as sent) of a first sync in pages of 1,000 with `Accept-Encoding: accept`. */
async function wireBytes(ingestUrl: string, token: string, accept: string): Promise<{ wire: number; json: number; records: number; encodings: Set<string> }> {
  let cursor: string | undefined;
  let wire = 0;
  let json = 0;
  let records = 0;
  const encodings = new Set<string>();
  for (;;) {
    const qs = new URLSearchParams({ limit: '1000', entities: 'patients,visits,vitals', ...(cursor ? { cursor } : {}) });
    const res = await rawGet(`${ingestUrl}/api/v1/sync/pull?${qs}`, { authorization: `Bearer ${token}`, 'accept-encoding': accept });
    if (res.status !== 200) throw new Error(`pull answered ${res.status}`);
    encodings.add(res.encoding);
    const text = (res.encoding === 'gzip' ? gunzipSync(res.body) : res.encoding === 'br' ? brotliDecompressSync(res.body) : res.body).toString('utf8');
    wire += res.body.length;
    json += Buffer.byteLength(text);
    const body = JSON.parse(text) as { changes: Record<string, { created: unknown[]; updated: unknown[]; deleted: unknown[] }>; cursor: string; hasMore: boolean };
    for (const c of Object.values(body.changes)) records += c.created.length + c.updated.length + c.deleted.length;
    cursor = body.cursor;
    if (!body.hasMore) break;
  }
  return { wire, json, records, encodings };
}

/** The wire phase: plain vs gzip vs br for the same first sync, with the ratio to plain. */
async function wireLines(ingestUrl: string, token: string, size: number): Promise<string[]> {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  const plain = await wireBytes(ingestUrl, token, 'identity');
  const lines = [`${String(size).padStart(7)} records, bytes on the wire (first sync, ${plain.records} records): plain ${mb(plain.wire)} (${plain.wire} B)`];
  for (const accept of ['gzip', 'br']) {
    const started = performance.now();
    const r = await wireBytes(ingestUrl, token, accept);
    const seconds = (performance.now() - started) / 1000;
    // A last page under 1 KiB goes plain.
    if (r.json !== plain.json || !r.encodings.has(accept)) throw new Error(`${accept}: answers ${[...r.encodings].join(',')}, ${r.json} JSON bytes vs ${plain.json}`);
    lines.push(`                  ${accept.padEnd(4)} ${mb(r.wire)} (${r.wire} B), ratio ${(r.wire / plain.wire).toFixed(3)} of plain (${(plain.wire / r.wire).toFixed(1)}x smaller), ${seconds.toFixed(2)} s`);
  }
  return lines;
}

/**
 * Baseline: the same rows with a plain keyset SELECT per table, pages of 1,000: every column
 * of the record, not the stored wire JSON (a derived copy the platform keeps for pulls).
 */
async function keysetRead(pool: Pool, tenant: string): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  let rows = 0;
  for (const table of ['patients', 'visits', 'vitals']) {
    const columns = (await pool.query<{ c: string }>(
      `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS c FROM information_schema.columns WHERE table_schema = 'patients' AND table_name = $1 AND column_name <> 'wire_json'`,
      [table],
    )).rows[0].c;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const page = await pool.query(`SELECT ${columns} FROM patients.${table} WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, [tenant, after]);
      rows += page.rows.length;
      if (page.rows.length < 1000) break;
      after = page.rows[page.rows.length - 1].id;
    }
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform();
  const { db, keys } = platform;
  const pool = new Pool({ connectionString: db.ownerUrl, max: 2 });
  const app = await db.appDataSource();
  try {
    const lines: string[] = [];
    for (const size of SIZES) {
      const tenant = `bench${size}`;
      await seed(new TenantTransactions(app), tenant, size);
      await pool.query('ANALYZE');
      const token = await signDevToken(keys, { sub: 'bench', tenantId: tenant, roles: ['nurse'], facilities: ['f-1'] });
      // Pull and baseline alternate, three rounds each; the median round is reported, so one
      // slow moment of the machine does not decide the figure.
      const rounds: { rate: number; rawRate: number; seconds: number; records: number; raw: number }[] = [];
      const pullCpu = new Map<string, number>();
      const rawCpu = new Map<string, number>();
      for (let round = 0; round < ROUNDS; round++) {
        const { records, seconds } = await platform.measureCpu(pullCpu, () => firstSync(platform.ingestUrl, token));
        const { rows: raw, seconds: rawSeconds } = await platform.measureCpu(rawCpu, () => keysetRead(pool, tenant));
        rounds.push({ rate: records / seconds, rawRate: raw / rawSeconds, seconds, records, raw });
        if (process.env.BENCH_VERBOSE) console.log(size, round, (seconds * 1e6 / records).toFixed(1), (rawSeconds * 1e6 / raw).toFixed(1));
      }
      rounds.sort((a, b) => a.rate / a.rawRate - b.rate / b.rawRate);
      const { rate, rawRate, seconds, records, raw } = rounds[Math.floor(rounds.length / 2)];
      lines.push(
        `${String(size).padStart(7)} records: pull ${rate.toFixed(0)} rec/s (${seconds.toFixed(2)} s, ${(seconds * 1e6 / records).toFixed(1)} µs/record), raw keyset ${rawRate.toFixed(0)} rec/s, ratio ${(rate / rawRate).toFixed(3)} (target >= 0.5 at 100k; median of ${ROUNDS} rounds), pulled ${records}/${raw}`,
        `         cpu per record, all rounds: pull: ${perItem(pullCpu, records * ROUNDS)}`,
        `                                     raw: ${perItem(rawCpu, raw * ROUNDS, ['postgres', 'bench client'])}`,
      );
      if (size === 10_000) lines.push(...(await wireLines(platform.ingestUrl, token, size)));
    }
    lines.push(`sync-ingest peak RSS ${platform.ingestPeakRssMb().toFixed(0)} MB (target < 300 MB)`);
    console.log(['bench:pull (first sync, pages of 1,000)', ...lines].join('\n'));
  } finally {
    await pool.end();
    await platform.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
