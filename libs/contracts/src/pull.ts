import { SyncRecord } from './records';

export const DEFAULT_PULL_LIMIT = 1000;
export const MAX_PULL_LIMIT = 5000;

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

export interface FeedEntityRequest {
  entity: string;
  after: { xid: string; seq: string };
}

/**
 * One feed page request to a module: entities in order, filled one after another until
 * `limit` rows; only rows written by transactions below `highWater` (a snapshot xmin taken by
 * sync-ingest) are returned, so a transaction still open is delivered later, never skipped.
 */
export interface FeedRequest {
  tenantId: string;
  correlationId: string;
  token: string;
  highWater: string;
  limit: number;
  entities: FeedEntityRequest[];
}

export interface FeedEntityPage {
  entity: string;
  created: SyncRecord[];
  updated: SyncRecord[];
  deleted: string[];
  /** Position of the last row returned (unchanged when none). */
  next: { xid: string; seq: string };
  hasMore: boolean;
}

export interface FeedReply {
  pages: FeedEntityPage[];
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
