import { Logger, NotFoundException } from '@nestjs/common';
import { AuthError } from '@clinisync/auth';
import { DatabaseUnavailableError } from '@clinisync/persistence';
import { AuditErrorCode, AuditTrailError } from '../audit-trail/audit-trail.errors';
import { ErrorResponse, protocolErrorOf, sendAuditError } from './http-error.filter';

function aResponse(headersSent = false) {
  const sent: { status?: number; body?: unknown; headers: Record<string, string>; destroyed: boolean } = {
    headers: {},
    destroyed: false,
  };
  const res: ErrorResponse = {
    headersSent,
    status(n) {
      sent.status = n;
      return res;
    },
    setHeader(name, value) {
      sent.headers[name] = value;
    },
    json(body) {
      sent.body = body;
    },
    destroy() {
      sent.destroyed = true;
    },
  };
  return { res, sent };
}

const quiet = { error: () => undefined } as unknown as Logger;

describe('audit HTTP errors (PROTOCOL.md Errors)', () => {
  it.each([
    [AuditErrorCode.VALIDATION_FAILED, 400, 'VALIDATION_FAILED'],
    [AuditErrorCode.INVALID_CURSOR, 400, 'INVALID_CURSOR'],
    [AuditErrorCode.FORBIDDEN, 403, 'FORBIDDEN'],
    [AuditErrorCode.TENANT_MISMATCH, 403, 'TENANT_MISMATCH'],
    [AuditErrorCode.NOT_FOUND, 404, 'NOT_FOUND'],
    [AuditErrorCode.UNAVAILABLE, 503, 'UNAVAILABLE'],
  ])('maps %s to %d %s', (code, status, protocolCode) => {
    expect(protocolErrorOf(code)).toMatchObject({ status, code: protocolCode });
    const { res, sent } = aResponse();
    sendAuditError(res, new AuditTrailError(code, 'why'), quiet);
    expect(sent.status).toBe(status);
    expect(sent.body).toEqual({ error: { code: protocolCode, message: 'why' } });
  });

  it('answers 401 UNAUTHENTICATED without the reason, 404 for unknown routes, 503 with Retry-After when the database is down, and a bare 500 otherwise', () => {
    const cases: [unknown, number, string][] = [
      [new AuthError('jwt expired'), 401, 'authentication required'],
      [new NotFoundException(), 404, 'no such route'],
      [new DatabaseUnavailableError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), 503, 'a dependency is unavailable; retry later'],
      // An outage is known by type, never guessed from a message.
      [new Error('connect ECONNREFUSED 127.0.0.1:5432'), 500, 'internal error'],
      [new Error('secret internals'), 500, 'internal error'],
    ];
    for (const [exception, status, message] of cases) {
      const { res, sent } = aResponse();
      sendAuditError(res, exception, quiet);
      expect(sent.status).toBe(status);
      expect((sent.body as { error: { message: string } }).error.message).toBe(message);
    }
  });

  it('aborts a response that already started instead of appending an error to it', () => {
    const { res, sent } = aResponse(true);
    sendAuditError(res, new Error('boom'), quiet);
    expect(sent.destroyed).toBe(true);
    expect(sent.status).toBeUndefined();
  });
});
