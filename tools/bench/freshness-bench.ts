/**
 * `npm run bench:freshness`: while BENCH_FRESH_DEVICES (10) devices push 500-mutation batches of
 * patient creates through the real sync-ingest and patients processes, another device of the
 * same tenant pulls in a loop with its cursor. For one record of every batch: the time from the
 * push answer to the end of the first pull that returned it (0 when a pull already under way
 * returned it). Prints p50/p95/p99 and, as the same run's baseline, the round trip of the
 * observer's pulls meanwhile (a change cannot arrive sooner than one pull after its answer, on
 * average half a pull). Figures, not assertions.
 */
import 'reflect-metadata';
import { v7 as uuidv7 } from 'uuid';
import { signDevToken } from '@clinisync/auth';
import { Mutation } from '@clinisync/contracts';
import { startBenchPlatform } from './bench-platform';

const DEVICES = Number(process.env.BENCH_FRESH_DEVICES ?? 10);
const SECONDS = Number(process.env.BENCH_FRESH_SECONDS ?? 30);
const BATCH = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function batch(): Mutation[] {
  return Array.from({ length: BATCH }, () => ({
    clientMutationId: uuidv7(),
    entity: 'patients',
    op: 'create' as const,
    id: uuidv7(),
    data: { givenName: 'Fresh', familyName: 'Patient', facilityId: 'f-1', sex: 'female' },
  }));
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform();
  try {
    const token = (sub: string) => signDevToken(platform.keys, { sub, tenantId: 'fresh', roles: ['nurse'], facilities: ['f-1'] });
    const writers = await Promise.all(Array.from({ length: DEVICES }, (_, d) => token(`writer-${d}`)));
    const observer = await token('observer');
    const push = async (d: number, mutations: Mutation[]) => {
      const res = await fetch(`${platform.ingestUrl}/api/v1/sync/push`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${writers[d]}`, 'x-device-id': `writer-${d}` },
        body: JSON.stringify({ mutations }),
      });
      if (!res.ok) throw new Error(`push answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    type Page = { changes: { patients?: { created: { id: string }[]; updated: { id: string }[] } }; cursor: string; hasMore: boolean };
    let cursor: string | undefined;
    const pull = async (): Promise<Page> => {
      const qs = new URLSearchParams({ entities: 'patients', limit: '5000', ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${platform.ingestUrl}/api/v1/sync/pull?${qs}`, { headers: { authorization: `Bearer ${observer}`, 'x-device-id': 'observer' } });
      if (!res.ok) throw new Error(`pull answered ${res.status}: ${await res.text()}`);
      const page = (await res.json()) as Page;
      cursor = page.cursor;
      return page;
    };
    // Warm-up (not measured): one batch per device, the observer catches up.
    await Promise.all(writers.map((_, d) => push(d, batch())));
    while ((await pull()).hasMore);

    /**
     * One phase: the writers push for SECONDS, each batch after the last was answered (`gapMs`
     * 0: as fast as the platform takes them) or on a fixed schedule of one batch per device
     * every `gapMs`; the observer pulls meanwhile and then until it has seen every sample.
     */
    const phase = async (gapMs: number) => {
      const answered = new Map<string, number>(); // sampled record id -> push answer time
      const seen = new Map<string, number>(); // sampled record id -> end of the pull that returned it
      const roundTrips: number[] = [];
      let writing = true;
      let pushed = 0;
      const start = performance.now();
      const until = start + SECONDS * 1000;
      const writersDone = Promise.all(
        writers.map(async (_, d) => {
          for (let k = 0; ; k++) {
            const due = start + (d / DEVICES + k) * gapMs;
            if (gapMs > 0) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
            if (performance.now() >= until) break;
            const mutations = batch();
            await push(d, mutations);
            pushed += mutations.length;
            answered.set(mutations[0].id, performance.now());
          }
        }),
      ).finally(() => (writing = false));
      const observing = (async () => {
        // Goes on after the writers stop until every sample has been seen.
        while (writing || [...answered.keys()].some((id) => !seen.has(id))) {
          const started = performance.now();
          const page = await pull();
          const ended = performance.now();
          roundTrips.push(ended - started);
          for (const r of [...(page.changes.patients?.created ?? []), ...(page.changes.patients?.updated ?? [])]) if (!seen.has(r.id)) seen.set(r.id, ended);
          if (ended - until > 60_000) throw new Error('the observer did not see every sampled write within 60 s of the end');
        }
      })();
      await writersDone;
      await observing;
      const delays = [...answered].map(([id, at]) => Math.max(0, (seen.get(id) as number) - at)).sort((a, b) => a - b);
      roundTrips.sort((a, b) => a - b);
      return { delays, roundTrips, rate: pushed / SECONDS, samples: answered.size };
    };
    const line = (name: string, r: Awaited<ReturnType<typeof phase>>) =>
      [
        `${name.padEnd(16)} ${r.rate.toFixed(0)} mutations/s pushed, ${r.samples} sampled writes (one per batch), ${r.roundTrips.length} observer pulls`,
        `  freshness      push answer -> in another device's pull: p50 ${percentile(r.delays, 50).toFixed(0)} ms  p95 ${percentile(r.delays, 95).toFixed(0)} ms  p99 ${percentile(r.delays, 99).toFixed(0)} ms (target p99 < 250 ms)`,
        `  baseline       the observer's pull round trip meanwhile: p50 ${percentile(r.roundTrips, 50).toFixed(0)} ms  p99 ${percentile(r.roundTrips, 99).toFixed(0)} ms; freshness p99 / pull p99 = ${(percentile(r.delays, 99) / percentile(r.roundTrips, 99)).toFixed(2)}`,
      ].join('\n');
    // Saturated: as fast as the platform takes them (measures the maximum). Then at half of it,
    // as the push bench's open loop: a machine with CPU to spare for the pulls.
    const saturated = await phase(0);
    const half = await phase((DEVICES * BATCH * 1000) / (saturated.rate / 2));
    console.log(
      [
        `bench:freshness  ${DEVICES} devices pushing ${BATCH}-mutation batches for ${SECONDS} s per phase; another device of the tenant pulls in a loop`,
        line('saturated', saturated),
        line('half the maximum', half),
      ].join('\n'),
    );
  } finally {
    await platform.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
