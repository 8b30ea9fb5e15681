/**
 * Error codes of the client SDK. Each code is documented once, here; every error the SDK throws
 * is a `SyncClientError` carrying one of them, so an app can switch on `code`.
 */
export enum SyncClientErrorCode {
  /** `write()` was given an unknown entity, an unknown or server-managed field, or a value the registry refuses. */
  INVALID_WRITE = 'INVALID_WRITE',
  /** `update`/`delete` of a record that does not exist locally (or is already deleted). */
  RECORD_NOT_FOUND = 'RECORD_NOT_FOUND',
  /** `update`/`delete` of an append-only or server-derived entity; record a correction instead. */
  NOT_EDITABLE = 'NOT_EDITABLE',
  /** `setOnline(true)` while local changes or open conflicts are still waiting to be pushed. */
  PENDING_CHANGES = 'PENDING_CHANGES',
  /** A local-store operation that needs offline mode was called in online mode. */
  ONLINE_MODE = 'ONLINE_MODE',
  /** An online-mode write came back `conflict` or `rejected`; `details` holds the push results. */
  ONLINE_WRITE_FAILED = 'ONLINE_WRITE_FAILED',
  /** The platform answered with an HTTP error that retrying cannot fix (400, 401, 403, 404, 409, 413). */
  HTTP_ERROR = 'HTTP_ERROR',
  /** The platform could not be reached or kept failing (network, 5xx, 429, 503) after every retry. */
  UNREACHABLE = 'UNREACHABLE',
  /** The platform answered something that does not follow PROTOCOL.md (missing results, bad pull page). */
  PROTOCOL_ERROR = 'PROTOCOL_ERROR',
  /** A pulled page would leave a required reference orphaned; the page was rolled back, the cursor kept. */
  INTEGRITY_VIOLATION = 'INTEGRITY_VIOLATION',
  /** No local conflict or dead letter with that id. */
  NOT_FOUND = 'NOT_FOUND',
  /** The conflict was already resolved (locally, or the server answered 409). */
  CONFLICT_ALREADY_RESOLVED = 'CONFLICT_ALREADY_RESOLVED',
  /** The server record changed since the conflict was detected; the conflict stays open against the new server record. */
  CONFLICT_MOVED = 'CONFLICT_MOVED',
  /** `rebase()` onto a server record that is deleted: deletes never resurrect; resolve it instead. */
  REBASE_ON_DELETED = 'REBASE_ON_DELETED',
  /** The client was closed. */
  CLOSED = 'CLOSED',
}

export class SyncClientError extends Error {
  constructor(
    readonly code: SyncClientErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SyncClientError';
  }
}
