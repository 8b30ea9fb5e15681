import { pgErrorCode } from './tx';

/**
 * The database could not be reached, or the connection was lost mid-transaction: nothing the
 * request did is committed, and a retry may succeed. Thrown by `TenantTransactions` in place of
 * the driver's error (kept as `cause`), so edges answer 503 by type, never by message text.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** Socket-level error codes of Node (the server is down, unreachable or dropped the connection). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Whether `error` says the database is unreachable, by code: a socket error, a SQLSTATE of class
 * 08 (connection exception), or 57P01-57P03 (the server is shutting down, crashed, or starting up).
 */
export function isConnectionFailure(error: unknown): boolean {
  const code = pgErrorCode(error);
  if (code === undefined) return false;
  return SOCKET_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}
