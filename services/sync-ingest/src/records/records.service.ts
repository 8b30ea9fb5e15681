import { SyncRecord } from '@clinisync/contracts';
import { isISO8601 } from 'class-validator';
import { Principal } from '@clinisync/auth';
import { InvalidCursorError, findEntity } from '@clinisync/sync-core';
import { RecordsError, RecordsErrorCode } from './records.errors';
import { PageCursorCodec } from '../cursors/page-cursor.codec';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';

export interface RecordsContext {
  principal: Principal;
  token: string;
  correlationId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Online-mode reads (PROTOCOL.md): the owning module answers under the same authorization as pull. */
export class RecordsService {
  constructor(
    private readonly modules: ModuleGateway,
    private readonly cursors: PageCursorCodec,
  ) {}

  async get(ctx: RecordsContext, entity: string, id: string): Promise<SyncRecord> {
    const def = findEntity(entity);
    if (!def || !UUID.test(id)) throw new RecordsError(RecordsErrorCode.NOT_FOUND, 'no such record');
    const reply = await this.ask(def.module, { tenantId: ctx.principal.tenantId, correlationId: ctx.correlationId, token: ctx.token, entity, id: id.toLowerCase() });
    if (reply.items.length === 0) throw new RecordsError(RecordsErrorCode.NOT_FOUND, 'no such record');
    return reply.items[0];
  }

  async list(ctx: RecordsContext, entity: string, q: { patientId?: string; facilityId?: string; updatedSince?: string; cursor?: string; limit?: string }): Promise<{ items: SyncRecord[]; cursor: string | null }> {
    const def = findEntity(entity);
    if (!def) throw new RecordsError(RecordsErrorCode.NOT_FOUND, 'no such entity');
    const details = [];
    if (q.patientId && !UUID.test(q.patientId)) details.push({ path: 'patientId', message: 'patientId must be a UUID' });
    // Date.parse takes `-1` or `0` (years), which the module's timestamptz comparison refuses: a calendar date first.
    if (q.updatedSince && !(/^\d{4}-\d{2}-\d{2}/.test(q.updatedSince) && isISO8601(q.updatedSince, { strict: true }))) details.push({ path: 'updatedSince', message: 'updatedSince must be an ISO 8601 date-time' });
    const limit = q.limit ? Number(q.limit) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) details.push({ path: 'limit', message: 'limit must be an integer from 1 to 1000' });
    // Signed for this tenant and this entity's list: another tenant's, list's or a forged position is refused.
    const list = `records:${def.name}`;
    let after: { updatedAt: string; id: string } | undefined;
    if (q.cursor) {
      try {
        const [updatedAt, id] = this.cursors.decode(q.cursor, ctx.principal.tenantId, list);
        if (Number.isNaN(Date.parse(updatedAt)) || !UUID.test(id)) throw new InvalidCursorError('malformed cursor position');
        after = { updatedAt, id };
      } catch (e) {
        if (!(e instanceof InvalidCursorError)) throw e;
        throw new RecordsError(RecordsErrorCode.INVALID_CURSOR, e.message, [{ path: 'cursor', message: e.message }]);
      }
    }
    if (details.length) throw new RecordsError(RecordsErrorCode.VALIDATION_FAILED, 'invalid query', details);
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
    return { items: reply.items, cursor: reply.hasMore && last ? this.cursors.encode(ctx.principal.tenantId, list, [last.updatedAt, last.id]) : null };
  }

  private async ask(module: Parameters<ModuleGateway['read']>[0], request: Parameters<ModuleGateway['read']>[1]) {
    try {
      return await this.modules.read(module, request);
    } catch (e) {
      if (e instanceof ModuleUnavailableError) throw new RecordsError(RecordsErrorCode.UNAVAILABLE, `${module} is unavailable; retry later`, undefined, 5);
      throw e;
    }
  }
}
