import { ConflictResolutionKind, MutationCommand, MutationResult, SyncRecord } from '@clinisync/contracts';
import { Principal, Resource, defineAbilityFor, entitySubject } from '@clinisync/auth';
import { OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { InvalidCursorError, findEntity, mutationPayloadHash, resolutionData, resolutionKey, resolutionOutcome, validateMutationData } from '@clinisync/sync-core';
import { ConflictsError, ConflictsErrorCode } from './conflicts.errors';
import { PageCursorCodec } from '../cursors/page-cursor.codec';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';
import { IngestAudit } from '../audit/ingest-audit';
import { ConflictRow, ConflictStatus, ConflictsRepository } from './conflicts.repository';

export interface ConflictContext {
  principal: Principal;
  token: string;
  correlationId: string;
  deviceId?: string;
}

export interface ConflictView {
  id: string;
  status: ConflictStatus;
  entity: string;
  recordId: string;
  clientMutationId: string;
  facilityId: string | null;
  patientId: string | null;
  baseVersion: number | null;
  serverVersion: number;
  changedFields: string[];
  conflictingFields: string[];
  clientPayload: ConflictRow['clientPayload'];
  serverRecord: Record<string, unknown>;
  deviceId: string | null;
  actorId: string;
  detectedAt: string;
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolvedVersion: number | null;
}

export interface ResolveResponse {
  conflictId: string;
  status: ConflictStatus;
  resolution: ConflictResolutionKind;
  id: string;
  version?: number;
  record?: SyncRecord;
}

const RESOLUTIONS: ConflictResolutionKind[] = ['client_wins', 'server_wins', 'merge', 'manual_review'];

function view(r: ConflictRow): ConflictView {
  return {
    id: r.id,
    status: r.status,
    entity: r.entity,
    recordId: r.recordId,
    clientMutationId: r.clientMutationId,
    facilityId: r.facilityId,
    patientId: r.patientId,
    baseVersion: r.baseVersion,
    serverVersion: r.serverVersion,
    changedFields: r.changedFields,
    conflictingFields: r.conflictingFields,
    clientPayload: r.clientPayload,
    serverRecord: r.serverRecord,
    deviceId: r.deviceId,
    actorId: r.actorId,
    detectedAt: r.detectedAt,
    resolution: r.resolution,
    resolvedBy: r.resolvedBy,
    resolvedAt: r.resolvedAt,
    resolvedVersion: r.resolvedVersion,
  };
}

/** The keyset list the conflicts cursor is signed for. */
const CONFLICTS_LIST = 'conflicts';

/**
 * Conflicts made explicit and resolved by an accountable person (PROTOCOL.md "Conflicts").
 * A resolution is applied by the owning module at the version the resolver saw, with its
 * audit event in the module's transaction; resolving twice or against a newer record is 409.
 */
export class ConflictsService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly conflicts: ConflictsRepository,
    private readonly modules: ModuleGateway,
    private readonly outbox: OutboxRepository,
    private readonly audit: IngestAudit,
    private readonly cursors: PageCursorCodec,
    private readonly onCommitted: () => void = () => undefined,
  ) {}

  private scope(principal: Principal) {
    const ability = defineAbilityFor(principal);
    const entities = ['patients', 'visits', 'vitals', 'problems', 'clinical_notes', 'appointments', 'drug_catalogue', 'prescriptions', 'prescription_items', 'dispensing_records', 'stock_movements'].filter(
      (e) => ability.can('resolve', e),
    );
    const everywhere = principal.facilities.includes('*') || ability.can('read', Resource.Conflict);
    return { ability, entities, facilities: everywhere ? null : principal.facilities };
  }

  async list(principal: Principal, q: { status?: string; entity?: string; recordId?: string; cursor?: string; limit?: string }): Promise<{ items: ConflictView[]; cursor: string | null }> {
    const status = (q.status ?? 'open') as ConflictStatus;
    if (!['open', 'manual_review', 'resolved'].includes(status)) {
      throw new ConflictsError(ConflictsErrorCode.VALIDATION_FAILED, 'invalid status', [{ path: 'status', message: 'status must be open, manual_review or resolved' }]);
    }
    const limit = q.limit ? Number(q.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ConflictsError(ConflictsErrorCode.VALIDATION_FAILED, 'invalid limit', [{ path: 'limit', message: 'limit must be an integer from 1 to 1000' }]);
    }
    // record_id is a uuid column: anything else is bad input, not a failed cast (500).
    if (q.recordId && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(q.recordId)) {
      throw new ConflictsError(ConflictsErrorCode.VALIDATION_FAILED, 'invalid recordId', [{ path: 'recordId', message: 'recordId must be a UUID' }]);
    }
    let after: { detectedAt: string; id: string } | undefined;
    if (q.cursor) {
      try {
        const [detectedAt, id] = this.cursors.decode(q.cursor, principal.tenantId, CONFLICTS_LIST);
        if (Number.isNaN(Date.parse(detectedAt))) throw new InvalidCursorError('malformed cursor position');
        after = { detectedAt, id };
      } catch (e) {
        if (!(e instanceof InvalidCursorError)) throw e;
        throw new ConflictsError(ConflictsErrorCode.INVALID_CURSOR, e.message, [{ path: 'cursor', message: e.message }]);
      }
    }
    const { entities, facilities } = this.scope(principal);
    const rows = await this.transactions.run(principal.tenantId, (tx) =>
      this.conflicts.list(tx, principal.tenantId, { status, entity: q.entity, recordId: q.recordId, facilities, entities, after, limit }),
    );
    const last = rows[rows.length - 1];
    return { items: rows.map(view), cursor: rows.length === limit && last ? this.cursors.encode(principal.tenantId, CONFLICTS_LIST, [last.detectedAtKey, last.id]) : null };
  }

  async resolve(ctx: ConflictContext, conflictId: string, body: unknown): Promise<ResolveResponse> {
    const { principal } = ctx;
    const b = (typeof body === 'object' && body !== null ? body : {}) as { resolution?: unknown; data?: unknown; reason?: unknown };
    const resolution = b.resolution as ConflictResolutionKind;
    const details = [];
    if (!RESOLUTIONS.includes(resolution)) details.push({ path: 'resolution', message: `resolution must be one of ${RESOLUTIONS.join(', ')}` });
    if (resolution === 'merge' && (typeof b.data !== 'object' || b.data === null || Array.isArray(b.data))) details.push({ path: 'data', message: 'data is required for merge' });
    if (resolution !== 'merge' && b.data !== undefined) details.push({ path: 'data', message: 'data is only accepted with merge' });
    if (b.reason !== undefined && typeof b.reason !== 'string') details.push({ path: 'reason', message: 'reason must be a string' });
    if (!/^[0-9a-f-]{36}$/i.test(conflictId)) throw new ConflictsError(ConflictsErrorCode.NOT_FOUND, 'no such conflict');
    if (details.length) throw new ConflictsError(ConflictsErrorCode.VALIDATION_FAILED, 'invalid resolution', details);
    const reason = b.reason as string | undefined;

    const conflict = await this.transactions.run(principal.tenantId, (tx) => this.conflicts.lock(tx, principal.tenantId, conflictId));
    if (!conflict) throw new ConflictsError(ConflictsErrorCode.NOT_FOUND, 'no such conflict');
    const { ability } = this.scope(principal);
    if (!ability.can('resolve', entitySubject(conflict.entity, { facilityId: conflict.facilityId ?? undefined }))) {
      await this.auditDenied(ctx, conflict, resolution);
      throw new ConflictsError(ConflictsErrorCode.FORBIDDEN, `not allowed to resolve conflicts on ${conflict.entity} here`);
    }
    if (conflict.status === 'resolved') throw new ConflictsError(ConflictsErrorCode.CONFLICT, 'conflict already resolved');
    if (resolution === 'manual_review') return this.park(ctx, conflict, reason);

    const data = resolutionData(resolution, { clientData: conflict.clientPayload.data, changedFields: conflict.changedFields }, b.data as Record<string, unknown> | undefined);
    if (resolution === 'merge') {
      const issues = validateMutationData({ clientMutationId: conflictId, entity: conflict.entity, op: 'update', id: conflict.recordId, baseVersion: conflict.serverVersion, data });
      if (issues.length) throw new ConflictsError(ConflictsErrorCode.VALIDATION_FAILED, 'invalid merge data', issues.map((i) => ({ path: i.path, message: i.message })));
    }
    const def = findEntity(conflict.entity);
    if (!def) throw new ConflictsError(ConflictsErrorCode.NOT_FOUND, 'no such conflict');
    const command: MutationCommand = {
      clientMutationId: resolutionKey(conflict.id, conflict.serverVersion, resolution, data),
      entity: conflict.entity,
      op: 'update',
      id: conflict.recordId,
      baseVersion: conflict.serverVersion,
      data,
      changedFields: Object.keys(data),
      payloadHash: '',
      resolution: { conflictId: conflict.id, resolution, reason, conflictingFields: conflict.conflictingFields },
    };
    command.payloadHash = mutationPayloadHash({ ...command, data: { ...data, __resolution: command.resolution } });

    let result: MutationResult;
    try {
      const reply = await this.modules.applyBatch(def.module, { tenantId: principal.tenantId, correlationId: ctx.correlationId, token: ctx.token, deviceId: ctx.deviceId, commands: [command] });
      result = reply.results[0];
    } catch (e) {
      if (e instanceof ModuleUnavailableError) throw new ConflictsError(ConflictsErrorCode.UNAVAILABLE, `${def.module} is unavailable; nothing was resolved, retry later`, undefined, 5);
      throw e;
    }
    const outcome = resolutionOutcome(result);
    switch (outcome.kind) {
      case 'resolved': {
        await this.transactions.run(principal.tenantId, async (tx) => {
          const row = await this.conflicts.lock(tx, principal.tenantId, conflict.id);
          if (row?.status === 'resolved') return;
          await this.conflicts.markResolved(tx, principal.tenantId, conflict.id, { status: 'resolved', resolution, reason, by: principal.sub, version: outcome.version });
        });
        return { conflictId: conflict.id, status: 'resolved', resolution, id: conflict.recordId, version: outcome.version, ...(result.status === 'merged' ? { record: result.record } : {}) };
      }
      case 'stale': {
        // The record moved on since detection: keep the conflict open against the new server record.
        await this.transactions.run(principal.tenantId, (tx) => this.conflicts.refreshServerRecord(tx, principal.tenantId, conflict.id, outcome.serverVersion, outcome.serverRecord));
        throw new ConflictsError(ConflictsErrorCode.CONFLICT, 'the record changed since the conflict was detected', undefined, undefined, {
          serverVersion: outcome.serverVersion,
          serverRecord: outcome.serverRecord,
        });
      }
      case 'forbidden':
        throw new ConflictsError(ConflictsErrorCode.FORBIDDEN, outcome.message);
      case 'unavailable':
        throw new ConflictsError(ConflictsErrorCode.UNAVAILABLE, outcome.message, undefined, 5);
      case 'refused':
        throw new ConflictsError(ConflictsErrorCode.CONFLICT, outcome.message);
    }
  }

  private async park(ctx: ConflictContext, conflict: ConflictRow, reason?: string): Promise<ResolveResponse> {
    const { principal } = ctx;
    await this.transactions.run(principal.tenantId, async (tx) => {
      await this.conflicts.markResolved(tx, principal.tenantId, conflict.id, { status: 'manual_review', resolution: 'manual_review', reason, by: principal.sub });
      await this.outbox.append(tx, [
        this.audit.event(
          {
            tenantId: principal.tenantId,
            correlationId: ctx.correlationId,
            actor: { sub: principal.sub, roles: principal.roles, deviceId: ctx.deviceId },
            kind: 'conflict-resolved',
            clientMutationId: conflict.clientMutationId,
            facilityId: conflict.facilityId ?? undefined,
            action: 'E',
            outcome: '0',
            outcomeDesc: 'parked for manual review',
            record: { entity: conflict.entity, id: conflict.recordId, patientId: conflict.patientId ?? undefined, beforeVersion: conflict.serverVersion, conflictingFields: conflict.conflictingFields, resolution: 'manual_review', reason },
          },
          conflict.recordId,
        ),
      ]);
    });
    this.onCommitted();
    return { conflictId: conflict.id, status: 'manual_review', resolution: 'manual_review', id: conflict.recordId };
  }

  private async auditDenied(ctx: ConflictContext, conflict: ConflictRow, resolution: string): Promise<void> {
    const { principal } = ctx;
    await this.transactions.run(principal.tenantId, (tx) =>
      this.outbox.append(tx, [
        this.audit.event(
          {
            tenantId: principal.tenantId,
            correlationId: ctx.correlationId,
            actor: { sub: principal.sub, roles: principal.roles, deviceId: ctx.deviceId },
            kind: 'write-denied',
            facilityId: conflict.facilityId ?? undefined,
            action: 'U',
            outcome: '4',
            outcomeDesc: `not allowed to resolve (${resolution})`,
            record: { entity: conflict.entity, id: conflict.recordId, patientId: conflict.patientId ?? undefined, conflictingFields: conflict.conflictingFields, resolution },
          },
          conflict.recordId,
        ),
      ]),
    );
    this.onCommitted();
  }
}
