import {
  ApplyBatchCommand,
  ApplyBatchReply,
  ChangeAction,
  ModuleName,
  MutationCommand,
  MutationRejectCode,
  MutationResult,
  RecordChangedData,
  auditSubject,
  clinicalSubject,
} from '@clinisync/contracts';
import { Principal, defineAbilityFor, entitySubject, AppAbility } from '@clinisync/auth';
import { LedgerEntry, MutationLedgerRepository, NewLedgerEntry, OutboxMessage, OutboxRepository, TenantTransactions, Tx, pgErrorCode, PG_UNIQUE_VIOLATION, PG_DEADLOCK, PG_SERIALIZATION_FAILURE, PG_FOREIGN_KEY_VIOLATION } from '@clinisync/persistence';
import {
  Decision,
  DependencyTracker,
  blocksDependents,
  buildAuditEvent,
  EntityDef,
  StoredRecord,
  changeEventIdFor,
  changedFieldsOf,
  conflictIdFor,
  decideMutation,
  dependencyRejection,
  entityDepth,
  findEntity,
  normaliseData,
  orderBatch,
  recordJson,
  referencedIds,
  referenceFields,
  readOnlyRejection,
  reject,
  rejectedResult,
  replayOutcome,
  resolutionDecision,
  toSyncRecord,
} from '@clinisync/sync-core';
import { cloudEvent, cloudEventJson } from '@clinisync/messaging';
import { RecordRepository } from './record.repository';

/** Injected side effects, so tests can pin them. */
export interface ApplierPorts {
  now(): string;
  newEventId(): string;
}

/** Module-specific rules layered on the generic apply (e.g. pharmacy's controlled drugs). */
export interface ModuleRules {
  /**
   * Extra attributes for the authorization subject of a mutation (e.g. `controlled`). `batch`
   * shows records as this batch sees them so far (loaded, or written by an earlier mutation of
   * the batch and not yet persisted), so a rule can honour a parent created in the same batch.
   */
  subjectAttributes?(tx: Tx, tenantId: string, def: EntityDef, data: Record<string, unknown>, batch: BatchView): Promise<Record<string, unknown>>;
  /** Extra writes in the same transaction once the batch's records are written; returns extra events. */
  afterWrites?(tx: Tx, ctx: WriteContext, writes: AppliedWrite[]): Promise<OutboxMessage[]>;
}

/** Records addressed by the batch being applied, as decided so far (undefined: not loaded by the batch). */
export interface BatchView {
  record(entity: string, id: string): StoredRecord | undefined;
}

export interface WriteContext {
  tenantId: string;
  correlationId: string;
  principal: Principal;
  deviceId?: string;
  now: string;
}

export interface AppliedWrite {
  def: EntityDef;
  action: ChangeAction;
  record: StoredRecord;
  changedFields: string[];
  clientMutationId: string;
}

/** A write raced with another transaction; the whole batch is re-run against fresh state. */
class ConcurrentWriteError extends Error {}

const MAX_ATTEMPTS = 4;

/**
 * Applies one command batch of a module: answers mutations already decided (by this module or
 * another: the ledger key is unique across modules) from the mutation ledger, decides each new
 * one with sync-core under the caller's ability, and commits the domain rows and one ledger row
 * per decided mutation (its result and its change event) in one transaction, so nothing is ever
 * applied twice or half. Audit events (denials, resolutions) and module extras go to the outbox.
 */
export class BatchApplier {
  constructor(
    private readonly module: ModuleName,
    private readonly transactions: TenantTransactions,
    private readonly records: RecordRepository,
    private readonly ledger: MutationLedgerRepository,
    private readonly outbox: OutboxRepository,
    private readonly ports: ApplierPorts,
    private readonly rules: ModuleRules = {},
  ) {}

  /**
   * Fast path: the whole batch in one transaction (one commit for up to 500 mutations). If that
   * fails for a reason other than a race, each aggregate is applied in its own transaction, so
   * one bad aggregate cannot hold back the others; its own mutations come back retryable.
   */
  async apply(command: ApplyBatchCommand, principal: Principal): Promise<ApplyBatchReply> {
    try {
      return await this.applyWithRetry(command, principal);
    } catch (e) {
      const groups = aggregateGroups(command.commands);
      if (groups.length <= 1) throw e;
      const results: MutationResult[] = new Array(command.commands.length);
      for (const group of groups) {
        const sub = { ...command, commands: group.map((i) => command.commands[i]) };
        try {
          const reply = await this.applyWithRetry(sub, principal);
          group.forEach((i, k) => (results[i] = reply.results[k]));
        } catch {
          for (const i of group) {
            const c = command.commands[i];
            results[i] = { clientMutationId: c.clientMutationId, status: 'rejected', id: c.id, code: MutationRejectCode.UNAVAILABLE, message: 'could not be applied; retry later', retryable: true };
          }
        }
      }
      return { results };
    }
  }

  private async applyWithRetry(command: ApplyBatchCommand, principal: Principal): Promise<ApplyBatchReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactions.run(command.tenantId, (tx) => this.applyIn(tx, command, principal, attempt > 1));
      } catch (e) {
        const code = pgErrorCode(e);
        const retry =
          e instanceof ConcurrentWriteError ||
          code === PG_UNIQUE_VIOLATION ||
          code === PG_DEADLOCK ||
          code === PG_SERIALIZATION_FAILURE ||
          code === PG_FOREIGN_KEY_VIOLATION;
        if (!retry || attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }

  /**
   * `readLedger` false (a first attempt): sync-ingest answered every key the ledger held before
   * it delegated, so the lookup would find nothing but a key decided meanwhile (a race, a
   * redelivered command). Such a key fails the ledger insert at the end of this transaction
   * (unique key across modules), which rolls everything back, and the re-run reads the ledger
   * and answers from it: one query less per batch in the common case, the same answers always.
   */
  private async applyIn(tx: Tx, command: ApplyBatchCommand, principal: Principal, readLedger: boolean): Promise<ApplyBatchReply> {
    const tenantId = command.tenantId;
    const now = this.ports.now();
    const ability = defineAbilityFor(principal);
    const cmds = command.commands;
    const results: (MutationResult | undefined)[] = new Array(cmds.length).fill(undefined);

    const seen = readLedger ? await this.ledger.find(tx, tenantId, cmds.map((c) => c.clientMutationId)) : new Map<string, LedgerEntry>();
    const fresh: number[] = [];
    cmds.forEach((c, i) => {
      const prior = replayOutcome(seen.get(c.clientMutationId), c.payloadHash);
      if (prior.kind === 'fresh') fresh.push(i);
      else results[i] = prior.kind === 'replay' ? prior.result : rejectedResult(c, prior.rejection);
    });

    const state = await this.loadState(tx, tenantId, fresh.map((i) => cmds[i]));
    const tracker = new DependencyTracker();
    const writes = new Map<string, AppliedWrite & { expectedVersion?: number; isNew: boolean }>();
    const outcome = new Map<number, MutationResult>();
    const ctx: WriteContext = { tenantId, correlationId: command.correlationId, principal, deviceId: command.deviceId, now };

    const events: OutboxMessage[] = [];
    const changes = new Map<number, OutboxMessage & { version: number }>();
    const order = orderBatch(fresh.map((i) => cmds[i])).map((k) => fresh[k]);
    for (const i of order) {
      const c = cmds[i];
      const result = await this.decideOne(tx, c, tenantId, ability, state, tracker, now);
      if (result.decision.kind === 'write') {
        const key = `${c.entity}:${c.id}`;
        const prior = writes.get(key);
        const def = result.def as EntityDef;
        writes.set(key, {
          def,
          action: result.decision.action,
          record: result.decision.record,
          changedFields: result.decision.changedFields,
          clientMutationId: c.clientMutationId,
          isNew: prior ? prior.isNew : result.current === undefined,
          expectedVersion: prior ? prior.expectedVersion : result.current?.version,
        });
        state.records.get(c.entity)?.set(c.id, result.decision.record);
        changes.set(i, this.changeEvent(ctx, def, result.decision, c));
      }
      if (result.failed) tracker.markFailed(c.id);
      if (c.resolution && (result.decision.kind === 'write' || result.decision.kind === 'noop')) {
        events.push(this.resolvedEvent(ctx, c, result.def as EntityDef, result.current, result.decision.record));
      }
      if (result.result.status === 'rejected' && result.result.code === MutationRejectCode.FORBIDDEN) {
        events.push(this.deniedEvent(ctx, c, result.result.message, result.current));
      }
      outcome.set(i, result.result);
    }

    await this.persist(tx, tenantId, writes);
    const extra = this.rules.afterWrites ? await this.rules.afterWrites(tx, ctx, [...writes.values()]) : [];
    await this.outbox.append(tx, [...events, ...extra]);

    // One ledger row per decided mutation, in decision order; a retryable refusal decides nothing.
    const entries: NewLedgerEntry[] = [];
    for (const [i, r] of outcome) {
      if (r.status === 'rejected' && r.retryable) continue;
      const c = cmds[i];
      const change = changes.get(i);
      entries.push({
        clientMutationId: c.clientMutationId,
        module: this.module,
        status: r.status,
        payloadHash: c.payloadHash,
        result: JSON.stringify(r),
        entity: c.entity,
        aggregateId: c.id,
        version: change?.version,
        subject: change?.subject,
        event: change?.payload,
        eventId: change?.id,
      });
    }
    // A key another transaction decided meanwhile fails this insert (unique violation): re-run.
    const { xid } = await this.ledger.insert(tx, tenantId, entries);
    for (const [i, r] of outcome) results[i] = r;
    return xid ? { results: results as MutationResult[], xid } : { results: results as MutationResult[] };
  }

  /** A conflict resolution on PHI is audited in the same transaction as the write it causes. */
  private resolvedEvent(ctx: WriteContext, c: MutationCommand, def: EntityDef, before: StoredRecord | undefined, after: StoredRecord): OutboxMessage {
    const id = this.ports.newEventId();
    const r = c.resolution as NonNullable<MutationCommand['resolution']>;
    const fields = after.fields;
    const patientId = def.name === 'patients' ? after.id : typeof fields.patientId === 'string' ? fields.patientId : undefined;
    const audit = buildAuditEvent({
      id,
      kind: 'conflict-resolved',
      recorded: ctx.now,
      tenantId: ctx.tenantId,
      correlationId: ctx.correlationId,
      clientMutationId: c.clientMutationId,
      actor: { sub: ctx.principal.sub, roles: ctx.principal.roles, deviceId: ctx.deviceId },
      service: this.module,
      facilityId: typeof fields.facilityId === 'string' ? fields.facilityId : undefined,
      action: 'U',
      outcome: '0',
      record: {
        entity: def.name,
        id: after.id,
        patientId,
        beforeVersion: before?.version,
        afterVersion: after.version,
        before: before ? toSyncRecord(def, before) : undefined,
        after: toSyncRecord(def, after),
        conflictingFields: r.conflictingFields,
        resolution: r.resolution,
        reason: r.reason,
      },
    });
    const event = cloudEvent({ id, source: `clinisync/${this.module}`, type: 'clinisync.audit.conflict-resolved', subject: `${def.name}/${after.id}`, time: ctx.now, tenantId: ctx.tenantId, correlationId: ctx.correlationId, data: audit });
    return { tenantId: ctx.tenantId, id, aggregateId: after.id, subject: auditSubject(ctx.tenantId, 'conflict-resolved'), payload: JSON.stringify(event) };
  }

  /** A denied write is itself audited (audit.<tenant>.write-denied), committed with the batch. */
  private deniedEvent(ctx: WriteContext, c: MutationCommand, message: string, current?: StoredRecord): OutboxMessage {
    const id = this.ports.newEventId();
    const fields = { ...(current?.fields ?? {}), ...c.data };
    const patientId = c.entity === 'patients' ? c.id : typeof fields.patientId === 'string' ? fields.patientId : undefined;
    const audit = buildAuditEvent({
      id,
      kind: 'write-denied',
      recorded: ctx.now,
      tenantId: ctx.tenantId,
      correlationId: ctx.correlationId,
      clientMutationId: c.clientMutationId,
      actor: { sub: ctx.principal.sub, roles: ctx.principal.roles, deviceId: ctx.deviceId },
      service: this.module,
      facilityId: typeof fields.facilityId === 'string' ? fields.facilityId : undefined,
      action: c.op === 'create' ? 'C' : c.op === 'update' ? 'U' : 'D',
      outcome: '4',
      outcomeDesc: message,
      record: { entity: c.entity, id: c.id, patientId, beforeVersion: current?.version, after: c.data },
    });
    const event = cloudEvent({
      id,
      source: `clinisync/${this.module}`,
      type: 'clinisync.audit.write-denied',
      subject: `${c.entity}/${c.id}`,
      time: ctx.now,
      tenantId: ctx.tenantId,
      correlationId: ctx.correlationId,
      data: audit,
    });
    return { tenantId: ctx.tenantId, id, aggregateId: c.id, subject: auditSubject(ctx.tenantId, 'write-denied'), payload: JSON.stringify(event) };
  }

  /** The change event of a mutation: its id follows from tenant and key, so any re-publish is a duplicate. */
  private changeEvent(ctx: WriteContext, def: EntityDef, decision: Extract<Decision, { kind: 'write' }>, c: MutationCommand): OutboxMessage & { version: number } {
    const id = changeEventIdFor(ctx.tenantId, c.clientMutationId);
    // RecordChangedData with the record last: the record's stored wire JSON goes in as it is.
    const data: Omit<RecordChangedData, 'record'> = {
      entity: def.name,
      id: decision.record.id,
      version: decision.record.version,
      action: decision.action,
      clientMutationId: c.clientMutationId,
      actor: ctx.principal.sub,
      deviceId: ctx.deviceId,
      changedFields: decision.changedFields,
    };
    const dataJson = `${JSON.stringify(data).slice(0, -1)},"record":${recordJson(def, decision.record)}}`;
    const subject = clinicalSubject(ctx.tenantId, this.module, def.name, decision.action);
    const payload = cloudEventJson(
      {
        id,
        source: `clinisync/${this.module}`,
        type: `clinisync.${this.module}.${def.name}.${decision.action}`,
        subject: `${def.name}/${decision.record.id}`,
        time: ctx.now,
        tenantId: ctx.tenantId,
        correlationId: ctx.correlationId,
      },
      dataJson,
    );
    return { tenantId: ctx.tenantId, id, aggregateId: decision.record.id, subject, payload, version: decision.record.version };
  }

  private async loadState(tx: Tx, tenantId: string, cmds: MutationCommand[]) {
    const records = new Map<string, Map<string, StoredRecord>>();
    const liveParents = new Map<string, Set<string>>();
    const idsByEntity = new Map<string, Set<string>>();
    const parentIds = new Map<string, Set<string>>();
    const add = (m: Map<string, Set<string>>, name: string, id: string) => {
      const set = m.get(name);
      if (set) set.add(id);
      else m.set(name, new Set([id]));
    };
    for (const c of cmds) {
      const def = findEntity(c.entity);
      if (!def || def.module !== this.module) continue;
      add(idsByEntity, def.name, c.id);
      for (const f of referenceFields(def)) {
        const parent = findEntity(f.references as string);
        const v = c.data[f.name];
        if (parent && parent.module === this.module && typeof v === 'string') add(parentIds, parent.name, v);
      }
    }
    for (const [name, ids] of idsByEntity) records.set(name, await this.records.loadForUpdate(tx, findEntity(name) as EntityDef, tenantId, [...ids]));
    for (const [name, ids] of parentIds) {
      // A parent the batch itself addresses is judged from the batch's own view of it (decideOne).
      const own = idsByEntity.get(name);
      const outside = own ? [...ids].filter((id) => !own.has(id)) : [...ids];
      liveParents.set(name, outside.length > 0 ? await this.records.liveIds(tx, findEntity(name) as EntityDef, tenantId, outside) : new Set());
    }
    return { records, liveParents };
  }

  private async decideOne(
    tx: Tx,
    c: MutationCommand,
    tenantId: string,
    ability: AppAbility,
    state: { records: Map<string, Map<string, StoredRecord>>; liveParents: Map<string, Set<string>> },
    tracker: DependencyTracker,
    now: string,
  ): Promise<{ result: MutationResult; decision: Decision; failed: boolean; def?: EntityDef; current?: StoredRecord }> {
    const done = (decision: Decision, def?: EntityDef, current?: StoredRecord) => {
      const result = this.toResult(tenantId, c, decision, def);
      const failed = blocksDependents(result.status);
      return { result, decision, failed, def, current };
    };
    const def = findEntity(c.entity);
    if (!def || def.module !== this.module) {
      return done(reject(MutationRejectCode.VALIDATION_FAILED, `entity ${c.entity} is not served by ${this.module}`));
    }
    const readOnly = readOnlyRejection(def);
    if (readOnly) return done(readOnly, def);
    const blocked = dependencyRejection(tracker, c);
    if (blocked) return done(blocked, def);
    const current = state.records.get(def.name)?.get(c.id);
    const data = normaliseData(def, c.data);
    const intent = { op: c.op, id: c.id, baseVersion: c.baseVersion, data, changedFields: changedFieldsOf({ ...c, data }, def) };

    // A missing record (or another tenant's: RLS hides it) answers NOT_FOUND before any authorization.
    if (c.op !== 'create' && !current) return done(decideMutation(def, intent, current, now), def, current);
    // Authorization on the record as it is (update/delete) and as it would be (create/update).
    const batch: BatchView = { record: (entity, id) => state.records.get(entity)?.get(id) };
    const extra = this.rules.subjectAttributes ? await this.rules.subjectAttributes(tx, tenantId, def, { ...current?.fields, ...data }, batch) : {};
    const action = c.resolution ? 'resolve' : c.op;
    if (current && !ability.can(action, entitySubject(def.name, { ...current.fields, ...extra }))) {
      return done(reject(MutationRejectCode.FORBIDDEN, `not allowed to ${c.op} this ${def.name} record`), def, current);
    }
    if (c.op !== 'delete') {
      const after = { ...(current?.fields ?? {}), ...data, ...extra };
      if (!ability.can(action, entitySubject(def.name, after))) {
        return done(reject(MutationRejectCode.FORBIDDEN, `not allowed to ${c.op} ${def.name} here`), def, current);
      }
    }
    // In-module parents must exist (cross-module references are checked by their module's pull).
    if (c.op !== 'delete') {
      for (const f of referenceFields(def)) {
        const parent = findEntity(f.references as string);
        const v = data[f.name];
        if (!parent || parent.module !== this.module || typeof v !== 'string' || !intent.changedFields.includes(f.name)) continue;
        const inBatch = state.records.get(parent.name)?.get(v);
        const live = inBatch ? inBatch.deletedAt === null : state.liveParents.get(parent.name)?.has(v);
        if (!live) return done(reject(MutationRejectCode.PARENT_NOT_FOUND, `${f.name} ${v} does not exist`), def, current);
      }
    }
    if (c.resolution && current) {
      // Only at the version the resolver saw; keeping the server record changes nothing (still audited).
      const resolved = resolutionDecision(c.resolution, c.baseVersion, current);
      if (resolved) return done(resolved, def, current);
    }
    return done(decideMutation(def, intent, current, now), def, current);
  }

  private toResult(tenantId: string, c: MutationCommand, d: Decision, def?: EntityDef): MutationResult {
    switch (d.kind) {
      case 'write':
        return d.status === 'merged'
          ? { clientMutationId: c.clientMutationId, status: 'merged', id: c.id, version: d.record.version, record: toSyncRecord(def as EntityDef, d.record) }
          : { clientMutationId: c.clientMutationId, status: 'applied', id: c.id, version: d.record.version };
      case 'noop':
        return { clientMutationId: c.clientMutationId, status: 'applied', id: c.id, version: d.record.version };
      case 'conflict':
        return {
          clientMutationId: c.clientMutationId,
          status: 'conflict',
          id: c.id,
          conflictId: conflictIdFor(tenantId, c.clientMutationId),
          serverVersion: d.serverRecord.version,
          conflictingFields: d.conflictingFields,
          serverRecord: toSyncRecord(def as EntityDef, d.serverRecord),
        };
      case 'reject':
        return rejectedResult(c, d);
    }
  }

  private async persist(tx: Tx, tenantId: string, writes: Map<string, AppliedWrite & { expectedVersion?: number; isNew: boolean }>) {
    const byEntity = new Map<string, (AppliedWrite & { expectedVersion?: number; isNew: boolean })[]>();
    for (const w of writes.values()) {
      const list = byEntity.get(w.def.name);
      if (list) list.push(w);
      else byEntity.set(w.def.name, [w]);
    }
    // Parents before children so foreign keys hold inside the transaction.
    const names = [...byEntity.keys()].sort((a, b) => entityDepth(a) - entityDepth(b));
    for (const name of names) {
      const ws = byEntity.get(name) ?? [];
      const def = ws[0].def;
      const inserts = ws.filter((w) => w.isNew).map((w) => w.record);
      const updates = ws.filter((w) => !w.isNew).map((w) => ({ record: w.record, expectedVersion: w.expectedVersion as number }));
      // A concurrent create of one of these ids fails the insert (unique violation): re-run.
      await this.records.insert(tx, def, tenantId, inserts);
      if ((await this.records.update(tx, def, tenantId, updates)) !== updates.length) {
        throw new ConcurrentWriteError(`concurrent update of ${name}`);
      }
    }
  }
}

/**
 * Groups a batch by aggregate: a record together with the records of the batch that reference
 * it (a patient with its visits and vitals), keeping array order inside each group.
 */
export function aggregateGroups(cmds: readonly MutationCommand[]): number[][] {
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) as string;
    return root;
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const c of cmds) {
    if (!parent.has(c.id)) parent.set(c.id, c.id);
    for (const ref of referencedIds(c)) {
      if (!parent.has(ref)) parent.set(ref, ref);
      union(ref, c.id);
    }
  }
  const groups = new Map<string, number[]>();
  cmds.forEach((c, i) => {
    const root = find(c.id);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}
