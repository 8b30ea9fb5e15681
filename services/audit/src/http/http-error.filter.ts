import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ApiErrorBody, ApiErrorCode, ApiErrorDetail } from '@clinisync/contracts';
import { AuthError } from '@clinisync/auth';
import { DatabaseUnavailableError } from '@clinisync/persistence';
import { AuditErrorCode, AuditTrailError } from '../audit-trail/audit-trail.errors';

function assertUnreachable(value: never): never {
  throw new Error(`unhandled audit error code ${String(value)}`);
}

/** Each audit error code as exactly one protocol code and HTTP status (PROTOCOL.md "Errors"). */
export function protocolErrorOf(code: AuditErrorCode): {
  status: number;
  code: ApiErrorCode;
  retryAfter?: number;
} {
  switch (code) {
    case AuditErrorCode.VALIDATION_FAILED:
      return { status: HttpStatus.BAD_REQUEST, code: ApiErrorCode.VALIDATION_FAILED };
    case AuditErrorCode.INVALID_CURSOR:
      return { status: HttpStatus.BAD_REQUEST, code: ApiErrorCode.INVALID_CURSOR };
    case AuditErrorCode.FORBIDDEN:
      return { status: HttpStatus.FORBIDDEN, code: ApiErrorCode.FORBIDDEN };
    case AuditErrorCode.TENANT_MISMATCH:
      return { status: HttpStatus.FORBIDDEN, code: ApiErrorCode.TENANT_MISMATCH };
    case AuditErrorCode.NOT_FOUND:
      return { status: HttpStatus.NOT_FOUND, code: ApiErrorCode.NOT_FOUND };
    case AuditErrorCode.UNAVAILABLE:
      return { status: HttpStatus.SERVICE_UNAVAILABLE, code: ApiErrorCode.UNAVAILABLE, retryAfter: 5 };
    default:
      return assertUnreachable(code);
  }
}

/** Any exception as the audit error it stands for: coded errors as they are, everything else by kind. */
export function toAuditError(exception: unknown): AuditTrailError | AuthError | undefined {
  if (exception instanceof AuditTrailError || exception instanceof AuthError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === HttpStatus.NOT_FOUND)
      return new AuditTrailError(AuditErrorCode.NOT_FOUND, 'no such route');
    if (status < 500) return new AuditTrailError(AuditErrorCode.VALIDATION_FAILED, exception.message);
  }
  // Typed by the tenant transaction helper (connect failures, lost connections, SQLSTATE 08/57P0x), never read from message text.
  if (exception instanceof DatabaseUnavailableError)
    return new AuditTrailError(AuditErrorCode.UNAVAILABLE, 'a dependency is unavailable; retry later');
  return undefined;
}

export interface ErrorResponse {
  status(n: number): ErrorResponse;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  headersSent?: boolean;
  destroy?(): void;
}

function send(
  res: ErrorResponse,
  status: number,
  code: ApiErrorCode,
  message: string,
  details?: ApiErrorDetail[],
  retryAfter?: number,
): void {
  const body: ApiErrorBody = {
    error: { code, message, ...(details && details.length > 0 ? { details } : {}) },
  };
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res.status(status).json(body);
}

/** Writes the protocol error body for `exception`; a response already under way is aborted instead. */
export function sendAuditError(res: ErrorResponse, exception: unknown, logger: Logger): void {
  if (res.headersSent) {
    logger.error(`response aborted: ${exception instanceof Error ? exception.message : String(exception)}`);
    res.destroy?.();
    return;
  }
  const known = toAuditError(exception);
  if (known instanceof AuthError)
    return send(res, HttpStatus.UNAUTHORIZED, ApiErrorCode.UNAUTHENTICATED, 'authentication required');
  if (known) {
    const mapped = protocolErrorOf(known.code);
    return send(res, mapped.status, mapped.code, known.message, known.details, mapped.retryAfter);
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  return send(res, HttpStatus.INTERNAL_SERVER_ERROR, ApiErrorCode.INTERNAL, 'internal error');
}

/** The one HTTP edge of the audit service: coded errors to protocol bodies; anything unexpected to a bare 500. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendAuditError(host.switchToHttp().getResponse<ErrorResponse>(), exception, this.logger);
  }
}
