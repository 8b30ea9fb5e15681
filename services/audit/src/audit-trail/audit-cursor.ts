/**
 * The keyset cursor of an audit query: the last sequence returned, opaque to clients
 * (base64url JSON). It only ever moves within the caller's own tenant chain.
 */
export function encodeAuditCursor(afterSequence: number): string {
  return Buffer.from(JSON.stringify({ v: 1, after: afterSequence })).toString('base64url');
}

/** The sequence a cursor continues after, or undefined when it is not one this service issued. */
export function decodeAuditCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { v, after } = parsed as { v?: unknown; after?: unknown };
    return v === 1 && Number.isSafeInteger(after) && (after as number) >= 0 ? (after as number) : undefined;
  } catch {
    return undefined;
  }
}
