import { ApiErrorCode, ApiErrorDetail } from '@clinisync/contracts';

/** A whole-request failure of sync-ingest, carrying a protocol error code (mapped to HTTP at the edge). */
export class SyncIngestError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: ApiErrorDetail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'SyncIngestError';
  }
}
