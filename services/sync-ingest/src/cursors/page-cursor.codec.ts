import { decodePageCursor, encodePageCursor } from '@clinisync/sync-core';

/**
 * Keyset cursors of the online-mode lists (records of an entity, conflicts), signed with the
 * cursor secret and bound to tenant and list (see `encodePageCursor`). `decode` throws sync-core's
 * `InvalidCursorError` for anything tampered, foreign or malformed; each context answers it as
 * its own `INVALID_CURSOR`.
 */
export class PageCursorCodec {
  constructor(private readonly secret: string) {}

  encode(tenantId: string, list: string, after: readonly [string, string]): string {
    return encodePageCursor({ tenantId, list, after }, this.secret);
  }

  decode(token: string, tenantId: string, list: string): readonly [string, string] {
    return decodePageCursor(token, this.secret, tenantId, list).after;
  }
}
