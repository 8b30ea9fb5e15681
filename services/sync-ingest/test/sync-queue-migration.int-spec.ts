import { randomUUID } from 'node:crypto';
import { revertLastMigration } from '@clinisync/persistence';
import { createTestDatabase } from '../../../test/support/database';
import { syncIngestDatabasePlan } from '../src/database';

// Real parts: Postgres, the sync-ingest migrations run and reverted by the owner.
describe('sync queue migration (payload kept while open, lighter indexes)', () => {
  it('makes the payload optional with the lighter indexes, and its down restores the old table', async () => {
    const db = await createTestDatabase([syncIngestDatabasePlan]);
    try {
      const owner = await db.ownerDataSource();
      const indexes = async () =>
        (await owner.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'sync_ingest' AND tablename = 'sync_mutations' ORDER BY 1`)).map((r: { indexname: string }) => r.indexname);
      const payloadNullable = async () =>
        (await owner.query(`SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'sync_ingest' AND table_name = 'sync_mutations' AND column_name = 'payload'`))[0].is_nullable;
      expect(await indexes()).toEqual(['sync_mutations_device_open', 'sync_mutations_pkey', 'sync_mutations_received', 'sync_mutations_status']);
      expect(await payloadNullable()).toBe('YES');

      // A decided row without payload, as push writes it, under another tenant than any setting.
      const id = randomUUID();
      const recordId = randomUUID();
      await owner.query(
        `INSERT INTO sync_ingest.sync_mutations (tenant_id, client_mutation_id, entity, op, record_id, base_version, payload, payload_hash, status, result, actor_id)
         VALUES ('t-down', $1, 'patients', 'update', $2, 3, NULL, 'h', 'applied', '{}', 'u1')`,
        [id, recordId],
      );
      await revertLastMigration(db.ownerUrl, syncIngestDatabasePlan);
      expect(await indexes()).toEqual(['sync_mutations_completed', 'sync_mutations_device', 'sync_mutations_pkey', 'sync_mutations_status']);
      expect(await payloadNullable()).toBe('NO');
      const [row] = await owner.query(`SELECT payload FROM sync_ingest.sync_mutations WHERE client_mutation_id = $1`, [id]);
      expect(row.payload).toEqual({ entity: 'patients', op: 'update', id: recordId, baseVersion: 3 });
      const [forced] = await owner.query(`SELECT relforcerowsecurity AS forced FROM pg_class WHERE oid = 'sync_ingest.sync_mutations'::regclass`);
      expect(forced.forced).toBe(true);
    } finally {
      await db.drop();
    }
  });
});
