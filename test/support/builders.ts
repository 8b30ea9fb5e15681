import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { Mutation } from '@clinisync/contracts';

export const newId = (): string => uuidv7();

export function aPatientCreate(overrides: Partial<Mutation> & { data?: Record<string, unknown> } = {}): Mutation {
  return {
    clientMutationId: randomUUID(),
    entity: 'patients',
    op: 'create',
    id: newId(),
    ...overrides,
    data: { givenName: 'Amina', familyName: 'Otieno', facilityId: 'f-1', ...(overrides.data ?? {}) },
  };
}

export function aPatientUpdate(id: string, baseVersion: number, data: Record<string, unknown>, overrides: Partial<Mutation> = {}): Mutation {
  return { clientMutationId: randomUUID(), entity: 'patients', op: 'update', id, baseVersion, data, ...overrides };
}

export function aVisitCreate(patientId: string, overrides: Partial<Mutation> & { data?: Record<string, unknown> } = {}): Mutation {
  return {
    clientMutationId: randomUUID(),
    entity: 'visits',
    op: 'create',
    id: newId(),
    ...overrides,
    data: { patientId, facilityId: 'f-1', startedAt: '2026-11-21T09:00:00Z', reason: 'fever', ...(overrides.data ?? {}) },
  };
}

export function aDelete(entity: string, id: string, baseVersion: number): Mutation {
  return { clientMutationId: randomUUID(), entity, op: 'delete', id, baseVersion };
}

/** POSTs a push as a client would. */
export async function push(baseUrl: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/api/v1/sync/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as { results?: Record<string, unknown>[]; checkpoint?: string; error?: { code: string; details?: { path: string }[] } }, headers: res.headers };
}

export interface PullBody {
  changes: Record<string, { created: { id: string; version: number; [k: string]: unknown }[]; updated: { id: string; version: number; [k: string]: unknown }[]; deleted: string[] }>;
  cursor: string;
  hasMore: boolean;
  error?: { code: string };
}

/** GETs one pull page as a client would. */
export async function pull(baseUrl: string, token: string, query: Record<string, string | undefined> = {}) {
  const qs = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const res = await fetch(`${baseUrl}/api/v1/sync/pull${qs ? `?${qs}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as PullBody };
}

/** Pulls pages until hasMore is false; returns every page and the final cursor. */
export async function pullAll(baseUrl: string, token: string, query: Record<string, string | undefined> = {}) {
  const pages: PullBody[] = [];
  let cursor = query.cursor;
  for (let i = 0; i < 1000; i++) {
    const r = await pull(baseUrl, token, { ...query, cursor });
    if (r.status !== 200) throw new Error(`pull failed: ${r.status} ${JSON.stringify(r.json)}`);
    pages.push(r.json);
    cursor = r.json.cursor;
    if (!r.json.hasMore) break;
  }
  return { pages, cursor: cursor as string };
}

/**
 * Keeps pulling from the last cursor until `done(pages so far)` holds. The pull high-water mark
 * is the cluster's oldest running transaction, so a write can surface a little later when
 * another transaction (in any database of the test server) is still open: late, never skipped.
 */
export async function pullUntil(
  baseUrl: string,
  token: string,
  query: Record<string, string | undefined>,
  done: (pages: PullBody[]) => boolean,
  timeoutMs = 30_000,
) {
  const pages: PullBody[] = [];
  let cursor = query.cursor;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await pullAll(baseUrl, token, { ...query, cursor });
    pages.push(...r.pages);
    cursor = r.cursor;
    if (done(pages)) return { pages, cursor };
    if (Date.now() > end) throw new Error('pullUntil: condition not met before the timeout');
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * The environment of a service in production with real values for everything the start-up
 * checks read (none of them a dev default), as a deployment's secrets would provide them.
 */
export function aProductionEnv(natsUser: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://owner:owner-pw-from-the-secret-store@db.internal:5432/clinisync',
    DATABASE_APP_PASSWORD: 'app-pw-from-the-secret-store',
    DATABASE_RELAY_PASSWORD: 'relay-pw-from-the-secret-store',
    AUTH_JWKS_URL: 'https://idp.example.org/realms/clinisync/protocol/openid-connect/certs',
    AUTH_ISSUER: 'https://idp.example.org/realms/clinisync',
    NATS_USER: natsUser,
    NATS_PASSWORD: 'nats-pw-from-the-secret-store',
    ...overrides,
  };
}
