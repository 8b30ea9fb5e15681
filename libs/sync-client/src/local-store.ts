import {
  ConflictPatch,
  ConflictStatus,
  DeadLetter,
  LocalRecord,
  NewDeadLetter,
  NewOutboxEntry,
  OutboxEntry,
  OutboxPatch,
  StoredConflict,
  SyncStateRow,
} from './types';

export interface ListOptions {
  includeDeleted?: boolean;
  /** Equality filters on registry fields, e.g. `{ patientId }`. */
  where?: Record<string, unknown>;
  limit?: number;
}

export interface OrphanRow {
  id: string;
  missingId: string;
}

export interface OutboxSummary {
  /** Outbox entries not yet acknowledged (pending and prepared). */
  pending: number;
  /** Prepared entries whose last attempt failed and that will be retried. */
  failed: number;
  oldestCreatedAt: string | null;
}

/**
 * The client's storage port. The engines only speak to this interface; `SqliteStore`
 * (better-sqlite3) is the shipped adapter and `test/local-store.contract.ts` is the contract
 * every adapter must pass. Calls are synchronous so that a write and its outbox entry, or a pulled
 * page and its cursor, commit together inside `transaction`.
 */
export interface LocalStore {
  /** Runs `fn` atomically: everything it wrote commits, or (on a throw) nothing. Nested calls join. */
  transaction<T>(fn: () => T): T;
  /** Local schema version after migrations. */
  schemaVersion(): number;
  close(): void;

  getRecord(entity: string, id: string): LocalRecord | undefined;
  /** Several records of one entity by id (missing ids are absent from the map). */
  getRecords(entity: string, ids: readonly string[]): Map<string, LocalRecord>;
  /** Inserts a record; throws if the id exists. */
  insertRecord(entity: string, record: LocalRecord): void;
  /** Inserts or replaces the whole record by id. */
  putRecord(entity: string, record: LocalRecord): void;
  /** Writes only the sync columns of a stored record (version, timestamps, status, `_changed`, remote values). */
  putRecordSyncState(entity: string, record: LocalRecord): void;
  /** Removes the row for good (only for records the server never had). */
  removeRecord(entity: string, id: string): void;
  listRecords(entity: string, options?: ListOptions): LocalRecord[];
  /** Records created or updated locally or remotely at or after `since` (ISO 8601), deleted ones included. */
  recordsUpdatedSince(entity: string, since: string): LocalRecord[];
  /** Live records of `entity` among `ids` whose `field` names an id absent from `parentEntity`. */
  findOrphans(entity: string, field: string, parentEntity: string, ids: readonly string[]): OrphanRow[];

  appendOutbox(entry: NewOutboxEntry): number;
  /** Appends several entries in order (one statement where the adapter can). */
  appendOutboxMany(entries: readonly NewOutboxEntry[]): void;
  outboxForRecord(entity: string, recordId: string): OutboxEntry[];
  /** Entries (any state) of the records with these ids, in outbox order. */
  outboxForRecords(recordIds: readonly string[]): OutboxEntry[];
  outboxByMutationId(clientMutationId: string): OutboxEntry | undefined;
  /** Prepared entries in outbox order. */
  preparedOutbox(limit: number): OutboxEntry[];
  /**
   * Records with pending entries that may be sent now, in outbox order: no prepared entry of the
   * same record waits for its result and no conflict on it is open.
   */
  sendablePendingRecords(limit: number): { entity: string; recordId: string }[];
  /** Pending entries of the given records, in outbox order. */
  pendingOutboxFor(records: readonly { entity: string; recordId: string }[]): OutboxEntry[];
  /** Which of `ids` have a create queued in the outbox (pending or prepared). */
  queuedCreates(ids: readonly string[]): Set<string>;
  updateOutbox(seq: number, patch: OutboxPatch): void;
  removeOutbox(seqs: readonly number[]): void;
  outboxSummary(): OutboxSummary;

  getSyncState(): SyncStateRow;
  setSyncState(patch: Partial<SyncStateRow>): void;

  addDeadLetter(entry: NewDeadLetter): number;
  getDeadLetter(id: number): DeadLetter | undefined;
  listDeadLetters(): DeadLetter[];
  deadLettersFor(entity: string, recordId: string): DeadLetter[];
  removeDeadLetter(id: number): void;
  countDeadLetters(): number;

  /** Stores a conflict; false when that conflict id is already known (a replayed result). */
  insertConflict(conflict: StoredConflict): boolean;
  getConflict(conflictId: string): StoredConflict | undefined;
  listConflicts(statuses: readonly ConflictStatus[]): StoredConflict[];
  updateConflict(conflictId: string, patch: ConflictPatch): void;
  /** Open or manual-review conflicts of one record. */
  unresolvedConflictsFor(entity: string, recordId: string): StoredConflict[];
  countUnresolvedConflicts(): number;
}
