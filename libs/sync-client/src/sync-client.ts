import { v7 as uuidv7 } from 'uuid';
import { MAX_MUTATIONS_PER_PUSH, Mutation, MutationResult, SyncRecord } from '@clinisync/contracts';
import { ENTITIES, getEntity, isAppendOnly, orderBatch } from '@clinisync/sync-core';
import { BackoffOptions, DEFAULT_BACKOFF, retryDelay } from './backoff';
import { coalesceOps } from './coalesce';
import { applyServerResolution, rebaseOnServer } from './conflict-resolution';
import { SyncClientError, SyncClientErrorCode } from './errors';
import { FetchLike, SyncApi, SyncHttpError } from './http-api';
import { ListOptions, LocalStore } from './local-store';
import { editOfMutation, fieldsOfEdit, settleRecord, standingEdits } from './local-records';
import { PullEngine, PullReport } from './pull-engine';
import { PushEngine, PushReport } from './push-engine';
import { SyncPhase, SyncStateChange, SyncStateMachine } from './sync-state';
import { TypedEmitter } from './typed-emitter';
import {
  ConflictResolution,
  ConflictStatus,
  DeadLetter,
  ResolveConflictResponse,
  StoredConflict,
} from './types';
import { ClientRecord, LocalWriteTx, OnlineWriteTx, WriteTx, checkWrite, toClientRecord } from './write-tx';

export interface SyncClientOptions {
  store: LocalStore;
  /** Platform base URL, e.g. `http://127.0.0.1:3100`. */
  baseUrl: string;
  /** Returns a current bearer token (called before every request). */
  token: () => Promise<string>;
  /** This installation's id (`X-Device-Id`). */
  deviceId: string;
  fetch?: FetchLike;
  clock?: () => Date;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Record and mutation ids; UUIDv7 by default. */
  newId?: () => string;
  backoff?: Partial<BackoffOptions>;
  /** Abandon an HTTP request unanswered after this long (retryable). Default 60 s. */
  requestTimeoutMs?: number;
  /** Mutations per push request (1..500, default 500). */
  batchSize?: number;
  /** Changes per pull page (default 1000). */
  pullLimit?: number;
  /** Restrict pull to these entities (default: all the caller may read). */
  pullEntities?: string[];
  /** Pages per sync run before yielding to the next run (default 10,000). */
  maxPullPages?: number;
}

export interface ChangeNotice {
  entity: string;
  ids: string[];
  source: 'local' | 'push' | 'pull' | 'resolution';
}

export interface ConflictView {
  conflictId: string;
  entity: string;
  recordId: string;
  status: ConflictStatus;
  conflictingFields: string[];
  /** The version the local edit started from. */
  baseVersion: number | null;
  serverVersion: number;
  /** The local values the refused mutation carried. */
  mine: Record<string, unknown>;
  /** The local record now (undefined if it is gone). */
  local: ClientRecord | undefined;
  server: SyncRecord;
  clientMutationId: string;
  detectedAt: string;
  resolution: string | null;
  resolvedAt: string | null;
}

export type DeadLetterView = DeadLetter;

export interface SyncReport {
  startedAt: string;
  finishedAt: string;
  push?: PushReport;
  pull?: PullReport;
}

export interface SyncStatus {
  state: SyncPhase;
  online: boolean;
  syncing: boolean;
  /** Outbox entries not yet acknowledged by the server (held ones included). */
  pending: number;
  /** Pending entries whose last attempt failed and that will be retried. */
  failed: number;
  deadLetters: number;
  /** Conflicts open or waiting for manual review. */
  openConflicts: number;
  oldestPendingAt: string | null;
  oldestPendingAgeMs: number | null;
  lastSyncedAt: string | null;
  lastPulledAt: string | null;
  lastError: string | null;
}

export interface SyncClientEvents {
  state: [SyncStateChange];
  change: [ChangeNotice];
  conflict: [ConflictView];
  'dead-letter': [DeadLetterView];
  synced: [SyncReport];
  /** A run failed (named so, not `error`, so an app without a listener does not crash). */
  'sync-error': [Error];
  mode: [{ online: boolean }];
}

/**
 * The CliniSync client SDK. Offline (default): every write lands in the local store and its
 * outbox in one transaction; `sync()` pushes, then pulls. Online (`setOnline(true)`, only
 * with nothing pending): reads go to `GET /api/v1/records/...` and writes are pushed at once.
 * Built over any `LocalStore`; the Node entry's `SyncClient` adds `open` over better-sqlite3
 * (`sqlite-sync-client.ts`), and the browser entry exports this class as is.
 */
export class SyncClient extends TypedEmitter<SyncClientEvents> {
  private readonly store: LocalStore;
  private readonly api: SyncApi;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly machine: SyncStateMachine;
  private readonly pushEngine: PushEngine;
  private readonly pullEngine: PullEngine;
  private readonly retry: {
    random: () => number;
    sleep: (ms: number) => Promise<void>;
    backoff: BackoffOptions;
  };
  private running?: Promise<SyncReport>;
  private online = false;
  private closed = false;

  constructor(options: SyncClientOptions) {
    super();
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? (() => uuidv7());
    const random = options.random ?? Math.random;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.retry = { random, sleep, backoff };
    this.api = new SyncApi({
      baseUrl: options.baseUrl,
      token: options.token,
      deviceId: options.deviceId,
      fetch: options.fetch,
      clock: this.clock,
      timeoutMs: options.requestTimeoutMs,
    });
    this.machine = new SyncStateMachine((c) => this.emit('state', c), this.clock);
    this.pushEngine = new PushEngine({
      store: this.store,
      api: this.api,
      clock: this.clock,
      random,
      sleep,
      newId: this.newId,
      backoff,
      batchSize: options.batchSize ?? MAX_MUTATIONS_PER_PUSH,
      hooks: {
        onConflict: (c) => this.emit('conflict', this.conflictView(c)),
        onDeadLetter: (d) => this.emit('dead-letter', d),
        onChange: (entity, ids) => this.emit('change', { entity, ids, source: 'push' }),
      },
    });
    this.pullEngine = new PullEngine({
      store: this.store,
      api: this.api,
      clock: this.clock,
      random,
      sleep,
      backoff,
      limit: options.pullLimit ?? 1000,
      maxPages: options.maxPullPages ?? 10_000,
      entities: options.pullEntities,
      onChange: (entity, ids) => this.emit('change', { entity, ids, source: 'pull' }),
    });
  }

  /** The local store (for inspection and tooling). */
  get localStore(): LocalStore {
    return this.store;
  }

  get isOnline(): boolean {
    return this.online;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private assertOpen(): void {
    if (this.closed) throw new SyncClientError(SyncClientErrorCode.CLOSED, 'the sync client is closed');
  }

  // ---- writes and reads ----

  /**
   * Runs `fn` as one write transaction. Offline: the records and their outbox entries commit
   * together, or (when `fn` throws) nothing does. Online: the operations are pushed as one batch
   * and the promise settles with the server's verdict.
   */
  async write<T>(fn: (tx: WriteTx) => T): Promise<T> {
    this.assertOpen();
    if (this.online) return this.writeOnline(fn);
    const touched = new Map<string, string[]>();
    const value = this.store.transaction(() => {
      const tx = new LocalWriteTx(this.store, this.newId, this.now(), touched);
      const result = fn(tx);
      tx.flush();
      return result;
    });
    for (const [entity, ids] of touched) this.emit('change', { entity, ids, source: 'local' });
    return value;
  }

  private async writeOnline<T>(fn: (tx: WriteTx) => T): Promise<T> {
    const tx = new OnlineWriteTx(this.newId);
    const value = fn(tx);
    if (tx.ops.length === 0) return value;
    const at = this.now();
    const { mutations: coalesced } = coalesceOps(
      tx.ops.map((o, seq) => ({
        seq,
        entity: o.entity,
        recordId: o.id,
        op: o.op,
        baseVersion: o.baseVersion ?? null,
        data: o.data,
        changedFields: Object.keys(o.data),
        occurredAt: at,
      })),
    );
    const mutations: Mutation[] = [];
    for (const m of coalesced) {
      let base = m.baseVersion;
      if (m.op !== 'create' && base === null) {
        const current = await this.api.getRecord(m.entity, m.recordId).catch((e: unknown) => {
          throw toClientError(e);
        });
        if (!current)
          throw new SyncClientError(
            SyncClientErrorCode.RECORD_NOT_FOUND,
            `${m.entity} ${m.recordId} does not exist on the server`,
          );
        base = current.version;
      }
      const mutation: Mutation = {
        clientMutationId: this.newId(),
        entity: m.entity,
        op: m.op,
        id: m.recordId,
        occurredAt: m.occurredAt,
      };
      if (m.op !== 'create') mutation.baseVersion = base as number;
      if (m.op !== 'delete') mutation.data = m.data;
      if (m.op === 'update') mutation.changedFields = m.changedFields;
      mutations.push(mutation);
    }
    const ordered = orderBatch(mutations).map((i) => mutations[i]);
    const results = await this.pushNow(ordered);
    const failed = results.filter((r) => r.status !== 'applied' && r.status !== 'merged');
    if (failed.length > 0) {
      throw new SyncClientError(
        SyncClientErrorCode.ONLINE_WRITE_FAILED,
        `online write refused: ${failed.map((r) => r.status).join(', ')}`,
        results,
      );
    }
    return value;
  }

  /** One online-mode push: transient failures are retried with the same ids and payloads (replayed, never applied twice). */
  private async pushNow(mutations: Mutation[]): Promise<MutationResult[]> {
    const { backoff, random, sleep } = this.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.api.push(mutations)).results;
      } catch (e) {
        const retry =
          e instanceof SyncHttpError &&
          e.retryable &&
          attempt < backoff.maxAttempts &&
          (e.retryAfterMs ?? 0) <= backoff.maxRetryAfterMs;
        if (!retry) throw toClientError(e);
        await sleep(retryDelay(attempt, random, e.retryAfterMs, backoff));
      }
    }
  }

  /** One record (deleted ones only with `includeDeleted`). Online mode reads the server. */
  async get(
    entity: string,
    id: string,
    options: { includeDeleted?: boolean } = {},
  ): Promise<ClientRecord | undefined> {
    this.assertOpen();
    getEntity(entity);
    if (this.online) {
      let r: SyncRecord | undefined;
      try {
        r = await this.api.getRecord(entity, id);
      } catch (e) {
        throw toClientError(e);
      }
      return r ? ({ ...r, _status: 'synced', _changed: [] } as ClientRecord) : undefined;
    }
    const rec = this.store.getRecord(entity, id);
    if (!rec || (rec.deletedAt !== null && !options.includeDeleted)) return undefined;
    return toClientRecord(rec);
  }

  /** Local records of an entity (offline mode). */
  list(entity: string, options: ListOptions = {}): ClientRecord[] {
    this.assertOpen();
    if (this.online)
      throw new SyncClientError(
        SyncClientErrorCode.ONLINE_MODE,
        'list() reads the local store; not available in online mode',
      );
    return this.store.listRecords(entity, options).map(toClientRecord);
  }

  // ---- sync ----

  /**
   * Pushes the outbox, then pulls. Concurrent calls share the run in progress (and its options).
   * Rejects when the run fails; the state machine is then `error` until the next run.
   */
  sync(options: { push?: boolean; pull?: boolean } = {}): Promise<SyncReport> {
    this.assertOpen();
    if (this.running) return this.running;
    const run = this.runSync(options);
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  private async runSync(options: { push?: boolean; pull?: boolean }): Promise<SyncReport> {
    const report: SyncReport = { startedAt: this.now(), finishedAt: '' };
    if (this.online) {
      report.finishedAt = report.startedAt;
      return report;
    }
    try {
      if (options.push !== false) {
        this.machine.transition('pushing');
        report.push = await this.pushEngine.push();
      }
      if (options.pull !== false) {
        this.machine.transition('pulling');
        report.pull = await this.pullEngine.pull(report.push?.checkpoint);
      }
      report.finishedAt = this.now();
      if (!this.closed) this.store.setSyncState({ lastSyncedAt: report.finishedAt, lastError: null });
      if (this.machine.state !== 'idle') this.machine.transition('idle');
      this.emit('synced', report);
      return report;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (!this.closed) this.store.setSyncState({ lastError: err.message });
      if (SyncStateMachine.canTransition(this.machine.state, 'error')) this.machine.transition('error', err);
      this.emit('sync-error', err);
      throw err;
    }
  }

  status(): SyncStatus {
    this.assertOpen();
    const o = this.store.outboxSummary();
    const s = this.store.getSyncState();
    const now = this.clock().getTime();
    return {
      state: this.machine.state,
      online: this.online,
      syncing: this.running !== undefined,
      pending: o.pending,
      failed: o.failed,
      deadLetters: this.store.countDeadLetters(),
      openConflicts: this.store.countUnresolvedConflicts(),
      oldestPendingAt: o.oldestCreatedAt,
      oldestPendingAgeMs: o.oldestCreatedAt ? Math.max(0, now - Date.parse(o.oldestCreatedAt)) : null,
      lastSyncedAt: s.lastSyncedAt,
      lastPulledAt: s.lastPulledAt,
      lastError: s.lastError,
    };
  }

  /**
   * Online mode: reads and writes go straight to the server. Switching on is refused while
   * anything local is unsynced (pending outbox entries, open conflicts) or a sync is running, so
   * no edit is orphaned; switching off is always allowed.
   */
  setOnline(online: boolean): void {
    this.assertOpen();
    if (online && !this.online) {
      const s = this.status();
      if (s.pending > 0 || s.openConflicts > 0 || this.running) {
        throw new SyncClientError(
          SyncClientErrorCode.PENDING_CHANGES,
          `cannot switch to online mode: ${s.pending} pending change(s), ${s.openConflicts} open conflict(s)${this.running ? ', a sync is running' : ''}`,
        );
      }
    }
    if (this.online === online) return;
    this.online = online;
    this.emit('mode', { online });
  }

  // ---- conflicts ----

  private conflictView(c: StoredConflict): ConflictView {
    const rec = this.store.getRecord(c.entity, c.recordId);
    const mine: Record<string, unknown> = {};
    for (const f of fieldsOfEdit(editOfMutation(c.mutation))) mine[f] = c.mutation.data?.[f] ?? null;
    return {
      conflictId: c.conflictId,
      entity: c.entity,
      recordId: c.recordId,
      status: c.status,
      conflictingFields: c.conflictingFields,
      baseVersion: c.baseVersion,
      serverVersion: c.serverVersion,
      mine,
      local: rec ? toClientRecord(rec) : undefined,
      server: c.serverRecord,
      clientMutationId: c.clientMutationId,
      detectedAt: c.detectedAt,
      resolution: c.resolution,
      resolvedAt: c.resolvedAt,
    };
  }

  /** Conflicts waiting for a decision (open or in manual review), oldest first. */
  conflicts(options: { includeResolved?: boolean } = {}): ConflictView[] {
    this.assertOpen();
    const statuses: ConflictStatus[] = options.includeResolved
      ? ['open', 'manual_review', 'resolved']
      : ['open', 'manual_review'];
    return this.store.listConflicts(statuses).map((c) => this.conflictView(c));
  }

  private unresolved(conflictId: string): StoredConflict {
    const c = this.store.getConflict(conflictId);
    if (!c) throw new SyncClientError(SyncClientErrorCode.NOT_FOUND, `no local conflict ${conflictId}`);
    if (c.status === 'resolved')
      throw new SyncClientError(
        SyncClientErrorCode.CONFLICT_ALREADY_RESOLVED,
        `conflict ${conflictId} is already resolved (${c.resolution})`,
      );
    return c;
  }

  /**
   * Resolves a conflict on the server (`POST /api/v1/sync/conflicts/{id}/resolve`), then applies
   * the decision locally. `data` is required for `merge`. A 409 carrying the record's new server
   * state (it changed since detection) keeps the conflict open against it and throws
   * CONFLICT_MOVED; any other 409 (resolved elsewhere) releases the local hold, restoring the
   * server values last seen, and throws CONFLICT_ALREADY_RESOLVED.
   */
  async resolveConflict(
    conflictId: string,
    resolution: ConflictResolution,
    data?: Record<string, unknown>,
    reason?: string,
  ): Promise<ResolveConflictResponse> {
    this.assertOpen();
    const c = this.unresolved(conflictId);
    let mergeData: Record<string, unknown> | undefined;
    if (resolution === 'merge') {
      if (!data)
        throw new SyncClientError(SyncClientErrorCode.INVALID_WRITE, 'a merge resolution needs data');
      mergeData = checkWrite(c.entity, 'update', data).data;
    }
    let response: ResolveConflictResponse;
    try {
      response = await this.api.resolveConflict(conflictId, {
        resolution,
        ...(mergeData ? { data: mergeData } : {}),
        ...(reason ? { reason } : {}),
      });
    } catch (e) {
      const moved = e instanceof SyncHttpError && e.status === 409 ? movedServerRecord(e) : undefined;
      if (moved) {
        // The record changed since detection: the conflict stays open against the new server record.
        this.store.updateConflict(conflictId, { serverVersion: moved.version, serverRecord: moved });
        throw new SyncClientError(
          SyncClientErrorCode.CONFLICT_MOVED,
          `${c.entity} ${c.recordId} changed on the server since the conflict was detected (now version ${moved.version}); decide again`,
          undefined,
          {
            cause: e,
          },
        );
      }
      if (e instanceof SyncHttpError && e.status === 409) {
        this.store.transaction(() => {
          this.store.updateConflict(conflictId, {
            status: 'resolved',
            resolution: 'resolved_elsewhere',
            resolvedAt: this.now(),
          });
          const rec = this.store.getRecord(c.entity, c.recordId);
          if (rec)
            this.store.putRecord(
              c.entity,
              settleRecord(rec, standingEdits(this.store, c.entity, c.recordId), { restoreReleased: true }),
            );
        });
        this.emit('change', { entity: c.entity, ids: [c.recordId], source: 'resolution' });
        throw new SyncClientError(
          SyncClientErrorCode.CONFLICT_ALREADY_RESOLVED,
          `conflict ${conflictId} was already resolved on the server`,
          undefined,
          { cause: e },
        );
      }
      throw toClientError(e);
    }
    this.store.transaction(() =>
      applyServerResolution(this.store, c, resolution, response ?? {}, mergeData, this.now()),
    );
    this.emit('change', { entity: c.entity, ids: [c.recordId], source: 'resolution' });
    return response;
  }

  /**
   * Rebases a conflicted edit locally: the server record becomes the base and the local changed
   * fields are queued again as a new update from the server version. Push it with `sync()`.
   */
  rebase(conflictId: string): void {
    this.assertOpen();
    const c = this.unresolved(conflictId);
    this.store.transaction(() => rebaseOnServer(this.store, c, this.now()));
    this.emit('change', { entity: c.entity, ids: [c.recordId], source: 'resolution' });
  }

  // ---- dead letters ----

  deadLetters(): DeadLetterView[] {
    this.assertOpen();
    return this.store.listDeadLetters();
  }

  /** Queues a dead-lettered mutation again, under a new clientMutationId, once its cause is fixed. */
  retryDeadLetter(id: number): void {
    this.assertOpen();
    this.store.transaction(() => {
      const d = this.store.getDeadLetter(id);
      if (!d) throw new SyncClientError(SyncClientErrorCode.NOT_FOUND, `no dead letter ${id}`);
      this.store.removeDeadLetter(id);
      const m = d.mutation;
      const at = this.now();
      this.store.appendOutbox({
        entity: d.entity,
        recordId: d.recordId,
        op: d.op,
        baseVersion:
          d.op === 'create'
            ? null
            : (m.baseVersion ?? this.store.getRecord(d.entity, d.recordId)?.version ?? null),
        data: m.data ?? {},
        changedFields: fieldsOfEdit(editOfMutation(m)),
        occurredAt: at,
        createdAt: at,
      });
    });
  }

  /**
   * Drops a dead letter and the local edit it carried: a never-synced record created by it is
   * removed; edited fields take the server value last seen (call `forceDownload()` and `sync()`
   * to refetch the server's current values).
   */
  discardDeadLetter(id: number): void {
    this.assertOpen();
    this.store.transaction(() => {
      const d = this.store.getDeadLetter(id);
      if (!d) throw new SyncClientError(SyncClientErrorCode.NOT_FOUND, `no dead letter ${id}`);
      this.store.removeDeadLetter(id);
      const rec = this.store.getRecord(d.entity, d.recordId);
      if (!rec) return;
      const edits = standingEdits(this.store, d.entity, d.recordId);
      if (rec.version === null && edits.length === 0) this.store.removeRecord(d.entity, d.recordId);
      else this.store.putRecord(d.entity, settleRecord(rec, edits, { restoreReleased: true }));
    });
  }

  // ---- recovery ----

  /**
   * Force upload: queues every local record created or updated at or after `since` that has no
   * edit queued already (creates for never-synced records, full updates or deletes otherwise;
   * append-only entities only as creates). Returns how many records were queued.
   */
  forceUpload(since: Date | string): number {
    this.assertOpen();
    const from = typeof since === 'string' ? new Date(since).toISOString() : since.toISOString();
    const at = this.now();
    return this.store.transaction(() => {
      let queued = 0;
      for (const def of ENTITIES.filter((e) => e.clientWritable)) {
        const appendOnly = isAppendOnly(def);
        for (const rec of this.store.recordsUpdatedSince(def.name, from)) {
          if (standingEdits(this.store, def.name, rec.id).length > 0) continue;
          const present: Record<string, unknown> = {};
          for (const f of def.fields)
            if (rec.fields[f.name] !== null && rec.fields[f.name] !== undefined)
              present[f.name] = rec.fields[f.name];
          const base = { entity: def.name, recordId: rec.id, occurredAt: at, createdAt: at };
          if (rec.version === null) {
            if (rec.deletedAt !== null) continue;
            this.store.appendOutbox({
              ...base,
              op: 'create',
              baseVersion: null,
              data: present,
              changedFields: Object.keys(present),
            });
            this.store.putRecord(def.name, { ...rec, status: 'created', changed: Object.keys(present) });
          } else if (appendOnly) {
            continue;
          } else if (rec.deletedAt !== null) {
            this.store.appendOutbox({
              ...base,
              op: 'delete',
              baseVersion: rec.version,
              data: {},
              changedFields: [],
            });
            this.store.putRecord(def.name, { ...rec, status: 'deleted' });
          } else {
            const all: Record<string, unknown> = {};
            for (const f of def.fields) all[f.name] = rec.fields[f.name] ?? null;
            const changed = def.fields
              .map((f) => f.name)
              .filter((n) => all[n] !== null || !def.fields.find((f) => f.name === n)?.required);
            const data = Object.fromEntries(changed.map((n) => [n, all[n]]));
            this.store.appendOutbox({
              ...base,
              op: 'update',
              baseVersion: rec.version,
              data,
              changedFields: changed,
            });
            this.store.putRecord(def.name, { ...rec, status: 'updated', changed });
          }
          queued += 1;
        }
      }
      return queued;
    });
  }

  /** Force download: forgets the pull cursor, so the next sync pulls everything again and repairs local copies. */
  forceDownload(): void {
    this.assertOpen();
    this.store.setSyncState({ cursor: null, lastPulledAt: null });
  }

  /** Waits for a running sync to end (its outcome is ignored), then closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    const running = this.running;
    if (running)
      await running.then(
        () => undefined,
        () => undefined,
      );
    this.closed = true;
    this.store.close();
  }
}

/** A 409 to a resolution that carries the record's new server state (the record moved on). */
function movedServerRecord(e: SyncHttpError): SyncRecord | undefined {
  const r = e.body?.serverRecord as SyncRecord | undefined;
  return r && typeof r === 'object' && typeof r.id === 'string' && Number.isInteger(r.version)
    ? r
    : undefined;
}

function toClientError(e: unknown): Error {
  if (e instanceof SyncClientError) return e;
  if (e instanceof SyncHttpError) {
    return new SyncClientError(
      e.retryable ? SyncClientErrorCode.UNREACHABLE : SyncClientErrorCode.HTTP_ERROR,
      e.message,
      { status: e.status, code: e.code, details: e.details },
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(String(e));
}
