import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  FEED_START,
  FeedPosition,
  FeedState,
  InvalidCursorError,
  PullCursor,
  Snapshot,
  decodePageCursor,
  decodePullCursor,
  encodePageCursor,
  encodePullCursor,
  isFeedState,
  nextFeedState,
  parseSnapshot,
  snapshotText,
  stateCovers,
  visibleInSnapshot,
} from './cursor';

// ---- builders -------------------------------------------------------------------------------

const SECRET = 'cursor-spec-secret';

const aSnapshot: fc.Arbitrary<string> = fc
  .tuple(fc.bigInt({ min: 3n, max: 2n ** 62n }), fc.nat({ max: 40 }), fc.array(fc.nat({ max: 39 }), { maxLength: 6 }))
  .map(([xmin, span, offsets]) => {
    const xmax = xmin + BigInt(span);
    const xip = [...new Set(offsets.filter((o) => o < span).map((o) => xmin + BigInt(o)))].sort((a, b) => (a < b ? -1 : 1));
    return snapshotText({ xmin, xmax, xip });
  });
const aPosition = fc.record({ xid: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String), seq: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String) });
const aState: fc.Arbitrary<FeedState> = fc.record({ done: aSnapshot, window: fc.record({ target: aSnapshot, after: aPosition }) }, { requiredKeys: [] });
const aCursor: fc.Arbitrary<PullCursor> = fc.record({
  tenantId: fc.string({ minLength: 1 }),
  states: fc.dictionary(fc.constantFrom('patients', 'visits', 'vitals', 'prescriptions', 'stock_levels'), aState),
});

/** A v1 cursor as main issued it before snapshot cursors (same signing). */
function v1Cursor(tenantId: string, p: Record<string, [string, string]>): string {
  const body = Buffer.from(JSON.stringify({ v: 1, t: tenantId, p })).toString('base64url');
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

// ---- tests ----------------------------------------------------------------------------------

describe('snapshots', () => {
  it.each([
    ['10:10:', { xmin: 10n, xmax: 10n, xip: [] }],
    ['10:20:', { xmin: 10n, xmax: 20n, xip: [] }],
    ['10:20:10,15,19', { xmin: 10n, xmax: 20n, xip: [10n, 15n, 19n] }],
  ])('parses %s', (text, parsed) => {
    expect(parseSnapshot(text)).toEqual(parsed);
    expect(snapshotText(parsed as Snapshot)).toBe(text);
  });

  it.each(['', '10:9:', '10:20:20', '10:20:9', '10:20:15,12', '10:20:12,12', '10:20', 'a:b:', '10:20:1 OR 1', "10:20:'", '123456789012345678901:1:'])(
    'refuses %j',
    (text) => expect(parseSnapshot(text)).toBeUndefined(),
  );

  it.each([
    [9n, true],
    [10n, false], // in flight
    [11n, true], // ended between xmin and xmax
    [20n, false], // started after
    [25n, false],
  ])('xid %s visible in 10:20:10,15 is %s', (xid, visible) => {
    expect(visibleInSnapshot(xid, parseSnapshot('10:20:10,15') as Snapshot)).toBe(visible);
  });

  it('round-trips every well-formed snapshot through its text', () => {
    fc.assert(fc.property(aSnapshot, (text) => expect(snapshotText(parseSnapshot(text) as Snapshot)).toBe(text)));
  });
});

describe('nextFeedState', () => {
  const done = '10:12:11';
  const current = '30:33:31';
  const last: FeedPosition = { xid: '25', seq: '7' };
  it.each<[string, FeedState, Parameters<typeof nextFeedState>[2], FeedState, boolean]>([
    ['a first page that drains', {}, { kind: 'drained' }, { done: current }, false],
    ['a first page that fills', {}, { kind: 'more', last }, { window: { target: current, after: last } }, true],
    ['a fresh window that drains', { done }, { kind: 'drained' }, { done: current }, false],
    ['a fresh window that fills', { done }, { kind: 'more', last }, { done, window: { target: current, after: last } }, true],
    ['a carried-over window that drains (newer changes may wait)', { done, window: { target: '20:21:', after: FEED_START } }, { kind: 'drained' }, { done: '20:21:' }, true],
    ['a carried-over window that fills', { done, window: { target: '20:21:', after: FEED_START } }, { kind: 'more', last }, { done, window: { target: '20:21:', after: last } }, true],
    ['an entity the page had no room for', { done }, { kind: 'more' }, { done }, true],
  ])('%s', (_name, requested, outcome, state, hasMore) => {
    expect(nextFeedState(requested, current, outcome)).toEqual({ state, hasMore });
  });

  it('says a state covers a transaction only once done holds it', () => {
    expect(stateCovers(undefined, '5')).toBe(false);
    expect(stateCovers({ window: { target: '10:10:', after: FEED_START } }, '5')).toBe(false);
    expect(stateCovers({ done: '10:12:11' }, '9')).toBe(true);
    expect(stateCovers({ done: '10:12:11' }, '11')).toBe(false);
    expect(stateCovers({ done: '10:12:11' }, '12')).toBe(false);
  });
});

describe('pull cursor tokens', () => {
  it('round-trips every cursor, and every state in it is well formed', () => {
    fc.assert(
      fc.property(aCursor, (cursor) => {
        const decoded = decodePullCursor(encodePullCursor(cursor, SECRET), SECRET, cursor.tenantId);
        expect(decoded).toEqual(cursor);
        expect(Object.values(decoded.states).every(isFeedState)).toBe(true);
      }),
    );
  });

  it('names a snapshot shared by entities once', () => {
    const snap = '1000000:1000009:1000001,1000004';
    const states = Object.fromEntries(['patients', 'visits', 'vitals', 'problems'].map((e) => [e, { done: snap }]));
    const token = encodePullCursor({ tenantId: 't1', states }, SECRET);
    const body = Buffer.from(token.split('.')[0], 'base64url').toString('utf8');
    expect(body.split(snap)).toHaveLength(2);
  });

  it('reads a version 1 cursor as done below its position (that transaction comes once more)', () => {
    const token = v1Cursor('t1', { patients: ['500', '9'], visits: ['0', '0'] });
    expect(decodePullCursor(token, SECRET, 't1')).toEqual({ tenantId: 't1', states: { patients: { done: '500:500:' }, visits: {} } });
  });

  it('refuses a cursor tampered with, of another tenant, or malformed, always with InvalidCursorError', () => {
    const token = encodePullCursor({ tenantId: 't1', states: { patients: { done: '10:12:11' } } }, SECRET);
    expect(() => decodePullCursor(token, SECRET, 't2')).toThrow(/another tenant/);
    expect(() => decodePullCursor(token, 'other-secret', 't1')).toThrow(/signature/);
    const forged = (body: unknown) => {
      const b = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `${b}.${createHmac('sha256', SECRET).update(b).digest('base64url')}`;
    };
    for (const body of [
      { v: 3, t: 't1', p: {} },
      { v: 2, t: 't1', s: ['10:9:'], p: { patients: [0] } },
      { v: 2, t: 't1', s: ['10:12:'], p: { patients: [1] } },
      { v: 2, t: 't1', s: ['10:12:'], p: { patients: [0, 0, 'x', '1'] } },
      { v: 2, t: 't1', s: ['10:12:'], p: { patients: [0, -1, '1', '1'] } },
      { v: 2, t: 't1', p: { patients: [-1] } },
      { v: 1, t: 't1', p: { patients: ['1'] } },
    ]) {
      expect(() => decodePullCursor(forged(body), SECRET, 't1')).toThrow(InvalidCursorError);
    }
    fc.assert(
      fc.property(fc.string(), (junk) => {
        try {
          decodePullCursor(junk, SECRET, 't1');
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidCursorError);
        }
      }),
    );
  });
});

// ---- a model of the feed: transactions, row versions, snapshots, pulls ----------------------

interface Version {
  xid: bigint;
  seq: number;
  n: number;
  createdXid: bigint;
}

/**
 * Postgres as the feed sees it: xids handed out in order, row versions per record (writers of
 * one record serialise, as row locks make them), snapshots of what has ended, and the feed
 * statement's selection (record.repository `feedSql`) over the version a reader sees.
 */
class Model {
  private nextXid = 3n;
  private seq = 0;
  private readonly open = new Set<bigint>();
  readonly versions = new Map<string, Version[]>();
  private n = 0;

  begin(): bigint {
    const xid = this.nextXid++;
    this.open.add(xid);
    return xid;
  }
  /** Writes a new version unless another open transaction holds the record. */
  write(xid: bigint, id: string): void {
    const vs = this.versions.get(id) ?? [];
    const head = vs[vs.length - 1];
    if (head && head.xid !== xid && this.open.has(head.xid)) return;
    vs.push({ xid, seq: ++this.seq, n: ++this.n, createdXid: vs[0]?.createdXid ?? xid });
    this.versions.set(id, vs);
  }
  commit(xid: bigint): void {
    this.open.delete(xid);
  }
  snapshot(): Snapshot {
    const xip = [...this.open].sort((a, b) => (a < b ? -1 : 1));
    return { xmin: xip[0] ?? this.nextXid, xmax: this.nextXid, xip };
  }
  /** The version of `id` a reader at `s` sees. */
  visible(id: string, s: Snapshot): Version | undefined {
    const vs = this.versions.get(id) ?? [];
    for (let i = vs.length - 1; i >= 0; i--) if (visibleInSnapshot(vs[i].xid, s)) return vs[i];
    return undefined;
  }
  /** One feed page for one entity, as the repository and the feed service make it. */
  pull(state: FeedState, limit: number): { state: FeedState; hasMore: boolean; rows: { id: string; v: Version; created: boolean }[] } {
    const current = this.snapshot();
    const done = state.done ? (parseSnapshot(state.done) as Snapshot) : undefined;
    const target = state.window ? (parseSnapshot(state.window.target) as Snapshot) : undefined;
    const after = state.window?.after;
    const rows = [...this.versions.keys()]
      .map((id) => ({ id, v: this.visible(id, current) }))
      .filter((r): r is { id: string; v: Version } => r.v !== undefined)
      .filter(({ v }) => !done || !visibleInSnapshot(v.xid, done))
      .filter(({ v }) => !target || visibleInSnapshot(v.xid, target))
      .filter(({ v }) => !after || v.xid > BigInt(after.xid) || (v.xid === BigInt(after.xid) && v.seq > Number(after.seq)))
      .sort((a, b) => (a.v.xid === b.v.xid ? a.v.seq - b.v.seq : a.v.xid < b.v.xid ? -1 : 1));
    const taken = rows.slice(0, limit);
    const last = taken[taken.length - 1];
    const outcome = rows.length > limit ? { kind: 'more' as const, last: last && { xid: String(last.v.xid), seq: String(last.v.seq) } } : { kind: 'drained' as const };
    const next = nextFeedState(state, snapshotText(current), outcome);
    return { ...next, rows: taken.map((r) => ({ ...r, created: !done || !visibleInSnapshot(r.v.createdXid, done) })) };
  }
}

type Step = { kind: 'begin' } | { kind: 'write'; tx: number; id: number } | { kind: 'commit'; tx: number } | { kind: 'pull'; limit: number };
// Weighted so that windows span several pages with commits in between.
const aStep: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constant<Step>({ kind: 'begin' }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('write' as const), tx: fc.nat({ max: 5 }), id: fc.nat({ max: 9 }) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('commit' as const), tx: fc.nat({ max: 5 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('pull' as const), limit: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
);

describe('snapshot feed states (model)', () => {
  it('never skip a change, hold up nothing behind an open transaction, and end with every latest version', () => {
    fc.assert(
      fc.property(fc.array(aStep, { minLength: 20, maxLength: 80 }), (steps) => {
        const db = new Model();
        const open: bigint[] = [];
        const client = new Map<string, number>();
        let state: FeedState = {};
        const pullOnce = (limit: number) => {
          const before = db.snapshot();
          const carried = state.window !== undefined;
          const page = db.pull(state, limit);
          for (const r of page.rows) {
            // Nothing goes back in time, and a record is new to the client exactly when marked so.
            expect(r.v.n).toBeGreaterThan(client.get(r.id) ?? 0);
            if (r.created) expect(client.has(r.id)).toBe(false);
            client.set(r.id, r.v.n);
          }
          state = page.state;
          // Freshness: a fresh window that drains leaves the client with every record's version
          // committed before the pull began, open transactions notwithstanding.
          if (!carried && !page.hasMore) {
            for (const id of db.versions.keys()) expect(client.get(id)).toBe(db.visible(id, before)?.n);
          }
          return page.hasMore;
        };
        for (const step of steps) {
          if (step.kind === 'begin') open.push(db.begin());
          else if (step.kind === 'write' && open.length > 0) db.write(open[step.tx % open.length], `r${step.id}`);
          else if (step.kind === 'commit' && open.length > 0) db.commit(open.splice(step.tx % open.length, 1)[0]);
          else if (step.kind === 'pull') pullOnce(step.limit);
        }
        for (const xid of open) db.commit(xid);
        for (let i = 0; i < 100 && pullOnce(2); i++);
        expect(state.window).toBeUndefined();
        for (const [id, vs] of db.versions) expect(client.get(id)).toBe(vs[vs.length - 1].n);
      }),
      { numRuns: 500 },
    );
  });
});

describe('page cursor tokens (records and conflicts lists)', () => {
  const cursor = { tenantId: 't1', list: 'records:patients', after: ['2026-11-21T10:00:00.000Z', '0193f0c2-0000-7000-8000-000000000001'] as const };

  it('round-trips any position for its tenant and list (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string(), fc.string(), (tenantId, list, a, b) => {
        const c = { tenantId, list, after: [a, b] as const };
        expect(decodePageCursor(encodePageCursor(c, SECRET), SECRET, tenantId, list)).toEqual(c);
      }),
    );
  });

  it.each([
    ['another tenant', (t: string) => decodePageCursor(t, SECRET, 't2', 'records:patients'), /another tenant/],
    ['another list', (t: string) => decodePageCursor(t, SECRET, 't1', 'records:visits'), /signature/],
    ['a conflicts list', (t: string) => decodePageCursor(t, SECRET, 't1', 'conflicts'), /signature/],
    ['another secret', (t: string) => decodePageCursor(t, 'other-secret', 't1', 'records:patients'), /signature/],
    ['a tampered body', (t: string) => decodePageCursor(`${Buffer.from('{"k":1,"t":"t1","a":["x","y"]}').toString('base64url')}.${t.split('.')[1]}`, SECRET, 't1', 'records:patients'), /signature/],
    ['an unsigned base64 position', () => decodePageCursor(Buffer.from(JSON.stringify(cursor.after)).toString('base64url'), SECRET, 't1', 'records:patients'), /malformed/],
  ])('refuses a token for %s with InvalidCursorError', (_case, decode, message) => {
    const token = encodePageCursor(cursor, SECRET);
    expect(() => decode(token)).toThrow(InvalidCursorError);
    expect(() => decode(token)).toThrow(message);
  });

  it('never lets a pull cursor or checkpoint pass for a page cursor', () => {
    const pull = encodePullCursor({ tenantId: 't1', states: {} }, SECRET);
    expect(() => decodePageCursor(pull, SECRET, 't1', 'records:patients')).toThrow(InvalidCursorError);
    expect(() => decodePullCursor(encodePageCursor(cursor, SECRET), SECRET, 't1')).toThrow(InvalidCursorError);
  });

  it('answers any junk with InvalidCursorError (property)', () => {
    fc.assert(
      fc.property(fc.string(), (junk) => {
        expect(() => decodePageCursor(junk, SECRET, 't1', 'conflicts')).toThrow(InvalidCursorError);
      }),
    );
  });
});
