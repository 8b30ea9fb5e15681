import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Push spine v2 retires each module's inbox: the mutation ledger answers redelivered commands.
 * `up` first copies any inbox row the ledger does not hold yet (a module of the old version that
 * ran after the ledger migration copied the inboxes), then drops the table; `down` restores an
 * empty inbox with its Row-Level Security (the decided results stay in the ledger).
 * A module's migration class is made here once and never changes once landed: add a new
 * migration instead of editing this one.
 */
export function dropModuleInboxMigration(
  module: 'patients' | 'pharmacy' | 'inventory',
  name: string,
): new () => MigrationInterface {
  const table = `${module}.inbox`;
  // RLS is forced on both tables, the owner included: lifted for a copy of every tenant.
  const copyToLedger = async (q: QueryRunner): Promise<void> => {
    await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE sync_ledger.mutations NO FORCE ROW LEVEL SECURITY`);
    await q.query(
      `INSERT INTO sync_ledger.mutations (tenant_id, client_mutation_id, module, status, payload_hash, result, aggregate_id, version, created_at)
         SELECT tenant_id, client_mutation_id, '${module}', result::jsonb ->> 'status', payload_hash, result::text, (result::jsonb ->> 'id')::uuid,
                (result::jsonb ->> 'version')::integer, created_at
           FROM ${table} WHERE result::jsonb ->> 'status' IN ('applied', 'merged', 'conflict', 'rejected')
         ON CONFLICT (tenant_id, client_mutation_id) DO NOTHING`,
    );
    await q.query(`ALTER TABLE sync_ledger.mutations FORCE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  };
  return class implements MigrationInterface {
    name = name;

    async up(q: QueryRunner): Promise<void> {
      const [ledger] = (await q.query(
        `SELECT to_regclass('sync_ledger.mutations') IS NOT NULL AS present`,
      )) as { present: boolean }[];
      if (ledger.present) await copyToLedger(q);
      await q.query(`DROP TABLE ${table}`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE ${table} (
        tenant_id text NOT NULL,
        client_mutation_id uuid NOT NULL,
        payload_hash text NOT NULL,
        result json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, client_mutation_id)
      )`);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(
        `CREATE POLICY tenant_isolation ON ${table} USING (tenant_id = current_setting('app.tenant_id', true)) WITH CHECK (tenant_id = current_setting('app.tenant_id', true))`,
      );
    }
  };
}
