import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AuditEventResource, StoredAuditEvent, toErrorDetails } from '@clinisync/contracts';
import { Principal, Resource, defineAbilityFor } from '@clinisync/auth';
import { TenantTransactions } from '@clinisync/persistence';
import { buildAuditEvent } from '@clinisync/sync-core';
import {
  ChainVerification,
  ChainWalker,
  GENESIS,
  GENESIS_HASH,
  indexColumnsOf,
  nextLink,
} from './audit-chain';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor';
import { AuditMetrics } from './audit-metrics';
import { AuditErrorCode, AuditTrailError } from './audit-trail.errors';
import { AuditEventFilter, AuditTrailRepository } from './audit-trail.repository';
import {
  AuditEventsQueryDto,
  AuditExportQueryDto,
  AuditVerifyQueryDto,
  ExportFormat,
  TenantScopedQueryDto,
} from './dto/audit-query.dto';
import { FhirBundleWriter } from './fhir-export';

/** Who is asking, as the HTTP edge saw it. */
export interface AuditCaller {
  principal: Principal;
  correlationId: string;
  deviceId?: string;
  address?: string;
}

/** Clock and ids, injected so tests can pin them. */
export interface AuditPorts {
  now(): Date;
  newEventId(): string;
}

export interface AuditEventPage {
  items: StoredAuditEvent[];
  /** Continue after the last item (also when `hasMore` is false: new events arrive later). */
  cursor: string;
  hasMore: boolean;
}

export interface AuditExport {
  contentType: string;
  filename: string;
  chunks: AsyncIterable<string>;
}

export type AppendResult = { stored: true; sequence: number; hash: string } | { stored: false };

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const PAGE = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T extends object>(dto: new () => T, query: unknown): T {
  const raw = typeof query === 'object' && query !== null ? query : {};
  const instance = plainToInstance(dto, raw);
  const details = toErrorDetails(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true }));
  if (details.length > 0)
    throw new AuditTrailError(AuditErrorCode.VALIDATION_FAILED, 'invalid query', details);
  return instance;
}

function filterOf(q: AuditEventsQueryDto | AuditExportQueryDto): AuditEventFilter {
  return {
    kind: q.type,
    entityType: q.entity,
    recordId: q.recordId,
    patientId: q.patientId,
    actor: q.actor,
    outcome: q.outcome,
    from: q.from,
    to: q.to,
  };
}

/**
 * The audit trail (PROTOCOL.md "Audit trail"): appends events to each tenant's hash chain,
 * exactly once per event id, and serves them to the tenant's auditors: query, verify, export.
 * Every refused request is itself appended as an `access-denied` event.
 */
export class AuditTrailService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly repository: AuditTrailRepository,
    private readonly metrics: AuditMetrics,
    private readonly ports: AuditPorts,
  ) {}

  /**
   * Appends one event to its tenant's chain under the chain head's row lock; an id already in
   * the chain is not stored again (JetStream delivers at least once).
   */
  async append(event: AuditEventResource): Promise<AppendResult> {
    const tenantId = event.tenantId;
    const result = await this.transactions.run(tenantId, async (tx): Promise<AppendResult> => {
      const head = await this.repository.lockHead(tx, tenantId);
      const columns = indexColumnsOf(event);
      if (await this.repository.exists(tx, tenantId, columns.id)) return { stored: false };
      const link = nextLink(head, event);
      await this.repository.append(tx, tenantId, { ...link, columns, recorded: event.recorded });
      return { stored: true, sequence: link.sequence, hash: link.hash };
    });
    if (result.stored) this.metrics.appended.inc({ kind: event.kind });
    else this.metrics.duplicates.inc();
    return result;
  }

  async listEvents(caller: AuditCaller, query: unknown): Promise<AuditEventPage> {
    await this.authorize(caller, 'list audit events', query);
    const q = parse(AuditEventsQueryDto, query);
    const after = q.cursor === undefined ? 0 : decodeAuditCursor(q.cursor);
    if (after === undefined)
      throw new AuditTrailError(AuditErrorCode.INVALID_CURSOR, 'cursor was not issued by this service');
    const limit = Math.min(q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit), MAX_LIMIT);
    const tenantId = caller.principal.tenantId;
    const rows = await this.transactions.run(tenantId, (tx) =>
      this.repository.list(tx, tenantId, filterOf(q), after, limit + 1),
    );
    const items = rows.slice(0, limit);
    return {
      items,
      cursor: encodeAuditCursor(items.at(-1)?.sequence ?? after),
      hasMore: rows.length > limit,
    };
  }

  async getEvent(caller: AuditCaller, id: string, query: unknown): Promise<StoredAuditEvent> {
    await this.authorize(caller, 'read an audit event', query, UUID.test(id) ? id : undefined);
    parse(TenantScopedQueryDto, query);
    const tenantId = caller.principal.tenantId;
    const event = UUID.test(id)
      ? await this.transactions.run(tenantId, (tx) => this.repository.find(tx, tenantId, id))
      : undefined;
    if (!event) throw new AuditTrailError(AuditErrorCode.NOT_FOUND, 'no such audit event');
    return event;
  }

  /**
   * Verifies the caller's chain, or the segment of it recorded in [from, to), in one snapshot.
   * Without `to` the walk runs to the recorded chain head, so events deleted at the end count.
   */
  async verify(caller: AuditCaller, query: unknown): Promise<ChainVerification> {
    await this.authorize(caller, 'verify the audit trail', query);
    const q = parse(AuditVerifyQueryDto, query);
    const tenantId = caller.principal.tenantId;
    return this.transactions.run(
      tenantId,
      async (tx) => {
        const head = (await this.repository.head(tx, tenantId)) ?? GENESIS;
        const all = await this.repository.sequenceSpan(tx, tenantId, undefined, undefined);
        const span = q.from || q.to ? await this.repository.sequenceSpan(tx, tenantId, q.from, q.to) : all;
        const first = q.from ? span?.first : 1;
        const last = q.to ? span?.last : Math.max(head.sequence, all?.last ?? 0);
        if (first === undefined || last === undefined || first > last)
          return { valid: true, checked: 0, head: q.to ? GENESIS_HASH : head.hash };

        let start = GENESIS;
        if (first > 1) {
          const anchor = await this.repository.linkAt(tx, tenantId, first - 1);
          if (!anchor) {
            const id = (await this.repository.linkAt(tx, tenantId, first))?.columns.id;
            return {
              valid: false,
              checked: 0,
              brokenAt: {
                sequence: first,
                ...(id ? { id } : {}),
                reason: 'sequence gap',
                detail: `event ${first - 1}, before the range, is missing`,
              },
            };
          }
          start = { sequence: anchor.sequence, hash: anchor.hash };
        }
        const walker = new ChainWalker(tenantId, { start, head: q.to ? undefined : head });
        for (let after = first - 1; after < last;) {
          const links = await this.repository.links(tx, tenantId, after, last, PAGE);
          if (links.length === 0) break;
          if (!links.every((l) => walker.add(l))) break;
          after = links[links.length - 1].sequence;
        }
        return walker.finish();
      },
      'REPEATABLE READ',
    );
  }

  /** The caller's events (optionally filtered) as NDJSON, one stored event per line, or as a FHIR R4 Bundle. */
  async export(caller: AuditCaller, query: unknown): Promise<AuditExport> {
    await this.authorize(caller, 'export the audit trail', query);
    const q = parse(AuditExportQueryDto, query);
    const tenantId = caller.principal.tenantId;
    const head = await this.transactions.run(tenantId, (tx) => this.repository.head(tx, tenantId));
    const format: ExportFormat = q.format ?? 'ndjson';
    const now = this.ports.now().toISOString();
    const stamp = now.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return {
      contentType: format === 'fhir' ? 'application/fhir+json' : 'application/x-ndjson',
      filename: `audit-${tenantId}-${stamp}.${format === 'fhir' ? 'json' : 'ndjson'}`,
      chunks: this.exportChunks(tenantId, filterOf(q), format, head?.sequence ?? 0, now),
    };
  }

  /** Pages through the chain up to the head seen at the start, one short transaction per page. */
  private async *exportChunks(
    tenantId: string,
    filter: AuditEventFilter,
    format: ExportFormat,
    upTo: number,
    now: string,
  ): AsyncGenerator<string> {
    const bundle = new FhirBundleWriter(now);
    if (format === 'fhir') yield bundle.open();
    for (let after = 0; ;) {
      const page = await this.transactions.run(tenantId, (tx) =>
        this.repository.list(tx, tenantId, filter, after, PAGE, upTo),
      );
      if (page.length > 0)
        yield format === 'fhir' ? bundle.entries(page) : page.map((e) => `${JSON.stringify(e)}\n`).join('');
      if (page.length < PAGE) break;
      after = page[page.length - 1].sequence;
    }
    if (format === 'fhir') yield bundle.close();
  }

  /** Auditors of the token's tenant only; a refusal is appended to that tenant's chain first. */
  private async authorize(
    caller: AuditCaller,
    operation: string,
    query: unknown,
    eventId?: string,
  ): Promise<void> {
    const { principal } = caller;
    if (!defineAbilityFor(principal).can('read', Resource.AuditTrail)) {
      await this.recordDenial(
        caller,
        `${operation}: role(s) ${principal.roles.join(', ') || '(none)'} may not read the audit trail`,
        eventId,
      );
      this.metrics.accessDenied.inc({ code: AuditErrorCode.FORBIDDEN });
      throw new AuditTrailError(AuditErrorCode.FORBIDDEN, 'only auditors may read the audit trail');
    }
    const named =
      typeof query === 'object' && query !== null ? (query as Record<string, unknown>).tenantId : undefined;
    if (named !== undefined && named !== principal.tenantId) {
      await this.recordDenial(caller, `${operation}: the query names another tenant`, eventId);
      this.metrics.accessDenied.inc({ code: AuditErrorCode.TENANT_MISMATCH });
      throw new AuditTrailError(
        AuditErrorCode.TENANT_MISMATCH,
        'the query names a tenant other than the token',
      );
    }
  }

  private async recordDenial(caller: AuditCaller, reason: string, eventId?: string): Promise<void> {
    const { principal } = caller;
    await this.append(
      buildAuditEvent({
        id: this.ports.newEventId(),
        kind: 'access-denied',
        recorded: this.ports.now().toISOString(),
        tenantId: principal.tenantId,
        correlationId: caller.correlationId,
        actor: {
          sub: principal.sub,
          roles: principal.roles,
          deviceId: caller.deviceId,
          address: caller.address,
        },
        service: 'audit',
        action: 'R',
        outcome: '4',
        outcomeDesc: reason,
        record: eventId
          ? { entity: 'AuditEvent', id: eventId.toLowerCase() }
          : { entity: 'AuditTrail', id: principal.tenantId },
      }),
    );
  }
}
