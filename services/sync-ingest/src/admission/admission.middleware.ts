import { JwtVerifier, bearerToken } from '@clinisync/auth';
import { sendError } from '../http/http-error.filter';
import { AdmissionRefused } from './admission.errors';
import { Admission, AdmissionRoute, AdmissionTicket } from './admission.service';

interface Req {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

interface Res {
  status(n: number): Res;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
  once(event: 'close' | 'finish', listener: () => void): void;
  headersSent?: boolean;
  writableFinished?: boolean;
  destroyed?: boolean;
}

const ROUTES: Record<string, AdmissionRoute> = {
  'POST /api/v1/sync/push': 'push',
  'GET /api/v1/sync/pull': 'pull',
};

function routeOf(req: Req): AdmissionRoute | undefined {
  return ROUTES[`${req.method} ${req.path.toLowerCase().replace(/\/+$/, '')}`];
}

function deviceIdOf(req: Req): string | undefined {
  const v = req.headers['x-device-id'];
  const id = (Array.isArray(v) ? v[0] : v)?.trim();
  return id ? id.slice(0, 200) : undefined;
}

/**
 * Express middleware mounted before the body parser: a push or pull with a valid token is
 * admitted (or refused with 429 / 503 and `Retry-After`) before its body is read, so a refused
 * request stored nothing. The ticket is released when the response ends or the connection
 * closes, whichever comes first. Requests without a valid token pass on to the guard's 401.
 */
export function admissionMiddleware(admission: Admission, verifier: JwtVerifier) {
  return (req: Req, res: Res, next: (e?: unknown) => void): void => {
    const route = routeOf(req);
    if (!route) return next();
    let token: string;
    try {
      token = bearerToken(req.headers.authorization as string | undefined);
    } catch {
      return next();
    }
    verifier.verify(token).then(
      (principal) => {
        const abort = new AbortController();
        let ticket: AdmissionTicket | undefined;
        let closed = false;
        const done = () => {
          closed = true;
          if (ticket) ticket.release();
          else abort.abort();
        };
        res.once('finish', done);
        res.once('close', done);
        admission.admit({ route, tenantId: principal.tenantId, deviceId: deviceIdOf(req) }, abort.signal).then(
          (t) => {
            ticket = t;
            if (closed) return t.release();
            next();
          },
          (e: unknown) => {
            if (e instanceof AdmissionRefused) return sendError(res, e.code, e.message, undefined, e.retryAfterSeconds, { reason: e.reason });
            if (!closed) next(e);
          },
        );
      },
      () => next(),
    );
  };
}
