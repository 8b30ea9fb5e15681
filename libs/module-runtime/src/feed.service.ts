import { FEED_REPLY_MAX_BYTES, FeedEntityPage, FeedReply, FeedRequest, JsonArrayText, ModuleName, ReadReply, ReadRequest, emptyJsonArray } from '@clinisync/contracts';
import { AuthError, JwtVerifier, defineAbilityFor } from '@clinisync/auth';
import { TenantTransactions } from '@clinisync/persistence';
import { FeedPosition, findEntity, isFeedState, nextFeedState, toSyncRecord } from '@clinisync/sync-core';
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
    private readonly maxReplyBytes: number = FEED_REPLY_MAX_BYTES,
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
      !request.entities.every((e) => typeof e?.entity === 'string' && isFeedState(e.state))
    ) {
      throw new ModuleCommandError(ModuleCommandErrorCode.BAD_COMMAND, 'malformed feed request');
    }
    const principal = await this.principalOf(request);
    const ability = defineAbilityFor(principal);
    const facilities = principal.facilities.includes(ALL_FACILITIES) ? null : principal.facilities;
    const limit = Math.max(1, Math.min(request.limit, 5000));

    // The entities this module serves and the caller may read, in request order.
    const queries: FeedEntityQuery[] = [];
    for (const { entity, state } of request.entities) {
      const def = findEntity(entity);
      if (def && def.module === this.module && ability.can('read', def.name)) queries.push({ def, state, facilities: def.referenceData ? null : facilities });
    }
    const all = this.records.feedRows(await this.transactions.readOnce(request.tenantId, this.records.feedSql(request.tenantId, queries, limit), 'REPEATABLE READ'));
    const current = all.find((r) => r.entity === -1)?.json;
    if (!current) throw new Error('feed statement returned no snapshot');
    const rows = all.filter((r) => r.entity >= 0);
    // A page also ends where its records would outgrow one reply message (NATS refuses a
    // message over its max_payload); at least one row goes, so the feed always moves.
    let end = Math.min(rows.length, limit);
    for (let i = 0, bytes = 0; i < end; i++) {
      bytes += (rows[i].json === null ? rows[i].id.length : Buffer.byteLength(rows[i].json as string)) + 3;
      if (bytes > this.maxReplyBytes && i > 0) end = i;
    }
    // The first row not taken says which entity has more; those after it were not reached.
    const extra = end < rows.length ? rows[end].entity : queries.length;
    const taken = rows.slice(0, end);
    const pages: FeedEntityPage[] = queries.map(({ def, state }, k) => {
      const created: string[] = [];
      const updated: string[] = [];
      const deleted: string[] = [];
      let last: FeedPosition | undefined;
      for (const row of taken) {
        if (row.entity !== k) continue;
        if (row.json === null) deleted.push(JSON.stringify(row.id));
        else if (row.createdAfter) created.push(row.json);
        else updated.push(row.json);
        last = { xid: row.xid, seq: row.seq };
      }
      const next = nextFeedState(state, current, k < extra ? { kind: 'drained' } : { kind: 'more', last });
      return { entity: def.name, created: jsonArray(created), updated: jsonArray(updated), deleted: jsonArray(deleted), next: next.state, hasMore: next.hasMore };
    });
    return { pages };
  }
}
