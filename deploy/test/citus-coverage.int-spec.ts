import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PLATFORM_PLANS } from '../../tools/platform-plans';
import { createTestDatabase, TestDatabase } from '../../test/support/database';

// Real parts: Postgres with every service's migrations. Keeps deploy/citus/distribute.sql true
// to the schema: every table the migrations create is distributed by tenant_id (or, holding no tenant data, a reference table), and nothing else.
describe('deploy/citus/distribute.sql against the migrated schema', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(PLATFORM_PLANS);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('distributes exactly the tables the migrations create, each keyed by tenant_id', async () => {
    const owner = await db.ownerDataSource();
    const schemas = PLATFORM_PLANS.map((p) => p.schema);
    const tables: { name: string; has_tenant: boolean }[] = await owner.query(
      `SELECT t.table_schema || '.' || t.table_name AS name,
              EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'tenant_id') AS has_tenant
         FROM information_schema.tables t WHERE t.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'`,
      [schemas],
    );
    const sql = readFileSync(resolve(__dirname, '../citus/distribute.sql'), 'utf8');
    const distributed = [...sql.matchAll(/create_distributed_table\('([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]);
    const reference = [...sql.matchAll(/create_reference_table\('([a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]);
    expect([...distributed, ...reference].sort()).toEqual(tables.map((t) => t.name).sort());
    // Distributed tables are keyed by tenant; only reference tables (no tenant data) may lack it.
    expect(tables.filter((t) => !t.has_tenant).map((t) => t.name)).toEqual(reference);
  });
});
