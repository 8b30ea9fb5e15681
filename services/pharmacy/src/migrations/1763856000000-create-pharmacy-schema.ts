import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pharmacy schema: drug catalogue, prescriptions, prescription items and dispensing records
 * (columns from the entity registry via tools/schema/print-module-ddl.ts, with the writing
 * transaction id and a tie-breaker for gap-free pull), inbox and outbox, all tenant-keyed with
 * Row-Level Security forced. In-module references are foreign keys; references to other modules
 * (patientId, visitId) are not. Never edit once landed; add a new migration instead.
 */
const UP = [
  `CREATE SCHEMA IF NOT EXISTS pharmacy`,
  `CREATE SEQUENCE pharmacy.change_seq`,
  `CREATE TABLE pharmacy.drug_catalogue (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    form text,
    strength text,
    controlled boolean NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('pharmacy.change_seq'),
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX drug_catalogue_feed ON pharmacy.drug_catalogue (tenant_id, change_xid, change_seq)`,
  `CREATE TABLE pharmacy.prescriptions (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    facility_id text NOT NULL,
    patient_id uuid NOT NULL,
    visit_id uuid,
    prescribed_at timestamptz NOT NULL,
    status text CHECK (status IN ('active', 'completed', 'cancelled')),
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('pharmacy.change_seq'),
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX prescriptions_feed ON pharmacy.prescriptions (tenant_id, change_xid, change_seq)`,
  `CREATE INDEX prescriptions_facility ON pharmacy.prescriptions (tenant_id, facility_id)`,
  `CREATE INDEX prescriptions_patient_id ON pharmacy.prescriptions (tenant_id, patient_id)`,
  `CREATE INDEX prescriptions_visit_id ON pharmacy.prescriptions (tenant_id, visit_id)`,
  `CREATE TABLE pharmacy.prescription_items (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    facility_id text NOT NULL,
    prescription_id uuid NOT NULL,
    drug_id uuid NOT NULL,
    dose text,
    frequency text,
    duration_days integer,
    quantity double precision NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('pharmacy.change_seq'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, prescription_id) REFERENCES pharmacy.prescriptions (tenant_id, id),
    FOREIGN KEY (tenant_id, drug_id) REFERENCES pharmacy.drug_catalogue (tenant_id, id)
  )`,
  `CREATE INDEX prescription_items_feed ON pharmacy.prescription_items (tenant_id, change_xid, change_seq)`,
  `CREATE INDEX prescription_items_facility ON pharmacy.prescription_items (tenant_id, facility_id)`,
  `CREATE INDEX prescription_items_prescription_id ON pharmacy.prescription_items (tenant_id, prescription_id)`,
  `CREATE INDEX prescription_items_drug_id ON pharmacy.prescription_items (tenant_id, drug_id)`,
  `CREATE TABLE pharmacy.dispensing_records (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    facility_id text NOT NULL,
    patient_id uuid NOT NULL,
    prescription_item_id uuid,
    drug_id uuid NOT NULL,
    quantity double precision NOT NULL,
    dispensed_at timestamptz NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('pharmacy.change_seq'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, prescription_item_id) REFERENCES pharmacy.prescription_items (tenant_id, id),
    FOREIGN KEY (tenant_id, drug_id) REFERENCES pharmacy.drug_catalogue (tenant_id, id)
  )`,
  `CREATE INDEX dispensing_records_feed ON pharmacy.dispensing_records (tenant_id, change_xid, change_seq)`,
  `CREATE INDEX dispensing_records_facility ON pharmacy.dispensing_records (tenant_id, facility_id)`,
  `CREATE INDEX dispensing_records_patient_id ON pharmacy.dispensing_records (tenant_id, patient_id)`,
  `CREATE INDEX dispensing_records_prescription_item_id ON pharmacy.dispensing_records (tenant_id, prescription_item_id)`,
  `CREATE INDEX dispensing_records_drug_id ON pharmacy.dispensing_records (tenant_id, drug_id)`,
  `CREATE TABLE pharmacy.inbox (
    tenant_id text NOT NULL,
    client_mutation_id uuid NOT NULL,
    payload_hash text NOT NULL,
    result json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client_mutation_id)
  )`,
  `CREATE TABLE pharmacy.outbox (
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
  `CREATE INDEX outbox_unpublished ON pharmacy.outbox (seq) WHERE published_at IS NULL`,
  `ALTER TABLE pharmacy.drug_catalogue ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.drug_catalogue FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.drug_catalogue USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE pharmacy.prescriptions ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.prescriptions FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.prescriptions USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE pharmacy.prescription_items ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.prescription_items FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.prescription_items USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE pharmacy.dispensing_records ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.dispensing_records FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.dispensing_records USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE pharmacy.inbox ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.inbox FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.inbox USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE pharmacy.outbox ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE pharmacy.outbox FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON pharmacy.outbox USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
];

export class CreatePharmacySchema1763856000000 implements MigrationInterface {
  name = 'CreatePharmacySchema1763856000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA pharmacy CASCADE');
  }
}
