import { createInbox, headers, Msg } from 'nats';
import { RelayEvent, RelaySource, TenantTransactions } from '@clinisync/persistence';
import { NatsLink } from './nats-connection';

export interface OutboxRelayOptions {
  /** Rows claimed per round. */
  batchSize: number;
  /** Idle poll interval; a local commit also wakes the relay at once. */
  pollIntervalMs: number;
  publishTimeoutMs: number;
}

export interface RelayObserver {
  published(count: number): void;
  lag(pending: number, oldestSeconds: number): void;
  failed(error: unknown): void;
}

const LAG_INTERVAL_MS = 1_000;

/** A JetStream publish acknowledgement that names the stream (a new or a de-duplicated message). */
function isStored(m: Msg): boolean {
  // A status reply (503: no stream listens on the subject) carries headers and no ack.
  if (m.headers?.hasError) return false;
  try {
    const ack = JSON.parse(Buffer.from(m.data).toString('utf8')) as { stream?: unknown; error?: unknown };
    return typeof ack.stream === 'string' && ack.stream !== '' && ack.error === undefined;
  } catch {
    return false;
  }
}

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 500,
  pollIntervalMs: 250,
  publishTimeoutMs: 5_000,
};

/**
 * Publishes a relay source (a module's outbox, or its mutation ledger) to JetStream in order,
 * with `Nats-Msg-Id` = event id so a re-publish after a crash is de-duplicated by the stream
 * (and, past its window, by consumers, which dedupe by event id). While NATS is down, events wait.
 */
export class OutboxRelay {
  private running = false;
  private lagMeasuredAt = 0;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly transactions: TenantTransactions,
    private readonly outbox: RelaySource,
    private readonly nats: NatsLink,
    private readonly observer: RelayObserver,
    private readonly options: OutboxRelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Called after a local commit wrote outbox rows. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** One relay round; returns how many events were published. Exposed for tests. */
  async publishPending(): Promise<number> {
    const round = await this.transactions.runUnscoped(async (tx) => {
      if (!(await this.outbox.tryLease(tx))) return { claimed: 0, acked: 0 };
      const rows = await this.outbox.pending(tx, this.options.batchSize);
      let acked = 0;
      if (rows.length > 0) {
        acked = await this.publishInOrder(rows);
        this.observer.published(acked);
      }
      await this.outbox.markPublished(tx, rows, acked);
      // Counting the outbox scans every pending row, which under a backlog cost more than the
      // publishing: an empty round reports no lag for free, others measure at most once a second.
      if (rows.length === 0) {
        this.observer.lag(0, 0);
      } else if (Date.now() - this.lagMeasuredAt >= LAG_INTERVAL_MS) {
        const lag = await this.outbox.lag(tx);
        this.lagMeasuredAt = Date.now();
        this.observer.lag(lag.pending, lag.oldestSeconds);
      }
      return { claimed: rows.length, acked };
    });
    // After the commit, so the acknowledged prefix leaves the outbox even when the rest failed.
    if (round.acked < round.claimed) throw new Error(`published ${round.acked} of ${round.claimed} outbox events`);
    return round.claimed;
  }

  /**
   * Publishes pipelined on one connection (which keeps order) and returns the acknowledged
   * prefix: anything after the first failure is retried next round, and a duplicate is dropped
   * by the stream's de-duplication window. JetStream acknowledges each message on a reply
   * subject of one shared inbox: a request per message (nats.js `js.publish`) costs a timer and
   * an Error object each, which was most of the relay's CPU.
   */
  private async publishInOrder(rows: RelayEvent[]): Promise<number> {
    const nc = this.nats.nc;
    const inbox = createInbox();
    const acks: boolean[] = new Array<boolean>(rows.length).fill(false);
    const sub = nc.subscribe(`${inbox}.*`, { max: rows.length });
    const received = (async () => {
      for await (const m of sub) acks[Number(m.subject.slice(inbox.length + 1))] = isStored(m);
    })();
    const timer = setTimeout(() => sub.unsubscribe(), this.options.publishTimeoutMs);
    try {
      rows.forEach((r, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', r.id);
        h.set('Content-Type', 'application/cloudevents+json');
        nc.publish(r.subject, Buffer.from(r.payload), { reply: `${inbox}.${i}`, headers: h });
      });
      await received;
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    const first = acks.indexOf(false);
    return first === -1 ? rows.length : first;
  }

  private async run(): Promise<void> {
    let backoff = this.options.pollIntervalMs;
    while (this.running) {
      let published = 0;
      try {
        published = this.nats.isConnected ? await this.publishPending() : 0;
        backoff = this.options.pollIntervalMs;
      } catch (e) {
        this.observer.failed(e);
        backoff = Math.min(backoff * 2, 5_000);
      }
      if (published >= this.options.batchSize) continue; // more waiting
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
