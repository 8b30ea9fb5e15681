import { validateSync } from 'class-validator';
import {
  ApiErrorCode,
  ApiErrorDetail,
  ApplyBatchCommand,
  ModuleName,
  MutationCommand,
  MutationRejectCode,
  MutationResult,
  toPushRequestDto,
  passesPushRequestRules,
  PushRequest,
  PushResponse,
  RETRYABLE_REJECT_CODES,
  toErrorDetails,
} from '@clinisync/contracts';
import { Principal, defineAbilityFor } from '@clinisync/auth';
import { OutboxMessage, OutboxRepository, TenantTransactions, Tx } from '@clinisync/persistence';
import { PushMetrics } from '@clinisync/observability';
import { DependencyTracker, getEntity, moduleOrder, mutationPayloadHash, validateMutationData } from '@clinisync/sync-core';
import { SyncIngestError } from './push.errors';
import { MutationOutcome, QueueStatus, ReceivedMutation, StoredMutation, SyncMutationsRepository, isKeyRace, receivedMutation } from './sync-mutations.repository';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';
import { ConflictsRepository, NewConflict } from '../conflicts/conflicts.repository';
import { IngestAudit } from '../audit/ingest-audit';

export interface PushContext {
  principal: Principal;
  token: string;
  correlationId: string;
  deviceIdHeader?: string;
}

const FINAL: ReadonlySet<QueueStatus> = new Set(['applied', 'merged', 'conflict', 'rejected']);

/**
 * The push use case (PROTOCOL.md "Push"): validate the whole request, claim every
 * `(tenantId, clientMutationId)`, replay what was already decided, authorize by role, send one
 * ordered batch per module, record each first result, answer in request order.
 */
export class PushService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly queue: SyncMutationsRepository,
    private readonly modules: ModuleGateway,
    private readonly metrics: PushMetrics,
    private readonly conflicts: ConflictsRepository,
    private readonly outbox: OutboxRepository,
    private readonly audit: IngestAudit,
    private readonly clock: () => Date = () => new Date(),
    private readonly onCommitted: () => void = () => undefined,
  ) {}

  async push(ctx: PushContext, body: unknown): Promise<PushResponse> {
    const stop = this.metrics.batchLatency.startTimer();
    try {
      const request = this.validate(ctx.principal, body);
      const response = await this.process(ctx, request);
      this.onCommitted();
      this.metrics.pushes.inc({ outcome: 'ok' });
      for (const r of response.results) this.metrics.mutations.inc({ status: r.replayed ? `${r.status}_replayed` : r.status });
      return response;
    } catch (e) {
      this.metrics.pushes.inc({ outcome: e instanceof SyncIngestError ? e.code : 'error' });
      throw e;
    } finally {
      stop();
    }
  }

  /** Whole-request validation: nothing is stored unless every mutation is well-formed. */
  validate(principal: Principal, body: unknown): { deviceId?: string; commands: MutationCommand[] } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SyncIngestError(ApiErrorCode.VALIDATION_FAILED, 'body must be a JSON object', [{ path: '', message: 'expected an object with "mutations"' }]);
    }
    const raw = body as Record<string, unknown>;
    if (raw.tenantId !== undefined && raw.tenantId !== principal.tenantId) {
      throw new SyncIngestError(ApiErrorCode.TENANT_MISMATCH, 'the body names a tenant other than the token');
    }
    let dto: PushRequest;
    if (passesPushRequestRules(raw)) {
      dto = raw;
    } else {
      dto = toPushRequestDto(raw);
      const errors = toErrorDetails(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }));
      if (errors.length > 0) throw new SyncIngestError(ApiErrorCode.VALIDATION_FAILED, 'invalid push request', errors);
    }
    const details: ApiErrorDetail[] = [];

    const seen = new Map<string, number>();
    dto.mutations.forEach((m, i) => {
      const data = m.data as Record<string, unknown> | undefined;
      if (data && data.tenantId !== undefined && data.tenantId !== principal.tenantId) {
        throw new SyncIngestError(ApiErrorCode.TENANT_MISMATCH, `mutations[${i}].data names a tenant other than the token`);
      }
      for (const d of validateMutationData(m)) details.push({ path: `mutations[${i}]${d.path ? `.${d.path}` : ''}`.replace('.[', '['), message: d.message });
      const first = seen.get(m.clientMutationId);
      if (first !== undefined) details.push({ path: `mutations[${i}].clientMutationId`, message: `duplicates mutations[${first}].clientMutationId` });
      seen.set(m.clientMutationId, i);
    });
    if (details.length > 0) throw new SyncIngestError(ApiErrorCode.VALIDATION_FAILED, 'invalid push request', details);

    const commands = dto.mutations.map((m): MutationCommand => {
      const data = { ...(m.data ?? {}) };
      delete data.tenantId;
      const changedFields = m.op === 'delete' ? [] : (m.changedFields ?? Object.keys(data)).filter((f) => f !== 'tenantId');
      return {
        clientMutationId: m.clientMutationId.toLowerCase(),
        entity: m.entity,
        op: m.op,
        id: m.id.toLowerCase(),
        baseVersion: m.baseVersion,
        data,
        changedFields,
        occurredAt: m.occurredAt,
        // Hash of the normalised mutation: a retry, or the queue API replaying a stored one, hashes equal.
        payloadHash: mutationPayloadHash({ entity: m.entity, op: m.op, id: m.id.toLowerCase(), baseVersion: m.baseVersion, data, changedFields, occurredAt: m.occurredAt }),
      };
    });
    return { deviceId: dto.deviceId, commands };
  }

  /**
   * Keys seen before are locked up front; new keys are written once, with their outcome, at the
   * end (one row write per mutation, not a claim and then an update). Two requests racing on a
   * new key both reach the module, whose inbox applies it once; the one that records second
   * rolls back and runs again, and then replays what the first recorded.
   */
  private async process(ctx: PushContext, request: { deviceId?: string; commands: MutationCommand[] }): Promise<PushResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactions.run(ctx.principal.tenantId, (tx) => this.processIn(tx, ctx, request));
      } catch (e) {
        if (!isKeyRace(e)) throw e;
        if (attempt >= MAX_RACE_ATTEMPTS) {
          throw new SyncIngestError(ApiErrorCode.UNAVAILABLE, 'these clientMutationIds are being pushed concurrently by another request; retry', undefined, 1);
        }
      }
    }
  }

  private async processIn(tx: Tx, ctx: PushContext, request: { deviceId?: string; commands: MutationCommand[] }): Promise<PushResponse> {
    const { principal } = ctx;
    const tenantId = principal.tenantId;
    const deviceId = request.deviceId ?? ctx.deviceIdHeader;
    const cmds = request.commands;
    const existing = await this.queue.lock(tx, tenantId, cmds.map((c) => c.clientMutationId));

    const results: MutationResult[] = new Array(cmds.length);
    const toProcess: number[] = [];
    const denied = new Set<number>();
    const reused = new Set<number>();
    cmds.forEach((c, i) => {
      const prior: StoredMutation | undefined = existing.get(c.clientMutationId);
      if (!prior) return toProcess.push(i);
      if (prior.payloadHash !== c.payloadHash) {
        results[i] = rejected(c, MutationRejectCode.IDEMPOTENCY_KEY_REUSED, 'clientMutationId was already used with a different payload');
        reused.add(i);
      } else if (FINAL.has(prior.status) && prior.result) {
        results[i] = { ...(JSON.parse(prior.result) as MutationResult), replayed: true };
      } else {
        toProcess.push(i);
      }
    });

    // Role check per entity and operation; facility, licence and record checks happen in the module.
    const ability = defineAbilityFor(principal);
    const tracker = new DependencyTracker();
    const byModule = new Map<ModuleName, number[]>();
    for (const i of toProcess) {
      const c = cmds[i];
      const def = getEntity(c.entity);
      if (!def.clientWritable) {
        results[i] = rejected(c, MutationRejectCode.READ_ONLY, `${def.name} is derived by the server and cannot be written by clients`);
        tracker.markFailed(c.id);
        continue;
      }
      if (!ability.can(c.op, def.name)) {
        results[i] = rejected(c, MutationRejectCode.FORBIDDEN, `role(s) ${principal.roles.join(', ') || '(none)'} may not ${c.op} ${def.name}`);
        tracker.markFailed(c.id);
        denied.add(i);
        continue;
      }
      const list = byModule.get(def.module);
      if (list) list.push(i);
      else byModule.set(def.module, [i]);
    }

    for (const module of moduleOrder()) {
      const indices = (byModule.get(module) ?? []).filter((i) => {
        const blocker = tracker.blockedBy(cmds[i]);
        if (!blocker) return true;
        results[i] = rejected(cmds[i], MutationRejectCode.DEPENDENCY_FAILED, `depends on ${blocker}, whose mutation in this batch failed`);
        tracker.markFailed(cmds[i].id);
        return false;
      });
      if (indices.length === 0) continue;
      const command: ApplyBatchCommand = { tenantId, correlationId: ctx.correlationId, token: ctx.token, deviceId, commands: indices.map((i) => cmds[i]) };
      try {
        const reply = await this.modules.applyBatch(module, command);
        indices.forEach((i, k) => {
          results[i] = reply.results[k];
          if (results[i].status === 'conflict' || results[i].status === 'rejected') tracker.markFailed(cmds[i].id);
        });
      } catch (e) {
        if (!(e instanceof ModuleUnavailableError)) throw e;
        for (const i of indices) {
          results[i] = rejected(cmds[i], MutationRejectCode.UNAVAILABLE, `${module} is unavailable; retry later`);
          tracker.markFailed(cmds[i].id);
        }
      }
    }

    const retried: MutationOutcome[] = [];
    const fresh: (ReceivedMutation & MutationOutcome)[] = [];
    for (const i of toProcess) {
      const c = cmds[i];
      const r = results[i];
      const status: QueueStatus = r.status === 'rejected' && r.retryable ? 'failed' : r.status;
      const outcome: MutationOutcome = { clientMutationId: c.clientMutationId, status, result: JSON.stringify(r) };
      if (existing.has(c.clientMutationId)) retried.push(outcome);
      // The module's inbox holds this key for another payload: that payload owns the key, not this one.
      else if (!(r.status === 'rejected' && r.code === MutationRejectCode.IDEMPOTENCY_KEY_REUSED)) fresh.push({ ...receivedMutation(c), ...outcome });
    }
    await this.queue.complete(tx, tenantId, retried, new Set(existing.keys()));
    await this.queue.record(tx, tenantId, { deviceId, actorId: principal.sub, correlationId: ctx.correlationId }, fresh);
    await this.recordConflictsAndAudit(tx, ctx, deviceId, cmds, results, toProcess, { denied, reused });
    return { results, serverTime: this.clock().toISOString() };
  }

  /**
   * Every conflict result is stored for resolution; conflicts, role denials and reused keys are
   * audited. All of it commits with the queue rows, or not at all.
   */
  private async recordConflictsAndAudit(
    tx: Tx,
    ctx: PushContext,
    deviceId: string | undefined,
    cmds: MutationCommand[],
    results: MutationResult[],
    processed: number[],
    flags: { denied: Set<number>; reused: Set<number> },
  ): Promise<void> {
    const { principal } = ctx;
    const actor = { sub: principal.sub, roles: principal.roles, deviceId };
    const base = { tenantId: principal.tenantId, correlationId: ctx.correlationId, actor };
    const conflicts: NewConflict[] = [];
    const events: OutboxMessage[] = [];
    const processedSet = new Set(processed);
    results.forEach((r, i) => {
      const c = cmds[i];
      const patientOf = (rec: Record<string, unknown>) => (c.entity === 'patients' ? c.id : typeof rec.patientId === 'string' ? rec.patientId : undefined);
      if (r.status === 'conflict' && processedSet.has(i) && !r.replayed) {
        const facilityId = typeof r.serverRecord.facilityId === 'string' ? r.serverRecord.facilityId : null;
        conflicts.push({
          id: r.conflictId,
          clientMutationId: c.clientMutationId,
          entity: c.entity,
          recordId: c.id,
          facilityId,
          patientId: patientOf(r.serverRecord) ?? null,
          baseVersion: c.baseVersion ?? null,
          serverVersion: r.serverVersion,
          clientPayload: { op: c.op, data: c.data, occurredAt: c.occurredAt },
          changedFields: c.changedFields,
          conflictingFields: r.conflictingFields,
          serverRecord: r.serverRecord,
          deviceId: deviceId ?? null,
          actorId: principal.sub,
          correlationId: ctx.correlationId,
        });
        events.push(
          this.audit.event(
            { ...base, kind: 'conflict-detected', clientMutationId: c.clientMutationId, facilityId: facilityId ?? undefined, action: 'U', outcome: '4', outcomeDesc: 'stale edit held for resolution',
              record: { entity: c.entity, id: c.id, patientId: patientOf(r.serverRecord), beforeVersion: c.baseVersion, afterVersion: r.serverVersion, before: c.data, after: r.serverRecord, conflictingFields: r.conflictingFields } },
            c.id,
          ),
        );
      } else if (flags.reused.has(i) && r.status === 'rejected') {
        events.push(this.audit.event({ ...base, kind: 'idempotency-key-reused', clientMutationId: c.clientMutationId, action: 'E', outcome: '4', outcomeDesc: r.message, record: { entity: c.entity, id: c.id, after: c.data } }, c.id));
      } else if (flags.denied.has(i) && r.status === 'rejected') {
        events.push(this.audit.event({ ...base, kind: 'write-denied', clientMutationId: c.clientMutationId, action: c.op === 'create' ? 'C' : c.op === 'update' ? 'U' : 'D', outcome: '4', outcomeDesc: r.message, record: { entity: c.entity, id: c.id, after: c.data } }, c.id));
      }
    });
    await this.conflicts.insert(tx, principal.tenantId, conflicts);
    await this.outbox.append(tx, events);
  }
}

const MAX_RACE_ATTEMPTS = 3;

function rejected(c: MutationCommand, code: MutationRejectCode, message: string): MutationResult {
  return { clientMutationId: c.clientMutationId, status: 'rejected', id: c.id, code, message, retryable: RETRYABLE_REJECT_CODES.has(code) };
}
