import { hashing } from './hashing';

/**
 * Deterministic JSON: object keys sorted recursively (by UTF-16 code units), no whitespace;
 * `undefined` dropped. On JSON values this is RFC 8785 (JCS) byte for byte: numbers and strings
 * are written as ECMAScript's JSON.stringify writes them, which is what JCS prescribes. A property
 * test proves it equal to the `canonicalize` package (the RFC authors' implementation).
 *
 * Kept hand-written instead of calling `canonicalize` on the push path: per mutation it is about
 * 25% faster (4.3 us vs 5.3 us over 100k patient/visit mutations, median of 4 runs), and
 * `canonicalize` differs outside JSON: it throws on NaN and Infinity (this writes `null`, as
 * JSON.stringify does), returns undefined for a top-level undefined (this writes `null`) and calls
 * `toJSON`; the audit chain and decide's equality hash values read back from Postgres with this.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // One string built in place: this runs for every pushed mutation (its payload hash).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // The default sort orders by UTF-16 code units, as `<` on strings does.
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** SHA-256 of the UTF-8 bytes of `text`, lower-case hex (`hashing.ts` picks the implementation). */
export function sha256Hex(text: string): string {
  return hashing().sha256Hex(text);
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
