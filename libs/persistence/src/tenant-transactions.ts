import { PoolClient, escapeLiteral } from 'pg';
import { DataSource } from 'typeorm';
import { Tx } from './tx';
import { DatabaseUnavailableError, isConnectionFailure } from './database-unavailable';

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

const ISOLATION_SQL: Record<IsolationLevel, string> = {
  'READ COMMITTED': 'READ COMMITTED',
  'REPEATABLE READ': 'REPEATABLE READ',
  SERIALIZABLE: 'SERIALIZABLE',
};

/**
 * Queries go to the pooled pg client the query runner holds, not through TypeORM's query
 * layer: repositories write plain SQL and read plain rows, and the layer cost about a third
 * of a short statement's round trip. Errors keep pg's SQLSTATE (`pgErrorCode`).
 */
function txOf(client: PoolClient): Tx {
  return {
    query: async <T>(sql: string, params?: readonly unknown[]) => {
      const r = await client.query(sql, params as unknown[] | undefined);
      return r.rows as T[];
    },
    execute: async <T>(sql: string, params?: readonly unknown[]) => {
      const r = await client.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    },
    queryArrays: async (sql: string, params?: readonly unknown[]) => {
      const r = await client.query<unknown[]>({ text: sql, values: params as unknown[] | undefined, rowMode: 'array' });
      return r.rows;
    },
  };
}

/**
 * Runs work in one transaction with `app.tenant_id` set for that transaction only
 * (`set_config(..., true)`), so Row-Level Security isolates tenants even if a query forgets
 * its tenant filter.
 */
export class TenantTransactions {
  constructor(private readonly dataSource: DataSource) {}

  async run<T>(tenantId: string, work: (tx: Tx) => Promise<T>, isolation: IsolationLevel = 'READ COMMITTED'): Promise<T> {
    if (!tenantId) throw new Error('tenant id is required for a tenant transaction');
    // BEGIN and the tenant setting travel as one simple-protocol message (one round trip
    // instead of three), so the tenant id goes in as a literal escaped by pg itself.
    return this.inTransaction(`BEGIN ISOLATION LEVEL ${ISOLATION_SQL[isolation]}; SELECT set_config('app.tenant_id', ${escapeLiteral(tenantId)}, true)`, work);
  }

  /**
   * A read-only transaction in one round trip: BEGIN, the tenant setting, `sql` and COMMIT go as
   * one simple-protocol message (one socket write each way, where a transaction of three
   * statements costs four). `sql` is one statement without parameters: values are inlined as
   * literals escaped with pg's `escapeLiteral`. Returns its rows as arrays.
   */
  async readOnce(tenantId: string, sql: string, isolation: IsolationLevel = 'READ COMMITTED'): Promise<unknown[][]> {
    if (!tenantId) throw new Error('tenant id is required for a tenant transaction');
    const qr = this.dataSource.createQueryRunner();
    const client = await connect(qr);
    try {
      const results = (await client.query({
        text: `BEGIN ISOLATION LEVEL ${ISOLATION_SQL[isolation]} READ ONLY; SELECT set_config('app.tenant_id', ${escapeLiteral(tenantId)}, true); ${sql}; COMMIT`,
        rowMode: 'array',
      })) as unknown as { command: string; rows: unknown[][] }[];
      const commit = results[results.length - 1];
      if (results.length !== 4 || commit?.command !== 'COMMIT') throw new Error(`read was not committed (${String(commit?.command)})`);
      return results[2].rows;
    } catch (e) {
      // A failed statement leaves the transaction open and aborted; it never goes back to the pool so.
      const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
      throw failure(e, rolledBack);
    } finally {
      await qr.release();
    }
  }

  /**
   * A transaction without a tenant: only for roles whose policies grant cross-tenant access
   * to specific tables (the outbox relay). Under the app role it sees no tenant rows at all.
   */
  async runUnscoped<T>(work: (tx: Tx) => Promise<T>, isolation: IsolationLevel = 'READ COMMITTED'): Promise<T> {
    return this.inTransaction(`BEGIN ISOLATION LEVEL ${ISOLATION_SQL[isolation]}`, work);
  }

  private async inTransaction<T>(begin: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    const client = await connect(qr);
    try {
      try {
        await client.query(begin);
        const result = await work(txOf(client));
        // COMMIT of a transaction that hit an error answers ROLLBACK without failing; work that
        // swallowed a query error must not look committed.
        const commit = await client.query('COMMIT');
        if (commit.command !== 'COMMIT') throw new Error(`transaction was not committed (${commit.command})`);
        return result;
      } catch (e) {
        // Also after a failed BEGIN message or COMMIT: ROLLBACK outside a transaction is only a
        // warning, and a connection never goes back to the pool inside one.
        const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
        throw failure(e, rolledBack);
      }
    } finally {
      await qr.release();
    }
  }
}

/** A pooled connection; any failure to get one (refused, pool timeout, server starting) is the database being unavailable. */
async function connect(qr: { connect(): Promise<unknown> }): Promise<PoolClient> {
  try {
    return (await qr.connect()) as PoolClient;
  } catch (e) {
    throw new DatabaseUnavailableError(e);
  }
}

/**
 * The error a failed transaction ends with: the connection failing (by code, or a ROLLBACK that
 * could not even be sent because the connection is gone) is the database being unavailable;
 * anything else is rethrown as it is (SQLSTATEs stay readable with `pgErrorCode`).
 */
function failure(e: unknown, rolledBack: boolean): unknown {
  if (e instanceof DatabaseUnavailableError) return e;
  return !rolledBack || isConnectionFailure(e) ? new DatabaseUnavailableError(e) : e;
}
