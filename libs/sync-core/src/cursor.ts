import { createHmac, timingSafeEqual } from 'node:crypto';

/** A position in one entity's change feed: (writing transaction id, tie-breaker sequence). */
export interface FeedPosition {
  xid: string;
  seq: string;
}

export const FEED_START: FeedPosition = { xid: '0', seq: '0' };

/** The opaque pull cursor: per-entity feed positions, bound to one tenant. */
export interface PullCursor {
  tenantId: string;
  positions: Record<string, FeedPosition>;
}

export class InvalidCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

const VERSION = 1;

function sign(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

/**
 * The JSON body of a `base64url(json).hmac` token whose signature over `prefix + body` holds;
 * `what` names the token in errors (InvalidCursorError for anything tampered or malformed).
 */
function verifiedBody<T>(token: string, secret: string, prefix: string, what: string): T {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) throw new InvalidCursorError(`malformed ${what}`);
  const expected = Buffer.from(sign(`${prefix}${body}`, secret));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidCursorError(`${what} signature mismatch`);
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  } catch {
    throw new InvalidCursorError(`malformed ${what}`);
  }
}

/** `base64url(json).hmac`: opaque to clients, tamper-evident, tenant-bound. */
export function encodePullCursor(cursor: PullCursor, secret: string): string {
  const p: Record<string, [string, string]> = {};
  for (const [entity, pos] of Object.entries(cursor.positions).sort(([a], [b]) => (a < b ? -1 : 1))) p[entity] = [pos.xid, pos.seq];
  const body = Buffer.from(JSON.stringify({ v: VERSION, t: cursor.tenantId, p })).toString('base64url');
  return `${body}.${sign(body, secret)}`;
}

const DIGITS = /^\d{1,20}$/;

/** Verifies integrity and tenant; throws InvalidCursorError for anything tampered, foreign or malformed. */
export function decodePullCursor(token: string, secret: string, tenantId: string): PullCursor {
  const parsed = verifiedBody<{ v?: unknown; t?: unknown; p?: unknown }>(token, secret, '', 'cursor');
  if (parsed.v !== VERSION || typeof parsed.t !== 'string' || typeof parsed.p !== 'object' || parsed.p === null) {
    throw new InvalidCursorError('unsupported cursor');
  }
  if (parsed.t !== tenantId) throw new InvalidCursorError('cursor was issued to another tenant');
  const positions: Record<string, FeedPosition> = {};
  for (const [entity, pos] of Object.entries(parsed.p as Record<string, unknown>)) {
    if (!Array.isArray(pos) || pos.length !== 2 || !DIGITS.test(String(pos[0])) || !DIGITS.test(String(pos[1]))) {
      throw new InvalidCursorError('malformed cursor position');
    }
    positions[entity] = { xid: String(pos[0]), seq: String(pos[1]) };
  }
  return { tenantId, positions };
}

/** Compares feed positions numerically (xid8 and bigint as decimal strings). */
export function comparePositions(a: FeedPosition, b: FeedPosition): number {
  const x = BigInt(a.xid) - BigInt(b.xid);
  if (x !== 0n) return x < 0n ? -1 : 1;
  const s = BigInt(a.seq) - BigInt(b.seq);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/** Cursors only move forward: each entity keeps the later of the two positions. */
export function advanceCursor(current: PullCursor, next: Record<string, FeedPosition>): PullCursor {
  const positions = { ...current.positions };
  for (const [entity, pos] of Object.entries(next)) {
    const prev = positions[entity];
    if (!prev || comparePositions(pos, prev) > 0) positions[entity] = pos;
  }
  return { tenantId: current.tenantId, positions };
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
  const body = Buffer.from(JSON.stringify({ k: 1, t: checkpoint.tenantId, x })).toString('base64url');
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
