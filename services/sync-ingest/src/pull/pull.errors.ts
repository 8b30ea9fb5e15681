import { ContextError } from '../http/context-error';

/** Whole-request failures of a pull (PROTOCOL.md "Pull"; the values are the wire codes). */
export enum PullErrorCode {
  /** A bad `limit` or an unknown entity. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** The query names a tenant other than the token's. */
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  /** The cursor or checkpoint is tampered with, of another tenant or malformed (`details` names the parameter). */
  INVALID_CURSOR = 'INVALID_CURSOR',
  /** A module whose entities were asked for cannot be reached; retry. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class PullError extends ContextError<PullErrorCode> {
  override readonly name = 'PullError';
}
