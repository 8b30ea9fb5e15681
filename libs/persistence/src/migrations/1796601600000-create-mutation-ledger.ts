import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mutation ledger (push spine v2): one row per decided mutation, keyed
 * `(tenant_id, client_mutation_id)` and unique across every module, written in the module's
 * apply transaction. It is at once the idempotency record (a replay answers `result`), the inbox
 * (a redelivered command is answered from it), the change event the relay publishes (`subject`,
 * `event`; no outbox row, no delete) and the conflict pointer (a `conflict` result names it).
 * The relay tails it by transaction snapshot (`relay_positions`).
 *
 * Existing decided results move forward: the sync queue's decided rows and each module inbox's
 * rows (an inbox row wins over the queue row of the same key: it is what the module committed).
 * Their events were published by the old outboxes already, so the copies carry none.
 * `down` drops the schema; the old tables keep their rows until their own migrations drop them.
 * Never edit once landed; add a new migration instead.
 */
const UP = [
  `CREATE SCHEMA IF NOT EXISTS sync_ledger`,
  `CREATE TABLE sync_ledger.mutations (
    tenant_id text NOT NULL,
    client_mutation_id uuid NOT NULL,
    module text NOT NULL,
    status text NOT NULL CHECK (status IN ('applied', 'merged', 'conflict', 'rejected')),
    payload_hash text NOT NULL,
    result text NOT NULL,
    entity text,
    aggregate_id uuid,
    version integer,
    subject text,
    event text,
    event_id uuid,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ord integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, client_mutation_id)
  )`,
  // The relay's tail: change events of one module in transaction order.
  `CREATE INDEX mutations_relay ON sync_ledger.mutations (module, xid, ord) WHERE event IS NOT NULL`,
  `ALTER TABLE sync_ledger.mutations ADD CONSTRAINT mutations_event CHECK ((event IS NULL) = (event_id IS NULL) AND (event IS NULL) = (subject IS NULL))`,
  // Retention by age (rows arrive in time order).
  `CREATE INDEX mutations_created ON sync_ledger.mutations USING brin (created_at)`,
  `ALTER TABLE sync_ledger.mutations ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_isolation ON sync_ledger.mutations USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
  // Where each module's relay stands: everything visible in `done` is published; within the
  // window up to `target`, everything up to (after_xid, after_ord) is. Not tenant data;
  // a module without a row starts from the beginning (copied rows carry no event).
  `CREATE TABLE sync_ledger.relay_positions (
    module text PRIMARY KEY,
    done pg_snapshot NOT NULL,
    target pg_snapshot,
    after_xid xid8,
    after_ord integer,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
];

/** Copies decided results of a table that exists (existing databases) into the ledger. */
async function copyIfExists(q: QueryRunner, table: string, select: string): Promise<void> {
  const [row] = (await q.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table])) as { present: boolean }[];
  if (!row.present) return;
  // RLS is forced on the source, the owner included: lift it for the copy of every tenant.
  await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
  await q.query(
    `INSERT INTO sync_ledger.mutations (tenant_id, client_mutation_id, module, status, payload_hash, result, entity, aggregate_id, version, created_at)
     ${select}
     ON CONFLICT (tenant_id, client_mutation_id) DO UPDATE
       SET module = EXCLUDED.module, status = EXCLUDED.status, payload_hash = EXCLUDED.payload_hash, result = EXCLUDED.result`,
  );
  await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
}

/** Entity -> module as it stood when this migration landed (a landed migration must not follow the registry). */
const MODULE_OF_ENTITY = `CASE
  WHEN entity IN ('patients', 'visits', 'vitals', 'problems', 'clinical_notes', 'appointments') THEN 'patients'
  WHEN entity IN ('drug_catalogue', 'prescriptions', 'prescription_items', 'dispensing_records') THEN 'pharmacy'
  WHEN entity IN ('stock_movements', 'stock_levels') THEN 'inventory'
  ELSE 'sync-ingest' END`;

export class CreateMutationLedger1796601600000 implements MigrationInterface {
  name = 'CreateMutationLedger1796601600000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of UP) await q.query(sql);
    await q.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    await copyIfExists(
      q,
      'sync_ingest.sync_mutations',
      `SELECT tenant_id, client_mutation_id, ${MODULE_OF_ENTITY}, status, payload_hash, result::text, entity, record_id, (result::jsonb ->> 'version')::integer, received_at
         FROM sync_ingest.sync_mutations WHERE status IN ('applied', 'merged', 'conflict', 'rejected') AND result IS NOT NULL`,
    );
    for (const module of ['patients', 'pharmacy', 'inventory']) {
      await copyIfExists(
        q,
        `${module}.inbox`,
        `SELECT tenant_id, client_mutation_id, '${module}', result::jsonb ->> 'status', payload_hash, result::text, NULL, (result::jsonb ->> 'id')::uuid,
                (result::jsonb ->> 'version')::integer, created_at
           FROM ${module}.inbox WHERE result::jsonb ->> 'status' IN ('applied', 'merged', 'conflict', 'rejected')`,
      );
    }
    await q.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP SCHEMA sync_ledger CASCADE');
  }
}
