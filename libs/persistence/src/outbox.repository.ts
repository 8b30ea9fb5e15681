import { RelaySource } from './relay-source';
import { splitColumn, textColumns } from './text-columns';
import { Tx } from './tx';

export interface OutboxMessage {
  tenantId: string;
  id: string;
  aggregateId: string;
  subject: string;
  /** The serialized CloudEvent, published as is. */
  payload: string;
}

export interface PendingOutboxMessage extends OutboxMessage {
  seq: string;
  createdAt: Date;
}

/** A module's transactional outbox (`<schema>.outbox`): events written with the change they describe. */
export class OutboxRepository implements RelaySource<PendingOutboxMessage> {
  constructor(private readonly schema: string) {}

  /** Writes the messages, in order (their `seq` is the publication order). */
  async append(tx: Tx, messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const columns = textColumns(messages, [(m) => m.tenantId, (m) => m.id, (m) => m.aggregateId, (m) => m.subject, (m) => m.payload]);
    if (columns) {
      await tx.query(
        `INSERT INTO ${this.schema}.outbox (tenant_id, id, aggregate_id, subject, payload)
         SELECT u.tenant_id, u.id::uuid, u.aggregate_id::uuid, u.subject, u.payload
           FROM unnest(${splitColumn(1)}, ${splitColumn(2)}, ${splitColumn(3)}, ${splitColumn(4)}, ${splitColumn(5)})
                WITH ORDINALITY AS u(tenant_id, id, aggregate_id, subject, payload, n)
          ORDER BY u.n`,
        columns,
      );
      return;
    }
    const values: unknown[] = [];
    const rows = messages.map((m, i) => {
      values.push(m.tenantId, m.id, m.aggregateId, m.subject, m.payload);
      const b = i * 5;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
    });
    await tx.query(`INSERT INTO ${this.schema}.outbox (tenant_id, id, aggregate_id, subject, payload) VALUES ${rows.join(', ')}`, values);
  }

  /**
   * Takes the relay lease for this schema for the current transaction; only one relay
   * publishes at a time, which keeps per-aggregate order across relay instances.
   */
  async tryLease(tx: Tx): Promise<boolean> {
    const [row] = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [
      `outbox-relay:${this.schema}`,
    ]);
    return row.ok;
  }

  async pending(tx: Tx, limit: number): Promise<PendingOutboxMessage[]> {
    return tx.query<PendingOutboxMessage>(
      // ORDER BY the bigint column, not the text alias (which would sort 10 before 9).
      `SELECT o.seq::text AS seq, o.tenant_id AS "tenantId", o.id, o.aggregate_id AS "aggregateId", o.subject, o.payload,
              o.created_at AS "createdAt"
         FROM ${this.schema}.outbox o WHERE o.published_at IS NULL ORDER BY o.seq LIMIT $1`,
      [limit],
    );
  }

  /**
   * Removes published events: JetStream keeps them (CLINICAL 30 days, AUDIT years), so the
   * outbox only holds what is still to be sent, and publishing costs no extra row version.
   * `published_at IS NULL` lets Postgres find the rows through `outbox_unpublished (seq)` (the
   * only index on `seq` is partial); without it each DELETE scanned the whole outbox, dead rows
   * included.
   */
  async markPublished(tx: Tx, events: PendingOutboxMessage[], acked: number): Promise<void> {
    const seqs = events.slice(0, acked).map((e) => e.seq);
    if (seqs.length === 0) return;
    await tx.query(`DELETE FROM ${this.schema}.outbox WHERE seq = ANY($1::bigint[]) AND published_at IS NULL`, [seqs]);
  }

  /**
   * Events waiting and the age of the oldest, both through `outbox_unpublished`: the count
   * stops at `cap` (a gauge needs no exact figure for a backlog that large).
   */
  async lag(tx: Tx, cap = 100_000): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = await tx.query<{ pending: string; oldest: number | null }>(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM ${this.schema}.outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1) AS capped)::text AS pending,
              (SELECT extract(epoch FROM now() - o.created_at)::float8 FROM ${this.schema}.outbox o
                WHERE o.published_at IS NULL ORDER BY o.seq LIMIT 1) AS oldest`,
      [cap],
    );
    return { pending: Number(row.pending), oldestSeconds: row.oldest ?? 0 };
  }
}
