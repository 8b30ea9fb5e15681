import { inAggregateOrder } from '@clinisync/sync-core';
import { RelayEvent, RelaySource } from './relay-source';
import { splitColumn, textColumns } from './text-columns';
import { PG_UNIQUE_VIOLATION, Tx, pgErrorCode } from './tx';

export type LedgerStatus = 'applied' | 'merged' | 'conflict' | 'rejected';

/** What a replay needs of a decided mutation. */
export interface LedgerEntry {
  clientMutationId: string;
  /** Who decided it: a module, or `sync-ingest` for a refusal at the edge. */
  module: string;
  status: LedgerStatus;
  payloadHash: string;
  /** The first result, serialized exactly as first sent. */
  result: string;
}

/** A decided mutation as written; `event` (with `subject`) when it changed a record. */
export interface NewLedgerEntry extends LedgerEntry {
  entity: string;
  aggregateId: string;
  version?: number;
  subject?: string;
  event?: string;
  eventId?: string;
}

/** A unique violation on the ledger key: another transaction decided one of these keys first. */
export function isLedgerKeyRace(e: unknown): boolean {
  return pgErrorCode(e) === PG_UNIQUE_VIOLATION && (e as { constraint?: unknown }).constraint === 'mutations_pkey';
}

/** What an insert wrote: the keys, and the writing transaction's id when it wrote any. */
export interface LedgerInsert {
  keys: Set<string>;
  xid?: string;
}

const LEDGER_COLUMNS = `(tenant_id, client_mutation_id, module, status, payload_hash, result, entity, aggregate_id, version, subject, event, event_id, ord)`;

/**
 * The mutation ledger (`sync_ledger.mutations`): one row per decided mutation per tenant, unique
 * across modules. Modules write it in their apply transaction; sync-ingest reads it to replay
 * before it delegates and writes it only for refusals decided at the edge.
 */
export class MutationLedgerRepository {
  async find(tx: Tx, tenantId: string, clientMutationIds: readonly string[]): Promise<Map<string, LedgerEntry>> {
    if (clientMutationIds.length === 0) return new Map();
    const rows = await tx.query<LedgerEntry>(
      `SELECT client_mutation_id::text AS "clientMutationId", module, status, payload_hash AS "payloadHash", result
         FROM sync_ledger.mutations WHERE tenant_id = $1 AND client_mutation_id = ANY($2::uuid[])`,
      [tenantId, clientMutationIds],
    );
    return new Map(rows.map((r) => [r.clientMutationId, r]));
  }

  /**
   * Writes decided mutations in key order (concurrent batches cannot deadlock on the key). A key
   * another transaction holds makes this wait for it; if that one commits, this fails with a
   * unique violation (`isLedgerKeyRace`) and the caller re-runs against what it decided.
   * `ord` keeps the batch's order for the relay.
   */
  async insert(tx: Tx, tenantId: string, entries: readonly NewLedgerEntry[], onConflict: 'fail' | 'skip' = 'fail'): Promise<LedgerInsert> {
    if (entries.length === 0) return { keys: new Set() };
    const ordered = entries.map((e, ord) => ({ e, ord })).sort((a, b) => (a.e.clientMutationId < b.e.clientMutationId ? -1 : a.e.clientMutationId > b.e.clientMutationId ? 1 : 0));
    const tail = onConflict === 'skip' ? ` ON CONFLICT (tenant_id, client_mutation_id) DO NOTHING` : '';
    const columns = textColumns(ordered, [
      (r) => r.e.clientMutationId,
      (r) => r.e.module,
      (r) => r.e.status,
      (r) => r.e.payloadHash,
      (r) => r.e.result,
      (r) => r.e.entity,
      (r) => r.e.aggregateId,
      (r) => r.e.version,
      (r) => r.e.subject,
      (r) => r.e.event,
      (r) => r.e.eventId,
      (r) => r.ord,
    ]);
    let rows: { id: string; xid: string }[];
    if (columns) {
      rows = await tx.query<{ id: string; xid: string }>(
        `INSERT INTO sync_ledger.mutations ${LEDGER_COLUMNS}
         SELECT $1, u.k::uuid, u.m, u.s, u.h, u.r, u.en, u.a::uuid, u.v::integer, u.sub, u.ev, u.eid::uuid, u.o::integer
           FROM unnest(${[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(splitColumn).join(', ')}) AS u(k, m, s, h, r, en, a, v, sub, ev, eid, o)${tail}
         RETURNING client_mutation_id::text AS id, xid::text AS xid`,
        [tenantId, ...columns],
      );
    } else {
      // A value holds a separator of the joined-text form: one bind parameter per value.
      const values: unknown[] = [tenantId];
      const tuples = ordered.map(({ e, ord }) => {
        const b = values.length;
        values.push(e.clientMutationId, e.module, e.status, e.payloadHash, e.result, e.entity, e.aggregateId, e.version ?? null, e.subject ?? null, e.event ?? null, e.eventId ?? null, ord);
        return `($1, ${Array.from({ length: 12 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
      });
      rows = await tx.query<{ id: string; xid: string }>(
        `INSERT INTO sync_ledger.mutations ${LEDGER_COLUMNS} VALUES ${tuples.join(', ')}${tail} RETURNING client_mutation_id::text AS id, xid::text AS xid`,
        values,
      );
    }
    return { keys: new Set(rows.map((r) => r.id)), xid: rows[0]?.xid };
  }

  /** Decided mutations of a tenant by status (the queue API's stats). */
  async stats(tx: Tx, tenantId: string): Promise<Record<LedgerStatus, number>> {
    const rows = await tx.query<{ status: LedgerStatus; n: number }>(`SELECT status, count(*)::int AS n FROM sync_ledger.mutations WHERE tenant_id = $1 GROUP BY status`, [tenantId]);
    const out: Record<LedgerStatus, number> = { applied: 0, merged: 0, conflict: 0, rejected: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}

/** A ledger row's change event with its place in the tail. */
export interface LedgerEvent extends RelayEvent {
  xid: string;
  ord: number;
  aggregateId: string;
  version: number;
  createdAt: Date;
}

interface RelayWindow {
  done: string;
  target: string;
  /** The target was taken by this round (no window was carried over). */
  fresh: boolean;
  afterXid: string | null;
  afterOrd: number | null;
  /** The page read filled its limit: the window may hold more. */
  full?: boolean;
}

/**
 * The relay's view of one module's ledger: change events by transaction snapshot. Everything
 * visible in the `done` snapshot is published; the current window holds what became visible
 * since, up to the `target` snapshot taken when the window opened, read in (xid, ord) pages. No
 * wait on the cluster's oldest transaction (a transaction still open at `target` is picked up by
 * a later window) and no row write per event: at most one position row write per round, none
 * in a round that found nothing (a window opened and not stored is simply opened again).
 */
export class LedgerRelaySource implements RelaySource<LedgerEvent> {
  private window: RelayWindow | undefined;
  private positioned = false;

  constructor(private readonly module: string) {}

  async tryLease(tx: Tx): Promise<boolean> {
    const [row] = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [`ledger-relay:${this.module}`]);
    return row.ok;
  }

  async pending(tx: Tx, limit: number): Promise<LedgerEvent[]> {
    if (!this.positioned) {
      await tx.query(`INSERT INTO sync_ledger.relay_positions (module, done) VALUES ($1, '1:1:') ON CONFLICT (module) DO NOTHING`, [this.module]);
      this.positioned = true;
    }
    const [pos] = await tx.query<RelayWindow>(
      `SELECT done::text AS done, COALESCE(target, pg_current_snapshot())::text AS target, target IS NULL AS fresh,
              after_xid::text AS "afterXid", after_ord AS "afterOrd"
         FROM sync_ledger.relay_positions WHERE module = $1`,
      [this.module],
    );
    if (!pos) {
      // The round that inserted it rolled back: insert again next round.
      this.positioned = false;
      throw new Error(`relay position of ${this.module} is missing`);
    }
    this.window = pos;
    // Two index ranges, each read in (xid, ord) order and only up to the page size, so a backlog
    // costs one page rather than a scan and sort of every wide row after `done` (once the relay's
    // main cost): the xids in flight at `done`, passed as a literal array so the planner sees
    // them (none: no branch), and [xmax(done), xmax(target)).
    const n = Math.max(1, Math.floor(limit));
    const params: unknown[] = [this.module, pos.done, pos.target];
    const after = pos.afterXid === null ? '' : `AND (m.xid, m.ord) > ($${params.push(pos.afterXid)}::xid8, ${Number(pos.afterOrd)})`;
    const cols = `m.xid, m.ord, m.tenant_id, m.aggregate_id, m.version, m.subject, m.event, m.created_at, m.event_id`;
    const visible = `m.module = $1 AND m.event IS NOT NULL AND pg_visible_in_snapshot(m.xid, $3::pg_snapshot) ${after}`;
    const branches = [
      `(SELECT ${cols} FROM sync_ledger.mutations m
         WHERE m.xid >= pg_snapshot_xmax($2::pg_snapshot) AND m.xid < pg_snapshot_xmax($3::pg_snapshot) AND ${visible}
         ORDER BY m.xid, m.ord LIMIT ${n})`,
    ];
    const inFlight = snapshotXips(pos.done);
    if (inFlight.length > 0) {
      branches.push(`(SELECT ${cols} FROM sync_ledger.mutations m
         WHERE m.xid = ANY($${params.push(inFlight)}::xid8[]) AND ${visible}
         ORDER BY m.xid, m.ord LIMIT ${n})`);
    }
    const rows = await tx.query<Omit<LedgerEvent, 'ord'> & { ord: number }>(
      `SELECT w.xid::text AS xid, w.ord, w.tenant_id AS "tenantId", w.aggregate_id::text AS "aggregateId", w.version, w.subject, w.event AS payload,
              w.created_at AS "createdAt", w.event_id::text AS id
         FROM (${branches.join(' UNION ALL ')}) AS w ORDER BY w.xid, w.ord LIMIT ${n}`,
      params,
    );
    this.window.full = rows.length >= limit;
    // The page keeps per-aggregate version order (xid order is not commit order).
    return inAggregateOrder(rows);
  }

  async markPublished(tx: Tx, events: LedgerEvent[], acked: number): Promise<void> {
    const w = this.window;
    if (!w) return;
    this.window = undefined;
    if (acked === events.length && !w.full) {
      // A fresh window with nothing in it: `done` may stay as it is (nothing lies between).
      if (events.length === 0 && w.fresh) return;
      // The window is read to its end and all of it is out: everything visible at `target` is.
      await tx.query(`UPDATE sync_ledger.relay_positions SET done = $2::pg_snapshot, target = NULL, after_xid = NULL, after_ord = NULL, updated_at = now() WHERE module = $1`, [
        this.module,
        w.target,
      ]);
      return;
    }
    const last = publishedPrefixEnd(events, acked);
    if (!last) return;
    await tx.query(`UPDATE sync_ledger.relay_positions SET target = $2::pg_snapshot, after_xid = $3::xid8, after_ord = $4, updated_at = now() WHERE module = $1`, [
      this.module,
      w.target,
      last.xid,
      last.ord,
    ]);
  }

  async lag(tx: Tx, cap = 100_000): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = await tx.query<{ pending: string; oldest: number | null }>(
      `WITH p AS (SELECT done FROM sync_ledger.relay_positions WHERE module = $1),
            w AS (SELECT m.created_at FROM sync_ledger.mutations m, p
                   WHERE m.module = $1 AND m.event IS NOT NULL AND m.xid >= pg_snapshot_xmin(p.done) AND NOT pg_visible_in_snapshot(m.xid, p.done)
                   ORDER BY m.xid LIMIT $2)
       SELECT count(*)::text AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM w`,
      [this.module, cap],
    );
    return { pending: Number(row?.pending ?? 0), oldestSeconds: row?.oldest ?? 0 };
  }
}

/** The xids in flight in a `pg_snapshot` text (`xmin:xmax:xip,xip`). */
function snapshotXips(snapshot: string): string[] {
  const xips = snapshot.split(':')[2] ?? '';
  return xips === '' ? [] : xips.split(',');
}

/**
 * The last (xid, ord) up to which every event of the page was acknowledged: a page in aggregate
 * order may have moved events, so the position is the longest prefix in (xid, ord) order whose
 * events are all among the acknowledged ones.
 */
export function publishedPrefixEnd(events: readonly { xid: string; ord: number; id: string }[], acked: number): { xid: string; ord: number } | undefined {
  const ackedIds = new Set(events.slice(0, acked).map((e) => e.id));
  const byPosition = [...events].sort((a, b) => {
    const x = BigInt(a.xid) - BigInt(b.xid);
    return x !== 0n ? (x < 0n ? -1 : 1) : a.ord - b.ord;
  });
  let last: { xid: string; ord: number } | undefined;
  for (const e of byPosition) {
    if (!ackedIds.has(e.id)) break;
    last = { xid: e.xid, ord: e.ord };
  }
  return last;
}
