import { equalInConstantTime, fromBase64url, toBase64url, utf8Text, utf8ToBytes } from './bytes';
import { hashing } from './hashing';

/** A position inside one feed window: (writing transaction id, tie-breaker sequence). */
export interface FeedPosition {
  xid: string;
  seq: string;
}

export const FEED_START: FeedPosition = { xid: '0', seq: '0' };

/**
 * One entity's place in its change feed, as Postgres snapshots (`pg_snapshot` text,
 * `xmin:xmax:xip,…`). `done`: the caller holds every change written by a transaction visible in
 * it (absent: nothing yet). `window`: a window being paged, the changes visible in `target` and
 * not in `done`, of which those up to `after` (in (xid, seq) order) were handed out. A window
 * closes when drained: `done` becomes its target. Transactions in flight when a snapshot was
 * taken stay outside it and are picked up by a later window, so no pull waits on the cluster's
 * oldest transaction (PROTOCOL.md "Pull").
 */
export interface FeedState {
  done?: string;
  window?: { target: string; after: FeedPosition };
}

/** The opaque pull cursor: per-entity feed states, bound to one tenant. */
export interface PullCursor {
  tenantId: string;
  states: Record<string, FeedState>;
}

export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** A snapshot's parts as numbers. */
export interface Snapshot {
  xmin: bigint;
  xmax: bigint;
  xip: bigint[];
}

const XID = '\\d{1,20}';
const SNAPSHOT = new RegExp(`^(${XID}):(${XID}):((?:${XID})(?:,${XID})*)?$`);
const DIGITS = /^\d{1,20}$/;

/** Parses `pg_snapshot` text; undefined unless well formed (xmin <= xip < xmax, ascending, no repeats). */
export function parseSnapshot(text: string): Snapshot | undefined {
  const m = typeof text === 'string' ? SNAPSHOT.exec(text) : null;
  if (!m) return undefined;
  const xmin = BigInt(m[1]);
  const xmax = BigInt(m[2]);
  const xip = m[3] ? m[3].split(',').map(BigInt) : [];
  if (xmin > xmax) return undefined;
  for (let i = 0; i < xip.length; i++) {
    if (xip[i] < xmin || xip[i] >= xmax || (i > 0 && xip[i] <= xip[i - 1])) return undefined;
  }
  return { xmin, xmax, xip };
}

/** Postgres's text form of a snapshot (what `pg_snapshot` input reads). */
export function snapshotText(s: Snapshot): string {
  return `${s.xmin}:${s.xmax}:${s.xip.join(',')}`;
}

/** `pg_visible_in_snapshot`: whether transaction `xid` had committed (or aborted) for `snapshot`. */
export function visibleInSnapshot(xid: bigint, s: Snapshot): boolean {
  if (xid < s.xmin) return true;
  if (xid >= s.xmax) return false;
  return !s.xip.includes(xid);
}

/** Whether `state` is a well-formed feed state (snapshots, positions of digits). */
export function isFeedState(state: unknown): state is FeedState {
  if (typeof state !== 'object' || state === null) return false;
  const { done, window } = state as FeedState;
  if (done !== undefined && !parseSnapshot(done)) return false;
  if (window === undefined) return true;
  return (
    typeof window === 'object' &&
    window !== null &&
    parseSnapshot(window.target) !== undefined &&
    DIGITS.test(String(window.after?.xid)) &&
    DIGITS.test(String(window.after?.seq))
  );
}

/** How one feed page ended for an entity. */
export type FeedPageOutcome =
  /** Every change in the window was handed out. */
  | { kind: 'drained' }
  /** The page filled; `last` is the position of the entity's last row on it (none: no room at all). */
  | { kind: 'more'; last?: FeedPosition };

/**
 * The entity's state after a page read at snapshot `current`. A window opened by this page
 * targets `current`; one carried over from an earlier page keeps its target, and when it drains
 * there may be newer changes (committed after that target), so the caller is told to pull again.
 */
export function nextFeedState(requested: FeedState, current: string, outcome: FeedPageOutcome): { state: FeedState; hasMore: boolean } {
  const target = requested.window?.target ?? current;
  if (outcome.kind === 'drained') return { state: { done: target }, hasMore: requested.window !== undefined };
  if (!outcome.last) return { state: requested, hasMore: true };
  return { state: { ...(requested.done ? { done: requested.done } : {}), window: { target, after: outcome.last } }, hasMore: true };
}

/** Whether the caller holds every change of transaction `xid` (its feed state's `done` covers it). */
export function stateCovers(state: FeedState | undefined, xid: string): boolean {
  const done = state?.done ? parseSnapshot(state.done) : undefined;
  return done !== undefined && visibleInSnapshot(BigInt(xid), done);
}

function sign(body: string, secret: string): string {
  return toBase64url(hashing().hmacSha256(secret, body));
}

/** `base64url(utf8(json))`, as `Buffer.from(json).toString('base64url')` wrote it. */
function encodeBody(value: unknown): string {
  return toBase64url(utf8ToBytes(JSON.stringify(value)));
}

/**
 * The JSON body of a `base64url(json).hmac` token whose signature over `prefix + body` holds;
 * `what` names the token in errors (InvalidCursorError for anything tampered or malformed).
 */
function verifiedBody<T>(token: string, secret: string, prefix: string, what: string): T {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) throw new InvalidCursorError(`malformed ${what}`);
  if (!equalInConstantTime(sign(`${prefix}${body}`, secret), mac)) throw new InvalidCursorError(`${what} signature mismatch`);
  try {
    return JSON.parse(utf8Text(fromBase64url(body))) as T;
  } catch {
    throw new InvalidCursorError(`malformed ${what}`);
  }
}

/**
 * `base64url(json).hmac`: opaque to clients, tamper-evident, tenant-bound. Version 2 body:
 * `{v: 2, t: tenant, s: [snapshot, …], p: {entity: [done] | [done, target, xid, seq]}}` with
 * snapshots given once and named by index (-1: none); entities mostly share their snapshots.
 */
export function encodePullCursor(cursor: PullCursor, secret: string): string {
  const s: string[] = [];
  const ref = (snap: string | undefined): number => {
    if (snap === undefined) return -1;
    const at = s.indexOf(snap);
    return at >= 0 ? at : s.push(snap) - 1;
  };
  const p: Record<string, (number | string)[]> = {};
  for (const [entity, state] of Object.entries(cursor.states).sort(([a], [b]) => (a < b ? -1 : 1))) {
    p[entity] = state.window ? [ref(state.done), ref(state.window.target), state.window.after.xid, state.window.after.seq] : [ref(state.done)];
  }
  const body = encodeBody({ v: 2, t: cursor.tenantId, s, p });
  return `${body}.${sign(body, secret)}`;
}

/**
 * Verifies integrity and tenant; throws InvalidCursorError for anything tampered, foreign or
 * malformed. A version 1 cursor (a position `(x, s)` per entity, read below the snapshot's xmin,
 * so every transaction below x had ended) reads as `done = x:x:`; x's own rows come once more.
 */
export function decodePullCursor(token: string, secret: string, tenantId: string): PullCursor {
  const parsed = verifiedBody<{ v?: unknown; t?: unknown; p?: unknown; s?: unknown }>(token, secret, '', 'cursor');
  if ((parsed.v !== 1 && parsed.v !== 2) || typeof parsed.t !== 'string' || typeof parsed.p !== 'object' || parsed.p === null) {
    throw new InvalidCursorError('unsupported cursor');
  }
  if (parsed.t !== tenantId) throw new InvalidCursorError('cursor was issued to another tenant');
  const states: Record<string, FeedState> = {};
  const malformed = () => new InvalidCursorError('malformed cursor position');
  if (parsed.v === 1) {
    for (const [entity, pos] of Object.entries(parsed.p as Record<string, unknown>)) {
      if (!Array.isArray(pos) || pos.length !== 2 || !DIGITS.test(String(pos[0])) || !DIGITS.test(String(pos[1]))) throw malformed();
      const x = BigInt(String(pos[0]));
      states[entity] = x === 0n ? {} : { done: `${x}:${x}:` };
    }
    return { tenantId, states };
  }
  const snaps = parsed.s;
  if (!Array.isArray(snaps) || !snaps.every((t) => typeof t === 'string' && parseSnapshot(t))) throw malformed();
  const snap = (i: unknown): string | undefined => {
    if (i === -1) return undefined;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= snaps.length) throw malformed();
    return snaps[i] as string;
  };
  for (const [entity, e] of Object.entries(parsed.p as Record<string, unknown>)) {
    if (!Array.isArray(e) || (e.length !== 1 && e.length !== 4)) throw malformed();
    const done = snap(e[0]);
    const state: FeedState = done ? { done } : {};
    if (e.length === 4) {
      const target = snap(e[1]);
      if (!target || !DIGITS.test(String(e[2])) || !DIGITS.test(String(e[3]))) throw malformed();
      state.window = { target, after: { xid: String(e[2]), seq: String(e[3]) } };
    }
    states[entity] = state;
  }
  return { tenantId, states };
}

/** The cursor with the entities' new states (entities not in `next` keep theirs). */
export function advanceCursor(current: PullCursor, next: Record<string, FeedState>): PullCursor {
  return { tenantId: current.tenantId, states: { ...current.states, ...next } };
}

/**
 * A push's read-your-writes checkpoint: per module, the transaction that committed the push's
 * writes. Signed and tenant-bound like the cursor, so a pull can trust the ids it names.
 */
export interface PushCheckpoint {
  tenantId: string;
  xids: Record<string, string>;
}

export function encodeCheckpoint(checkpoint: PushCheckpoint, secret: string): string {
  const x: Record<string, string> = {};
  for (const [module, xid] of Object.entries(checkpoint.xids).sort(([a], [b]) => (a < b ? -1 : 1))) x[module] = xid;
  const body = encodeBody({ k: 1, t: checkpoint.tenantId, x });
  return `${body}.${sign(`checkpoint:${body}`, secret)}`;
}

/** Verifies integrity and tenant; throws InvalidCursorError for anything tampered, foreign or malformed. */
export function decodeCheckpoint(token: string, secret: string, tenantId: string): PushCheckpoint {
  // Signed under its own prefix: a cursor never passes for a checkpoint, nor the other way.
  const parsed = verifiedBody<{ k?: unknown; t?: unknown; x?: unknown }>(token, secret, 'checkpoint:', 'checkpoint');
  if (parsed.k !== 1 || typeof parsed.t !== 'string' || typeof parsed.x !== 'object' || parsed.x === null) throw new InvalidCursorError('unsupported checkpoint');
  if (parsed.t !== tenantId) throw new InvalidCursorError('checkpoint was issued to another tenant');
  const xids: Record<string, string> = {};
  for (const [module, xid] of Object.entries(parsed.x as Record<string, unknown>)) {
    if (!DIGITS.test(String(xid))) throw new InvalidCursorError('malformed checkpoint');
    xids[module] = String(xid);
  }
  return { tenantId, xids };
}

/**
 * A keyset position in an online-mode list (records of an entity, conflicts): the sort key of
 * the last item handed out. Signed and tenant-bound like the pull cursor, and signed for its
 * list (`list`, e.g. `records:patients`), so no other list's, pull's or tenant's token passes.
 */
export interface PageCursor {
  tenantId: string;
  list: string;
  after: readonly [string, string];
}

export function encodePageCursor(cursor: PageCursor, secret: string): string {
  const body = encodeBody({ k: 1, t: cursor.tenantId, a: cursor.after });
  return `${body}.${sign(`page:${cursor.list}:${body}`, secret)}`;
}

/** Verifies integrity, list and tenant; throws InvalidCursorError for anything tampered, foreign or malformed. */
export function decodePageCursor(token: string, secret: string, tenantId: string, list: string): PageCursor {
  const parsed = verifiedBody<{ k?: unknown; t?: unknown; a?: unknown }>(token, secret, `page:${list}:`, 'cursor');
  if (parsed.k !== 1 || typeof parsed.t !== 'string') throw new InvalidCursorError('unsupported cursor');
  if (parsed.t !== tenantId) throw new InvalidCursorError('cursor was issued to another tenant');
  const a = parsed.a;
  if (!Array.isArray(a) || a.length !== 2 || typeof a[0] !== 'string' || typeof a[1] !== 'string') throw new InvalidCursorError('malformed cursor position');
  return { tenantId, list, after: [a[0], a[1]] };
}
