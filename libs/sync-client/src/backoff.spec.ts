import fc from 'fast-check';
import { DEFAULT_BACKOFF, backoffDelay, parseRetryAfter, retryDelay } from './backoff';
import { SyncApi, SyncHttpError } from './http-api';

const NOW = new Date(Date.UTC(2026, 10, 21, 10, 0, 0));

describe('backoff', () => {
  it.each([
    ['7', 7000],
    ['0', 0],
    ['1.5', 1500],
    ['Sat, 21 Nov 2026 10:00:30 GMT', 30_000],
    ['Sat, 21 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
  ])('parses Retry-After %p as %p ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it('grows exponentially up to the cap, with full jitter within [0, full] of the step', () => {
    const opts = { ...DEFAULT_BACKOFF, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, () => 1, opts))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, () => 0.5, opts))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3].map((a) => backoffDelay(a, () => 0, opts))).toEqual([0, 0, 0]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
          const d = backoffDelay(attempt, () => r, opts);
          return d >= 0 && d <= step;
        },
      ),
    );
  });

  it('never waits less than Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (ms, r) => {
          const d = retryDelay(1, () => r, ms);
          return d >= ms && d <= ms + 1000;
        },
      ),
    );
  });

  it('spreads a crowd refused with the same Retry-After over Retry-After plus the capped full-jitter window', () => {
    const opts = { ...DEFAULT_BACKOFF, baseDelayMs: 500, maxDelayMs: 8000 };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (ms, attempt, r) => {
          const d = retryDelay(attempt, () => r, ms, opts);
          return d >= ms && d <= ms + Math.min(8000, 500 * 2 ** (attempt - 1));
        },
      ),
    );
    // 1,000 devices told "Retry-After: 2" on their third refusal come back over 2 s to 4 s, not at once.
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const delays = Array.from({ length: 1000 }, () => retryDelay(3, random, 2000, opts));
    const perHalfSecond = [0, 1, 2, 3].map((i) => delays.filter((d) => d >= 2000 + i * 500 && d < 2500 + i * 500).length);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    perHalfSecond.forEach((n) => expect(n).toBeGreaterThan(150));
  });
});

describe('SyncApi (HTTP)', () => {
  const calls: { url: string; init?: RequestInit }[] = [];
  const api = (respond: () => Promise<Response>) =>
    new SyncApi({
      baseUrl: 'http://platform.test/',
      token: async () => 'tok',
      deviceId: 'tab-9',
      clock: () => NOW,
      fetch: async (url, init) => {
        calls.push({ url, init });
        return respond();
      },
    });
  beforeEach(() => {
    calls.length = 0;
  });

  it('sends the bearer token, X-Device-Id and the device id in push bodies', async () => {
    await api(
      async () => new Response(JSON.stringify({ results: [], serverTime: 'x' }), { status: 200 }),
    ).push([]);
    expect(calls[0].url).toBe('http://platform.test/api/v1/sync/push');
    expect(calls[0].init?.headers).toMatchObject({
      authorization: 'Bearer tok',
      'x-device-id': 'tab-9',
      'content-type': 'application/json',
    });
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ deviceId: 'tab-9', mutations: [] });
  });

  it('asks for a first pull without a cursor and later pages with it', async () => {
    const a = api(
      async () => new Response(JSON.stringify({ changes: {}, cursor: 'c', hasMore: false }), { status: 200 }),
    );
    await a.pull(null, 1000);
    await a.pull('abc+/=', 50, ['patients', 'visits']);
    await a.pull('c2', 10, undefined, 'cp.sig');
    expect(calls.map((c) => c.url)).toEqual([
      'http://platform.test/api/v1/sync/pull?limit=1000',
      'http://platform.test/api/v1/sync/pull?cursor=abc%2B%2F%3D&limit=50&entities=patients%2Cvisits',
      'http://platform.test/api/v1/sync/pull?cursor=c2&checkpoint=cp.sig&limit=10',
    ]);
  });

  it.each([
    [503, true],
    [500, true],
    [429, true],
    [400, false],
    [401, false],
    [403, false],
    [413, false],
  ])('classifies HTTP %p as retryable: %p', async (status, retryable) => {
    const err = await api(
      async () =>
        new Response(JSON.stringify({ error: { code: 'X', message: 'm' } }), {
          status,
          headers: { 'retry-after': '3' },
        }),
    )
      .push([])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncHttpError);
    expect(err).toMatchObject({ status, code: 'X', retryable, retryAfterMs: 3000 });
  });

  it('treats a network failure as retryable with status 0', async () => {
    const err = await api(async () => {
      throw new TypeError('fetch failed');
    })
      .push([])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'NETWORK_ERROR', retryable: true });
  });

  it('answers undefined for a record the server reports NOT_FOUND', async () => {
    const r = await api(
      async () =>
        new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no' } }), { status: 404 }),
    ).getRecord('patients', 'x');
    expect(r).toBeUndefined();
    expect(calls[0].url).toBe('http://platform.test/api/v1/records/patients/x');
  });
});
