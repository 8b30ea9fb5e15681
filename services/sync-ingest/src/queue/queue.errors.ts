import { ContextError } from '../http/context-error';

/** Whole-request failures of the single-operation queue API (the values are the wire codes). */
export enum QueueErrorCode {
  /** A bad operation, a missing deviceId or resolution, or a mutation the push rules refuse. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** Unknown queued operation, or no conflict for it. */
  NOT_FOUND = 'NOT_FOUND',
  /** Sync stats are for admins. */
  FORBIDDEN = 'FORBIDDEN',
  /** The operation's key was already queued with another payload. */
  CONFLICT = 'CONFLICT',
  /** The operation could not be stored; retry. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class QueueError extends ContextError<QueueErrorCode> {
  override readonly name = 'QueueError';
}
