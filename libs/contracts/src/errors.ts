/**
 * Whole-request error codes (PROTOCOL.md "Errors"). Each maps to exactly one HTTP status in
 * the services' HTTP filters.
 */
export enum ApiErrorCode {
  /** 400: the request body, query or a mutation failed validation; `details` lists paths. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** 400: the pull cursor is malformed, tampered with or was issued for another tenant. */
  INVALID_CURSOR = 'INVALID_CURSOR',
  /** 401: missing, malformed, expired or untrusted bearer token. */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** 403: the caller's roles, facilities or licences do not allow the request. */
  FORBIDDEN = 'FORBIDDEN',
  /** 403: the body or query names a tenant other than the token's. */
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  /** 404: the resource does not exist or is not visible to the caller (indistinguishable). */
  NOT_FOUND = 'NOT_FOUND',
  /** 409: the resource changed state (e.g. a conflict resolved twice or stale). */
  CONFLICT = 'CONFLICT',
  /** 409: another request is applying one of these clientMutationIds right now; retry after Retry-After (it then replays). */
  IDEMPOTENCY_IN_FLIGHT = 'IDEMPOTENCY_IN_FLIGHT',
  /** 413: the body exceeds the configured limit (default 2 MiB). */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** 415: the body's `Content-Encoding` is not one of gzip, br, deflate, identity. */
  UNSUPPORTED_ENCODING = 'UNSUPPORTED_ENCODING',
  /** 429: rate limited; honour Retry-After. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** 503: a dependency (database, module) is unavailable; retry after Retry-After. */
  UNAVAILABLE = 'UNAVAILABLE',
  /** 500: an unexpected failure; carries no internals. Never caused by bad input. */
  INTERNAL = 'INTERNAL',
}

export interface ApiErrorDetail {
  path: string;
  message: string;
}

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: ApiErrorDetail[]; correlationId?: string };
}

/**
 * Per-mutation rejection codes (`status: "rejected"` items of a push response).
 * `retryable` tells the client whether sending the same mutation again can succeed.
 */
export enum MutationRejectCode {
  /** Caller's role, facility or licence does not allow this write. Not retryable. */
  FORBIDDEN = 'FORBIDDEN',
  /** A mutation this one depends on (parent record or earlier edit of the same record) failed in this batch. Retryable. */
  DEPENDENCY_FAILED = 'DEPENDENCY_FAILED',
  /** The clientMutationId was used before with a different payload. Not retryable. */
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /** The record to update or delete does not exist (or belongs to another tenant). Not retryable. */
  NOT_FOUND = 'NOT_FOUND',
  /** A create named an id that already exists. Not retryable. */
  ALREADY_EXISTS = 'ALREADY_EXISTS',
  /** Update or delete of an append-only record; corrections are new records. Not retryable. */
  APPEND_ONLY = 'APPEND_ONLY',
  /** The entity is derived by the server (e.g. stock_levels); clients never write it. Not retryable. */
  READ_ONLY = 'READ_ONLY',
  /** A referenced parent record (e.g. patientId) does not exist. Not retryable. */
  PARENT_NOT_FOUND = 'PARENT_NOT_FOUND',
  /** Domain validation failed in the owning module (e.g. a value breaks a business rule). Not retryable. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** The owning module could not be reached or failed; nothing was applied. Retryable. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export const RETRYABLE_REJECT_CODES: ReadonlySet<MutationRejectCode> = new Set([
  MutationRejectCode.DEPENDENCY_FAILED,
  MutationRejectCode.UNAVAILABLE,
]);
