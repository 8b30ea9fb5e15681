import { ApiErrorCode, ApiErrorDetail } from '@clinisync/contracts';

/** A whole-request failure of sync-ingest, carrying a protocol error code (mapped to HTTP at the edge). */
export class SyncIngestError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: ApiErrorDetail[],
    readonly retryAfterSeconds?: number,
    /** Extra members of the error object (e.g. the new server record of a stale resolution). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SyncIngestError';
  }
}
