import { Tx } from '@clinisync/persistence';

/** `inventory.processed_events`: the events inventory has already acted on, per tenant. */
export class ProcessedEventsRepository {
  /**
   * Records `eventId` as processed in the caller's transaction; false when it already was (a
   * redelivery). Concurrent deliveries of one event serialise on the primary key: the second
   * waits for the first to commit and then finds the row.
   */
  async markProcessed(tx: Tx, tenantId: string, eventId: string, subject: string): Promise<boolean> {
    const r = await tx.execute(
      `INSERT INTO inventory.processed_events (tenant_id, event_id, subject) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, event_id) DO NOTHING`,
      [tenantId, eventId, subject],
    );
    return r.rowCount === 1;
  }
}
