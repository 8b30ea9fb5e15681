import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: an append-only, hash-chained log of FHIR AuditEvents per tenant, and the head
 * of each tenant's chain (taken FOR UPDATE by every append, so appends serialize per tenant).
 * A trigger refuses UPDATE, DELETE and TRUNCATE on audit_events even for the owner, who must
 * disable it to tamper (which `verify` then reports). Never edit once landed; add a new migration.
 */
const UP = [
  `CREATE SCHEMA IF NOT EXISTS audit`,
  `CREATE TABLE audit.audit_events (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    sequence bigint NOT NULL CHECK (sequence > 0),
    recorded timestamptz NOT NULL,
    kind text NOT NULL,
    entity_type text,
    record_id text,
    patient_id text,
    actor text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('0', '4', '8', '12')),
    event json NOT NULL,
    prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, sequence)
  )`,
  `CREATE INDEX audit_events_kind ON audit.audit_events (tenant_id, kind, sequence)`,
  `CREATE INDEX audit_events_record ON audit.audit_events (tenant_id, record_id, sequence)`,
  `CREATE INDEX audit_events_patient ON audit.audit_events (tenant_id, patient_id, sequence)`,
  `CREATE INDEX audit_events_actor ON audit.audit_events (tenant_id, actor, sequence)`,
  `CREATE INDEX audit_events_recorded ON audit.audit_events (tenant_id, recorded)`,
  `CREATE TABLE audit.chain_heads (
    tenant_id text PRIMARY KEY,
    sequence bigint NOT NULL CHECK (sequence >= 0),
    hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
  )`,
  `CREATE FUNCTION audit.refuse_audit_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'audit.audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END
  $$`,
  `CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit.audit_events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_audit_event_change()`,
  `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_audit_event_change()`,
  `ALTER TABLE audit.audit_events ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE audit.audit_events FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON audit.audit_events USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE audit.chain_heads ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE audit.chain_heads FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON audit.chain_heads USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
];

export class CreateAuditSchema1763856000000 implements MigrationInterface {
  name = 'CreateAuditSchema1763856000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA audit CASCADE');
  }
}
