import { DataSource, QueryRunner } from 'typeorm';
import { Tx } from './tx';

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

function txOf(qr: QueryRunner): Tx {
  return {
    query: async <T>(sql: string, params?: readonly unknown[]) => {
      const r = await qr.query(sql, params ? [...params] : undefined, true);
      return (r.records ?? []) as T[];
    },
    execute: async <T>(sql: string, params?: readonly unknown[]) => {
      const r = await qr.query(sql, params ? [...params] : undefined, true);
      return { rows: (r.records ?? []) as T[], rowCount: r.affected ?? 0 };
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
    return this.inTransaction(isolation, async (tx) => {
      await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      return work(tx);
    });
  }

  /**
   * A transaction without a tenant: only for roles whose policies grant cross-tenant access
   * to specific tables (the outbox relay). Under the app role it sees no tenant rows at all.
   */
  async runUnscoped<T>(work: (tx: Tx) => Promise<T>, isolation: IsolationLevel = 'READ COMMITTED'): Promise<T> {
    return this.inTransaction(isolation, work);
  }

  private async inTransaction<T>(isolation: IsolationLevel, work: (tx: Tx) => Promise<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction(isolation);
      try {
        const result = await work(txOf(qr));
        await qr.commitTransaction();
        return result;
      } catch (e) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw e;
      }
    } finally {
      await qr.release();
    }
  }
}
