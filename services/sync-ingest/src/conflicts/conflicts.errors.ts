import { ContextError } from '../http/context-error';

/** Whole-request failures of conflict listing and resolution (PROTOCOL.md "Conflicts"; the values are the wire codes). */
export enum ConflictsErrorCode {
  /** A bad status, limit or resolution body (or merge data). */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** The cursor is tampered with, of another tenant or list, or malformed (`details` names `cursor`). */
  INVALID_CURSOR = 'INVALID_CURSOR',
  /** Unknown or non-UUID conflict id, or one of another tenant. */
  NOT_FOUND = 'NOT_FOUND',
  /** The caller may not resolve this conflict (audited `write-denied`). */
  FORBIDDEN = 'FORBIDDEN',
  /** Already resolved, stale (the record changed since detection), or refused by the module for good. */
  CONFLICT = 'CONFLICT',
  /** The owning module cannot be reached or cannot apply the resolution now; nothing was resolved, retry. */
  UNAVAILABLE = 'UNAVAILABLE',
}

export class ConflictsError extends ContextError<ConflictsErrorCode> {
  override readonly name = 'ConflictsError';
}
