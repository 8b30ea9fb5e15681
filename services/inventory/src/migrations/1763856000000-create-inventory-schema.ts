import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The inventory schema: stock movements (client-sent, append-only) and stock levels (derived by
 * the server, one row per tenant, facility and drug), columns from the entity registry via
 * tools/schema/print-module-ddl.ts; `processed_events` (pharmacy events already turned into
 * movements), inbox and outbox; all tenant-keyed with Row-Level Security forced. drugId
 * references pharmacy's catalogue, another module: not a foreign key. Never edit once landed.
 */
const UP = [
  `CREATE SCHEMA IF NOT EXISTS inventory`,
  `CREATE SEQUENCE inventory.change_seq`,
  `CREATE TABLE inventory.stock_movements (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    facility_id text NOT NULL,
    drug_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('receive', 'dispense', 'adjust', 'transfer-out', 'transfer-in')),
    quantity double precision NOT NULL,
    reason text,
    occurred_at timestamptz NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('inventory.change_seq'),
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX stock_movements_feed ON inventory.stock_movements (tenant_id, change_xid, change_seq)`,
  `CREATE INDEX stock_movements_facility ON inventory.stock_movements (tenant_id, facility_id)`,
  `CREATE INDEX stock_movements_drug_id ON inventory.stock_movements (tenant_id, drug_id)`,
  `CREATE TABLE inventory.stock_levels (
    tenant_id text NOT NULL,
    id uuid NOT NULL,
    facility_id text NOT NULL,
    drug_id uuid NOT NULL,
    quantity double precision NOT NULL,
    discrepancy boolean NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    change_seq bigint NOT NULL DEFAULT nextval('inventory.change_seq'),
    PRIMARY KEY (tenant_id, id)
  )`,
  `CREATE INDEX stock_levels_feed ON inventory.stock_levels (tenant_id, change_xid, change_seq)`,
  `CREATE INDEX stock_levels_facility ON inventory.stock_levels (tenant_id, facility_id)`,
  `CREATE INDEX stock_levels_drug_id ON inventory.stock_levels (tenant_id, drug_id)`,
  `CREATE UNIQUE INDEX stock_levels_facility_drug ON inventory.stock_levels (tenant_id, facility_id, drug_id)`,
  `CREATE TABLE inventory.processed_events (
    tenant_id text NOT NULL,
    event_id text NOT NULL,
    subject text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
  )`,
  `CREATE TABLE inventory.inbox (
    tenant_id text NOT NULL,
    client_mutation_id uuid NOT NULL,
    payload_hash text NOT NULL,
    result json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client_mutation_id)
  )`,
  `CREATE TABLE inventory.outbox (
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
  `CREATE INDEX outbox_unpublished ON inventory.outbox (seq) WHERE published_at IS NULL`,
  `ALTER TABLE inventory.stock_movements ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE inventory.stock_movements FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON inventory.stock_movements USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE inventory.stock_levels ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE inventory.stock_levels FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON inventory.stock_levels USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE inventory.processed_events ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE inventory.processed_events FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON inventory.processed_events USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE inventory.inbox ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE inventory.inbox FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON inventory.inbox USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  `ALTER TABLE inventory.outbox ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE inventory.outbox FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON inventory.outbox USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
];

export class CreateInventorySchema1763856000000 implements MigrationInterface {
  name = 'CreateInventorySchema1763856000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA inventory CASCADE');
  }
}
