import fc from 'fast-check';
import { FeedReply, FeedReplyFormatError, JsonArrayText, decodeFeedReply, emptyJsonArray, encodeFeedReply } from './pull';

// ---- builders -------------------------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (a: JsonArrayText) => new TextDecoder().decode(a.json);

const jsonArray = (items: unknown[]): JsonArrayText => (items.length === 0 ? emptyJsonArray() : { count: items.length, json: utf8(JSON.stringify(items)) });

const aRecord = fc.record({
  id: fc.uuid(),
  version: fc.integer({ min: 1, max: 1_000 }),
  givenName: fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
  note: fc.string({ unit: 'binary' }),
});
const aPosition = fc.record({ xid: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String), seq: fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String) });
const aSnapshot = fc.tuple(fc.bigInt({ min: 3n, max: 2n ** 40n }), fc.nat({ max: 50 })).map(([x, n]) => `${x}:${x + BigInt(n)}:`);
const aState = fc.record({ done: aSnapshot, window: fc.record({ target: aSnapshot, after: aPosition }) }, { requiredKeys: [] });
const aPage = fc.record({
  entity: fc.string({ unit: 'grapheme', minLength: 1 }),
  created: fc.array(aRecord, { maxLength: 5 }).map(jsonArray),
  updated: fc.array(aRecord, { maxLength: 5 }).map(jsonArray),
  deleted: fc.array(fc.uuid(), { maxLength: 5 }).map(jsonArray),
  next: aState,
  hasMore: fc.boolean(),
});
const aReply: fc.Arbitrary<FeedReply> = fc.record({ pages: fc.array(aPage, { maxLength: 4 }) });

const view = (reply: FeedReply) =>
  reply.pages.map((p) => ({ ...p, created: [p.created.count, text(p.created)], updated: [p.updated.count, text(p.updated)], deleted: [p.deleted.count, text(p.deleted)] }));

// ---- tests ----------------------------------------------------------------------------------

describe('feed reply bytes (module -> sync-ingest)', () => {
  it('decode(encode(reply)) is the reply: entities, positions, counts and record text unchanged', () => {
    fc.assert(
      fc.property(aReply, (reply) => {
        expect(view(decodeFeedReply(encodeFeedReply(reply)))).toEqual(view(reply));
      }),
      { numRuns: 500 },
    );
  });

  it('hands the record arrays out as views into the received bytes, not copies', () => {
    const bytes = encodeFeedReply({ pages: [{ entity: 'patients', created: jsonArray([{ id: 'a' }]), updated: emptyJsonArray(), deleted: emptyJsonArray(), next: { done: '7:9:8' }, hasMore: false }] });
    const [page] = decodeFeedReply(bytes).pages;
    expect(page.created.json.buffer).toBe(bytes.buffer);
    expect(text(page.created)).toBe('[{"id":"a"}]');
  });

  it('refuses truncated or extended bytes with FeedReplyFormatError, never another error', () => {
    fc.assert(
      fc.property(aReply, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (reply, cut, extra) => {
        const bytes = encodeFeedReply(reply);
        const truncated = bytes.subarray(0, cut % bytes.length);
        expect(() => decodeFeedReply(truncated)).toThrow(FeedReplyFormatError);
        const extended = new Uint8Array(bytes.length + extra.length);
        extended.set(bytes);
        extended.set(extra, bytes.length);
        expect(() => decodeFeedReply(extended)).toThrow(FeedReplyFormatError);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['not JSON', utf8('{nope')],
    ['another version', utf8(JSON.stringify({ v: 1, pages: [] }))],
    ['a page whose done snapshot is not text', utf8(JSON.stringify({ v: 2, pages: [{ entity: 'patients', next: { done: 7 }, hasMore: false, counts: [0, 0, 0], sizes: [0, 0, 0] }] }))],
    ['a page without sizes', utf8(JSON.stringify({ v: 2, pages: [{ entity: 'patients', next: {}, hasMore: false, counts: [0, 0, 0] }] }))],
    ['a negative size', utf8(JSON.stringify({ v: 2, pages: [{ entity: 'patients', next: {}, hasMore: false, counts: [0, 0, 0], sizes: [-1, 0, 0] }] }))],
  ])('refuses a header that is %s', (_name, header) => {
    const bytes = new Uint8Array(4 + header.length);
    new DataView(bytes.buffer).setUint32(0, header.length);
    bytes.set(header, 4);
    expect(() => decodeFeedReply(bytes)).toThrow(FeedReplyFormatError);
  });
});
