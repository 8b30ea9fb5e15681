import { createHash } from 'node:crypto';

/** Deterministic JSON: object keys sorted recursively, no whitespace; `undefined` dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Hash of what a mutation asks for, independent of its key and of JSON key order: two sends
 * of the same mutation hash equal; a reused key with another payload does not.
 */
export function mutationPayloadHash(m: {
  entity: string;
  op: string;
  id: string;
  baseVersion?: number;
  data?: unknown;
  changedFields?: string[];
  occurredAt?: string;
}): string {
  return sha256Hex(
    canonicalJson({
      entity: m.entity,
      op: m.op,
      id: m.id,
      baseVersion: m.baseVersion,
      data: m.data,
      changedFields: m.changedFields,
      occurredAt: m.occurredAt,
    }),
  );
}
