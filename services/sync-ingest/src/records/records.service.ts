import { ApiErrorCode, SyncRecord } from '@clinisync/contracts';
import { Principal } from '@clinisync/auth';
import { findEntity } from '@clinisync/sync-core';
import { SyncIngestError } from '../push/push.errors';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';

export interface RecordsContext {
  principal: Principal;
  token: string;
  correlationId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Online-mode reads (PROTOCOL.md): the owning module answers under the same authorization as pull. */
export class RecordsService {
  constructor(private readonly modules: ModuleGateway) {}

  async get(ctx: RecordsContext, entity: string, id: string): Promise<SyncRecord> {
    const def = findEntity(entity);
    if (!def || !UUID.test(id)) throw new SyncIngestError(ApiErrorCode.NOT_FOUND, 'no such record');
    const reply = await this.ask(def.module, { tenantId: ctx.principal.tenantId, correlationId: ctx.correlationId, token: ctx.token, entity, id: id.toLowerCase() });
    if (reply.items.length === 0) throw new SyncIngestError(ApiErrorCode.NOT_FOUND, 'no such record');
    return reply.items[0];
  }

  async list(ctx: RecordsContext, entity: string, q: { patientId?: string; facilityId?: string; updatedSince?: string; cursor?: string; limit?: string }): Promise<{ items: SyncRecord[]; cursor: string | null }> {
    const def = findEntity(entity);
    if (!def) throw new SyncIngestError(ApiErrorCode.NOT_FOUND, 'no such entity');
    const details = [];
    if (q.patientId && !UUID.test(q.patientId)) details.push({ path: 'patientId', message: 'patientId must be a UUID' });
    if (q.updatedSince && Number.isNaN(Date.parse(q.updatedSince))) details.push({ path: 'updatedSince', message: 'updatedSince must be an ISO 8601 date-time' });
    const limit = q.limit ? Number(q.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) details.push({ path: 'limit', message: 'limit must be an integer from 1 to 1000' });
    let after: { updatedAt: string; id: string } | undefined;
    if (q.cursor) {
      try {
        const [updatedAt, id] = JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')) as [string, string];
        if (Number.isNaN(Date.parse(updatedAt)) || !UUID.test(id)) throw new Error('bad');
        after = { updatedAt, id };
      } catch {
        throw new SyncIngestError(ApiErrorCode.INVALID_CURSOR, 'malformed cursor', [{ path: 'cursor', message: 'malformed cursor' }]);
      }
    }
    if (details.length) throw new SyncIngestError(ApiErrorCode.VALIDATION_FAILED, 'invalid query', details);
    const reply = await this.ask(def.module, {
      tenantId: ctx.principal.tenantId,
      correlationId: ctx.correlationId,
      token: ctx.token,
      entity,
      filters: { patientId: q.patientId, facilityId: q.facilityId, updatedSince: q.updatedSince },
      after,
      limit,
    });
    const last = reply.items[reply.items.length - 1];
    return { items: reply.items, cursor: reply.hasMore && last ? Buffer.from(JSON.stringify([last.updatedAt, last.id])).toString('base64url') : null };
  }

  private async ask(module: Parameters<ModuleGateway['read']>[0], request: Parameters<ModuleGateway['read']>[1]) {
    try {
      return await this.modules.read(module, request);
    } catch (e) {
      if (e instanceof ModuleUnavailableError) throw new SyncIngestError(ApiErrorCode.UNAVAILABLE, `${module} is unavailable; retry later`, undefined, 5);
      throw e;
    }
  }
}
