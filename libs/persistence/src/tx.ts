/** A query handle bound to one open transaction. Repositories take it; they never open their own. */
export interface Tx {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Like query, plus the affected row count (for UPDATE/DELETE guards). */
  execute<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[]; rowCount: number }>;
  /** Rows as arrays in select-list order (no object per row: for pages of thousands). */
  queryArrays(sql: string, params?: readonly unknown[]): Promise<unknown[][]>;
}

/** Postgres SQLSTATE of a failed query, when it is one. */
export function pgErrorCode(error: unknown): string | undefined {
  const e = error as { driverError?: { code?: unknown }; code?: unknown } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_SERIALIZATION_FAILURE = '40001';
export const PG_DEADLOCK = '40P01';
