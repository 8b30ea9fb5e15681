import {
  DEFAULT_PULL_LIMIT,
  FeedEntityPage,
  MAX_PULL_LIMIT,
  ModuleName,
} from '@clinisync/contracts';
import { Principal, defineAbilityFor } from '@clinisync/auth';
import {
  ENTITIES,
  FeedState,
  InvalidCursorError,
  PullCursor,
  advanceCursor,
  decodePullCursor,
  encodePullCursor,
  findEntity,
  moduleOrder,
} from '@clinisync/sync-core';
import { PullError, PullErrorCode } from './pull.errors';
import { ModuleGateway, ModuleUnavailableError } from '../modules-gateway/module-gateway';
import { PullPage, noChanges } from './pull-response';
import { PagedAhead, PullReadAhead } from './pull-read-ahead';
import { CheckpointCodec } from './checkpoint';

export interface PullQuery {
  cursor?: string;
  checkpoint?: string;
  limit?: string;
  entities?: string;
  tenantId?: string;
}

export interface PullContext {
  principal: Principal;
  token: string;
  correlationId: string;
}

/**
 * Pull (PROTOCOL.md "Pull"): decode and verify the cursor, fan out to the modules in relation
 * order filling the page, and return WatermelonDB-shaped changes with a cursor of per-entity
 * snapshot states (sync-core `FeedState`). A page with more to come starts fetching the next
 * one for the same caller (`PullReadAhead`). A pull given a push's checkpoint reads afresh: a
 * page fetched ahead may predate the push, while a fresh read opens windows at a snapshot taken
 * after the push committed (a window carried over from before ends with `hasMore`), so the
 * pulls up to `hasMore: false` hold everything the push wrote.
 */
export class PullService {
  constructor(
    private readonly modules: ModuleGateway,
    private readonly cursorSecret: string,
    private readonly clock: () => Date = () => new Date(),
    private readonly readAhead: PullReadAhead = new PullReadAhead({ ttlMs: 0, maxBytes: 0 }),
    private readonly checkpoints: CheckpointCodec = new CheckpointCodec(cursorSecret),
  ) {}

  /** One page of changes; `encodePullResponse` writes it as the PROTOCOL.md `PullResponse`. */
  async pull(ctx: PullContext, query: PullQuery): Promise<PullPage> {
    const { principal } = ctx;
    if (query.tenantId !== undefined && query.tenantId !== principal.tenantId) {
      throw new PullError(PullErrorCode.TENANT_MISMATCH, 'the query names a tenant other than the token');
    }
    const limit = this.limit(query.limit);
    const entities = this.entities(principal, query.entities);
    const cursor: PullCursor = query.cursor
      ? this.decoded('cursor', () => decodePullCursor(query.cursor as string, this.cursorSecret, principal.tenantId))
      : { tenantId: principal.tenantId, states: {} };
    const checkpoint = query.checkpoint ? this.decoded('checkpoint', () => this.checkpoints.decode(query.checkpoint as string, principal.tenantId)) : undefined;
    const key = PullReadAhead.key(ctx.token, query.cursor ?? '', limit, entities);
    const ahead = await this.readAhead.take(key);
    const fresh = checkpoint ? undefined : ahead;
    const { page, next } = fresh ?? (await this.page(ctx, cursor, limit, entities));
    if (page.hasMore && this.readAhead.enabled) {
      this.readAhead.offer(PullReadAhead.key(ctx.token, page.cursor, limit, entities), () => this.page(ctx, next, limit, entities));
    }
    // The time of the answer, also for a page fetched ahead.
    return { ...page, serverTime: this.clock().toISOString() };
  }

  private decoded<T>(path: 'cursor' | 'checkpoint', decode: () => T): T {
    try {
      return decode();
    } catch (e) {
      if (e instanceof InvalidCursorError) throw new PullError(PullErrorCode.INVALID_CURSOR, e.message, [{ path, message: e.message }]);
      throw e;
    }
  }

  /** Fills one page from the modules, each reading at its own snapshot. */
  private async page(ctx: PullContext, cursor: PullCursor, limit: number, entities: string[]): Promise<PagedAhead> {
    const changes: PullPage['changes'] = new Map(entities.map((e) => [e, noChanges()]));
    const next: Record<string, FeedState> = {};
    let remaining = limit;
    let hasMore = false;
    for (const module of moduleOrder()) {
      const mine = entities.filter((e) => findEntity(e)?.module === module);
      if (mine.length === 0) continue;
      if (remaining === 0) {
        hasMore = true;
        break;
      }
      const pages = await this.feed(module, ctx, {
        limit: remaining,
        entities: mine.map((entity) => ({ entity, state: cursor.states[entity] ?? {} })),
      });
      for (const page of pages) {
        // An entity belongs to one module, so its page is the whole of its changes.
        if (!changes.has(page.entity)) continue;
        changes.set(page.entity, { created: page.created, updated: page.updated, deleted: page.deleted });
        remaining -= page.created.count + page.updated.count + page.deleted.count;
        next[page.entity] = page.next;
        hasMore ||= page.hasMore;
      }
    }
    const advanced = advanceCursor(cursor, next);
    return { page: { changes, cursor: encodePullCursor(advanced, this.cursorSecret), hasMore, serverTime: this.clock().toISOString() }, next: advanced };
  }

  private async feed(module: ModuleName, ctx: PullContext, req: { limit: number; entities: { entity: string; state: FeedState }[] }): Promise<FeedEntityPage[]> {
    try {
      const reply = await this.modules.feed(module, { tenantId: ctx.principal.tenantId, correlationId: ctx.correlationId, token: ctx.token, ...req });
      return reply.pages;
    } catch (e) {
      if (e instanceof ModuleUnavailableError) {
        throw new PullError(PullErrorCode.UNAVAILABLE, `${module} is unavailable; retry the pull later`, undefined, 5);
      }
      throw e;
    }
  }

  private limit(raw: string | undefined): number {
    if (raw === undefined || raw === '') return DEFAULT_PULL_LIMIT;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PULL_LIMIT) {
      throw new PullError(PullErrorCode.VALIDATION_FAILED, 'invalid limit', [{ path: 'limit', message: `limit must be an integer from 1 to ${MAX_PULL_LIMIT}` }]);
    }
    return n;
  }

  /** Requested entities (default all), restricted to those the caller's roles may read, in registry order. */
  private entities(principal: Principal, raw: string | undefined): string[] {
    const requested = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : ENTITIES.map((e) => e.name);
    const unknown = requested.filter((e) => !findEntity(e));
    if (unknown.length > 0) {
      throw new PullError(PullErrorCode.VALIDATION_FAILED, 'unknown entities', unknown.map((e) => ({ path: 'entities', message: `unknown entity "${e}"` })));
    }
    const ability = defineAbilityFor(principal);
    return ENTITIES.filter((e) => requested.includes(e.name) && ability.can('read', e.name)).map((e) => e.name);
  }
}

