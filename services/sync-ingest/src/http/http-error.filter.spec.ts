import { ArgumentsHost, Logger } from '@nestjs/common';
import { ApiErrorCode } from '@clinisync/contracts';
import { DatabaseUnavailableError } from '@clinisync/persistence';
import { HttpErrorFilter, protocolCodeOf } from './http-error.filter';
import { PushError, PushErrorCode } from '../push/push.errors';
import { PullError, PullErrorCode } from '../pull/pull.errors';
import { RecordsError, RecordsErrorCode } from '../records/records.errors';
import { ConflictsError, ConflictsErrorCode } from '../conflicts/conflicts.errors';
import { QueueError, QueueErrorCode } from '../queue/queue.errors';

function answer(exception: unknown) {
  const out: { status?: number; headers: Record<string, string>; body?: { error: { code: string; message: string; details?: unknown } } } = { headers: {} };
  const res = {
    status(n: number) {
      out.status = n;
      return res;
    },
    setHeader(name: string, value: string) {
      out.headers[name] = value;
    },
    json(body: unknown) {
      out.body = body as typeof out.body;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new HttpErrorFilter().catch(exception, host);
  return out;
}

const STATUS: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  TENANT_MISMATCH: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_IN_FLIGHT: 409,
  UNAVAILABLE: 503,
};

describe('HttpErrorFilter: one error-code enum per bounded context, one edge', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());
  const cases: [string, string, Error][] = [
    ...Object.values(PushErrorCode).map((c): [string, string, Error] => ['push', c, new PushError(c, 'm')]),
    ...Object.values(PullErrorCode).map((c): [string, string, Error] => ['pull', c, new PullError(c, 'm')]),
    ...Object.values(RecordsErrorCode).map((c): [string, string, Error] => ['records', c, new RecordsError(c, 'm')]),
    ...Object.values(ConflictsErrorCode).map((c): [string, string, Error] => ['conflicts', c, new ConflictsError(c, 'm')]),
    ...Object.values(QueueErrorCode).map((c): [string, string, Error] => ['queue', c, new QueueError(c, 'm')]),
  ];

  it.each(cases)('%s %s keeps its wire code and status', (_context, code, error) => {
    expect(protocolCodeOf(error)).toBe(code);
    expect(Object.values(ApiErrorCode)).toContain(code);
    const out = answer(error);
    expect(out.status).toBe(STATUS[code]);
    expect(out.body?.error.code).toBe(code);
    expect(out.headers['Retry-After']).toBe(code === 'UNAVAILABLE' ? '5' : undefined);
  });

  it('passes details, an explicit Retry-After and extra members through', () => {
    const out = answer(new ConflictsError(ConflictsErrorCode.CONFLICT, 'stale', [{ path: 'x', message: 'y' }], 7, { serverVersion: 3 }));
    expect(out).toMatchObject({ status: 409, headers: { 'Retry-After': '7' }, body: { error: { code: 'CONFLICT', message: 'stale', details: [{ path: 'x', message: 'y' }], serverVersion: 3 } } });
  });

  it('answers the database being unavailable by type: 503 with Retry-After 5', () => {
    const out = answer(new DatabaseUnavailableError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })));
    expect(out).toMatchObject({ status: 503, headers: { 'Retry-After': '5' }, body: { error: { code: 'UNAVAILABLE' } } });
  });

  it.each(['connect ECONNREFUSED 127.0.0.1:5432', 'Connection terminated unexpectedly', 'timeout exceeded when trying to connect'])(
    'never reads an outage from message text: an untyped "%s" is a bare 500',
    (message) => {
      const out = answer(new Error(message));
      expect(out).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    },
  );
});
