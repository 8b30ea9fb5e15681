import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ApiErrorBody, ApiErrorCode, ApiErrorDetail } from '@clinisync/contracts';
import { AuthError } from '@clinisync/auth';
import { DatabaseUnavailableError } from '@clinisync/persistence';
import { ContextError, assertUnreachable } from './context-error';
import { PushError, PushErrorCode } from '../push/push.errors';
import { PullError, PullErrorCode } from '../pull/pull.errors';
import { RecordsError, RecordsErrorCode } from '../records/records.errors';
import { ConflictsError, ConflictsErrorCode } from '../conflicts/conflicts.errors';
import { QueueError, QueueErrorCode } from '../queue/queue.errors';

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
    case ApiErrorCode.UNSUPPORTED_ENCODING:
      return HttpStatus.UNSUPPORTED_MEDIA_TYPE;
    case ApiErrorCode.RATE_LIMITED:
      return HttpStatus.TOO_MANY_REQUESTS;
    case ApiErrorCode.UNAVAILABLE:
      return HttpStatus.SERVICE_UNAVAILABLE;
    case ApiErrorCode.INTERNAL:
      return HttpStatus.INTERNAL_SERVER_ERROR;
  }
}

function pushCode(code: PushErrorCode): ApiErrorCode {
  switch (code) {
    case PushErrorCode.VALIDATION_FAILED:
      return ApiErrorCode.VALIDATION_FAILED;
    case PushErrorCode.TENANT_MISMATCH:
      return ApiErrorCode.TENANT_MISMATCH;
    case PushErrorCode.IDEMPOTENCY_IN_FLIGHT:
      return ApiErrorCode.IDEMPOTENCY_IN_FLIGHT;
    case PushErrorCode.UNAVAILABLE:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return assertUnreachable(code);
  }
}

function pullCode(code: PullErrorCode): ApiErrorCode {
  switch (code) {
    case PullErrorCode.VALIDATION_FAILED:
      return ApiErrorCode.VALIDATION_FAILED;
    case PullErrorCode.TENANT_MISMATCH:
      return ApiErrorCode.TENANT_MISMATCH;
    case PullErrorCode.INVALID_CURSOR:
      return ApiErrorCode.INVALID_CURSOR;
    case PullErrorCode.UNAVAILABLE:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return assertUnreachable(code);
  }
}

function recordsCode(code: RecordsErrorCode): ApiErrorCode {
  switch (code) {
    case RecordsErrorCode.VALIDATION_FAILED:
      return ApiErrorCode.VALIDATION_FAILED;
    case RecordsErrorCode.INVALID_CURSOR:
      return ApiErrorCode.INVALID_CURSOR;
    case RecordsErrorCode.NOT_FOUND:
      return ApiErrorCode.NOT_FOUND;
    case RecordsErrorCode.UNAVAILABLE:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return assertUnreachable(code);
  }
}

function conflictsCode(code: ConflictsErrorCode): ApiErrorCode {
  switch (code) {
    case ConflictsErrorCode.VALIDATION_FAILED:
      return ApiErrorCode.VALIDATION_FAILED;
    case ConflictsErrorCode.INVALID_CURSOR:
      return ApiErrorCode.INVALID_CURSOR;
    case ConflictsErrorCode.NOT_FOUND:
      return ApiErrorCode.NOT_FOUND;
    case ConflictsErrorCode.FORBIDDEN:
      return ApiErrorCode.FORBIDDEN;
    case ConflictsErrorCode.CONFLICT:
      return ApiErrorCode.CONFLICT;
    case ConflictsErrorCode.UNAVAILABLE:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return assertUnreachable(code);
  }
}

function queueCode(code: QueueErrorCode): ApiErrorCode {
  switch (code) {
    case QueueErrorCode.VALIDATION_FAILED:
      return ApiErrorCode.VALIDATION_FAILED;
    case QueueErrorCode.NOT_FOUND:
      return ApiErrorCode.NOT_FOUND;
    case QueueErrorCode.FORBIDDEN:
      return ApiErrorCode.FORBIDDEN;
    case QueueErrorCode.CONFLICT:
      return ApiErrorCode.CONFLICT;
    case QueueErrorCode.UNAVAILABLE:
      return ApiErrorCode.UNAVAILABLE;
    default:
      return assertUnreachable(code);
  }
}

/** The protocol code of a bounded context's error; undefined for anything that is not one. */
export function protocolCodeOf(e: unknown): ApiErrorCode | undefined {
  if (e instanceof PushError) return pushCode(e.code);
  if (e instanceof PullError) return pullCode(e.code);
  if (e instanceof RecordsError) return recordsCode(e.code);
  if (e instanceof ConflictsError) return conflictsCode(e.code);
  if (e instanceof QueueError) return queueCode(e.code);
  return undefined;
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

/**
 * Maps body-parser failures (malformed JSON, too large, a body that does not inflate, an encoding
 * it does not know) to protocol errors; registered right after the parser.
 */
export function bodyParserErrorHandler(err: { type?: string; status?: number }, req: { headers?: Record<string, string | string[] | undefined> }, res: Res, next: (e?: unknown) => void): void {
  if (err?.type === 'entity.too.large') return sendError(res, ApiErrorCode.PAYLOAD_TOO_LARGE, 'request body exceeds the size limit (after inflating)');
  if (err?.type === 'entity.parse.failed') return sendError(res, ApiErrorCode.VALIDATION_FAILED, 'malformed JSON body', [{ path: '', message: 'body is not valid JSON' }]);
  if (err?.type === 'encoding.unsupported') return sendError(res, ApiErrorCode.UNSUPPORTED_ENCODING, 'unsupported Content-Encoding; use one of identity, gzip, br, deflate');
  const encoding = String(req?.headers?.['content-encoding'] ?? 'identity').trim().toLowerCase();
  // An error without a type comes from the decompression stream (zlib / brotli): the body does not inflate.
  if (err?.type === undefined && err?.status === 400 && encoding !== 'identity')
    return sendError(res, ApiErrorCode.VALIDATION_FAILED, `request body is not valid ${encoding} data`, [{ path: '', message: `body does not decompress as Content-Encoding ${encoding}` }]);
  if (err?.status && err.status >= 400 && err.status < 500) return sendError(res, ApiErrorCode.VALIDATION_FAILED, 'unreadable request body');
  next(err);
}

/** The one HTTP edge of sync-ingest: coded errors to protocol bodies; anything unexpected to a bare 500. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Res>();
    const code = protocolCodeOf(exception);
    if (code !== undefined) {
      const e = exception as ContextError<string>;
      return sendError(res, code, e.message, e.details, e.retryAfterSeconds ?? (code === ApiErrorCode.UNAVAILABLE ? 5 : undefined), e.extra);
    }
    if (exception instanceof AuthError) return sendError(res, ApiErrorCode.UNAUTHENTICATED, 'authentication required');
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === HttpStatus.NOT_FOUND) return sendError(res, ApiErrorCode.NOT_FOUND, 'no such route');
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) return sendError(res, ApiErrorCode.PAYLOAD_TOO_LARGE, 'request body exceeds the size limit');
      if (status < 500) return sendError(res, ApiErrorCode.VALIDATION_FAILED, exception.message);
    }
    if (exception instanceof DatabaseUnavailableError) return sendError(res, ApiErrorCode.UNAVAILABLE, 'a dependency is unavailable; retry later', undefined, 5);
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return sendError(res, ApiErrorCode.INTERNAL, 'internal error');
  }
}
