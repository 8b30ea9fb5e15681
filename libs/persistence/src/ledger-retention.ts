import { TenantTransactions } from './tenant-transactions';
import { Tx } from './tx';

/** Fewest days a decided mutation stays in the ledger (PROTOCOL: idempotency for at least 30 days). */
export const LEDGER_MIN_RETENTION_DAYS = 30;

export interface LedgerRetentionOptions {
  /** Days a ledger row is kept after it was decided; at least LEDGER_MIN_RETENTION_DAYS. */
  retentionDays: number;
  /** Rows deleted per statement (short transactions, short locks). */
  batchSize?: number;
  /** Pause between sweeps. */
  intervalMs?: number;
}

/**
 * Expires mutation ledger rows: a row older than the retention whose change event is out (no
 * event, or visible in its module's relay `done` snapshot) goes; a row whose event the relay has
 * not published stays, however old, so retention never loses an event. Runs on the relay role
 * (every tenant), in batches, one sweeper at a time across instances (advisory lock).
 */
export class LedgerRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly transactions: TenantTransactions,
    private readonly options: LedgerRetentionOptions,
    private readonly onSwept: (deleted: number) => void = () => undefined,
  ) {
    if (!(options.retentionDays >= LEDGER_MIN_RETENTION_DAYS)) {
      throw new Error(`ledger retention must be at least ${LEDGER_MIN_RETENTION_DAYS} days (got ${options.retentionDays})`);
    }
  }

  start(): void {
    const every = this.options.intervalMs ?? 3_600_000;
    const tick = () => {
      this.running = this.sweep()
        .then((n) => this.onSwept(n))
        .catch(() => undefined) // the database is away: the next tick tries again
        .finally(() => {
          this.running = undefined;
          if (this.timer) this.timer = setTimeout(tick, every).unref();
        });
    };
    this.timer = setTimeout(tick, Math.min(every, 60_000)).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep to the end (batch after batch); returns the rows deleted. */
  async sweep(): Promise<number> {
    const batch = this.options.batchSize ?? 5_000;
    let total = 0;
    for (;;) {
      const n = await this.transactions.runUnscoped((tx) => this.deleteBatch(tx, batch));
      if (n === null) return total; // another instance is sweeping
      total += n;
      if (n < batch) return total;
    }
  }

  private async deleteBatch(tx: Tx, limit: number): Promise<number | null> {
    const [lease] = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext('ledger-retention')) AS ok`);
    if (!lease.ok) return null;
    const rows = await tx.query<{ n: string }>(
      `WITH gone AS (
         DELETE FROM sync_ledger.mutations WHERE ctid = ANY(ARRAY(
           SELECT m.ctid FROM sync_ledger.mutations m LEFT JOIN sync_ledger.relay_positions p ON p.module = m.module
            WHERE m.created_at < now() - make_interval(days => $1::int)
              AND (m.event IS NULL OR (p.done IS NOT NULL AND pg_visible_in_snapshot(m.xid, p.done)))
            LIMIT $2))
         RETURNING 1)
       SELECT count(*)::text AS n FROM gone`,
      [this.options.retentionDays, limit],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
