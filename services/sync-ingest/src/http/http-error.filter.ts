import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ApiErrorBody, ApiErrorCode, ApiErrorDetail } from '@clinisync/contracts';
import { AuthError } from '@clinisync/auth';
import { SyncIngestError } from '../push/push.errors';

export function statusOf(code: ApiErrorCode): number {
  switch (code) {
    case ApiErrorCode.VALIDATION_FAILED:
    case ApiErrorCode.INVALID_CURSOR:
      return HttpStatus.BAD_REQUEST;
    case ApiErrorCode.UNAUTHENTICATED:
      return HttpStatus.UNAUTHORIZED;
    case ApiErrorCode.FORBIDDEN:
    case ApiErrorCode.TENANT_MISMATCH:
      return HttpStatus.FORBIDDEN;
    case ApiErrorCode.NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case ApiErrorCode.CONFLICT:
    case ApiErrorCode.IDEMPOTENCY_IN_FLIGHT:
      return HttpStatus.CONFLICT;
    case ApiErrorCode.PAYLOAD_TOO_LARGE:
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case ApiErrorCode.RATE_LIMITED:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ApiErrorCode.UNAVAILABLE:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ApiErrorCode.INTERNAL:
      return HttpStatus.INTERNAL_SERVER_ERROR;
  }
}

interface Res {
  status(n: number): Res;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  headersSent?: boolean;
}

export function sendError(res: Res, code: ApiErrorCode, message: string, details?: ApiErrorDetail[], retryAfter?: number, extra?: Record<string, unknown>): void {
  if (res.headersSent) return;
  const body: ApiErrorBody = { error: { code, message, ...(details && details.length > 0 ? { details } : {}), ...(extra ?? {}) } };
  if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
  res.status(statusOf(code)).json(body);
}

/** Maps body-parser failures (malformed JSON, too large) to protocol errors; registered right after the parser. */
export function bodyParserErrorHandler(err: { type?: string; status?: number }, _req: unknown, res: Res, next: (e?: unknown) => void): void {
  if (err?.type === 'entity.too.large') return sendError(res, ApiErrorCode.PAYLOAD_TOO_LARGE, 'request body exceeds the size limit');
  if (err?.type === 'entity.parse.failed') return sendError(res, ApiErrorCode.VALIDATION_FAILED, 'malformed JSON body', [{ path: '', message: 'body is not valid JSON' }]);
  if (err?.status && err.status >= 400 && err.status < 500) return sendError(res, ApiErrorCode.VALIDATION_FAILED, 'unreadable request body');
  next(err);
}

/** The one HTTP edge of sync-ingest: coded errors to protocol bodies; anything unexpected to a bare 500. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Res>();
    if (exception instanceof SyncIngestError) {
      return sendError(res, exception.code, exception.message, exception.details, exception.retryAfterSeconds ?? (exception.code === ApiErrorCode.UNAVAILABLE ? 5 : undefined), exception.extra);
    }
    if (exception instanceof AuthError) return sendError(res, ApiErrorCode.UNAUTHENTICATED, 'authentication required');
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === HttpStatus.NOT_FOUND) return sendError(res, ApiErrorCode.NOT_FOUND, 'no such route');
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) return sendError(res, ApiErrorCode.PAYLOAD_TOO_LARGE, 'request body exceeds the size limit');
      if (status < 500) return sendError(res, ApiErrorCode.VALIDATION_FAILED, exception.message);
    }
    const dbDown = /ECONNREFUSED|Connection terminated|timeout exceeded when trying to connect/i.test(String((exception as Error)?.message));
    if (dbDown) return sendError(res, ApiErrorCode.UNAVAILABLE, 'a dependency is unavailable; retry later', undefined, 5);
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return sendError(res, ApiErrorCode.INTERNAL, 'internal error');
  }
}
