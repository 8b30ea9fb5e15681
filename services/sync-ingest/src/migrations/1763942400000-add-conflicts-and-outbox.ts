import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conflict bookkeeping (every `conflict` result, its resolution and who resolved it) and
 * sync-ingest's own outbox for the audit events it emits. Never edit once landed.
 */
const UP = [
  `CREATE TABLE sync_ingest.conflicts (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    client_mutation_id uuid NOT NULL,
    entity text NOT NULL,
    record_id uuid NOT NULL,
    facility_id text,
    patient_id uuid,
    base_version integer,
    server_version integer NOT NULL,
    client_payload jsonb NOT NULL,
    changed_fields jsonb NOT NULL,
    conflicting_fields jsonb NOT NULL,
    server_record jsonb NOT NULL,
    device_id text,
    actor_id text NOT NULL,
    correlation_id text,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'manual_review', 'resolved')),
    resolution text CHECK (resolution IN ('client_wins', 'server_wins', 'merge', 'manual_review')),
    resolution_reason text,
    resolved_by text,
    resolved_version integer,
    resolved_at timestamptz,
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX conflicts_status ON sync_ingest.conflicts (tenant_id, status, detected_at, id)`,
  `CREATE INDEX conflicts_record ON sync_ingest.conflicts (tenant_id, record_id)`,
  `CREATE TABLE sync_ingest.outbox (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    seq bigserial NOT NULL,
    aggregate_id uuid NOT NULL,
    subject text NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX outbox_unpublished ON sync_ingest.outbox (seq) WHERE published_at IS NULL`,
  ...['sync_ingest.conflicts', 'sync_ingest.outbox'].flatMap((t) => [
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_isolation ON ${t} USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  ]),
];

export class AddConflictsAndOutbox1763942400000 implements MigrationInterface {
  name = 'AddConflictsAndOutbox1763942400000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sync_ingest.outbox');
    await q.query('DROP TABLE sync_ingest.conflicts');
  }
}
