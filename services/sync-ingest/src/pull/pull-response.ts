import { JsonArrayText, emptyJsonArray } from '@clinisync/contracts';

/** One pull page before it is written: each entity's changes as the modules serialised them. */
export interface PullPage {
  changes: Map<string, { created: JsonArrayText; updated: JsonArrayText; deleted: JsonArrayText }>;
  cursor: string;
  hasMore: boolean;
  serverTime: string;
}

/** An entity with nothing to send. */
export function noChanges(): { created: JsonArrayText; updated: JsonArrayText; deleted: JsonArrayText } {
  return { created: emptyJsonArray(), updated: emptyJsonArray(), deleted: emptyJsonArray() };
}

/**
 * The `PullResponse` JSON of PROTOCOL.md, written around the modules' record bytes: the records
 * are never parsed here, only placed (a page of 1,000 records would otherwise be parsed and
 * re-serialised once more on its way through).
 */
export function encodePullResponse(page: PullPage): Buffer {
  const parts: Uint8Array[] = [];
  const text = (s: string) => parts.push(Buffer.from(s));
  text('{"changes":{');
  let first = true;
  for (const [entity, c] of page.changes) {
    text(`${first ? '' : ','}${JSON.stringify(entity)}:{"created":`);
    parts.push(c.created.json);
    text(',"updated":');
    parts.push(c.updated.json);
    text(',"deleted":');
    parts.push(c.deleted.json);
    text('}');
    first = false;
  }
  text(`},"cursor":${JSON.stringify(page.cursor)},"hasMore":${page.hasMore},"serverTime":${JSON.stringify(page.serverTime)}}`);
  return Buffer.concat(parts);
}
