import { MutationCommand } from '@clinisync/contracts';
import { Tx } from '@clinisync/persistence';

export type QueueStatus = 'pending' | 'applied' | 'merged' | 'conflict' | 'rejected' | 'failed';

export interface ReceivedMutation {
  clientMutationId: string;
  entity: string;
  op: string;
  recordId: string;
  baseVersion?: number;
  payload: unknown;
  payloadHash: string;
}

/** What the queue stores of a normalised mutation. */
export function receivedMutation(c: MutationCommand): ReceivedMutation {
  return {
    clientMutationId: c.clientMutationId,
    entity: c.entity,
    op: c.op,
    recordId: c.id,
    baseVersion: c.baseVersion,
    payload: { entity: c.entity, op: c.op, id: c.id, baseVersion: c.baseVersion, data: c.data, changedFields: c.changedFields, occurredAt: c.occurredAt },
    payloadHash: c.payloadHash,
  };
}

export interface StoredMutation {
  clientMutationId: string;
  payloadHash: string;
  status: QueueStatus;
  /** The first final result, serialized exactly as first sent. */
  result: string | null;
  retryCount: number;
}

export interface MutationOutcome {
  clientMutationId: string;
  status: QueueStatus;
  result: string;
}

/** Statuses after which a queued mutation is never processed again (its payload is not kept). */
const OPEN: ReadonlySet<QueueStatus> = new Set(['pending', 'failed']);

/** `jsonb_to_recordset` rows of the queue; the payload only for open mutations. */
function rowsJson(rows: (ReceivedMutation & { status: QueueStatus; result: string | null })[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      client_mutation_id: r.clientMutationId,
      entity: r.entity,
      op: r.op,
      record_id: r.recordId,
      base_version: r.baseVersion ?? null,
      payload: OPEN.has(r.status) ? r.payload : null,
      payload_hash: r.payloadHash,
      status: r.status,
      result: r.result,
    })),
  );
}

/** INSERT of `rowsJson` ($2) for tenant $1, device $3, actor $4, correlation $5, in key order. */
const INSERT_ROWS = `INSERT INTO sync_ingest.sync_mutations
         (tenant_id, client_mutation_id, entity, op, record_id, base_version, payload, payload_hash, status, result, device_id, actor_id, correlation_id, completed_at)
       SELECT $1, r.client_mutation_id, r.entity, r.op, r.record_id, r.base_version, r.payload, r.payload_hash, r.status, r.result::json, $3, $4, $5,
              CASE WHEN r.status IN ('pending', 'failed') THEN NULL ELSE now() END
         FROM jsonb_to_recordset($2::jsonb) AS r(client_mutation_id uuid, entity text, op text, record_id uuid, base_version integer, payload jsonb, payload_hash text, status text, result text)
        ORDER BY r.client_mutation_id`;

/** The server-side sync queue (`sync_ingest.sync_mutations`). */
export class SyncMutationsRepository {
  /**
   * Records received mutations as `pending` (the single-operation queue API), in key order so
   * concurrent batches cannot deadlock; a key seen before is left untouched. Returns the keys
   * that are new.
   */
  async claim(
    tx: Tx,
    tenantId: string,
    ctx: { deviceId?: string; actorId: string; correlationId: string },
    rows: ReceivedMutation[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted = await tx.query<{ id: string }>(
      `${INSERT_ROWS}
       ON CONFLICT (tenant_id, client_mutation_id) DO NOTHING
       RETURNING client_mutation_id::text AS id`,
      [tenantId, rowsJson(rows.map((r) => ({ ...r, status: 'pending', result: null }))), ctx.deviceId ?? null, ctx.actorId, ctx.correlationId],
    );
    return new Set(inserted.map((r) => r.id));
  }

  /** Stores outcomes; a retried key's retry count goes up; a decided one lets its payload go. */
  async complete(tx: Tx, tenantId: string, outcomes: MutationOutcome[], retried: Set<string>): Promise<void> {
    if (outcomes.length === 0) return;
    const json = JSON.stringify(
      outcomes.map((o) => ({ client_mutation_id: o.clientMutationId, status: o.status, result: o.result, retried: retried.has(o.clientMutationId) })),
    );
    await tx.query(
      `UPDATE sync_ingest.sync_mutations AS m
          SET status = r.status, result = r.result::json, updated_at = now(),
              payload = CASE WHEN r.status IN ('pending', 'failed') THEN m.payload END,
              completed_at = CASE WHEN r.status IN ('pending', 'failed') THEN NULL ELSE now() END,
              retry_count = m.retry_count + CASE WHEN r.retried THEN 1 ELSE 0 END
         FROM jsonb_to_recordset($2::jsonb) AS r(client_mutation_id uuid, status text, result text, retried boolean)
        WHERE m.tenant_id = $1 AND m.client_mutation_id = r.client_mutation_id`,
      [tenantId, json],
    );
  }

  async find(tx: Tx, tenantId: string, clientMutationId: string): Promise<(StoredMutation & QueuedView) | undefined> {
    const rows = await tx.query<StoredMutation & QueuedView>(
      `SELECT ${QUEUE_COLUMNS} FROM sync_ingest.sync_mutations WHERE tenant_id = $1 AND client_mutation_id = $2::uuid`,
      [tenantId, clientMutationId],
    );
    return rows[0];
  }

  /** A device's operations still to be processed (`pending`, `failed`), oldest first. */
  async openByDevice(tx: Tx, tenantId: string, deviceId: string, limit = 500): Promise<(StoredMutation & QueuedView)[]> {
    return tx.query<StoredMutation & QueuedView>(
      `SELECT ${QUEUE_COLUMNS} FROM sync_ingest.sync_mutations
        WHERE tenant_id = $1 AND device_id = $2 AND status IN ('pending', 'failed') ORDER BY received_at, client_mutation_id LIMIT $3`,
      [tenantId, deviceId, limit],
    );
  }

  /** Queued operations not decided yet (decided ones are counted from the mutation ledger). */
  async openStats(tx: Tx, tenantId: string): Promise<{ pending: number; failed: number }> {
    const rows = await tx.query<{ status: 'pending' | 'failed'; n: number }>(
      `SELECT status, count(*)::int AS n FROM sync_ingest.sync_mutations WHERE tenant_id = $1 AND status IN ('pending', 'failed') GROUP BY status`,
      [tenantId],
    );
    const out = { pending: 0, failed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}

/** What the single-operation queue API shows of a stored mutation. */
export interface QueuedView {
  entity: string;
  op: string;
  recordId: string;
  baseVersion: number | null;
  /** The mutation while it may still be processed (`pending`, `failed`); null once decided. */
  payload: { entity: string; op: string; id: string; baseVersion?: number; data: Record<string, unknown>; changedFields: string[]; occurredAt?: string } | null;
  deviceId: string | null;
  actorId: string;
  receivedAt: string;
}

const QUEUE_COLUMNS = `client_mutation_id::text AS "clientMutationId", payload_hash AS "payloadHash", status, result::text AS result,
  retry_count AS "retryCount", entity, op, record_id::text AS "recordId", base_version AS "baseVersion", payload, device_id AS "deviceId", actor_id AS "actorId",
  to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "receivedAt"`;
