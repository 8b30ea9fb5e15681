import { ContextError } from '../http/context-error';

/** Whole-request failures of a push (PROTOCOL.md "Push"; the values are the wire codes). */
export enum PushErrorCode {
  /** The body is not a valid push request (every problem in `details`); nothing was stored. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** The body, or a mutation's data, names a tenant other than the token's. */
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  /** Another request is pushing these keys right now and kept winning the race; retry. */
  IDEMPOTENCY_IN_FLIGHT = 'IDEMPOTENCY_IN_FLIGHT',
  /** A module did not answer and some of the batch may still be committing; retry (applied ones replay). */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class PushError extends ContextError<PushErrorCode> {
  override readonly name = 'PushError';
}
