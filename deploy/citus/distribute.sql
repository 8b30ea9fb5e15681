-- CliniSync on Citus: distribute every table by tenant_id, all tables co-located, so everything a
-- tenant owns lives on the same worker and every per-tenant query, join, foreign key and
-- transaction stays on one node. See deploy/README.md "Citus" for when and how to run this and
-- what to verify afterwards.
--
-- Run ONCE on the coordinator, as the owner role, after `npm run migrate` has created the schemas
-- and before the services are started (tables still empty: distributing copies existing rows):
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f deploy/citus/distribute.sql
-- Each statement is guarded, so re-running the file is harmless. It fails (ON_ERROR_STOP) when a
-- listed table is missing, and the check at the end fails when a table of the CliniSync schemas is
-- left undistributed: a migration that adds a table must add it here too.
--
-- Parents are distributed before their children (a foreign key must point at a table that is
-- already distributed and co-located). Every table's primary key and foreign keys lead with
-- tenant_id (ARCHITECTURE.md), which is what Citus requires of distributed tables.
-- A tenant-less table must become a reference table (SELECT create_reference_table('<schema>.<table>');),
-- replicated to every worker: today only sync_ledger.relay_positions.

\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS citus;

-- Shards per distributed table (colocation group). Changing it later needs a rebalance: size for
-- the worker count you expect in a few years (e.g. 4 to 8 shards per worker core).
SET citus.shard_count = 64;

-- ---------------------------------------------------------------------------------------------
-- sync_ingest: server-side sync queue (also the single-operation queue API), conflicts, its audit outbox.
-- sync_mutations is the anchor of the colocation group every other table joins.
SELECT create_distributed_table('sync_ingest.sync_mutations', 'tenant_id')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sync_ingest.sync_mutations'::regclass);
SELECT create_distributed_table('sync_ingest.conflicts', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sync_ingest.conflicts'::regclass);
SELECT create_distributed_table('sync_ingest.outbox', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sync_ingest.outbox'::regclass);

-- ---------------------------------------------------------------------------------------------
-- patients
SELECT create_distributed_table('patients.patients', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.patients'::regclass);
SELECT create_distributed_table('patients.visits', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.visits'::regclass);
SELECT create_distributed_table('patients.vitals', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.vitals'::regclass);
SELECT create_distributed_table('patients.problems', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.problems'::regclass);
SELECT create_distributed_table('patients.clinical_notes', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.clinical_notes'::regclass);
SELECT create_distributed_table('patients.appointments', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.appointments'::regclass);
SELECT create_distributed_table('patients.outbox', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'patients.outbox'::regclass);

-- ---------------------------------------------------------------------------------------------
-- pharmacy (drug_catalogue is per tenant: tenant-wide reference data, still keyed by tenant_id)
SELECT create_distributed_table('pharmacy.drug_catalogue', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'pharmacy.drug_catalogue'::regclass);
SELECT create_distributed_table('pharmacy.prescriptions', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'pharmacy.prescriptions'::regclass);
SELECT create_distributed_table('pharmacy.prescription_items', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'pharmacy.prescription_items'::regclass);
SELECT create_distributed_table('pharmacy.dispensing_records', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'pharmacy.dispensing_records'::regclass);
SELECT create_distributed_table('pharmacy.outbox', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'pharmacy.outbox'::regclass);

-- ---------------------------------------------------------------------------------------------
-- inventory
SELECT create_distributed_table('inventory.stock_movements', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'inventory.stock_movements'::regclass);
SELECT create_distributed_table('inventory.stock_levels', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'inventory.stock_levels'::regclass);
SELECT create_distributed_table('inventory.outbox', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'inventory.outbox'::regclass);
SELECT create_distributed_table('inventory.processed_events', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'inventory.processed_events'::regclass);

-- ---------------------------------------------------------------------------------------------
-- sync_ledger: the mutation ledger sits with the tenant's domain rows, so a module's apply
-- transaction (domain rows + ledger rows) stays on one worker. relay_positions is relay
-- bookkeeping (one row per module, no tenant): a reference table. Note: the relay tails the
-- ledger by transaction snapshot, and on Citus transaction ids are per worker: run one relay
-- per worker against its shards (not done yet; see the README of deploy/).
SELECT create_distributed_table('sync_ledger.mutations', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sync_ledger.mutations'::regclass);
SELECT create_reference_table('sync_ledger.relay_positions')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sync_ledger.relay_positions'::regclass);

-- ---------------------------------------------------------------------------------------------
-- audit: a tenant's whole hash chain (events and head) sits on one worker, so appending to it
-- and verifying it stay single-node.
SELECT create_distributed_table('audit.audit_events', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'audit.audit_events'::regclass);
SELECT create_distributed_table('audit.chain_heads', 'tenant_id', colocate_with => 'sync_ingest.sync_mutations')
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'audit.chain_heads'::regclass);

-- ---------------------------------------------------------------------------------------------
-- Guard: no table of the CliniSync schemas may stay a plain local table on the coordinator
-- (migration bookkeeping tables excepted).
DO $$
DECLARE
  missing text;
BEGIN
  SELECT string_agg(format('%I.%I', t.table_schema, t.table_name), ', ' ORDER BY 1)
    INTO missing
    FROM information_schema.tables t
   WHERE t.table_schema IN ('sync_ingest', 'sync_ledger', 'patients', 'pharmacy', 'inventory', 'audit')
     AND t.table_type = 'BASE TABLE'
     AND t.table_name NOT IN ('migrations', 'typeorm_metadata')
     AND NOT EXISTS (
       SELECT 1 FROM pg_dist_partition p
        WHERE p.logicalrelid = format('%I.%I', t.table_schema, t.table_name)::regclass);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'not distributed (add them to deploy/citus/distribute.sql): %', missing;
  END IF;
END
$$;
