import { randomUUID } from 'node:crypto';
import { Mutation, MutationResult } from '@clinisync/contracts';
import { Principal, Resource, defineAbilityFor } from '@clinisync/auth';
import { MutationLedgerRepository, TenantTransactions } from '@clinisync/persistence';
import { PushError, PushErrorCode } from '../push/push.errors';
import { QueueError, QueueErrorCode } from './queue.errors';
import { PushContext, PushService } from '../push/push.service';
import { QueueStatus, QueuedView, StoredMutation, SyncMutationsRepository, receivedMutation } from '../push/sync-mutations.repository';
import { ConflictsRepository } from '../conflicts/conflicts.repository';
import { ConflictsService, ResolveResponse } from '../conflicts/conflicts.service';

export type QueueItemStatus = 'PENDING' | 'SYNCED' | 'CONFLICT' | 'FAILED';

export interface QueueItem {
  id: string;
  status: QueueItemStatus;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resourceType: string;
  resourceId: string;
  version: number | null;
  deviceId: string | null;
  createdAt: string;
  retryCount: number;
  result?: MutationResult;
}

export interface ProcessResponse extends QueueItem {
  conflictId?: string;
  resolutionOptions?: ('CLIENT_WINS' | 'SERVER_WINS' | 'MANUAL')[];
}

const OPS: Record<string, Mutation['op']> = { CREATE: 'create', UPDATE: 'update', DELETE: 'delete' };

function statusOf(s: QueueStatus): QueueItemStatus {
  switch (s) {
    case 'pending':
      return 'PENDING';
    case 'applied':
    case 'merged':
      return 'SYNCED';
    case 'conflict':
      return 'CONFLICT';
    case 'rejected':
    case 'failed':
      return 'FAILED';
  }
}

function item(row: StoredMutation & QueuedView): QueueItem {
  return {
    id: row.clientMutationId,
    status: statusOf(row.status),
    operation: row.op.toUpperCase() as QueueItem['operation'],
    resourceType: row.entity,
    resourceId: row.recordId,
    version: row.baseVersion,
    deviceId: row.deviceId,
    createdAt: row.receivedAt,
    retryCount: row.retryCount,
    ...(row.result ? { result: JSON.parse(row.result) as MutationResult } : {}),
  };
}

/**
 * The seed's single-operation queue API, kept for simple clients. It is a thin shape over the
 * push pipeline: queuing stores the mutation in the same sync queue, processing runs exactly
 * the push path (idempotency, authorization, conflicts, audit), resolving uses the conflicts API.
 */
export class QueueService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly queue: SyncMutationsRepository,
    private readonly ledger: MutationLedgerRepository,
    private readonly push: PushService,
    private readonly conflictsRepo: ConflictsRepository,
    private readonly conflicts: ConflictsService,
  ) {}

  private toMutation(body: unknown): { deviceId?: string; mutation: Mutation } {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const op = OPS[String(b.operation ?? '')];
    if (!op) throw new QueueError(QueueErrorCode.VALIDATION_FAILED, 'invalid operation', [{ path: 'operation', message: 'operation must be CREATE, UPDATE or DELETE' }]);
    const mutation: Mutation = {
      clientMutationId: typeof b.clientMutationId === 'string' ? b.clientMutationId : randomUUID(),
      entity: String(b.resourceType ?? ''),
      op,
      id: b.resourceId as string,
      // A CREATE's `version` (0 on new records in the seed API) has no base to check.
      ...(op !== 'create' ? { baseVersion: b.version as number } : {}),
      ...(b.data !== undefined ? { data: b.data as Record<string, unknown> } : {}),
      ...(b.createdAtClient !== undefined ? { occurredAt: b.createdAtClient as string } : {}),
    };
    return { deviceId: typeof b.deviceId === 'string' ? b.deviceId : undefined, mutation };
  }

  /** Stores one operation as pending (202); the same clientMutationId again returns the stored item. */
  async enqueue(ctx: PushContext, body: unknown): Promise<{ id: string; status: QueueItemStatus }> {
    const { deviceId, mutation } = this.toMutation(body);
    let validated;
    try {
      validated = this.push.validate(ctx.principal, { deviceId, mutations: [mutation] });
    } catch (e) {
      if (e instanceof PushError && e.code === PushErrorCode.VALIDATION_FAILED && e.details) {
        const map: Record<string, string> = { entity: 'resourceType', op: 'operation', id: 'resourceId', baseVersion: 'version', occurredAt: 'createdAtClient' };
        throw new QueueError(QueueErrorCode.VALIDATION_FAILED, e.message, e.details.map((d) => ({ path: d.path.replace(/^mutations\[0\]\.?/, '').replace(/^(\w+)/, (m) => map[m] ?? m), message: d.message })));
      }
      throw e;
    }
    const c = validated.commands[0];
    const tenantId = ctx.principal.tenantId;
    return this.transactions.run(tenantId, async (tx) => {
      await this.queue.claim(tx, tenantId, { deviceId: deviceId ?? ctx.deviceIdHeader, actorId: ctx.principal.sub, correlationId: ctx.correlationId }, [receivedMutation(c)]);
      const stored = await this.queue.find(tx, tenantId, c.clientMutationId);
      if (!stored) throw new QueueError(QueueErrorCode.UNAVAILABLE, 'queued operation not stored; retry');
      if (stored.payloadHash !== c.payloadHash) {
        throw new QueueError(QueueErrorCode.CONFLICT, 'clientMutationId was already used with a different payload', [{ path: 'clientMutationId', message: 'IDEMPOTENCY_KEY_REUSED' }]);
      }
      return { id: stored.clientMutationId, status: statusOf(stored.status) };
    });
  }

  async pending(principal: Principal, deviceId: string | undefined): Promise<{ items: QueueItem[] }> {
    if (!deviceId) throw new QueueError(QueueErrorCode.VALIDATION_FAILED, 'deviceId is required', [{ path: 'deviceId', message: 'deviceId is required' }]);
    const rows = await this.transactions.run(principal.tenantId, (tx) => this.queue.openByDevice(tx, principal.tenantId, deviceId));
    return { items: rows.filter((r) => r.actorId === principal.sub || principal.roles.includes('admin')).map(item) };
  }

  /** Runs one queued operation through the push pipeline; a processed one answers its stored result. */
  async process(ctx: PushContext, id: string): Promise<ProcessResponse> {
    const stored = await this.load(ctx.principal, id);
    const p = stored.payload;
    let result: MutationResult;
    let after = stored;
    if (p === null) {
      // Decided already (the queue keeps no payload then): its first result, as push replays it.
      result = { ...(JSON.parse(stored.result as string) as MutationResult), replayed: true };
    } else {
      const mutation: Mutation = { clientMutationId: stored.clientMutationId, entity: p.entity, op: p.op as Mutation['op'], id: p.id, data: p.data, changedFields: p.changedFields };
      if (p.baseVersion !== undefined && p.baseVersion !== null) mutation.baseVersion = p.baseVersion;
      if (p.occurredAt) mutation.occurredAt = p.occurredAt;
      const response = await this.push.push(ctx, { ...(stored.deviceId ? { deviceId: stored.deviceId } : {}), mutations: [mutation] });
      result = response.results[0];
      // The push decided it (the ledger holds the result); the queue row follows.
      const status: QueueStatus = result.status === 'rejected' && result.retryable ? 'failed' : result.status;
      const first = result.replayed ? { ...result, replayed: undefined } : result;
      await this.transactions.run(ctx.principal.tenantId, (tx) =>
        this.queue.complete(tx, ctx.principal.tenantId, [{ clientMutationId: stored.clientMutationId, status, result: JSON.stringify(first) }], new Set([stored.clientMutationId])),
      );
      after = await this.load(ctx.principal, id);
    }
    const out: ProcessResponse = { ...item(after), result };
    if (result.status === 'rejected' && result.code === 'IDEMPOTENCY_KEY_REUSED') out.status = 'FAILED';
    if (result.status === 'conflict') {
      out.conflictId = result.conflictId;
      out.resolutionOptions = ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'];
    }
    return out;
  }

  async resolve(ctx: PushContext, id: string, resolution: string | undefined): Promise<ResolveResponse> {
    const map: Record<string, 'client_wins' | 'server_wins' | 'manual_review'> = { CLIENT_WINS: 'client_wins', SERVER_WINS: 'server_wins', MANUAL: 'manual_review' };
    const kind = map[resolution ?? ''];
    if (!kind) throw new QueueError(QueueErrorCode.VALIDATION_FAILED, 'invalid resolution', [{ path: 'resolution', message: 'resolution must be CLIENT_WINS, SERVER_WINS or MANUAL' }]);
    const tenantId = ctx.principal.tenantId;
    await this.load(ctx.principal, id);
    const conflict = await this.transactions.run(tenantId, (tx) => this.conflictsRepo.findByMutation(tx, tenantId, id));
    if (!conflict) throw new QueueError(QueueErrorCode.NOT_FOUND, 'no conflict for this queued operation');
    return this.conflicts.resolve({ principal: ctx.principal, token: ctx.token, correlationId: ctx.correlationId, deviceId: ctx.deviceIdHeader }, conflict.id, { resolution: kind });
  }

  /** Re-runs every failed (retryable) operation of a device through the push pipeline. */
  async retry(ctx: PushContext, deviceId: string | undefined): Promise<{ retried: number; items: ProcessResponse[] }> {
    if (!deviceId) throw new QueueError(QueueErrorCode.VALIDATION_FAILED, 'deviceId is required', [{ path: 'deviceId', message: 'deviceId is required' }]);
    const rows = (await this.transactions.run(ctx.principal.tenantId, (tx) => this.queue.openByDevice(tx, ctx.principal.tenantId, deviceId))).filter(
      (r) => r.actorId === ctx.principal.sub || ctx.principal.roles.includes('admin'),
    );
    const items: ProcessResponse[] = [];
    for (const row of rows) items.push(await this.process(ctx, row.clientMutationId));
    return { retried: items.length, items };
  }

  async stats(principal: Principal): Promise<{ total: number; pending: number; synced: number; failed: number; conflicts: number; syncRate: number }> {
    if (!defineAbilityFor(principal).can('read', Resource.SyncStats)) throw new QueueError(QueueErrorCode.FORBIDDEN, 'sync stats are for admins');
    // Decided mutations from the ledger (push and queue alike), open ones from the queue.
    const [decided, open] = await this.transactions.run(principal.tenantId, (tx) => Promise.all([this.ledger.stats(tx, principal.tenantId), this.queue.openStats(tx, principal.tenantId)]));
    const s = { ...decided, ...open };
    const synced = s.applied + s.merged;
    const total = s.pending + synced + s.conflict + s.rejected + s.failed;
    return { total, pending: s.pending, synced, failed: s.rejected + s.failed, conflicts: s.conflict, syncRate: total === 0 ? 0 : Math.round((synced / total) * 10_000) / 10_000 };
  }

  /**
   * A queued operation is visible to the user who queued it and to admins only: its stored
   * result may hold a server record (PHI), so knowing its id is not enough.
   */
  private async load(principal: Principal, id: string): Promise<StoredMutation & QueuedView> {
    const tenantId = principal.tenantId;
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new QueueError(QueueErrorCode.NOT_FOUND, 'no such queued operation');
    const row = await this.transactions.run(tenantId, (tx) => this.queue.find(tx, tenantId, id));
    if (!row || (row.actorId !== principal.sub && !principal.roles.includes('admin'))) {
      throw new QueueError(QueueErrorCode.NOT_FOUND, 'no such queued operation');
    }
    return row;
  }
}
