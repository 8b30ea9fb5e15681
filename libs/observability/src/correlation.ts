import { randomUUID } from 'node:crypto';

export const CORRELATION_HEADER = 'x-correlation-id';
const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's correlation id when well-formed, else a new one. */
export function correlationIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && VALID.test(value) ? value : randomUUID();
}

interface Req {
  headers: Record<string, string | string[] | undefined>;
  correlationId?: string;
}
interface Res {
  setHeader(name: string, value: string): void;
}

/** Express middleware: assigns the correlation id and echoes it on the response. */
export function correlationMiddleware(req: Req, res: Res, next: () => void): void {
  const id = correlationIdFrom(req.headers[CORRELATION_HEADER]);
  req.correlationId = id;
  req.headers[CORRELATION_HEADER] = id;
  res.setHeader('X-Correlation-Id', id);
  next();
}
