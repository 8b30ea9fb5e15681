import { Tx } from '@clinisync/persistence';
import { RecordRepository } from '@clinisync/module-runtime';
import { StoredRecord, getEntity } from '@clinisync/sync-core';

const STOCK_LEVELS = getEntity('stock_levels');

/** Every query on `inventory.stock_levels`, the server-derived balances. */
export class StockLevelsRepository {
  constructor(private readonly records: RecordRepository = new RecordRepository()) {}

  /** Loads and row-locks the levels (in id order, so concurrent transactions never deadlock). */
  loadForUpdate(tx: Tx, tenantId: string, ids: string[]): Promise<Map<string, StoredRecord>> {
    return this.records.loadForUpdate(tx, STOCK_LEVELS, tenantId, ids);
  }

  /**
   * Inserts new levels. Deliberately no ON CONFLICT: a level created concurrently by another
   * transaction is a unique violation, on which the whole transaction is re-run against it.
   */
  async insert(tx: Tx, tenantId: string, levels: StoredRecord[]): Promise<void> {
    if (levels.length === 0) return;
    const rows = [...levels]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((r) => ({
        id: r.id,
        facility_id: r.fields.facilityId,
        drug_id: r.fields.drugId,
        quantity: r.fields.quantity,
        discrepancy: r.fields.discrepancy,
        version: r.version,
        field_versions: r.fieldVersions,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
      }));
    await tx.query(
      `INSERT INTO inventory.stock_levels (tenant_id, id, facility_id, drug_id, quantity, discrepancy, version, field_versions, created_at, updated_at)
       SELECT $1, r.id, r.facility_id, r.drug_id, r.quantity, r.discrepancy, r.version, r.field_versions, r.created_at, r.updated_at
         FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, facility_id text, drug_id uuid, quantity double precision, discrepancy boolean,
              version integer, field_versions jsonb, created_at timestamptz, updated_at timestamptz)`,
      [tenantId, JSON.stringify(rows)],
    );
  }

  /** Writes new states of locked levels (version guard, new change_xid/change_seq for pull). */
  async update(
    tx: Tx,
    tenantId: string,
    levels: { record: StoredRecord; expectedVersion: number }[],
  ): Promise<void> {
    const n = await this.records.update(tx, STOCK_LEVELS, tenantId, levels);
    if (n !== levels.length)
      throw new Error(`stock level update matched ${n} of ${levels.length} locked rows`);
  }
}
