import { FeedEntityPage, FeedReply, FeedRequest, JsonArrayText, ModuleName, ReadReply, ReadRequest, emptyJsonArray } from '@clinisync/contracts';
import { AuthError, JwtVerifier, defineAbilityFor } from '@clinisync/auth';
import { TenantTransactions } from '@clinisync/persistence';
import { findEntity, toSyncRecord } from '@clinisync/sync-core';
import { entitySubject } from '@clinisync/auth';
import { ALL_FACILITIES } from '@clinisync/contracts';
import { FeedEntityQuery, RecordRepository } from './record.repository';
import { ModuleCommandError, ModuleCommandErrorCode } from './module-commands.errors';

/** Elements already JSON; sync-ingest splices the bytes into the pull response as they are. */
function jsonArray(elements: string[]): JsonArrayText {
  return elements.length === 0 ? emptyJsonArray() : { count: elements.length, json: Buffer.from(`[${elements.join(',')}]`) };
}

/**
 * A module's change feed for pull: entities filled in order until the page limit, only what
 * the caller may read (role per entity, facility per record), under RLS for the tenant.
 */
export class FeedService {
  constructor(
    private readonly module: ModuleName,
    private readonly verifier: JwtVerifier,
    private readonly transactions: TenantTransactions,
    private readonly records: RecordRepository,
  ) {}

  private async principalOf(request: { token: string; tenantId: string }) {
    let principal;
    try {
      principal = await this.verifier.verify(request.token);
    } catch (e) {
      if (e instanceof AuthError) throw new ModuleCommandError(ModuleCommandErrorCode.UNAUTHENTICATED, 'token rejected');
      throw e;
    }
    if (principal.tenantId !== request.tenantId) throw new ModuleCommandError(ModuleCommandErrorCode.TENANT_MISMATCH, 'request tenant differs from token tenant');
    return principal;
  }

  /**
   * Online-mode reads: what the caller could pull, nothing more. A missing, deleted, foreign or
   * out-of-facility record is simply absent (the caller answers 404 for all alike).
   */
  async read(request: ReadRequest): Promise<ReadReply> {
    if (!request || typeof request.entity !== 'string' || typeof request.token !== 'string') {
      throw new ModuleCommandError(ModuleCommandErrorCode.BAD_COMMAND, 'malformed read request');
    }
    const principal = await this.principalOf(request);
    const def = findEntity(request.entity);
    const ability = defineAbilityFor(principal);
    if (!def || def.module !== this.module || !ability.can('read', def.name)) return { items: [], hasMore: false };
    const facilities = principal.facilities.includes(ALL_FACILITIES) || def.referenceData ? null : principal.facilities;
    return this.transactions.run(request.tenantId, async (tx) => {
      if (request.id) {
        const rec = await this.records.findOne(tx, def, request.tenantId, request.id);
        const visible = rec && rec.deletedAt === null && ability.can('read', entitySubject(def.name, rec.fields));
        return { items: visible ? [toSyncRecord(def, rec)] : [], hasMore: false };
      }
      const limit = Math.max(1, Math.min(request.limit ?? 100, 1000));
      const rows = await this.records.list(tx, def, request.tenantId, { facilities, ...request.filters, after: request.after, limit: limit + 1 });
      return { items: rows.slice(0, limit).map((r) => toSyncRecord(def, r)), hasMore: rows.length > limit };
    });
  }

  async feed(request: FeedRequest): Promise<FeedReply> {
    if (
      !request ||
      !Array.isArray(request.entities) ||
      typeof request.token !== 'string' ||
      !Number.isSafeInteger(request.limit) ||
      (request.highWater !== undefined && !/^\d{1,20}$/.test(String(request.highWater))) ||
      !request.entities.every((e) => typeof e?.entity === 'string' && /^\d{1,20}$/.test(String(e.after?.xid)) && /^\d{1,20}$/.test(String(e.after?.seq)))
    ) {
      throw new ModuleCommandError(ModuleCommandErrorCode.BAD_COMMAND, 'malformed feed request');
    }
    const principal = await this.principalOf(request);
    const ability = defineAbilityFor(principal);
    const facilities = principal.facilities.includes(ALL_FACILITIES) ? null : principal.facilities;
    const limit = Math.max(1, Math.min(request.limit, 5000));

    // The entities this module serves and the caller may read, in request order.
    const queries: FeedEntityQuery[] = [];
    for (const { entity, after } of request.entities) {
      const def = findEntity(entity);
      if (def && def.module === this.module && ability.can('read', def.name)) queries.push({ def, after, facilities: def.referenceData ? null : facilities });
    }
    const sql = this.records.feedSql(request.tenantId, queries, limit, request.highWater);
    const rows = this.records.feedRows(await this.transactions.readOnce(request.tenantId, sql, 'REPEATABLE READ'));
    // The row past the limit says which entity has more; those after it were not reached.
    const extra = rows.length > limit ? rows[limit].entity : queries.length;
    const taken = rows.slice(0, limit);
    const pages: FeedEntityPage[] = queries.map(({ def, after }, k) => {
      const created: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      let next = after;
      for (const row of taken) {
        if (row.entity !== k) continue;
        if (row.json === null) deleted.push(JSON.stringify(row.id));
        else if (row.createdAfter || after.xid === '0') created.push(row.json);
        else updated.push(row.json);
        next = { xid: row.xid, seq: row.seq };
      }
      return { entity: def.name, created: jsonArray(created), updated: jsonArray(updated), deleted: jsonArray(deleted), next, hasMore: k >= extra };
    });
    return { pages };
  }
}
