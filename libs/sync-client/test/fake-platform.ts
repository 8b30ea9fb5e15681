/**
 * A fake of the platform's HTTP API for unit tests of the client's engine logic ONLY (the e2e
 * suites run the real platform). It follows PROTOCOL.md: push with idempotency (same key and
 * payload replays with `replayed: true`, another payload is IDEMPOTENCY_KEY_REUSED), per-entity
 * conflict policy decided by sync-core's real `decideMutation`, parents before children and
 * DEPENDENCY_FAILED, pull pages in WatermelonDB's shape with an opaque cursor, online reads, and
 * conflict resolution. Failures are injected per request.
 */
import {
  Mutation,
  MutationRejectCode,
  MutationResult,
  PushResponse,
  RETRYABLE_REJECT_CODES,
  SyncRecord,
} from '@clinisync/contracts';
import {
  DependencyTracker,
  StoredRecord,
  changedFieldsOf,
  conflictIdFor,
  decideMutation,
  getEntity,
  mutationPayloadHash,
  normaliseData,
  orderBatch,
  toSyncRecord,
  validateMutationData,
} from '@clinisync/sync-core';
import { PullPage } from '../src';

export type Injection =
  /** Answer with this status, error body and optional Retry-After header (nothing is processed). */
  | {
      kind: 'status';
      status: number;
      code?: string;
      retryAfter?: string;
      details?: { path: string; message: string }[];
      extra?: Record<string, unknown>;
    }
  /** The connection fails before the request reaches the server. */
  | { kind: 'network-error' }
  /** The server processes the request, then the response is lost on the way back. */
  | { kind: 'drop-response' };

interface ConflictEntry {
  entity: string;
  id: string;
  mutation: Mutation;
  resolved: boolean;
}

const TENANT = 't1';

export class FakePlatform {
  readonly records = new Map<string, Map<string, StoredRecord>>();
  /** Applied writes in commit order (the pull feed). */
  readonly log: { entity: string; id: string; createdHere: boolean }[] = [];
  readonly idempotency = new Map<string, { hash: string; result: MutationResult }>();
  readonly conflicts = new Map<string, ConflictEntry>();
  readonly pushRequests: {
    headers: Record<string, string>;
    body: { deviceId?: string; mutations: Mutation[] };
  }[] = [];
  readonly pullRequests: { cursor: string | null; limit: number; checkpoint?: string }[] = [];
  readonly resolveRequests: { conflictId: string; body: Record<string, unknown> }[] = [];
  /** Injected failures, consumed one per matching request. */
  readonly injections: { path: RegExp; injection: Injection }[] = [];
  /** Forced per-mutation rejections, e.g. `(m) => m.entity === 'appointments' ? 'FORBIDDEN' : undefined`. */
  rejectWhen?: (m: Mutation) => MutationRejectCode | undefined;
  /** Scripted pull pages (instead of the feed), consumed in order. */
  scriptedPages?: PullPage[];
  /** Called when a push request arrives, before it is processed. */
  onPush?: (mutations: Mutation[]) => void;
  private tick = 0;

  now(): string {
    this.tick += 1;
    return new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + this.tick * 1000).toISOString();
  }

  inject(path: RegExp, injection: Injection, times = 1): void {
    for (let i = 0; i < times; i++) this.injections.push({ path, injection });
  }

  record(entity: string, id: string): StoredRecord | undefined {
    return this.records.get(entity)?.get(id);
  }

  wire(entity: string, id: string): SyncRecord | undefined {
    const r = this.record(entity, id);
    return r ? toSyncRecord(getEntity(entity), r) : undefined;
  }

  count(entity: string): number {
    return this.records.get(entity)?.size ?? 0;
  }

  /** A write made by another device, straight on the server. */
  serverWrite(
    entity: string,
    op: 'create' | 'update' | 'delete',
    id: string,
    data: Record<string, unknown> = {},
  ): SyncRecord {
    const current = this.record(entity, id);
    const m: Mutation = {
      clientMutationId: `other-${this.tick}-${id}`,
      entity,
      op,
      id,
      baseVersion: current?.version,
      data,
    };
    const def = getEntity(entity);
    const d = decideMutation(
      def,
      {
        op,
        id,
        baseVersion: current?.version,
        data: normaliseData(def, data),
        changedFields: changedFieldsOf(m, def),
      },
      current,
      this.now(),
    );
    if (d.kind !== 'write') throw new Error(`serverWrite ${op} ${entity} ${id}: ${d.kind}`);
    this.store(entity, d.record, current === undefined);
    return toSyncRecord(def, d.record);
  }

  private store(entity: string, record: StoredRecord, created: boolean): void {
    let t = this.records.get(entity);
    if (!t) {
      t = new Map();
      this.records.set(entity, t);
    }
    t.set(record.id, record);
    this.log.push({ entity, id: record.id, createdHere: created });
  }

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input);
    const method = init.method ?? 'GET';
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const bodyText = () => requestBodyText(init);
    const idx = this.injections.findIndex((i) => i.path.test(url.pathname));
    const injection = idx >= 0 ? this.injections.splice(idx, 1)[0].injection : undefined;
    if (injection?.kind === 'network-error') throw new TypeError('fetch failed');
    if (injection?.kind === 'status') {
      const h: Record<string, string> = { 'content-type': 'application/json' };
      if (injection.retryAfter !== undefined) h['retry-after'] = injection.retryAfter;
      const code =
        injection.code ??
        (injection.status === 429 ? 'RATE_LIMITED' : injection.status === 503 ? 'UNAVAILABLE' : 'INTERNAL');
      const error = {
        code,
        message: 'injected',
        ...(injection.details ? { details: injection.details } : {}),
        ...(injection.extra ?? {}),
      };
      return new Response(JSON.stringify({ error }), { status: injection.status, headers: h });
    }
    if (!headers.authorization?.startsWith('Bearer '))
      return json(401, { error: { code: 'UNAUTHENTICATED', message: 'authentication required' } });
    let res: Response;
    if (method === 'POST' && url.pathname === '/api/v1/sync/push') {
      const body = JSON.parse(await bodyText()) as { deviceId?: string; mutations: Mutation[] };
      this.pushRequests.push({ headers, body });
      this.onPush?.(body.mutations);
      res = this.push(body.mutations);
    } else if (method === 'GET' && url.pathname === '/api/v1/sync/pull') {
      const cursor = url.searchParams.get('cursor');
      const limit = Number(url.searchParams.get('limit') ?? 1000);
      const checkpoint = url.searchParams.get('checkpoint');
      // The fake answers from its whole log at once, so a checkpoint asks for nothing more.
      this.pullRequests.push({ cursor, limit, ...(checkpoint !== null ? { checkpoint } : {}) });
      res = json(200, this.pull(cursor, limit));
    } else if (method === 'GET' && url.pathname.startsWith('/api/v1/records/')) {
      const [, , , , entity, id] = url.pathname.split('/');
      const r = this.wire(entity, id);
      res =
        r && r.deletedAt === null
          ? json(200, r)
          : json(404, { error: { code: 'NOT_FOUND', message: 'not found' } });
    } else if (method === 'POST' && /^\/api\/v1\/sync\/conflicts\/[^/]+\/resolve$/.test(url.pathname)) {
      const conflictId = url.pathname.split('/')[5];
      const body = JSON.parse(await bodyText()) as Record<string, unknown>;
      this.resolveRequests.push({ conflictId, body });
      res = this.resolve(conflictId, body);
    } else {
      res = json(404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    if (injection?.kind === 'drop-response') throw new TypeError('fetch failed: socket hang up');
    return res;
  };

  private push(mutations: Mutation[]): Response {
    if (!Array.isArray(mutations) || mutations.length < 1 || mutations.length > 500) {
      return json(400, {
        error: { code: 'VALIDATION_FAILED', message: 'mutations must hold 1 to 500 mutations' },
      });
    }
    const details = mutations.flatMap((m, i) =>
      validateMutationData(m).map((d) => ({ path: `mutations[${i}].${d.path}`, message: d.message })),
    );
    if (details.length > 0)
      return json(400, { error: { code: 'VALIDATION_FAILED', message: 'invalid push request', details } });
    const results: MutationResult[] = new Array(mutations.length);
    const tracker = new DependencyTracker();
    for (const i of orderBatch(mutations)) {
      results[i] = this.applyOne(mutations[i], tracker);
    }
    const response: PushResponse = { results, serverTime: this.now(), checkpoint: `cp${this.log.length}` };
    return json(200, response);
  }

  private applyOne(m: Mutation, tracker: DependencyTracker): MutationResult {
    const key = m.clientMutationId.toLowerCase();
    const hash = mutationPayloadHash(m);
    const prior = this.idempotency.get(key);
    if (prior) {
      if (prior.hash !== hash)
        return rejected(
          m,
          MutationRejectCode.IDEMPOTENCY_KEY_REUSED,
          'clientMutationId was already used with a different payload',
        );
      return { ...prior.result, replayed: true };
    }
    const finish = (r: MutationResult) => {
      if (r.status === 'conflict' || r.status === 'rejected') tracker.markFailed(m.id);
      if (!(r.status === 'rejected' && r.retryable)) this.idempotency.set(key, { hash, result: r });
      return r;
    };
    const blocker = tracker.blockedBy(m);
    if (blocker) return finish(rejected(m, MutationRejectCode.DEPENDENCY_FAILED, `depends on ${blocker}`));
    const forced = this.rejectWhen?.(m);
    if (forced) return finish(rejected(m, forced, `forced ${forced}`));
    const def = getEntity(m.entity);
    const current = this.record(m.entity, m.id);
    const data = normaliseData(def, m.data ?? {});
    if (m.op !== 'delete') {
      for (const f of def.fields) {
        const parent = f.references ? this.records.get(f.references) : undefined;
        const v = data[f.name];
        if (
          f.references &&
          typeof v === 'string' &&
          getEntity(f.references).module === def.module &&
          !(parent?.has(v) ?? false)
        ) {
          return finish(rejected(m, MutationRejectCode.PARENT_NOT_FOUND, `${f.name} ${v} does not exist`));
        }
      }
    }
    const d = decideMutation(
      def,
      {
        op: m.op,
        id: m.id,
        baseVersion: m.baseVersion,
        data,
        changedFields: changedFieldsOf({ ...m, data }, def),
      },
      current,
      this.now(),
    );
    switch (d.kind) {
      case 'write':
        this.store(m.entity, d.record, current === undefined);
        return finish(
          d.status === 'merged'
            ? {
                clientMutationId: key,
                status: 'merged',
                id: m.id,
                version: d.record.version,
                record: toSyncRecord(def, d.record),
              }
            : { clientMutationId: key, status: 'applied', id: m.id, version: d.record.version },
        );
      case 'noop':
        return finish({ clientMutationId: key, status: 'applied', id: m.id, version: d.record.version });
      case 'conflict': {
        const conflictId = conflictIdFor(TENANT, key);
        this.conflicts.set(conflictId, { entity: m.entity, id: m.id, mutation: m, resolved: false });
        return finish({
          clientMutationId: key,
          status: 'conflict',
          id: m.id,
          conflictId,
          serverVersion: d.serverRecord.version,
          conflictingFields: d.conflictingFields,
          serverRecord: toSyncRecord(def, d.serverRecord),
        });
      }
      case 'reject':
        return finish(rejected(m, d.code, d.message));
    }
  }

  private pull(cursor: string | null, limit: number): PullPage {
    if (this.scriptedPages) {
      const page = this.scriptedPages.shift();
      if (!page) throw new Error('no scripted pull page left');
      return page;
    }
    const from = cursor === null ? 0 : Number(cursor.replace('c', ''));
    const slice = this.log.slice(from, from + limit);
    const to = from + slice.length;
    const changes: PullPage['changes'] = {};
    const seen = new Set<string>();
    for (let k = slice.length - 1; k >= 0; k--) {
      const e = slice[k];
      if (seen.has(`${e.entity}/${e.id}`)) continue;
      seen.add(`${e.entity}/${e.id}`);
      const rec = this.record(e.entity, e.id) as StoredRecord;
      const c = (changes[e.entity] ??= { created: [], updated: [], deleted: [] }) as Required<
        PullPage['changes'][string]
      >;
      const createdInWindow = this.log
        .slice(from, to)
        .some((x) => x.entity === e.entity && x.id === e.id && x.createdHere);
      if (rec.deletedAt) c.deleted.push(e.id);
      else (createdInWindow ? c.created : c.updated).push(toSyncRecord(getEntity(e.entity), rec));
    }
    return { changes, cursor: `c${to}`, hasMore: to < this.log.length, serverTime: this.now() };
  }

  private resolve(conflictId: string, body: Record<string, unknown>): Response {
    const c = this.conflicts.get(conflictId);
    if (!c) return json(404, { error: { code: 'NOT_FOUND', message: 'no such conflict' } });
    if (c.resolved) return json(409, { error: { code: 'CONFLICT', message: 'already resolved' } });
    const def = getEntity(c.entity);
    const current = this.record(c.entity, c.id) as StoredRecord;
    const resolution = body.resolution as string;
    let record = current;
    if (resolution === 'client_wins' || resolution === 'merge') {
      const data = resolution === 'merge' ? (body.data as Record<string, unknown>) : (c.mutation.data ?? {});
      const fields = { ...current.fields };
      const fieldVersions = { ...current.fieldVersions };
      for (const [k, v] of Object.entries(data)) {
        fields[k] = v;
        fieldVersions[k] = current.version + 1;
      }
      record = { ...current, version: current.version + 1, updatedAt: this.now(), fields, fieldVersions };
      this.store(c.entity, record, false);
    }
    if (resolution !== 'manual_review') c.resolved = true;
    return json(200, {
      conflictId,
      status: resolution === 'manual_review' ? 'manual_review' : 'resolved',
      version: record.version,
      record: toSyncRecord(def, record),
    });
  }
}

function rejected(m: Mutation, code: MutationRejectCode, message: string): MutationResult {
  return {
    clientMutationId: m.clientMutationId.toLowerCase(),
    status: 'rejected',
    id: m.id,
    code,
    message,
    retryable: RETRYABLE_REJECT_CODES.has(code),
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A recording sleep that resolves at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

/** A clock that advances one second per reading, from a fixed instant. */
export function steppingClock(start = Date.UTC(2026, 10, 21, 8, 0, 0), stepMs = 1000): () => Date {
  let t = start - stepMs;
  return () => {
    t += stepMs;
    return new Date(t);
  };
}

/** A request's body as text, read like sync-ingest reads it (a gzip body, as the SDK sends large pushes, inflated). */
export async function requestBodyText(init: RequestInit = {}): Promise<string> {
  const encoding = Object.entries((init.headers ?? {}) as Record<string, string>).find(([k]) => k.toLowerCase() === 'content-encoding')?.[1];
  const raw = new Response(init.body ?? null);
  if (encoding !== 'gzip' || !raw.body) return raw.text();
  return new Response(raw.body.pipeThrough(new DecompressionStream('gzip'))).text();
}
