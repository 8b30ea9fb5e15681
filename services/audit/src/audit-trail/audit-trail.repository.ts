import { AuditEventResource, StoredAuditEvent } from '@clinisync/contracts';
import { Tx } from '@clinisync/persistence';
import { AuditIndexColumns, ChainLink, ChainPosition, GENESIS_HASH } from './audit-chain';

/** What an audit query selects on; every field optional, combined with AND. */
export interface AuditEventFilter {
  kind?: string;
  entityType?: string;
  recordId?: string;
  patientId?: string;
  actor?: string;
  outcome?: string;
  /** Inclusive, on `recorded`. */
  from?: string;
  /** Exclusive, on `recorded`. */
  to?: string;
}

export interface NewAuditLink {
  sequence: number;
  prevHash: string;
  hash: string;
  /** canonicalJson of the event, stored verbatim. */
  canonical: string;
  columns: AuditIndexColumns;
  recorded: string;
}

interface LinkRow {
  sequence: string;
  prev_hash: string;
  hash: string;
  event: string;
  id: string;
  tenant_id: string;
  kind: string;
  entity_type: string | null;
  record_id: string | null;
  patient_id: string | null;
  actor: string;
  outcome: string;
  recorded_ms: number;
}

const LINK_COLUMNS = `sequence::text AS sequence, prev_hash, hash, event::text AS event, id::text AS id, tenant_id, kind,
  entity_type, record_id, patient_id, actor, outcome, floor(extract(epoch FROM recorded) * 1000)::float8 AS recorded_ms`;

function toLink(r: LinkRow): ChainLink {
  return {
    sequence: Number(r.sequence),
    prevHash: r.prev_hash,
    hash: r.hash,
    event: JSON.parse(r.event) as AuditEventResource,
    columns: {
      id: r.id,
      tenantId: r.tenant_id,
      kind: r.kind,
      entityType: r.entity_type,
      recordId: r.record_id,
      patientId: r.patient_id,
      actor: r.actor,
      outcome: r.outcome,
      recordedMs: Number(r.recorded_ms),
    },
  };
}

function toStored(r: Pick<LinkRow, 'sequence' | 'prev_hash' | 'hash' | 'event'>): StoredAuditEvent {
  return {
    ...(JSON.parse(r.event) as AuditEventResource),
    sequence: Number(r.sequence),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Every query of the audit trail (`audit.audit_events`, `audit.chain_heads`); RLS scopes each to the transaction's tenant. */
export class AuditTrailRepository {
  /**
   * The tenant's chain head, locked FOR UPDATE until the transaction ends, so appends of one
   * tenant serialize (a tenant's first append creates it at the genesis position).
   */
  async lockHead(tx: Tx, tenantId: string): Promise<ChainPosition> {
    await tx.query(
      `INSERT INTO audit.chain_heads (tenant_id, sequence, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId, GENESIS_HASH],
    );
    const [row] = await tx.query<{ sequence: string; hash: string }>(
      `SELECT sequence::text AS sequence, hash FROM audit.chain_heads WHERE tenant_id = $1 FOR UPDATE`,
      [tenantId],
    );
    return { sequence: Number(row.sequence), hash: row.hash };
  }

  async head(tx: Tx, tenantId: string): Promise<ChainPosition | undefined> {
    const [row] = await tx.query<{ sequence: string; hash: string }>(
      `SELECT sequence::text AS sequence, hash FROM audit.chain_heads WHERE tenant_id = $1`,
      [tenantId],
    );
    return row ? { sequence: Number(row.sequence), hash: row.hash } : undefined;
  }

  async exists(tx: Tx, tenantId: string, id: string): Promise<boolean> {
    const rows = await tx.query(`SELECT 1 FROM audit.audit_events WHERE tenant_id = $1 AND id = $2::uuid`, [
      tenantId,
      id,
    ]);
    return rows.length > 0;
  }

  async append(tx: Tx, tenantId: string, link: NewAuditLink): Promise<void> {
    const c = link.columns;
    await tx.query(
      `INSERT INTO audit.audit_events
         (tenant_id, id, sequence, recorded, kind, entity_type, record_id, patient_id, actor, outcome, event, prev_hash, hash)
       VALUES ($1, $2::uuid, $3, $4::timestamptz, $5, $6, $7, $8, $9, $10, $11::json, $12, $13)`,
      [
        tenantId,
        c.id,
        link.sequence,
        link.recorded,
        c.kind,
        c.entityType,
        c.recordId,
        c.patientId,
        c.actor,
        c.outcome,
        link.canonical,
        link.prevHash,
        link.hash,
      ],
    );
    await tx.query(`UPDATE audit.chain_heads SET sequence = $2, hash = $3 WHERE tenant_id = $1`, [
      tenantId,
      link.sequence,
      link.hash,
    ]);
  }

  async find(tx: Tx, tenantId: string, id: string): Promise<StoredAuditEvent | undefined> {
    const [row] = await tx.query<LinkRow>(
      `SELECT ${LINK_COLUMNS} FROM audit.audit_events WHERE tenant_id = $1 AND id = $2::uuid`,
      [tenantId, id],
    );
    return row ? toStored(row) : undefined;
  }

  /** Events matching `filter` after sequence `after` (and up to `upTo`), in chain order. */
  async list(
    tx: Tx,
    tenantId: string,
    filter: AuditEventFilter,
    after: number,
    limit: number,
    upTo?: number,
  ): Promise<StoredAuditEvent[]> {
    const params: unknown[] = [tenantId, after];
    const where = ['tenant_id = $1', 'sequence > $2'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (upTo !== undefined) add('sequence <= ?', upTo);
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    if (filter.entityType !== undefined) add('entity_type = ?', filter.entityType);
    if (filter.recordId !== undefined) add('record_id = ?', filter.recordId);
    if (filter.patientId !== undefined) add('patient_id = ?', filter.patientId);
    if (filter.actor !== undefined) add('actor = ?', filter.actor);
    if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
    if (filter.from !== undefined) add('recorded >= ?::timestamptz', filter.from);
    if (filter.to !== undefined) add('recorded < ?::timestamptz', filter.to);
    params.push(limit);
    const rows = await tx.query<LinkRow>(
      `SELECT sequence::text AS sequence, prev_hash, hash, event::text AS event FROM audit.audit_events
        WHERE ${where.join(' AND ')} ORDER BY audit_events.sequence LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStored);
  }

  /** Stored links after sequence `after` up to `upTo`, in chain order, for verification. */
  async links(tx: Tx, tenantId: string, after: number, upTo: number, limit: number): Promise<ChainLink[]> {
    const rows = await tx.query<LinkRow>(
      `SELECT ${LINK_COLUMNS} FROM audit.audit_events WHERE tenant_id = $1 AND sequence > $2 AND sequence <= $3 ORDER BY audit_events.sequence LIMIT $4`,
      [tenantId, after, upTo, limit],
    );
    return rows.map(toLink);
  }

  async linkAt(tx: Tx, tenantId: string, sequence: number): Promise<ChainLink | undefined> {
    const [row] = await tx.query<LinkRow>(
      `SELECT ${LINK_COLUMNS} FROM audit.audit_events WHERE tenant_id = $1 AND sequence = $2`,
      [tenantId, sequence],
    );
    return row ? toLink(row) : undefined;
  }

  /** The first and last sequence of the events recorded in [from, to); undefined when there are none. */
  async sequenceSpan(
    tx: Tx,
    tenantId: string,
    from: string | undefined,
    to: string | undefined,
  ): Promise<{ first: number; last: number } | undefined> {
    const [row] = await tx.query<{ first: string | null; last: string | null }>(
      `SELECT min(sequence)::text AS first, max(sequence)::text AS last FROM audit.audit_events
        WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR recorded >= $2::timestamptz) AND ($3::timestamptz IS NULL OR recorded < $3::timestamptz)`,
      [tenantId, from ?? null, to ?? null],
    );
    return row?.first && row.last ? { first: Number(row.first), last: Number(row.last) } : undefined;
  }
}
