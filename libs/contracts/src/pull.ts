import { SyncRecord } from './records';

export const DEFAULT_PULL_LIMIT = 1000;
export const MAX_PULL_LIMIT = 5000;
/**
 * Record bytes one feed reply carries at most: a page of 5,000 wide records would outgrow NATS's
 * default max_payload (1 MiB), which the server refuses; the page then ends early, `hasMore`.
 */
export const FEED_REPLY_MAX_BYTES = 768 * 1024;

export interface EntityChanges {
  created: SyncRecord[];
  updated: SyncRecord[];
  deleted: string[];
}

/** `GET /api/v1/sync/pull` response (WatermelonDB-shaped changes). */
export interface PullResponse {
  changes: Record<string, EntityChanges>;
  cursor: string;
  hasMore: boolean;
  serverTime: string;
}

/** NATS request-reply pattern of a module's change feed. */
export function feedPattern(module: string): string {
  return `clinisync.${module}.feed`;
}

/**
 * An entity's place in its feed as Postgres snapshots (sync-core `FeedState`): `done`, the
 * snapshot whose transactions the caller holds; `window`, a window being paged (its target
 * snapshot and the last position handed out).
 */
export interface FeedStateWire {
  done?: string;
  window?: { target: string; after: { xid: string; seq: string } };
}

export interface FeedEntityRequest {
  entity: string;
  state: FeedStateWire;
}

/**
 * One feed page request to a module: entities in order, filled one after another until
 * `limit` rows. Each entity gets the changes of transactions its `state` does not hold yet
 * and that are visible to the module's snapshot (or to the window's target), so a
 * transaction still open is delivered later, never skipped, and holds up nothing else.
 */
export interface FeedRequest {
  tenantId: string;
  correlationId: string;
  token: string;
  limit: number;
  entities: FeedEntityRequest[];
}

/**
 * A JSON array as UTF-8 text (`[{...},{...}]`) with its element count. Feed pages carry records
 * this way so that sync-ingest splices them into the pull response without parsing and
 * re-serialising every record (the module serialised them once, from its registry).
 */
export interface JsonArrayText {
  count: number;
  json: Uint8Array;
}

export interface FeedEntityPage {
  entity: string;
  /** SyncRecord[] as JSON text. */
  created: JsonArrayText;
  /** SyncRecord[] as JSON text. */
  updated: JsonArrayText;
  /** Record ids (string[]) as JSON text. */
  deleted: JsonArrayText;
  /** The entity's state after this page (unchanged when it was not reached). */
  next: FeedStateWire;
  hasMore: boolean;
}

export interface FeedReply {
  pages: FeedEntityPage[];
}

/** Malformed feed reply bytes (a module of another version, a truncated message). */
export class FeedReplyFormatError extends Error {
  constructor(message: string) {
    super(`malformed feed reply: ${message}`);
    this.name = 'FeedReplyFormatError';
  }
}

interface FeedPageHeader {
  entity: string;
  next: FeedStateWire;
  hasMore: boolean;
  /** Element counts of created, updated, deleted. */
  counts: [number, number, number];
  /** Byte lengths of created, updated, deleted, in body order. */
  sizes: [number, number, number];
}

const FEED_REPLY_VERSION = 2;

/** Content type of feed reply bytes on the modules' internal HTTP fallback. */
export const FEED_REPLY_CONTENT_TYPE = 'application/vnd.clinisync.feed-reply';
const EMPTY_ARRAY = new TextEncoder().encode('[]');

/** An empty JSON array text. */
export function emptyJsonArray(): JsonArrayText {
  return { count: 0, json: EMPTY_ARRAY };
}

/**
 * Feed reply bytes (NATS and the HTTP fallback alike): a 4-byte big-endian header length, the
 * header as JSON (`{v, pages: [{entity, next, hasMore, counts, sizes}]}`), then each page's
 * created, updated and deleted JSON arrays back to back.
 */
export function encodeFeedReply(reply: FeedReply): Uint8Array {
  const pages: FeedPageHeader[] = reply.pages.map((p) => ({
    entity: p.entity,
    next: p.next,
    hasMore: p.hasMore,
    counts: [p.created.count, p.updated.count, p.deleted.count],
    sizes: [p.created.json.length, p.updated.json.length, p.deleted.json.length],
  }));
  const header = new TextEncoder().encode(JSON.stringify({ v: FEED_REPLY_VERSION, pages }));
  let total = 4 + header.length;
  for (const p of reply.pages) total += p.created.json.length + p.updated.json.length + p.deleted.json.length;
  const out = new Uint8Array(total);
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, header.length);
  out.set(header, 4);
  let at = 4 + header.length;
  for (const p of reply.pages) {
    for (const part of [p.created.json, p.updated.json, p.deleted.json]) {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

function isStateWire(s: unknown): s is FeedStateWire {
  const st = s as FeedStateWire;
  if (typeof st !== 'object' || st === null || (st.done !== undefined && typeof st.done !== 'string')) return false;
  const w = st.window;
  return w === undefined || (typeof w === 'object' && w !== null && typeof w.target === 'string' && typeof w.after?.xid === 'string' && typeof w.after?.seq === 'string');
}

function isPageHeader(p: unknown): p is FeedPageHeader {
  const h = p as FeedPageHeader;
  return (
    typeof h === 'object' &&
    h !== null &&
    typeof h.entity === 'string' &&
    typeof h.hasMore === 'boolean' &&
    isStateWire(h.next) &&
    Array.isArray(h.counts) &&
    h.counts.length === 3 &&
    h.counts.every(isCount) &&
    Array.isArray(h.sizes) &&
    h.sizes.length === 3 &&
    h.sizes.every(isCount)
  );
}

/** Reads feed reply bytes; the record arrays are views into `bytes`, not copies. */
export function decodeFeedReply(bytes: Uint8Array): FeedReply {
  if (bytes.length < 4) throw new FeedReplyFormatError('shorter than its header length');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  if (4 + headerLength > bytes.length) throw new FeedReplyFormatError('header runs past the end');
  let header: { v?: unknown; pages?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength))) as { v?: unknown; pages?: unknown };
  } catch {
    throw new FeedReplyFormatError('header is not JSON');
  }
  if (header?.v !== FEED_REPLY_VERSION) throw new FeedReplyFormatError(`unsupported version ${String(header?.v)}`);
  if (!Array.isArray(header.pages) || !header.pages.every(isPageHeader)) throw new FeedReplyFormatError('bad page header');
  let at = 4 + headerLength;
  const take = (size: number, count: number): JsonArrayText => {
    if (at + size > bytes.length) throw new FeedReplyFormatError('body shorter than its sizes');
    const json = bytes.subarray(at, at + size);
    at += size;
    return { count, json };
  };
  const pages = (header.pages as FeedPageHeader[]).map((h) => ({
    entity: h.entity,
    next: h.next,
    hasMore: h.hasMore,
    created: take(h.sizes[0], h.counts[0]),
    updated: take(h.sizes[1], h.counts[1]),
    deleted: take(h.sizes[2], h.counts[2]),
  }));
  if (at !== bytes.length) throw new FeedReplyFormatError('body longer than its sizes');
  return { pages };
}

/** NATS request-reply pattern of a module's online-mode reads. */
export function readPattern(module: string): string {
  return `clinisync.${module}.read`;
}

/** Online-mode read: one record by id, or a filtered keyset page. */
export interface ReadRequest {
  tenantId: string;
  correlationId: string;
  token: string;
  entity: string;
  id?: string;
  filters?: { patientId?: string; facilityId?: string; updatedSince?: string };
  after?: { updatedAt: string; id: string };
  limit?: number;
}

export interface ReadReply {
  items: import('./records').SyncRecord[];
  hasMore: boolean;
}
