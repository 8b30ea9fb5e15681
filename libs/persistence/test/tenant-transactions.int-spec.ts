import { DataSource } from 'typeorm';
import { DatabaseUnavailableError, TenantTransactions } from '@clinisync/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { patientsDatabasePlan } from '../../../services/patients/src/database';
import { newId } from '../../../test/support/builders';

// Real parts: Postgres (fresh database, migrations, non-owner app role). Nothing mocked.
describe('TenantTransactions (one round trip to begin; the tenant lives and dies with the transaction)', () => {
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  const insertSql = `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, version, created_at, updated_at) VALUES (current_setting('app.tenant_id'), $1, 'f-1', 'A', 1, now(), now())`;
  const count = async (tenant: string, id: string) =>
    (await tx.run(tenant, (t) => t.query<{ n: number }>('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [id])))[0].n;

  beforeAll(async () => {
    db = await createTestDatabase([patientsDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([["t'1"], ['t\\1'], ["'); SELECT set_config('app.tenant_id', 'other', true); --"], ['tenant-ü-1']])(
    'sets the tenant %j verbatim, at the chosen isolation level, and not beyond the transaction',
    async (tenant) => {
      const [inside] = await tx.run(
        tenant,
        (t) => t.query<{ tenant: string; iso: string }>(`SELECT current_setting('app.tenant_id') AS tenant, current_setting('transaction_isolation') AS iso`),
        'REPEATABLE READ',
      );
      expect(inside).toEqual({ tenant, iso: 'repeatable read' });
      const after = await Promise.all(Array.from({ length: 5 }, () => tx.runUnscoped((t) => t.query<{ tenant: string | null }>(`SELECT current_setting('app.tenant_id', true) AS tenant`))));
      expect(after.flat().every((r) => r.tenant === null || r.tenant === '')).toBe(true);
    },
  );

  it('turns a connection lost mid-transaction into DatabaseUnavailableError (by code, or by the connection being gone), and the pool recovers', async () => {
    // Postgres ends the session with SQLSTATE 57P01 (admin shutdown): typed by its code.
    const own = tx.run('t1', (t) => t.query(`SELECT pg_terminate_backend(pg_backend_pid())`));
    await expect(own).rejects.toBeInstanceOf(DatabaseUnavailableError);
    // Killed from outside between statements: the driver's error has no code, and no ROLLBACK gets through.
    const owner = await db.ownerDataSource();
    try {
      const outside = tx.run('t1', async (t) => {
        const [{ pid }] = await t.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
        await owner.query(`SELECT pg_terminate_backend($1)`, [pid]);
        // Wait until the backend is gone (a condition, not a sleep).
        while ((await owner.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).length > 0);
        return t.query(`SELECT 1`);
      });
      await expect(outside).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await owner.destroy();
    }
    await expect(tx.run('t1', (t) => t.query<{ one: number }>(`SELECT 1 AS one`))).resolves.toEqual([{ one: 1 }]);
  });

  it('keeps an ordinary statement error as it is (its SQLSTATE readable), not an outage', async () => {
    const e = await tx.run('t1', (t) => t.query(`SELECT * FROM no_such_table`)).catch((err: unknown) => err);
    expect(e).not.toBeInstanceOf(DatabaseUnavailableError);
    expect((e as { code?: string }).code).toBe('42P01');
  });

  it('commits the work and returns its result', async () => {
    const id = newId();
    await expect(tx.run('t1', (t) => t.execute(insertSql, [id]).then((r) => r.rowCount))).resolves.toBe(1);
    expect(await count('t1', id)).toBe(1);
  });

  it('rolls back when the work throws, and no connection goes back to the pool inside a transaction', async () => {
    const id = newId();
    await expect(
      tx.run('t1', async (t) => {
        await t.execute(insertSql, [id]);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await count('t1', id)).toBe(0);
    // Every pooled connection starts its next transaction afresh (none was left inside one).
    const fresh = await Promise.all(Array.from({ length: 5 }, () => tx.runUnscoped((t) => t.query<{ xid: string | null }>(`SELECT pg_current_xact_id_if_assigned()::text AS xid`))));
    expect(fresh.flat().every((r) => r.xid === null)).toBe(true);
  });

  it('refuses to report a commit when the work swallowed a failed statement (Postgres rolled it back)', async () => {
    const id = newId();
    await expect(
      tx.run('t1', async (t) => {
        await t.execute(insertSql, [id]);
        await t.query('SELECT 1/0').catch(() => undefined);
        return 'looks fine';
      }),
    ).rejects.toThrow(/not committed/);
    expect(await count('t1', id)).toBe(0);
  });

  it('reads rows as arrays in select-list order', async () => {
    const rows = await tx.run('t1', (t) => t.queryArrays(`SELECT 1 AS a, 'x' AS b, NULL::text AS c, true AS d`));
    expect(rows).toEqual([[1, 'x', null, true]]);
  });

  it('reads once in one message: the tenant set for that read only, read-only, rows as arrays', async () => {
    const id = newId();
    await tx.run("t'2", (t) => t.execute(insertSql, [id]));
    const rows = await tx.readOnce("t'2", `SELECT id::text, current_setting('app.tenant_id'), current_setting('transaction_read_only'), current_setting('transaction_isolation') FROM patients.patients`, 'REPEATABLE READ');
    expect(rows).toEqual([[id, "t'2", 'on', 'repeatable read']]);
    await expect(tx.readOnce("t'2", `INSERT INTO patients.patients (tenant_id, id, facility_id, given_name, version, created_at, updated_at) VALUES ('t''2', '${newId()}', 'f', 'A', 1, now(), now())`)).rejects.toThrow(/read-only/);
  });

  it('leaves no connection inside a transaction after a failed read', async () => {
    await expect(tx.readOnce('t1', 'SELECT 1/0')).rejects.toThrow(/division by zero/);
    const fresh = await Promise.all(Array.from({ length: 5 }, () => tx.readOnce('t1', `SELECT current_setting('app.tenant_id', true), now() = statement_timestamp()`)));
    expect(fresh.flat()).toEqual(Array.from({ length: 5 }, () => ['t1', true]));
  });
});
