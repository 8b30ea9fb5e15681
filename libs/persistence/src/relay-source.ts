import { Tx } from './tx';

/** An event waiting to be published: its id is the JetStream `Nats-Msg-Id`. */
export interface RelayEvent {
  id: string;
  subject: string;
  /** The serialized CloudEvent, published as is. */
  payload: string;
}

/**
 * Where a relay reads events from: a module's outbox or the mutation ledger. Every call takes
 * the relay's own transaction; `markPublished` commits with it.
 */
export interface RelaySource<E extends RelayEvent = RelayEvent> {
  /** Only one relay publishes one source at a time, which keeps per-aggregate order. */
  tryLease(tx: Tx): Promise<boolean>;
  /** The next events in publication order, at most `limit`. */
  pending(tx: Tx, limit: number): Promise<E[]>;
  /** `events` is what `pending` returned; the first `acked` of them are stored by the stream. */
  markPublished(tx: Tx, events: E[], acked: number): Promise<void>;
  /** Events waiting (capped) and the age of the oldest. */
  lag(tx: Tx): Promise<{ pending: number; oldestSeconds: number }>;
}
