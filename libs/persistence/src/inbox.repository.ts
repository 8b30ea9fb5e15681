import { splitColumn, textColumns } from './text-columns';
import { Tx } from './tx';

export interface InboxEntry {
  tenantId: string;
  clientMutationId: string;
  payloadHash: string;
  /** The result as first sent, serialized; answers redeliveries byte for byte. */
  result: string;
}

/** A module's inbox (`<schema>.inbox`): the result of every command it applied, keyed by mutation id. */
export class InboxRepository {
  constructor(private readonly schema: string) {}

  async find(tx: Tx, tenantId: string, clientMutationIds: string[]): Promise<Map<string, InboxEntry>> {
    if (clientMutationIds.length === 0) return new Map();
    const rows = await tx.query<InboxEntry>(
      `SELECT tenant_id AS "tenantId", client_mutation_id AS "clientMutationId", payload_hash AS "payloadHash", result::text AS result
         FROM ${this.schema}.inbox WHERE tenant_id = $1 AND client_mutation_id = ANY($2::uuid[])`,
      [tenantId, clientMutationIds],
    );
    return new Map(rows.map((r) => [r.clientMutationId, r]));
  }

  /** Inserts entries; returns how many were new (fewer means a concurrent apply won). */
  async insert(tx: Tx, entries: InboxEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const columns = textColumns(entries, [(e) => e.tenantId, (e) => e.clientMutationId, (e) => e.payloadHash, (e) => e.result]);
    if (columns) {
      const r = await tx.execute(
        `INSERT INTO ${this.schema}.inbox (tenant_id, client_mutation_id, payload_hash, result)
         SELECT u.tenant_id, u.client_mutation_id::uuid, u.payload_hash, u.result::json
           FROM unnest(${splitColumn(1)}, ${splitColumn(2)}, ${splitColumn(3)}, ${splitColumn(4)}) AS u(tenant_id, client_mutation_id, payload_hash, result)
         ON CONFLICT (tenant_id, client_mutation_id) DO NOTHING`,
        columns,
      );
      return r.rowCount;
    }
    const values: unknown[] = [];
    const rows = entries.map((e, i) => {
      values.push(e.tenantId, e.clientMutationId, e.payloadHash, e.result);
      const b = i * 4;
      return `($${b + 1}, $${b + 2}::uuid, $${b + 3}, $${b + 4})`;
    });
    const r = await tx.execute(
      `INSERT INTO ${this.schema}.inbox (tenant_id, client_mutation_id, payload_hash, result) VALUES ${rows.join(', ')}
       ON CONFLICT (tenant_id, client_mutation_id) DO NOTHING`,
      values,
    );
    return r.rowCount;
  }
}
