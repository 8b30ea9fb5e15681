import {
  ConflictResult,
  MAX_MUTATIONS_PER_PUSH,
  MergedResult,
  Mutation,
  MutationResult,
  PushResponse,
  SyncRecord,
} from '@clinisync/contracts';
import { getEntity, orderBatch, referencedIds } from '@clinisync/sync-core';
import { BackoffOptions, retryDelay } from './backoff';
import { CoalescedMutation, coalesceOps } from './coalesce';
import { SyncClientError, SyncClientErrorCode } from './errors';
import { SyncApi, SyncHttpError } from './http-api';
import { LocalStore } from './local-store';
import { fieldsOfEdit, editOfMutation, queuedFields, settleRecord, standingEdits } from './local-records';
import { DeadLetter, LocalRecord, OutboxEntry, StoredConflict } from './types';

export interface PushReport {
  /** Push requests answered by the platform. */
  requests: number;
  sent: number;
  applied: number;
  merged: number;
  conflicts: number;
  deadLettered: number;
  /** Retryable rejections received (the mutations stay queued with the same ids). */
  retryableRejections: number;
  /** Outbox entries that cancelled out locally (create then delete of a never-synced record). */
  cancelled: number;
  /** The last push answer's read-your-writes checkpoint (the next pull sends it). */
  checkpoint?: string;
}

export interface PushEngineHooks {
  onConflict?(conflict: StoredConflict): void;
  onDeadLetter?(deadLetter: DeadLetter): void;
  onChange?(entity: string, ids: string[]): void;
}

export interface PushEngineDeps {
  store: LocalStore;
  api: Pick<SyncApi, 'push'>;
  clock: () => Date;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  newId: () => string;
  backoff: BackoffOptions;
  /** At most 500 (PROTOCOL.md). */
  batchSize: number;
  hooks?: PushEngineHooks;
}

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

const MUTATION_PATH = /^mutations\[(\d+)\]/;

/**
 * The push phase: coalesces the outbox, fixes each batch's clientMutationIds and payloads in
 * the local store before sending (so a retry after a lost response re-sends the same keys and
 * the platform replays instead of applying twice), sends batches of at most 500 with parents
 * before children, and settles each result locally in one transaction per response.
 */
export class PushEngine {
  constructor(private readonly deps: PushEngineDeps) {
    if (deps.batchSize < 1 || deps.batchSize > MAX_MUTATIONS_PER_PUSH)
      throw new Error(`batchSize must be 1..${MAX_MUTATIONS_PER_PUSH}`);
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }

  async push(): Promise<PushReport> {
    const report: PushReport = {
      requests: 0,
      sent: 0,
      applied: 0,
      merged: 0,
      conflicts: 0,
      deadLettered: 0,
      retryableRejections: 0,
      cancelled: 0,
    };
    const { backoff } = this.deps;
    const retriesInRun = new Map<string, number>();
    const givenUp = new Set<string>();
    let stalled = 0;
    let limit = this.deps.batchSize;
    for (;;) {
      const batch = this.prepareBatch(givenUp, limit, report);
      if (batch.length === 0) break;
      let response: PushResponse;
      try {
        response = await this.deps.api.push(batch);
        checkResponse(batch, response);
        if (typeof response.checkpoint === 'string') report.checkpoint = response.checkpoint;
      } catch (e) {
        if (e instanceof SyncHttpError && e.retryable) {
          stalled += 1;
          this.noteAttempt(batch, `${e.code}: ${e.message}`, e.retryAfterMs);
          if (stalled >= backoff.maxAttempts) {
            throw new SyncClientError(
              SyncClientErrorCode.UNREACHABLE,
              `push failed ${stalled} times; mutations stay queued: ${e.message}`,
              undefined,
              { cause: e },
            );
          }
          if (e.retryAfterMs !== undefined && e.retryAfterMs > backoff.maxRetryAfterMs) {
            throw new SyncClientError(
              SyncClientErrorCode.UNREACHABLE,
              `server asked to retry after ${e.retryAfterMs} ms; mutations stay queued`,
              undefined,
              { cause: e },
            );
          }
          await this.deps.sleep(retryDelay(stalled, this.deps.random, e.retryAfterMs, backoff));
          continue;
        }
        if (e instanceof SyncHttpError && e.status === 413) {
          if (batch.length > 1) {
            limit = Math.max(1, Math.floor(batch.length / 2));
          } else {
            this.deps.store.transaction(() =>
              this.deadLetterPrepared(batch[0], 'PAYLOAD_TOO_LARGE', e.message, report),
            );
          }
          continue;
        }
        if (e instanceof SyncHttpError && e.status === 400 && this.deadLetterInvalid(batch, e, report))
          continue;
        if (e instanceof SyncClientError) throw e;
        throw new SyncClientError(
          SyncClientErrorCode.HTTP_ERROR,
          e instanceof Error ? e.message : String(e),
          undefined,
          { cause: e },
        );
      }
      report.requests += 1;
      report.sent += batch.length;
      const retryable = this.settle(batch, response, report);
      for (const id of retryable) {
        const n = (retriesInRun.get(id) ?? 0) + 1;
        retriesInRun.set(id, n);
        if (n >= backoff.maxAttempts) givenUp.add(id);
      }
      if (retryable.length === batch.length) {
        // Nothing moved: wait before sending the same mutations again.
        stalled += 1;
        if (retryable.some((id) => !givenUp.has(id)))
          await this.deps.sleep(retryDelay(stalled, this.deps.random, undefined, backoff));
      } else {
        stalled = 0;
      }
    }
    return report;
  }

  /**
   * Builds the next batch in one local transaction: prepared entries first (same ids, same
   * payloads), then newly coalesced records, ordered parents before children. New entries get
   * their clientMutationId and exact payload stored before anything is sent.
   */
  private prepareBatch(givenUp: ReadonlySet<string>, limit: number, report: PushReport): Mutation[] {
    const { store } = this.deps;
    return store.transaction(() => {
      const prepared = store
        .preparedOutbox(limit + givenUp.size)
        .filter((e) => !givenUp.has(e.clientMutationId as string))
        .slice(0, limit);
      const window: {
        mutation: Omit<Mutation, 'clientMutationId'>;
        entry?: OutboxEntry;
        fresh?: CoalescedMutation;
      }[] = prepared.map((entry) => ({
        mutation: entry.mutation as Mutation,
        entry,
      }));
      const room = limit - prepared.length;
      if (room > 0) {
        for (const m of this.freshMutations(room, window, report))
          window.push({ mutation: toMutation(m), fresh: m });
      }
      const order = orderBatch(window.map((w) => w.mutation));
      const batch: Mutation[] = [];
      for (const i of order) {
        const w = window[i];
        if (w.entry) {
          batch.push(w.entry.mutation as Mutation);
          continue;
        }
        const m = w.fresh as CoalescedMutation;
        const mutation: Mutation = { clientMutationId: this.deps.newId().toLowerCase(), ...w.mutation };
        store.updateOutbox(m.seqs[0], {
          state: 'prepared',
          clientMutationId: mutation.clientMutationId,
          mutation,
          op: m.op,
          baseVersion: m.baseVersion,
          data: m.data,
          changedFields: m.changedFields,
          occurredAt: m.occurredAt,
        });
        store.removeOutbox(m.seqs.slice(1));
        batch.push(mutation);
      }
      return batch;
    });
  }

  /**
   * Up to `room` newly coalesced mutations, in outbox order with parents first. A mutation
   * referencing a record whose create is queued but not in this batch waits (its parent must
   * reach the server first); when a whole window waits, the window grows so the parents come
   * into reach.
   */
  private freshMutations(
    room: number,
    window: readonly { mutation: Omit<Mutation, 'clientMutationId'> }[],
    report: PushReport,
  ): CoalescedMutation[] {
    const { store } = this.deps;
    for (let take = room; ; take *= 2) {
      const records = store.sendablePendingRecords(take);
      const { mutations, cancelled } = coalesceOps(store.pendingOutboxFor(records));
      for (const c of cancelled) {
        store.removeOutbox(c.seqs);
        report.cancelled += c.seqs.length;
        this.forgetIfLocalOnly(c.entity, c.recordId);
      }
      const parentsOf = mutations.map((m) =>
        referencedIds({ entity: m.entity, op: m.op, id: m.recordId, data: m.data }),
      );
      const queuedParents = store.queuedCreates([...new Set(parentsOf.flat())]);
      // Creates the server will have seen before this batch's children: the window's, then each accepted one.
      const creates = new Set<string>();
      for (const w of window) if (w.mutation.op === 'create') creates.add(w.mutation.id);
      const accepted: CoalescedMutation[] = [];
      // Parents first (stable otherwise), so a parent takes its room before the child needing it.
      for (const i of orderBatch(
        mutations.map((m) => ({ entity: m.entity, op: m.op, id: m.recordId, data: m.data })),
      )) {
        if (accepted.length >= room) break;
        const m = mutations[i];
        // A parent created in a later batch must reach the server first: wait for it.
        if (parentsOf[i].some((p) => queuedParents.has(p) && !creates.has(p))) continue;
        if (m.op !== 'create' && m.baseVersion === null) {
          const version = store.getRecord(m.entity, m.recordId)?.version ?? null;
          if (version === null) {
            this.deadLetterLocal(
              m,
              'NOT_FOUND',
              `the ${m.entity} record was never created on the server (its create failed)`,
              report,
            );
            continue;
          }
          m.baseVersion = version;
        }
        accepted.push(m);
        if (m.op === 'create') creates.add(m.recordId);
      }
      // Done when something can go, or when the window already holds every sendable record.
      if (accepted.length > 0 || records.length < take) return accepted;
    }
  }

  /** A never-synced record whose queued edits cancelled out disappears locally too. */
  private forgetIfLocalOnly(entity: string, recordId: string): void {
    const { store } = this.deps;
    const rec = store.getRecord(entity, recordId);
    if (rec && rec.version === null && standingEdits(store, entity, recordId).length === 0)
      store.removeRecord(entity, recordId);
  }

  private noteAttempt(batch: readonly Mutation[], error: string, retryAfterMs?: number): void {
    const { store } = this.deps;
    const next = new Date(this.deps.clock().getTime() + (retryAfterMs ?? 0)).toISOString();
    store.transaction(() => {
      for (const m of batch) {
        const e = store.outboxByMutationId(m.clientMutationId);
        if (e) store.updateOutbox(e.seq, { attempts: e.attempts + 1, lastError: error, nextAttemptAt: next });
      }
    });
  }

  /** A 400 naming `mutations[i]`: those can never be accepted; dead-letter them and go on. */
  private deadLetterInvalid(batch: readonly Mutation[], e: SyncHttpError, report: PushReport): boolean {
    const bad = new Map<number, string[]>();
    for (const d of e.details ?? []) {
      const m = MUTATION_PATH.exec(d.path);
      if (m && Number(m[1]) < batch.length)
        bad.set(Number(m[1]), [...(bad.get(Number(m[1])) ?? []), `${d.path}: ${d.message}`]);
    }
    if (bad.size === 0) return false;
    this.deps.store.transaction(() => {
      for (const [i, messages] of bad)
        this.deadLetterPrepared(batch[i], 'VALIDATION_FAILED', messages.join('; '), report);
    });
    return true;
  }

  private deadLetterPrepared(m: Mutation, code: string, message: string, report: PushReport): void {
    const entry = this.deps.store.outboxByMutationId(m.clientMutationId);
    if (entry) this.deadLetter(entry, code, message, report);
  }

  private deadLetterLocal(m: CoalescedMutation, code: string, message: string, report: PushReport): void {
    const { store } = this.deps;
    const mutation: Mutation = { clientMutationId: '', ...toMutation(m) };
    store.removeOutbox(m.seqs);
    const id = store.addDeadLetter({
      clientMutationId: null,
      entity: m.entity,
      recordId: m.recordId,
      op: m.op,
      mutation,
      code,
      message,
      failedAt: this.now(),
    });
    report.deadLettered += 1;
    const dl = store.getDeadLetter(id);
    if (dl) this.deps.hooks?.onDeadLetter?.(dl);
  }

  private deadLetter(entry: OutboxEntry, code: string, message: string, report: PushReport): void {
    const { store } = this.deps;
    store.removeOutbox([entry.seq]);
    const id = store.addDeadLetter({
      clientMutationId: entry.clientMutationId,
      entity: entry.entity,
      recordId: entry.recordId,
      op: entry.op,
      mutation: entry.mutation as Mutation,
      code,
      message,
      failedAt: this.now(),
    });
    report.deadLettered += 1;
    const dl = store.getDeadLetter(id);
    if (dl) this.deps.hooks?.onDeadLetter?.(dl);
  }

  /** Applies one response locally, in one transaction. Returns the ids that were rejected as retryable. */
  private settle(batch: readonly Mutation[], response: PushResponse, report: PushReport): string[] {
    const { store } = this.deps;
    const byId = new Map(response.results.map((r) => [r.clientMutationId.toLowerCase(), r]));
    const retryable: string[] = [];
    const touched = new Map<string, string[]>();
    const conflicts: StoredConflict[] = [];
    store.transaction(() => {
      // Load once what every result needs: the batch's entries, the entries queued behind them, the records.
      const ctx = this.settleContext(batch);
      for (const m of batch) {
        const r = byId.get(m.clientMutationId.toLowerCase()) as MutationResult;
        const entry = ctx.prepared.get(m.clientMutationId.toLowerCase());
        if (!entry) continue;
        touched.set(entry.entity, [...(touched.get(entry.entity) ?? []), entry.recordId]);
        switch (r.status) {
          case 'applied':
            this.acknowledge(entry, r.version, undefined, ctx);
            report.applied += 1;
            break;
          case 'merged':
            this.acknowledge(entry, r.version, (r as MergedResult).record, ctx);
            report.merged += 1;
            break;
          case 'conflict': {
            const c = this.recordConflict(entry, r);
            if (c) conflicts.push(c);
            report.conflicts += 1;
            break;
          }
          case 'rejected':
            if (r.retryable) {
              const n = entry.attempts + 1;
              const delay = retryDelay(n, this.deps.random, undefined, this.deps.backoff);
              store.updateOutbox(entry.seq, {
                attempts: n,
                lastError: `${r.code}: ${r.message}`,
                nextAttemptAt: new Date(this.deps.clock().getTime() + delay).toISOString(),
              });
              retryable.push(m.clientMutationId);
              report.retryableRejections += 1;
            } else {
              this.deadLetter(entry, r.code, r.message, report);
            }
            break;
        }
      }
    });
    for (const c of conflicts) this.deps.hooks?.onConflict?.(c);
    for (const [entity, ids] of touched) this.deps.hooks?.onChange?.(entity, ids);
    return retryable;
  }

  /**
   * `applied` / `merged`: the entry leaves the outbox; the record takes the server version (and,
   * when merged, the server's values for every field no local edit still holds); queued edits of
   * the record that started from the same version now start from the new one (applied only: the
   * server changed nothing else in between).
   */
  private settleContext(batch: readonly Mutation[]): SettleContext {
    const { store } = this.deps;
    const prepared = new Map<string, OutboxEntry>();
    const queued = new Map<string, OutboxEntry[]>();
    for (const e of store.outboxForRecords(batch.map((m) => m.id))) {
      if (e.state === 'prepared' && e.clientMutationId) prepared.set(e.clientMutationId, e);
      else
        queued.set(`${e.entity}\u0000${e.recordId}`, [
          ...(queued.get(`${e.entity}\u0000${e.recordId}`) ?? []),
          e,
        ]);
    }
    const ids = new Map<string, string[]>();
    for (const m of batch) ids.set(m.entity, [...(ids.get(m.entity) ?? []), m.id]);
    const records = new Map<string, Map<string, LocalRecord>>();
    for (const [entity, list] of ids) records.set(entity, store.getRecords(entity, list));
    return {
      prepared,
      queued,
      records,
      look: { conflicts: store.countUnresolvedConflicts() > 0, deadLetters: store.countDeadLetters() > 0 },
    };
  }

  private acknowledge(
    entry: OutboxEntry,
    version: number,
    serverRecord: SyncRecord | undefined,
    ctx: SettleContext,
  ): void {
    const { store } = this.deps;
    const m = entry.mutation as Mutation;
    store.removeOutbox([entry.seq]);
    const rest = ctx.queued.get(`${entry.entity}\u0000${entry.recordId}`) ?? [];
    if (!serverRecord) {
      for (const r of rest) {
        if (r.baseVersion !== (m.baseVersion ?? null)) continue;
        store.updateOutbox(r.seq, { baseVersion: version });
        r.baseVersion = version;
      }
    }
    const rec = ctx.records.get(entry.entity)?.get(entry.recordId);
    if (!rec) return;
    const edits = standingEdits(store, entry.entity, entry.recordId, rest, ctx.look);
    const stillLocal = new Set(queuedFields(edits));
    const newerLocally = rec.version !== null && rec.version > version;
    const def = getEntity(entry.entity);
    const next = { ...rec, fields: { ...rec.fields } };
    if (serverRecord && !newerLocally) {
      for (const f of def.fields) {
        if (!stillLocal.has(f.name) && has(serverRecord, f.name))
          next.fields[f.name] = serverRecord[f.name] ?? null;
      }
      next.updatedAt = serverRecord.updatedAt ?? next.updatedAt;
      next.deletedAt = next.deletedAt ?? serverRecord.deletedAt ?? null;
    }
    next.version = Math.max(rec.version ?? 0, version);
    if (m.op === 'delete' && next.deletedAt === null) next.deletedAt = this.now();
    const settled = settleRecord(next, edits, { restoreReleased: newerLocally });
    const fieldsKept = def.fields.every((f) => settled.fields[f.name] === rec.fields[f.name]);
    if (fieldsKept) store.putRecordSyncState(entry.entity, settled);
    else store.putRecord(entry.entity, settled);
  }

  /** `conflict`: the local edit stays (its fields stay in `_changed`); the conflict is stored for the app. */
  private recordConflict(entry: OutboxEntry, r: ConflictResult): StoredConflict | undefined {
    const { store } = this.deps;
    const m = entry.mutation as Mutation;
    store.removeOutbox([entry.seq]);
    const rec = store.getRecord(entry.entity, entry.recordId);
    const conflict: StoredConflict = {
      conflictId: r.conflictId,
      entity: entry.entity,
      recordId: entry.recordId,
      clientMutationId: m.clientMutationId,
      mutation: m,
      baseVersion: m.baseVersion ?? null,
      serverVersion: r.serverVersion,
      serverRecord: r.serverRecord,
      localRecord: rec ? { ...rec.fields } : {},
      conflictingFields: r.conflictingFields,
      status: 'open',
      resolution: null,
      detectedAt: this.now(),
      resolvedAt: null,
    };
    const inserted = store.insertConflict(conflict);
    if (rec && (rec.version === null || r.serverVersion >= rec.version)) {
      // Remember the server's values of the contested fields, should the server's side win.
      const remote = { ...rec.remote };
      for (const f of fieldsOfEdit(editOfMutation(m)))
        if (has(r.serverRecord, f)) remote[f] = r.serverRecord[f] ?? null;
      store.putRecord(
        entry.entity,
        settleRecord({ ...rec, remote }, standingEdits(store, entry.entity, entry.recordId), {
          restoreReleased: false,
        }),
      );
    }
    return inserted ? conflict : undefined;
  }
}

/** What settling one response needs, loaded once per response. */
interface SettleContext {
  /** The batch's prepared entries by clientMutationId. */
  prepared: Map<string, OutboxEntry>;
  /** Pending entries queued behind them, by record. */
  queued: Map<string, OutboxEntry[]>;
  records: Map<string, Map<string, LocalRecord>>;
  /** Whether any unresolved conflict / dead letter exists at all (else per-record lookups are skipped). */
  look: { conflicts: boolean; deadLetters: boolean };
}

function toMutation(m: CoalescedMutation): Omit<Mutation, 'clientMutationId'> {
  const out: Omit<Mutation, 'clientMutationId'> = { entity: m.entity, op: m.op, id: m.recordId };
  if (m.op !== 'create') out.baseVersion = m.baseVersion ?? undefined;
  if (m.op !== 'delete') out.data = m.data;
  if (m.op === 'update') out.changedFields = m.changedFields;
  out.occurredAt = m.occurredAt;
  return out;
}

function checkResponse(batch: readonly Mutation[], response: PushResponse): void {
  if (!response || !Array.isArray(response.results)) {
    throw new SyncClientError(SyncClientErrorCode.PROTOCOL_ERROR, 'push response has no results array');
  }
  const ids = new Set(response.results.map((r) => String(r?.clientMutationId ?? '').toLowerCase()));
  const missing = batch.filter((m) => !ids.has(m.clientMutationId.toLowerCase()));
  if (missing.length > 0) {
    throw new SyncClientError(
      SyncClientErrorCode.PROTOCOL_ERROR,
      `push response lacks results for ${missing.length} mutation(s)`,
    );
  }
}
