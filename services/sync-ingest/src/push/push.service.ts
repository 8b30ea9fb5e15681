import { validateSync } from 'class-validator';
import {
  ApiErrorDetail,
  ApplyBatchCommand,
  ApplyBatchReply,
  ModuleName,
  MutationCommand,
  MutationRejectCode,
  MutationResult,
  toPushRequestDto,
  passesPushRequestRules,
  PushRequest,
  PushResponse,
  toErrorDetails,
} from '@clinisync/contracts';
import { Principal, defineAbilityFor } from '@clinisync/auth';
import { MutationLedgerRepository, NewLedgerEntry, OutboxMessage, OutboxRepository, TenantTransactions, Tx, isLedgerKeyRace } from '@clinisync/persistence';
import { PushMetrics } from '@clinisync/observability';
import {
  DependencyTracker,
  Rejection,
  blocksDependents,
  committedResults,
  dependencyRejection,
  getEntity,
  moduleOrder,
  mutationPayloadHash,
  readOnlyRejection,
  reject,
  rejectedResult,
  replayOutcome,
  validateMutationData,
} from '@clinisync/sync-core';
import { PushError, PushErrorCode } from './push.errors';
import { CheckpointCodec } from '../pull/checkpoint';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';
import { ConflictsRepository, NewConflict } from '../conflicts/conflicts.repository';
import { IngestAudit } from '../audit/ingest-audit';

export interface PushContext {
  principal: Principal;
  token: string;
  correlationId: string;
  deviceIdHeader?: string;
}

/**
 * The push use case (PROTOCOL.md "Push"): validate the whole request (keys normalised first),
 * replay what the mutation ledger holds, authorize by role, send one ordered batch per module,
 * record what sync-ingest decided itself, answer in request order with a read-your-writes
 * checkpoint.
 */
export class PushService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly ledger: MutationLedgerRepository,
    private readonly checkpoints: CheckpointCodec,
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
      this.metrics.pushes.inc({ outcome: e instanceof PushError ? e.code : 'error' });
      throw e;
    } finally {
      stop();
    }
  }

  /** Whole-request validation: nothing is stored unless every mutation is well-formed. */
  validate(principal: Principal, body: unknown): { deviceId?: string; commands: MutationCommand[] } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new PushError(PushErrorCode.VALIDATION_FAILED, 'body must be a JSON object', [{ path: '', message: 'expected an object with "mutations"' }]);
    }
    const raw = body as Record<string, unknown>;
    if (raw.tenantId !== undefined && raw.tenantId !== principal.tenantId) {
      throw new PushError(PushErrorCode.TENANT_MISMATCH, 'the body names a tenant other than the token');
    }
    let dto: PushRequest;
    if (passesPushRequestRules(raw)) {
      dto = raw;
    } else {
      dto = toPushRequestDto(raw);
      const errors = toErrorDetails(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }));
      if (errors.length > 0) throw new PushError(PushErrorCode.VALIDATION_FAILED, 'invalid push request', errors);
    }
    const details: ApiErrorDetail[] = [];

    const seen = new Map<string, number>();
    dto.mutations.forEach((m, i) => {
      const data = m.data as Record<string, unknown> | undefined;
      if (data && data.tenantId !== undefined && data.tenantId !== principal.tenantId) {
        throw new PushError(PushErrorCode.TENANT_MISMATCH, `mutations[${i}].data names a tenant other than the token`);
      }
      for (const d of validateMutationData(m)) details.push({ path: `mutations[${i}]${d.path ? `.${d.path}` : ''}`.replace('.[', '['), message: d.message });
      // Keys are UUIDs compared case-insensitively: one key spelled twice is one key twice.
      const key = m.clientMutationId.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) details.push({ path: `mutations[${i}].clientMutationId`, message: `duplicates mutations[${first}].clientMutationId (the same key; keys compare case-insensitively)` });
      else seen.set(key, i);
    });
    if (details.length > 0) throw new PushError(PushErrorCode.VALIDATION_FAILED, 'invalid push request', details);

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
   * Mutations decided before are answered from the mutation ledger (read, no lock); the rest go
   * to their modules, whose apply transactions write the ledger: its key is unique across
   * modules, so two requests racing on one key apply it once and the second answers what the
   * first decided. sync-ingest writes only what it decides itself (refusals at the edge),
   * conflicts and audit events: nothing at all for a batch that simply applies.
   */
  private async process(ctx: PushContext, request: { deviceId?: string; commands: MutationCommand[] }): Promise<PushResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.processOnce(ctx, request);
      } catch (e) {
        if (!isLedgerKeyRace(e)) throw e;
        if (attempt >= MAX_RACE_ATTEMPTS) {
          throw new PushError(PushErrorCode.IDEMPOTENCY_IN_FLIGHT, 'these clientMutationIds are being pushed concurrently by another request; retry', undefined, 1);
        }
      }
    }
  }

  private async processOnce(ctx: PushContext, request: { deviceId?: string; commands: MutationCommand[] }): Promise<PushResponse> {
    const { principal } = ctx;
    const tenantId = principal.tenantId;
    const deviceId = request.deviceId ?? ctx.deviceIdHeader;
    const cmds = request.commands;
    const known = await this.transactions.run(tenantId, (tx) => this.ledger.find(tx, tenantId, cmds.map((c) => c.clientMutationId)));

    const results: MutationResult[] = new Array(cmds.length);
    const toProcess: number[] = [];
    const denied = new Set<number>();
    const reused = new Set<number>();
    const edge: number[] = [];
    const tracker = new DependencyTracker();
    cmds.forEach((c, i) => {
      const prior = replayOutcome(known.get(c.clientMutationId), c.payloadHash);
      if (prior.kind === 'fresh') return toProcess.push(i);
      if (prior.kind === 'key-reused') {
        results[i] = rejectedResult(c, prior.rejection);
        reused.add(i);
      } else {
        results[i] = prior.result;
      }
      if (blocksDependents(results[i].status)) tracker.markFailed(c.id);
    });

    // Role check per entity and operation; facility, licence and record checks happen in the module.
    const ability = defineAbilityFor(principal);
    const byModule = new Map<ModuleName, number[]>();
    for (const i of toProcess) {
      const c = cmds[i];
      const def = getEntity(c.entity);
      const readOnly = readOnlyRejection(def);
      if (readOnly) {
        results[i] = rejectedResult(c, readOnly);
        tracker.markFailed(c.id);
        edge.push(i);
        continue;
      }
      if (!ability.can(c.op, def.name)) {
        results[i] = rejectedResult(c, reject(MutationRejectCode.FORBIDDEN, `role(s) ${principal.roles.join(', ') || '(none)'} may not ${c.op} ${def.name}`));
        tracker.markFailed(c.id);
        denied.add(i);
        edge.push(i);
        continue;
      }
      const list = byModule.get(def.module);
      if (list) list.push(i);
      else byModule.set(def.module, [i]);
    }

    const checkpoint: Record<string, string> = {};
    for (const module of moduleOrder()) {
      const indices = (byModule.get(module) ?? []).filter((i) => {
        const blocked = dependencyRejection(tracker, cmds[i]);
        if (!blocked) return true;
        results[i] = rejectedResult(cmds[i], blocked);
        tracker.markFailed(cmds[i].id);
        return false;
      });
      if (indices.length === 0) continue;
      const command: ApplyBatchCommand = { tenantId, correlationId: ctx.correlationId, token: ctx.token, deviceId, commands: indices.map((i) => cmds[i]) };
      let reply: ApplyBatchReply;
      try {
        reply = await this.modules.applyBatch(module, command);
        if (reply.xid) checkpoint[module] = reply.xid;
      } catch (e) {
        if (!(e instanceof ModuleUnavailableError)) throw e;
        reply = await this.afterModuleFailure(ctx, e, indices.map((i) => cmds[i]));
      }
      indices.forEach((i, k) => {
        results[i] = reply.results[k];
        if (blocksDependents(results[i].status)) tracker.markFailed(cmds[i].id);
      });
    }

    await this.recordEdgeDecisions(ctx, deviceId, cmds, results, edge, { denied, reused });
    const response: PushResponse = { results, serverTime: this.clock().toISOString() };
    if (Object.keys(checkpoint).length > 0) response.checkpoint = this.checkpoints.encode(tenantId, checkpoint);
    return response;
  }

  /**
   * A module gave no answer. If it may have applied the batch, the ledger says what it
   * committed; a key it does not hold yet may still be committing, so the whole request is
   * unavailable (503: the retry replays whatever did commit) rather than answered "not applied".
   */
  private async afterModuleFailure(ctx: PushContext, e: ModuleUnavailableError, batch: MutationCommand[]): Promise<ApplyBatchReply> {
    if (!e.outcomeUnknown) {
      const unavailable: Rejection = reject(MutationRejectCode.UNAVAILABLE, `${e.module} is unavailable; retry later`);
      return { results: batch.map((c) => rejectedResult(c, unavailable)) };
    }
    const tenantId = ctx.principal.tenantId;
    const decided = await this.transactions.run(tenantId, (tx) => this.ledger.find(tx, tenantId, batch.map((c) => c.clientMutationId)));
    const committed = committedResults(batch, decided);
    if (committed) return { results: committed };
    throw new PushError(PushErrorCode.UNAVAILABLE, `${e.module} did not answer; some of these mutations may still be applying: retry (applied ones are replayed)`, undefined, 1);
  }

  /**
   * What sync-ingest decides itself, in one transaction: refusals at the edge go into the
   * ledger (a retry replays them), conflict results are stored for resolution (once, even when a
   * replay is the first answer that reaches sync-ingest), and conflicts, role denials and reused
   * keys are audited. A batch with none of these writes nothing here.
   */
  private async recordEdgeDecisions(
    ctx: PushContext,
    deviceId: string | undefined,
    cmds: MutationCommand[],
    results: MutationResult[],
    edge: number[],
    flags: { denied: Set<number>; reused: Set<number> },
  ): Promise<void> {
    const hasConflict = results.some((r) => r.status === 'conflict');
    if (!hasConflict && edge.length === 0 && flags.reused.size === 0) return;
    const tenantId = ctx.principal.tenantId;
    await this.transactions.run(tenantId, async (tx) => {
      const entries: NewLedgerEntry[] = edge.map((i) => ({
        clientMutationId: cmds[i].clientMutationId,
        module: 'sync-ingest',
        status: results[i].status,
        payloadHash: cmds[i].payloadHash,
        result: JSON.stringify(results[i]),
        entity: cmds[i].entity,
        aggregateId: cmds[i].id,
      }));
      const { keys } = await this.ledger.insert(tx, tenantId, entries, 'skip');
      // Another request decided one of these keys meanwhile: run again and answer what it decided.
      if (keys.size !== entries.length) throw LEDGER_RACE;
      await this.recordConflictsAndAudit(tx, ctx, deviceId, cmds, results, flags);
    });
    this.onCommitted();
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
    flags: { denied: Set<number>; reused: Set<number> },
  ): Promise<void> {
    const { principal } = ctx;
    const actor = { sub: principal.sub, roles: principal.roles, deviceId };
    const base = { tenantId: principal.tenantId, correlationId: ctx.correlationId, actor };
    const conflicts: NewConflict[] = [];
    const events: OutboxMessage[] = [];
    const detected: OutboxMessage[] = [];
    results.forEach((r, i) => {
      const c = cmds[i];
      const patientOf = (rec: Record<string, unknown>) => (c.entity === 'patients' ? c.id : typeof rec.patientId === 'string' ? rec.patientId : undefined);
      if (r.status === 'conflict' && !flags.reused.has(i)) {
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
        detected.push(
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
    // A conflict stored already (its result replayed) was audited when it was stored.
    const fresh = await this.conflicts.insert(tx, principal.tenantId, conflicts);
    await this.outbox.append(tx, [...detected.filter((_, k) => fresh.has(conflicts[k].id)), ...events]);
  }
}

const MAX_RACE_ATTEMPTS = 3;

/** Thrown to re-run a request whose edge decision lost a key race (looks like one to `isLedgerKeyRace`). */
const LEDGER_RACE = Object.assign(new Error('ledger key race'), { code: '23505', constraint: 'mutations_pkey' });
