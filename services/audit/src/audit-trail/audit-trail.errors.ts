import { ApiErrorDetail } from '@clinisync/contracts';

/** Why the audit service refused a request. The HTTP filter maps each to one status and protocol code. */
export enum AuditErrorCode {
  /** 400: a query parameter is unknown, repeated or malformed (`details` name each). */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** 400: the `cursor` was not issued by this service. */
  INVALID_CURSOR = 'INVALID_CURSOR',
  /** 403: the caller's roles do not include `auditor` (the refusal is itself audited as `access-denied`). */
  FORBIDDEN = 'FORBIDDEN',
  /** 403: the query names a tenant other than the token's (audited as `access-denied`). */
  TENANT_MISMATCH = 'TENANT_MISMATCH',
  /** 404: no such event in the caller's tenant (another tenant's event id is indistinguishable). */
  NOT_FOUND = 'NOT_FOUND',
  /** 503: the database cannot be reached; retry after `Retry-After`. */
  UNAVAILABLE = 'UNAVAILABLE',
}

/** A refused audit request, carrying its code; turned into HTTP only at the edge. */
export class AuditTrailError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    readonly details?: ApiErrorDetail[],
  ) {
    super(message);
    this.name = 'AuditTrailError';
  }
}
