import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sync queue writes one row per pushed mutation; this makes that row cheaper.
 * - `payload` is kept only while a mutation may still be processed from the queue (`pending`,
 *   `failed`); a decided one keeps its payload hash and its result, which is all a replay needs.
 * - The device index holds only those open rows: the queue API lists a device's pending and
 *   failed operations, never its decided ones.
 * - Retention by age reads a BRIN index on `received_at` (rows arrive in time order) instead of
 *   a b-tree entry per row on `completed_at`.
 * `down` restores the old indexes and NOT NULL; a decided row whose payload was not kept gets
 * the mutation's envelope (entity, op, id, baseVersion) as payload, its data being gone.
 * Never edit once landed; add a new migration instead.
 */
export class LightenSyncQueue1796515200000 implements MigrationInterface {
  name = 'LightenSyncQueue1796515200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sync_ingest.sync_mutations ALTER COLUMN payload DROP NOT NULL`);
    await q.query(`DROP INDEX sync_ingest.sync_mutations_device`);
    await q.query(`CREATE INDEX sync_mutations_device_open ON sync_ingest.sync_mutations (tenant_id, device_id, received_at) WHERE status IN ('pending', 'failed')`);
    await q.query(`DROP INDEX sync_ingest.sync_mutations_completed`);
    await q.query(`CREATE INDEX sync_mutations_received ON sync_ingest.sync_mutations USING brin (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX sync_ingest.sync_mutations_received`);
    await q.query(`CREATE INDEX sync_mutations_completed ON sync_ingest.sync_mutations (completed_at) WHERE completed_at IS NOT NULL`);
    await q.query(`DROP INDEX sync_ingest.sync_mutations_device_open`);
    await q.query(`CREATE INDEX sync_mutations_device ON sync_ingest.sync_mutations (tenant_id, device_id, status)`);
    // RLS is forced on the table, the owner included: lift it for the backfill of every tenant.
    await q.query(`ALTER TABLE sync_ingest.sync_mutations NO FORCE ROW LEVEL SECURITY`);
    await q.query(
      `UPDATE sync_ingest.sync_mutations SET payload = jsonb_build_object('entity', entity, 'op', op, 'id', record_id, 'baseVersion', base_version) WHERE payload IS NULL`,
    );
    await q.query(`ALTER TABLE sync_ingest.sync_mutations FORCE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE sync_ingest.sync_mutations ALTER COLUMN payload SET NOT NULL`);
  }
}
