import { ApiErrorCode } from '@clinisync/contracts';
import { sendError } from './http-error.filter';

/**
 * Request body encodings accepted (PROTOCOL.md "Transport"). Express's json() (body-parser 2)
 * inflates them itself and applies BODY_LIMIT_BYTES to the inflated bytes, stopping there.
 */
export const REQUEST_ENCODINGS: readonly string[] = ['identity', 'gzip', 'br', 'deflate'];

interface Req {
  headers: Record<string, string | string[] | undefined>;
}

/** The request carries a body (the test body-parser itself uses). */
function hasBody(req: Req): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/**
 * Mounted before the body parser: a body in any other `Content-Encoding` (a list of them, or one
 * body-parser would also take, e.g. zstd on newer Node) is 415 UNSUPPORTED_ENCODING, unread.
 */
export function requestEncodingGuard(req: Req, res: Parameters<typeof sendError>[0], next: () => void): void {
  const raw = req.headers['content-encoding'];
  if (raw === undefined || !hasBody(req)) return next();
  const encoding = (Array.isArray(raw) ? raw.join(',') : raw).trim().toLowerCase();
  if (REQUEST_ENCODINGS.includes(encoding)) return next();
  sendError(res, ApiErrorCode.UNSUPPORTED_ENCODING, `unsupported Content-Encoding ${JSON.stringify(encoding)}; use one of ${REQUEST_ENCODINGS.join(', ')}`);
}
