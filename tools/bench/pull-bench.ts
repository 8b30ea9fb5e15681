/**
 * `npm run bench:pull`: seeds N records (patients, visits, vitals; one tenant) straight into the
 * patients schema, then times a first sync in pages of 1,000 through the real sync-ingest and
 * patients processes, and in the same run reads the same rows with a plain keyset SELECT
 * through pg. Prints records/s, the ratio, and sync-ingest peak RSS, at 10k and 100k records
 * (the cost should grow linearly). Figures, not assertions.
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import { signDevToken } from '@clinisync/auth';
import { startBenchPlatform } from './bench-platform';

const SIZES = (process.env.BENCH_PULL_SIZES ?? '10000,100000').split(',').map(Number);

/** Seeds `total` records split patients 40% / visits 30% / vitals 30% for tenant `tenant`. */
async function seed(pool: Pool, tenant: string, total: number): Promise<void> {
  const p = Math.floor(total * 0.4);
  const v = Math.floor(total * 0.3);
  const vt = total - p - v;
  await pool.query(
    `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, family_name, sex, version, field_versions, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'f-1', 'Given ' || g, 'Family ' || g, 'female', 1, '{"givenName":1}', now(), now() FROM generate_series(1, $2) g`,
    [tenant, p],
  );
  await pool.query(
    `INSERT INTO patients.visits (tenant_id, id, facility_id, patient_id, started_at, reason, version, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'f-1', id, now(), 'check-up', 1, now(), now() FROM (SELECT id FROM patients.patients WHERE tenant_id = $1 LIMIT $2) s`,
    [tenant, v],
  );
  await pool.query(
    `INSERT INTO patients.vitals (tenant_id, id, facility_id, patient_id, recorded_at, systolic, diastolic, version, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'f-1', id, now(), 120, 80, 1, now(), now() FROM (SELECT id FROM patients.patients WHERE tenant_id = $1 LIMIT $2) s`,
    [tenant, vt],
  );
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform();
  const { db, keys } = platform;
  const pool = new Pool({ connectionString: db.ownerUrl, max: 2 });
  try {
    const lines: string[] = [];
    for (const size of SIZES) {
      const tenant = `bench${size}`;
      await seed(pool, tenant, size);
      await pool.query('ANALYZE');
      const token = await signDevToken(keys, { sub: 'bench', tenantId: tenant, roles: ['nurse'], facilities: ['f-1'] });
      let cursor: string | undefined;
      let records = 0;
      const started = performance.now();
      for (;;) {
        const qs = new URLSearchParams({ limit: '1000', entities: 'patients,visits,vitals', ...(cursor ? { cursor } : {}) });
        const res = await fetch(`${platform.ingestUrl}/api/v1/sync/pull?${qs}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { changes: Record<string, { created: unknown[]; updated: unknown[]; deleted: unknown[] }>; cursor: string; hasMore: boolean };
        for (const c of Object.values(body.changes)) records += c.created.length + c.updated.length + c.deleted.length;
        cursor = body.cursor;
        if (!body.hasMore) break;
      }
      const seconds = (performance.now() - started) / 1000;

      // Baseline: the same rows with a plain keyset SELECT per table, pages of 1,000.
      const rawStarted = performance.now();
      let raw = 0;
      for (const table of ['patients', 'visits', 'vitals']) {
        let after = '00000000-0000-0000-0000-000000000000';
        for (;;) {
          const { rows } = await pool.query(`SELECT * FROM patients.${table} WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 1000`, [tenant, after]);
          raw += rows.length;
          if (rows.length < 1000) break;
          after = rows[rows.length - 1].id;
        }
      }
      const rawSeconds = (performance.now() - rawStarted) / 1000;
      const rate = records / seconds;
      const rawRate = raw / rawSeconds;
      lines.push(
        `${String(size).padStart(7)} records: pull ${rate.toFixed(0)} rec/s (${seconds.toFixed(2)} s, ${(seconds * 1e6 / records).toFixed(1)} µs/record), raw keyset ${rawRate.toFixed(0)} rec/s, ratio ${(rate / rawRate).toFixed(3)} (target >= 0.40), pulled ${records}/${raw}`,
      );
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
