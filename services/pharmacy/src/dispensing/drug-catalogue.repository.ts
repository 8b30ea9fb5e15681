import { Tx } from '@clinisync/persistence';

/** Reads of the tenant's drug catalogue (`pharmacy.drug_catalogue`) that the dispensing rules need. */
export class DrugCatalogueRepository {
  /**
   * The `controlled` flag of each of `drugIds` (lower-case ids as keys), tombstones included:
   * a deleted drug keeps its flag. An id missing from the map is not in the catalogue.
   */
  async controlledFlags(tx: Tx, tenantId: string, drugIds: string[]): Promise<Map<string, boolean>> {
    const ids = [...new Set(drugIds.map((id) => id.toLowerCase()))];
    if (ids.length === 0) return new Map();
    const rows = await tx.query<{ id: string; controlled: boolean }>(
      `SELECT id::text AS id, controlled FROM pharmacy.drug_catalogue WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids],
    );
    return new Map(rows.map((r) => [r.id, r.controlled]));
  }
}
