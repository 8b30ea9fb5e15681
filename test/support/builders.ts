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
  return { status: res.status, text, json: json as { results?: Record<string, unknown>[]; error?: { code: string; details?: { path: string }[] } }, headers: res.headers };
}
