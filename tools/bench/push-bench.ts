/**
 * `npm run bench:push`: 20 simulated devices push 500-mutation batches (creates and updates of
 * patients and visits) through the real sync-ingest and patients processes until 50,000
 * mutations; prints mutations/s, batch latency percentiles and sync-ingest peak RSS; then
 * writes the same rows with plain multi-row INSERT ... ON CONFLICT through pg in the same run
 * and prints the ratio. Platform and baseline alternate for BENCH_PUSH_ROUNDS rounds (3) and the
 * median round is printed (BENCH_VERBOSE=1 prints every round). Also: the rows Postgres wrote per
 * applied mutation (`pg_stat_user_tables` deltas of every platform table), CPU per mutation of
 * every process, and an open-loop phase: batches arrive at a fixed rate of half the measured
 * maximum whether or not earlier ones were answered, so its latency is service time, not the
 * queueing of a closed loop. Figures, not assertions.
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { signDevToken } from '@clinisync/auth';
import { perItem, startBenchPlatform } from './bench-platform';
import { Mutation } from '@clinisync/contracts';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
const TOTAL = Number(process.env.BENCH_MUTATIONS ?? 50_000);
const BATCH = 500;
const ROUNDS = Number(process.env.BENCH_PUSH_ROUNDS ?? 3);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_OPEN_LOOP_SECONDS ?? 20);

/**
 * Rows inserted, updated and deleted so far in every table of the database but the baseline's.
 * Backends flush their counters at most 10 s after going idle (PGSTAT_IDLE_INTERVAL): wait that long first.
 */
async function rowWrites(pool: Pool): Promise<number> {
  await new Promise((r) => setTimeout(r, 11_000));
  const { rows } = await pool.query<{ n: string }>(
    `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS n FROM pg_stat_user_tables WHERE relname NOT LIKE 'bench_raw_%'`,
  );
  return Number(rows[0].n);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * One device's batches: 200 patient creates, 200 visits of them, 100 updates of earlier patients.
 * Ids and clientMutationIds are UUIDv7, as the client SDK makes them (PROTOCOL: "v7 preferred").
 */
function deviceBatches(batches: number) {
  const out: Mutation[][] = [];
  let previous: string[] = [];
  for (let b = 0; b < batches; b++) {
    const m: Mutation[] = [];
    const patients = Array.from({ length: 200 }, () => uuidv7());
    for (const id of patients) {
      m.push({ clientMutationId: uuidv7(), entity: 'patients', op: 'create', id, data: { givenName: 'Bench', familyName: 'Patient', facilityId: 'f-1', sex: 'female' } });
    }
    for (const pid of patients) {
      m.push({ clientMutationId: uuidv7(), entity: 'visits', op: 'create', id: uuidv7(), data: { patientId: pid, facilityId: 'f-1', startedAt: '2026-11-21T09:00:00Z', reason: 'check-up' } });
    }
    const targets = previous.length ? previous.slice(0, 100) : patients.slice(0, 100);
    for (const id of targets) {
      m.push({ clientMutationId: uuidv7(), entity: 'patients', op: 'update', id, baseVersion: 1, data: { phone: '+254700000000' } });
    }
    // Updates of this batch's own patients must follow their creates: already in order.
    out.push(m);
    previous = patients;
  }
  return out;
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform();
  const { db, keys } = platform;
  try {
    const tokens = await Promise.all(Array.from({ length: DEVICES }, (_, d) => signDevToken(keys, { sub: `bench-${d}`, tenantId: 'bench', roles: ['nurse'], facilities: ['f-1'] })));
    const push = async (d: number, mutations: Mutation[]) => {
      const res = await fetch(`${platform.ingestUrl}/api/v1/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[d]}`, 'x-device-id': `bench-${d}` },
        body: JSON.stringify({ mutations }),
      });
      return (await res.json()) as { results?: { status: string }[] };
    };
    // Warm-up, not timed: one batch per device, then ANALYZE as autovacuum does on any live
    // database. Without statistics Postgres plans a brand-new table's foreign-key checks as if
    // it were empty and keeps that plan, which a server that has run for a minute never sees.
    await Promise.all(tokens.map((_, d) => push(d, deviceBatches(1)[0])));
    const owner = new Pool({ connectionString: db.ownerUrl, max: 1 });
    await owner.query('ANALYZE');
    await owner.end();
    // Baseline tables: the same rows, plain multi-row INSERT ... ON CONFLICT through pg.
    const pool = new Pool({ connectionString: db.ownerUrl, max: DEVICES });
    await pool.query(`CREATE TABLE bench_raw_patients (tenant_id text, id uuid, facility_id text, given_name text, family_name text, sex text, phone text, version int, updated_at timestamptz, PRIMARY KEY (tenant_id, id))`);
    await pool.query(`CREATE TABLE bench_raw_visits (tenant_id text, id uuid, facility_id text, patient_id uuid, started_at timestamptz, reason text, version int, PRIMARY KEY (tenant_id, id))`);

    /** The platform phase of a round: every device pushes its batches, one at a time. */
    const platformPhase = async (plans: Mutation[][][]) => {
      const latencies: number[] = [];
      let applied = 0;
      let other = 0;
      const started = performance.now();
      await Promise.all(
        plans.map(async (batches, d) => {
          for (const mutations of batches) {
            const t0 = performance.now();
            const body = await push(d, mutations);
            latencies.push(performance.now() - t0);
            for (const r of body.results ?? []) {
              if (r.status === 'applied' || r.status === 'merged') applied++;
              else other++;
            }
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      return { latencies, applied, other, seconds };
    };

    /** The baseline phase of a round: the same rows, same concurrency, plain SQL. */
    const rawPhase = async (plans: Mutation[][][]) => {
      const started = performance.now();
      await Promise.all(
        plans.map(async (batches) => {
          for (const mutations of batches) {
            const upsert = async (rows: Mutation[]) => {
              if (rows.length === 0) return;
              const values: unknown[] = [];
              const tuples = rows.map((m, k) => {
                values.push(m.id, m.data?.givenName ?? 'Bench', m.data?.familyName ?? null, m.data?.sex ?? null, m.data?.phone ?? null);
                return `('bench', $${k * 5 + 1}, 'f-1', $${k * 5 + 2}, $${k * 5 + 3}, $${k * 5 + 4}, $${k * 5 + 5}, 1, now())`;
              });
              await pool.query(
                `INSERT INTO bench_raw_patients (tenant_id, id, facility_id, given_name, family_name, sex, phone, version, updated_at) VALUES ${tuples.join(', ')}
                 ON CONFLICT (tenant_id, id) DO UPDATE SET phone = EXCLUDED.phone, version = bench_raw_patients.version + 1, updated_at = now()`,
                values,
              );
            };
            // Creates, then updates: one upsert statement each (a row may not be hit twice in one statement).
            await upsert(mutations.filter((m) => m.entity === 'patients' && m.op === 'create'));
            await upsert(mutations.filter((m) => m.entity === 'patients' && m.op === 'update'));
            const visits = mutations.filter((m) => m.entity === 'visits');
            const vv: unknown[] = [];
            const vrow = visits.map((m, i) => {
              vv.push(m.id, m.data?.patientId, m.data?.startedAt, m.data?.reason);
              return `('bench', $${i * 4 + 1}, 'f-1', $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}, 1)`;
            });
            await pool.query(`INSERT INTO bench_raw_visits (tenant_id, id, facility_id, patient_id, started_at, reason, version) VALUES ${vrow.join(', ')} ON CONFLICT (tenant_id, id) DO NOTHING`, vv);
          }
        }),
      );
      return { seconds: (performance.now() - started) / 1000 };
    };

    // Platform and baseline alternate for ROUNDS rounds (fresh records each); the median round
    // by ratio is reported, so one slow moment of the machine does not decide the figure.
    const perDevice = Math.ceil(TOTAL / BATCH / DEVICES);
    const rounds: { ratio: number; rate: number; rawRate: number; total: number; applied: number; other: number; seconds: number; rawSeconds: number; latencies: number[] }[] = [];
    const platformCpu = new Map<string, number>();
    const rawCpu = new Map<string, number>();
    let mutationsPushed = 0;
    let written = 0;
    let appliedAll = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const plans = Array.from({ length: DEVICES }, () => deviceBatches(perDevice));
      const writesBefore = await rowWrites(pool);
      const p = await platform.measureCpu(platformCpu, () => platformPhase(plans));
      written += (await rowWrites(pool)) - writesBefore;
      appliedAll += p.applied;
      const r = await platform.measureCpu(rawCpu, () => rawPhase(plans));
      const total = p.applied + p.other;
      mutationsPushed += total;
      const rate = total / p.seconds;
      const rawRate = total / r.seconds;
      rounds.push({ ratio: rate / rawRate, rate, rawRate, total, applied: p.applied, other: p.other, seconds: p.seconds, rawSeconds: r.seconds, latencies: p.latencies });
      if (process.env.BENCH_VERBOSE) console.log(`round ${round}: ${rate.toFixed(0)} mutations/s, raw ${rawRate.toFixed(0)} rows/s, ratio ${(rate / rawRate).toFixed(3)}, p99 ${percentile(p.latencies, 99).toFixed(0)} ms, sync-ingest peak RSS ${platform.ingestPeakRssMb().toFixed(0)} MB`);
    }
    const byRatio = [...rounds].sort((a, b) => a.ratio - b.ratio);
    const { rate, rawRate, total, applied, other, seconds, rawSeconds, latencies } = byRatio[Math.floor(byRatio.length / 2)];

    // Open loop: one batch every `interval` ms (devices in turn), sent on time whatever is in flight.
    const interval = (BATCH / (rate / 2)) * 1000;
    const count = Math.max(10, Math.round((OPEN_LOOP_SECONDS * 1000) / interval));
    const openPlans = Array.from({ length: DEVICES }, () => deviceBatches(Math.ceil(count / DEVICES)));
    const openLatencies: number[] = [];
    let openOther = 0;
    const openStart = performance.now();
    await Promise.all(
      Array.from({ length: count }, async (_, k) => {
        const due = openStart + k * interval;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
        const t0 = performance.now();
        const body = await push(k % DEVICES, openPlans[k % DEVICES][Math.floor(k / DEVICES)]);
        openLatencies.push(performance.now() - t0);
        openOther += (body.results ?? []).filter((r) => r.status !== 'applied' && r.status !== 'merged').length;
      }),
    );
    openLatencies.sort((a, b) => a - b);
    await pool.end();
    const rss = platform.ingestPeakRssMb();

    const lines = [
      `bench:push  devices=${DEVICES} batch=${BATCH} mutations=${total} per round (applied/merged ${applied}, other ${other}); median of ${ROUNDS} rounds by ratio`,
      `platform    ${rate.toFixed(0)} mutations/s over ${seconds.toFixed(1)} s`,
      `latency     closed loop (${DEVICES} devices, one batch each in flight): p50 ${percentile(latencies, 50).toFixed(0)} ms  p95 ${percentile(latencies, 95).toFixed(0)} ms  p99 ${percentile(latencies, 99).toFixed(0)} ms per ${BATCH}-mutation batch (queueing: ${DEVICES * BATCH} mutations in flight / throughput = ${((DEVICES * BATCH * 1000) / rate).toFixed(0)} ms)`,
      `open loop   ${count} batches of ${BATCH} at ${(rate / 2).toFixed(0)} mutations/s (half the maximum), one every ${interval.toFixed(0)} ms: p50 ${percentile(openLatencies, 50).toFixed(0)} ms  p99 ${percentile(openLatencies, 99).toFixed(0)} ms per batch (target p99 < 300 ms); not applied ${openOther}`,
      `rows written per mutation: ${(written / appliedAll).toFixed(3)} (pg_stat_user_tables inserts + updates + deletes of every table, over ${appliedAll} applied mutations; target <= 2.0)`,
      `rss         sync-ingest peak ${rss.toFixed(0)} MB over all phases (target < 200 MB)`,
      `baseline    raw multi-row INSERT ... ON CONFLICT: ${rawRate.toFixed(0)} rows/s over ${rawSeconds.toFixed(1)} s`,
      `ratio       platform / raw = ${(rate / rawRate).toFixed(3)} (target >= 0.35); rounds: ${rounds.map((r) => r.ratio.toFixed(3)).join(', ')}`,
      `cpu         platform, per mutation (all rounds; target total <= 120 µs): ${perItem(platformCpu, mutationsPushed)}`,
      `            raw baseline, per row (all rounds): ${perItem(rawCpu, mutationsPushed, ['postgres', 'bench client'])}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await platform.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
