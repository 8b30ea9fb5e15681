import { Tx } from '@clinisync/persistence';

export type ConflictStatus = 'open' | 'manual_review' | 'resolved';
export type Resolution = 'client_wins' | 'server_wins' | 'merge' | 'manual_review';

export interface ConflictRow {
  id: string;
  clientMutationId: string;
  entity: string;
  recordId: string;
  facilityId: string | null;
  patientId: string | null;
  baseVersion: number | null;
  serverVersion: number;
  clientPayload: { data: Record<string, unknown>; op: string; occurredAt?: string };
  changedFields: string[];
  conflictingFields: string[];
  serverRecord: Record<string, unknown>;
  deviceId: string | null;
  actorId: string;
  correlationId: string | null;
  status: ConflictStatus;
  resolution: Resolution | null;
  resolutionReason: string | null;
  resolvedBy: string | null;
  resolvedVersion: number | null;
  resolvedAt: string | null;
  detectedAt: string;
  /** `detected_at` to the microsecond, as stored: the list's keyset position (`detectedAt` has milliseconds only). */
  detectedAtKey: string;
}

export type NewConflict = Omit<ConflictRow, 'status' | 'resolution' | 'resolutionReason' | 'resolvedBy' | 'resolvedVersion' | 'resolvedAt' | 'detectedAt' | 'detectedAtKey'>;

const COLUMNS = `id::text AS id, client_mutation_id::text AS "clientMutationId", entity, record_id::text AS "recordId",
  facility_id AS "facilityId", patient_id::text AS "patientId", base_version AS "baseVersion", server_version AS "serverVersion",
  client_payload AS "clientPayload", changed_fields AS "changedFields", conflicting_fields AS "conflictingFields",
  server_record AS "serverRecord", device_id AS "deviceId", actor_id AS "actorId", correlation_id AS "correlationId", status,
  resolution, resolution_reason AS "resolutionReason", resolved_by AS "resolvedBy", resolved_version AS "resolvedVersion",
  to_char(resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "resolvedAt",
  to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "detectedAt",
  to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "detectedAtKey"`;

export interface ConflictFilter {
  status?: ConflictStatus;
  entity?: string;
  recordId?: string;
  /** null = every facility */
  facilities: string[] | null;
  /** entities the caller may resolve */
  entities: string[];
  after?: { detectedAt: string; id: string };
  limit: number;
}

/** `sync_ingest.conflicts`: every conflict result, open until an accountable person resolves it. */
export class ConflictsRepository {
  /** Stores conflicts once (a replayed conflict result may name one stored already); returns the ids that are new. */
  async insert(tx: Tx, tenantId: string, rows: NewConflict[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO sync_ingest.conflicts (tenant_id, id, client_mutation_id, entity, record_id, facility_id, patient_id, base_version,
         server_version, client_payload, changed_fields, conflicting_fields, server_record, device_id, actor_id, correlation_id)
       SELECT $1, r.id, r.client_mutation_id, r.entity, r.record_id, r.facility_id, r.patient_id, r.base_version, r.server_version,
              r.client_payload, r.changed_fields, r.conflicting_fields, r.server_record, r.device_id, r.actor_id, r.correlation_id
         FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, client_mutation_id uuid, entity text, record_id uuid, facility_id text,
              patient_id uuid, base_version integer, server_version integer, client_payload jsonb, changed_fields jsonb,
              conflicting_fields jsonb, server_record jsonb, device_id text, actor_id text, correlation_id text)
       ON CONFLICT (tenant_id, id) DO NOTHING
       RETURNING id::text AS id`,
      [
        tenantId,
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            client_mutation_id: r.clientMutationId,
            entity: r.entity,
            record_id: r.recordId,
            facility_id: r.facilityId,
            patient_id: r.patientId,
            base_version: r.baseVersion,
            server_version: r.serverVersion,
            client_payload: r.clientPayload,
            changed_fields: r.changedFields,
            conflicting_fields: r.conflictingFields,
            server_record: r.serverRecord,
            device_id: r.deviceId,
            actor_id: r.actorId,
            correlation_id: r.correlationId,
          })),
        ),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  async lock(tx: Tx, tenantId: string, id: string): Promise<ConflictRow | undefined> {
    const rows = await tx.query<ConflictRow>(`SELECT ${COLUMNS} FROM sync_ingest.conflicts WHERE tenant_id = $1 AND id = $2::uuid FOR UPDATE`, [tenantId, id]);
    return rows[0];
  }

  async findByMutation(tx: Tx, tenantId: string, clientMutationId: string): Promise<ConflictRow | undefined> {
    const rows = await tx.query<ConflictRow>(`SELECT ${COLUMNS} FROM sync_ingest.conflicts WHERE tenant_id = $1 AND client_mutation_id = $2::uuid`, [tenantId, clientMutationId]);
    return rows[0];
  }

  async list(tx: Tx, tenantId: string, f: ConflictFilter): Promise<ConflictRow[]> {
    const params: unknown[] = [tenantId, f.entities, f.limit];
    const where = ['tenant_id = $1', 'entity = ANY($2::text[])'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.status) add('status = ?', f.status);
    if (f.entity) add('entity = ?', f.entity);
    if (f.recordId) add('record_id = ?::uuid', f.recordId);
    if (f.facilities) add('facility_id = ANY(?::text[])', f.facilities);
    if (f.after) {
      params.push(f.after.detectedAt, f.after.id);
      where.push(`(detected_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    return tx.query<ConflictRow>(`SELECT ${COLUMNS} FROM sync_ingest.conflicts WHERE ${where.join(' AND ')} ORDER BY detected_at, id LIMIT $3`, params);
  }

  async refreshServerRecord(tx: Tx, tenantId: string, id: string, serverVersion: number, serverRecord: Record<string, unknown>): Promise<void> {
    await tx.query(`UPDATE sync_ingest.conflicts SET server_version = $3, server_record = $4::jsonb WHERE tenant_id = $1 AND id = $2::uuid AND status <> 'resolved'`, [
      tenantId,
      id,
      serverVersion,
      JSON.stringify(serverRecord),
    ]);
  }

  async markResolved(tx: Tx, tenantId: string, id: string, r: { status: ConflictStatus; resolution: Resolution; reason?: string; by: string; version?: number }): Promise<void> {
    await tx.query(
      `UPDATE sync_ingest.conflicts SET status = $3, resolution = $4, resolution_reason = $5, resolved_by = $6, resolved_version = $7,
              resolved_at = CASE WHEN $3 = 'resolved' THEN now() ELSE NULL END
        WHERE tenant_id = $1 AND id = $2::uuid`,
      [tenantId, id, r.status, r.resolution, r.reason ?? null, r.by, r.version ?? null],
    );
  }
}
