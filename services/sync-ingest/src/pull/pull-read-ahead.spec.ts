import { JsonArrayText, emptyJsonArray } from '@clinisync/contracts';
import { PullPage } from './pull-response';
import { PagedAhead, PullReadAhead, ReadAheadOutcome, pageBytes } from './pull-read-ahead';

// ---- builders -------------------------------------------------------------------------------

const json = (bytes: number): JsonArrayText => ({ count: 1, json: Buffer.alloc(bytes, 0x20) });

/** A page as the pull service fetches it ahead: the page and the cursor it ends at. */
function aPage(overrides: Partial<PullPage> & { bytes?: number } = {}): PagedAhead {
  const { bytes = 100, ...rest } = overrides;
  const page: PullPage = {
    changes: new Map([['patients', { created: json(bytes), updated: emptyJsonArray(), deleted: emptyJsonArray() }]]),
    cursor: 'c-next',
    hasMore: true,
    serverTime: '2026-12-06T00:00:00.000Z',
    ...rest,
  };
  return { page, next: { tenantId: 't1', states: { patients: { done: '7:9:8' } } } };
}

/** A read-ahead with a hand-moved clock that records outcomes. */
function aReadAhead(options: { ttlMs?: number; maxBytes?: number } = {}) {
  const clock = { now: 1_000 };
  const outcomes: ReadAheadOutcome[] = [];
  const readAhead = new PullReadAhead({ ttlMs: options.ttlMs ?? 10_000, maxBytes: options.maxBytes ?? 1_000_000 }, (o) => outcomes.push(o), () => clock.now);
  return { readAhead, clock, outcomes };
}

const settle = () => new Promise((r) => setImmediate(r));

// ---- tests ----------------------------------------------------------------------------------

describe('PullReadAhead', () => {
  const key = PullReadAhead.key('token-a', 'c1', 1000, ['patients', 'visits']);

  it('keys pages by the whole token and the exact query', () => {
    const keys = [
      key,
      PullReadAhead.key('token-b', 'c1', 1000, ['patients', 'visits']),
      PullReadAhead.key('token-a', 'c2', 1000, ['patients', 'visits']),
      PullReadAhead.key('token-a', 'c1', 999, ['patients', 'visits']),
      PullReadAhead.key('token-a', 'c1', 1000, ['patients']),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(PullReadAhead.key('token-a', 'c1', 1000, ['patients', 'visits'])).toBe(key);
    expect(key).not.toContain('token-a');
  });

  it('hands a page fetched ahead to the request with its key, once', async () => {
    const { readAhead, outcomes } = aReadAhead();
    const page = aPage();
    readAhead.offer(key, async () => page);
    await expect(readAhead.take(key)).resolves.toBe(page);
    expect(readAhead.take(key)).toBeUndefined();
    expect(outcomes).toEqual(['hit', 'miss']);
    expect(readAhead.size()).toEqual({ pages: 0, bytes: 0 });
  });

  it('hands over a page still being fetched when its request comes (the request waits for it)', async () => {
    const { readAhead } = aReadAhead();
    let resolve: (p: PagedAhead) => void = () => undefined;
    let loads = 0;
    readAhead.offer(key, () => {
      loads++;
      return new Promise<PagedAhead>((r) => (resolve = r));
    });
    readAhead.offer(key, async () => aPage()); // already held: not fetched twice
    const taken = readAhead.take(key);
    const page = aPage();
    resolve(page);
    await expect(taken).resolves.toBe(page);
    expect(loads).toBe(1);
  });

  it('answers undefined for a failed fetch, so the request computes its own page', async () => {
    const { readAhead, outcomes } = aReadAhead();
    readAhead.offer(key, () => Promise.reject(new Error('module down')));
    await expect(readAhead.take(key)).resolves.toBeUndefined();
    expect(outcomes).toEqual(['failed']);
  });

  it('drops a page its request did not come for within the time to live', async () => {
    const { readAhead, clock, outcomes } = aReadAhead({ ttlMs: 5_000 });
    readAhead.offer(key, async () => aPage());
    await settle();
    clock.now += 5_001;
    expect(readAhead.take(key)).toBeUndefined();
    expect(outcomes).toEqual(['expired']);
  });

  it('sweeps expired pages when new ones are offered', async () => {
    const { readAhead, clock, outcomes } = aReadAhead({ ttlMs: 5_000 });
    readAhead.offer(key, async () => aPage());
    await settle();
    clock.now += 6_000;
    readAhead.offer(PullReadAhead.key('token-b', 'c1', 1000, ['patients']), async () => aPage());
    await settle();
    expect(outcomes).toEqual(['expired']);
    expect(readAhead.size().pages).toBe(1);
  });

  it('holds at most maxBytes of pages, dropping the oldest first', async () => {
    const { readAhead, outcomes } = aReadAhead({ maxBytes: 250 });
    const keys = ['c1', 'c2', 'c3'].map((c) => PullReadAhead.key('t', c, 1000, ['patients']));
    for (const k of keys) {
      readAhead.offer(k, async () => aPage({ bytes: 100 }));
      await settle();
    }
    expect(outcomes).toEqual(['evicted']);
    expect(readAhead.size()).toEqual({ pages: 2, bytes: 2 * (100 + 2 + 2) }); // a page's empty arrays are 2 bytes each
    expect(readAhead.take(keys[0])).toBeUndefined();
    await expect(readAhead.take(keys[2])).resolves.toBeDefined();
  });

  it('does nothing when turned off (ttl 0)', () => {
    const { readAhead, outcomes } = aReadAhead({ ttlMs: 0 });
    let loads = 0;
    readAhead.offer(key, async () => {
      loads++;
      return aPage();
    });
    expect(readAhead.enabled).toBe(false);
    expect(readAhead.take(key)).toBeUndefined();
    expect(loads).toBe(0);
    expect(outcomes).toEqual([]);
  });

  it('counts the bytes of every record array of a page', () => {
    const { page } = aPage({ bytes: 7 });
    page.changes.set('visits', { created: json(3), updated: json(5), deleted: json(11) });
    expect(pageBytes(page)).toBe(7 + 2 + 2 + 3 + 5 + 11);
  });
});
