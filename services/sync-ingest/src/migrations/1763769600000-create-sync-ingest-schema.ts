import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The server-side sync queue: every mutation received, keyed forever (within retention) by
 * (tenant_id, client_mutation_id), with its payload hash, status and first result.
 * Never edit once landed; add a new migration instead.
 */
const UP = [
  `CREATE SCHEMA IF NOT EXISTS sync_ingest`,
  `CREATE TABLE sync_ingest.sync_mutations (
    tenant_id text NOT NULL,
    client_mutation_id uuid NOT NULL,
    entity text NOT NULL,
    op text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    record_id uuid NOT NULL,
    base_version integer,
    payload jsonb NOT NULL,
    payload_hash text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'applied', 'merged', 'conflict', 'rejected', 'failed')),
    result json,
    retry_count integer NOT NULL DEFAULT 0,
    device_id text,
    actor_id text NOT NULL,
    correlation_id text,
    received_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (tenant_id, client_mutation_id)
  )`,
  `CREATE INDEX sync_mutations_device ON sync_ingest.sync_mutations (tenant_id, device_id, status)`,
  `CREATE INDEX sync_mutations_status ON sync_ingest.sync_mutations (tenant_id, status, received_at)`,
  `CREATE INDEX sync_mutations_completed ON sync_ingest.sync_mutations (completed_at) WHERE completed_at IS NOT NULL`,
  `ALTER TABLE sync_ingest.sync_mutations ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE sync_ingest.sync_mutations FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON sync_ingest.sync_mutations USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
];

export class CreateSyncIngestSchema1763769600000 implements MigrationInterface {
  name = 'CreateSyncIngestSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA sync_ingest CASCADE');
  }
}
