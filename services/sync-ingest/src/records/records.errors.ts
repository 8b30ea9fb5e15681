import { ContextError } from '../http/context-error';

/** Whole-request failures of the online-mode reads (PROTOCOL.md; the values are the wire codes). */
export enum RecordsErrorCode {
  /** A bad filter or `limit`. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** The cursor is tampered with, of another tenant or list, or malformed (`details` names `cursor`). */
  INVALID_CURSOR = 'INVALID_CURSOR',
  /** Unknown entity, non-UUID id, or a record the caller cannot see (indistinguishable). */
  NOT_FOUND = 'NOT_FOUND',
  /** The owning module cannot be reached; retry. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class RecordsError extends ContextError<RecordsErrorCode> {
  override readonly name = 'RecordsError';
}
