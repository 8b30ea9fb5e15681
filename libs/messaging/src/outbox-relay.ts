import { headers, JetStreamClient } from 'nats';
import { OutboxRepository, TenantTransactions } from '@clinisync/persistence';
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

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 500,
  pollIntervalMs: 250,
  publishTimeoutMs: 5_000,
};

/**
 * Publishes a module's outbox to JetStream in commit order, with `Nats-Msg-Id` = event id so a
 * re-publish after a crash is de-duplicated by the stream. While NATS is down, events wait.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly transactions: TenantTransactions,
    private readonly outbox: OutboxRepository,
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
    const js = this.nats.nc.jetstream({ timeout: this.options.publishTimeoutMs });
    return this.transactions.runUnscoped(async (tx) => {
      if (!(await this.outbox.tryLease(tx))) return 0;
      const rows = await this.outbox.pending(tx, this.options.batchSize);
      if (rows.length > 0) {
        const acked = await this.publishInOrder(js, rows);
        await this.outbox.markPublished(tx, acked);
        this.observer.published(acked.length);
        if (acked.length < rows.length) throw new Error(`published ${acked.length} of ${rows.length} outbox events`);
      }
      const lag = await this.outbox.lag(tx);
      this.observer.lag(lag.pending, lag.oldestSeconds);
      return rows.length;
    });
  }

  /**
   * Publishes pipelined (one connection keeps order) and returns the acknowledged prefix:
   * anything after the first failure is retried next round, and a duplicate is dropped by
   * the stream's de-duplication window.
   */
  private async publishInOrder(
    js: JetStreamClient,
    rows: { seq: string; id: string; subject: string; payload: string }[],
  ): Promise<string[]> {
    const results = await Promise.allSettled(
      rows.map((r) => {
        const h = headers();
        h.set('Content-Type', 'application/cloudevents+json');
        return js.publish(r.subject, Buffer.from(r.payload), { msgID: r.id, headers: h });
      }),
    );
    const acked: string[] = [];
    for (let i = 0; i < results.length; i++) {
      if (results[i].status !== 'fulfilled') break;
      acked.push(rows[i].seq);
    }
    return acked;
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
