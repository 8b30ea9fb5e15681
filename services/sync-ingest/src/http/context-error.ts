import { ApiErrorDetail } from '@clinisync/contracts';

/**
 * A whole-request failure of one bounded context of sync-ingest, carrying that context's error
 * code (`PushErrorCode`, `PullErrorCode`, …); `HttpErrorFilter` maps each context's codes to the
 * protocol's with an exhaustive switch.
 */
export abstract class ContextError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details?: ApiErrorDetail[],
    readonly retryAfterSeconds?: number,
    /** Extra members of the error object (e.g. the new server record of a stale resolution). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function assertUnreachable(value: never): never {
  throw new Error(`unhandled error code ${String(value)}`);
}
