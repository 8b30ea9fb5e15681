/**
 * `npm run bench:storm`: a reconnect storm against the real platform (compiled sync-ingest and
 * patients processes, fresh database, private JetStream), as figures, not assertions about speed.
 * BENCH_STORM_DEVICES devices (default 1,000) over BENCH_STORM_TENANTS tenants (default 5) each
 * hold 20-50 queued mutations (patients and their visits) and all push at once, through the
 * SDK's HTTP client (`SyncApi`) and the SDK's backoff (`retryDelay`: Retry-After plus capped
 * full jitter), re-sending the same batch with the same keys until it is answered 200.
 * Baseline, same run: the same kind of work (another 1,000 devices' queues) pushed by 20 devices
 * at a time, so the server is never stormed. Prints mutations applied against queued (none lost),
 * duplicates (ledger rows and record versions beyond one per mutation), answers by status (only
 * 200, 429 and 503 are allowed: anything else, or a lost connection, fails the bench), the
 * storm's throughput as a ratio of the baseline's, and sync-ingest's peak RSS.
 * The service runs with its default admission settings unless ADMISSION_* is set in the environment.
 */
import pLimit from 'p-limit';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { Mutation } from '@clinisync/contracts';
import { signDevToken } from '@clinisync/auth';
import { DEFAULT_BACKOFF, SyncApi, SyncHttpError, retryDelay } from '@clinisync/sync-client';
import { startBenchPlatform } from './bench-platform';

const DEVICES = Number(process.env.BENCH_STORM_DEVICES ?? 1000);
const TENANTS = Number(process.env.BENCH_STORM_TENANTS ?? 5);
const BASELINE_CONCURRENCY = Number(process.env.BENCH_STORM_BASELINE_DEVICES ?? 20);
/** Refusals one device sits out before the bench calls it stuck (its work would stay queued in the app). */
const MAX_ATTEMPTS = 200;

interface Device {
  id: string;
  tenantId: string;
  batch: Mutation[];
}

interface PhaseResult {
  label: string;
  queued: number;
  seconds: number;
  statuses: Map<number, number>;
  reasons: Map<string, number>;
  maxAttempts: number;
  appliedAnswers: number;
  rows: number;
  ledgerRows: number;
  duplicates: number;
}

/** 20-50 mutations per device: patient creates, about a third of them with a visit each. */
function devicesFor(label: string): Device[] {
  return Array.from({ length: DEVICES }, (_, d) => {
    const n = 20 + ((d * 7919) % 31);
    const batch: Mutation[] = [];
    for (let i = 0; batch.length < n; i++) {
      const patientId = uuidv7();
      batch.push({ clientMutationId: randomUUID(), entity: 'patients', op: 'create', id: patientId, data: { givenName: `Storm${i}`, familyName: label, facilityId: 'f-1' } });
      if (i % 3 === 0 && batch.length < n)
        batch.push({
          clientMutationId: randomUUID(),
          entity: 'visits',
          op: 'create',
          id: uuidv7(),
          data: { patientId, facilityId: 'f-1', startedAt: '2026-11-21T09:00:00.000Z', reason: 'storm' },
        });
    }
    return { id: `${label}-${d}`, tenantId: `storm-t${d % TENANTS}`, batch };
  });
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform();
  const failures: string[] = [];
  try {
    const tokens = new Map<string, string>();
    for (let t = 0; t < TENANTS; t++)
      tokens.set(`storm-t${t}`, await signDevToken(platform.keys, { sub: `storm-nurse-${t}`, tenantId: `storm-t${t}`, roles: ['nurse'], facilities: ['f-1'] }));
    const pool = await platform.db.ownerDataSource();

    const runPhase = async (label: string, concurrency: number): Promise<PhaseResult> => {
      const devices = devicesFor(label);
      const statuses = new Map<number, number>();
      const reasons = new Map<string, number>();
      let maxAttempts = 0;
      let appliedAnswers = 0;
      const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
      const syncDevice = async (device: Device) => {
        const api = new SyncApi({ baseUrl: platform.ingestUrl, token: async () => tokens.get(device.tenantId) as string, deviceId: device.id });
        for (let attempt = 1; ; attempt++) {
          try {
            const res = await api.push(device.batch);
            count(statuses, 200);
            appliedAnswers += res.results.filter((r) => r.status === 'applied').length;
            for (const r of res.results) if (r.status !== 'applied') failures.push(`${device.id}: ${r.clientMutationId} answered ${r.status}`);
            maxAttempts = Math.max(maxAttempts, attempt);
            return;
          } catch (e) {
            if (!(e instanceof SyncHttpError)) throw e;
            count(statuses, e.status);
            if (e.status !== 429 && e.status !== 503) failures.push(`${device.id}: HTTP ${e.status} ${e.code} ${e.message}`);
            count(reasons, `${e.status} ${String(e.body?.reason ?? e.code)}`);
            if (!e.retryable || attempt >= MAX_ATTEMPTS) throw new Error(`${device.id} gave up after ${attempt} attempts: ${e.message}`);
            await new Promise((r) => setTimeout(r, retryDelay(attempt, Math.random, e.retryAfterMs, DEFAULT_BACKOFF)));
          }
        }
      };
      const limit = pLimit(concurrency);
      const started = performance.now();
      await Promise.all(devices.map((d) => limit(() => syncDevice(d))));
      const seconds = (performance.now() - started) / 1000;
      const patientIds = devices.flatMap((d) => d.batch.filter((m) => m.entity === 'patients').map((m) => m.id));
      const visitIds = devices.flatMap((d) => d.batch.filter((m) => m.entity === 'visits').map((m) => m.id));
      const keys = devices.flatMap((d) => d.batch.map((m) => m.clientMutationId));
      const [p] = await pool.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE version <> 1)::int AS bumped FROM patients.patients WHERE id = ANY($1::uuid[])', [patientIds]);
      const [v] = await pool.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE version <> 1)::int AS bumped FROM patients.visits WHERE id = ANY($1::uuid[])', [visitIds]);
      const [l] = await pool.query(
        'SELECT count(*)::int AS n, (count(*) - count(DISTINCT aggregate_id))::int AS dup FROM sync_ledger.mutations WHERE aggregate_id = ANY($1::uuid[])',
        [[...patientIds, ...visitIds]],
      );
      return {
        label,
        queued: keys.length,
        seconds,
        statuses,
        reasons,
        maxAttempts,
        appliedAnswers,
        rows: p.n + v.n,
        ledgerRows: l.n,
        duplicates: p.bumped + v.bumped + l.dup + Math.max(0, l.n - keys.length),
      };
    };

    // Warm-up (untimed): JIT, connection pools, planner statistics.
    await runPhase('warmup', BASELINE_CONCURRENCY);
    await pool.query('ANALYZE');
    const baseline = await runPhase('baseline', BASELINE_CONCURRENCY);
    const rssAfterBaseline = platform.ingestPeakRssMb();
    const storm = await runPhase('storm', DEVICES);
    await pool.destroy();

    const fmt = (m: Map<number | string, number>) => [...m].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
    const line = (r: PhaseResult) => {
      const rate = r.queued / r.seconds;
      return [
        `${r.label}: ${r.queued} mutations queued, ${r.rows} applied (rows), ${r.appliedAnswers} answered applied, ${r.ledgerRows} ledger rows, duplicates ${r.duplicates}`,
        `  ${r.seconds.toFixed(2)} s, ${rate.toFixed(0)} mutations/s; answers by status ${fmt(r.statuses)}; most attempts by one device ${r.maxAttempts}`,
        ...(r.reasons.size > 0 ? [`  refusals by reason: ${fmt(r.reasons)}`] : []),
      ].join('\n');
    };
    for (const r of [baseline, storm]) {
      if (r.rows !== r.queued) failures.push(`${r.label}: ${r.queued - r.rows} mutations lost`);
      if (r.duplicates !== 0) failures.push(`${r.label}: ${r.duplicates} duplicates`);
    }
    console.log(`bench:storm — ${DEVICES} devices over ${TENANTS} tenant${TENANTS === 1 ? '' : 's'}, batches of 20-50 mutations`);
    console.log(line(baseline).replace('baseline:', `baseline (${BASELINE_CONCURRENCY} devices at a time):`));
    console.log(line(storm).replace('storm:', `storm (all ${DEVICES} at once):`));
    console.log(`storm throughput / baseline: ${((storm.queued / storm.seconds) / (baseline.queued / baseline.seconds)).toFixed(2)}`);
    console.log(`sync-ingest peak RSS: ${rssAfterBaseline.toFixed(0)} MB after the baseline, ${platform.ingestPeakRssMb().toFixed(0)} MB after the storm`);
    if (failures.length > 0) {
      console.error(`FAILED (${failures.length}):\n${failures.slice(0, 20).join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    await platform.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
