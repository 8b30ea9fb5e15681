import { Mutation, MutationOp, SyncRecord } from '@clinisync/contracts';

/**
 * WatermelonDB-style local status of a record: `created` (never reached the server), `updated`
 * or `deleted` (local edits not yet acknowledged), `synced` (local equals the last server state).
 */
export const RECORD_STATUSES = ['created', 'updated', 'deleted', 'synced'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

/** A record as the local store keeps it. Field names are the registry's camelCase names. */
export interface LocalRecord {
  id: string;
  /** Last server version applied locally; null until the server has acknowledged the record. */
  version: number | null;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  status: RecordStatus;
  /** Fields edited locally since the last sync (`_changed`); a pull keeps their local values. */
  changed: string[];
  /**
   * Server values of `changed` fields seen by a pull while the local edit was pending: restored
   * when the local edit is acknowledged at an older version, discarded or lost a conflict.
   */
  remote: Record<string, unknown>;
  fields: Record<string, unknown>;
}

/** `pending`: written locally, may still be coalesced; `prepared`: id and payload fixed, sent or about to be. */
export type OutboxState = 'pending' | 'prepared';

export interface NewOutboxEntry {
  entity: string;
  recordId: string;
  op: MutationOp;
  /** Server version the edit started from; null while the record was never acknowledged. */
  baseVersion: number | null;
  data: Record<string, unknown>;
  changedFields: string[];
  occurredAt: string;
  createdAt: string;
}

export interface OutboxEntry extends NewOutboxEntry {
  seq: number;
  state: OutboxState;
  /** Fixed when the entry is prepared, before it is first sent; never changes afterwards. */
  clientMutationId: string | null;
  /** The exact mutation sent under `clientMutationId` (same key, same payload, on every retry). */
  mutation: Mutation | null;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

export type OutboxPatch = Partial<
  Pick<
    OutboxEntry,
    | 'state'
    | 'clientMutationId'
    | 'mutation'
    | 'op'
    | 'baseVersion'
    | 'data'
    | 'changedFields'
    | 'occurredAt'
    | 'attempts'
    | 'nextAttemptAt'
    | 'lastError'
  >
>;

export interface SyncStateRow {
  cursor: string | null;
  lastPulledAt: string | null;
  lastSyncedAt: string | null;
  lastError: string | null;
}

export interface DeadLetter {
  id: number;
  clientMutationId: string | null;
  entity: string;
  recordId: string;
  op: MutationOp;
  mutation: Mutation;
  code: string;
  message: string;
  failedAt: string;
}
export type NewDeadLetter = Omit<DeadLetter, 'id'>;

export type ConflictPatch = Partial<
  Pick<StoredConflict, 'status' | 'resolution' | 'resolvedAt' | 'serverVersion' | 'serverRecord'>
>;

export type ConflictStatus = 'open' | 'manual_review' | 'resolved';
export const CONFLICT_RESOLUTIONS = ['client_wins', 'server_wins', 'merge', 'manual_review'] as const;
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];

export interface StoredConflict {
  conflictId: string;
  entity: string;
  recordId: string;
  clientMutationId: string;
  /** The local mutation the server refused to apply blindly. */
  mutation: Mutation;
  baseVersion: number | null;
  serverVersion: number;
  serverRecord: SyncRecord;
  /** Local fields of the record when the conflict was detected. */
  localRecord: Record<string, unknown>;
  conflictingFields: string[];
  status: ConflictStatus;
  /** `client_wins` | `server_wins` | `merge` | `manual_review` | `rebased` | `resolved_elsewhere`. */
  resolution: string | null;
  detectedAt: string;
  resolvedAt: string | null;
}

/** PROTOCOL.md "Pull": WatermelonDB's changes shape. */
export interface PullPageChanges {
  created?: SyncRecord[];
  updated?: SyncRecord[];
  deleted?: string[];
}
export interface PullPage {
  changes: Record<string, PullPageChanges>;
  cursor: string;
  hasMore: boolean;
  serverTime?: string;
}

/** What the resolve endpoint answers ("returns the new record version"); every part optional. */
export interface ResolveConflictResponse {
  version?: number;
  record?: SyncRecord;
  [key: string]: unknown;
}
