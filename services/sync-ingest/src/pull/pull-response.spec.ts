import fc from 'fast-check';
import { JsonArrayText, emptyJsonArray } from '@clinisync/contracts';
import { PullPage, encodePullResponse, noChanges } from './pull-response';

// ---- builders -------------------------------------------------------------------------------

const jsonArray = (items: unknown[]): JsonArrayText => (items.length === 0 ? emptyJsonArray() : { count: items.length, json: Buffer.from(JSON.stringify(items)) });

const aRecord = fc.record({
  id: fc.uuid(),
  version: fc.integer({ min: 1, max: 1_000 }),
  createdAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  deletedAt: fc.constant(null),
  givenName: fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
  temperatureC: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
});
const anEntityChanges = fc.record({
  created: fc.array(aRecord, { maxLength: 4 }),
  updated: fc.array(aRecord, { maxLength: 4 }),
  deleted: fc.array(fc.uuid(), { maxLength: 4 }),
});
const aPage = fc.record({
  changes: fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1 }), anEntityChanges, { maxKeys: 6 }),
  cursor: fc.string({ unit: 'grapheme' }),
  hasMore: fc.boolean(),
  serverTime: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
});

// ---- tests ----------------------------------------------------------------------------------

describe('encodePullResponse (the PROTOCOL.md PullResponse written around module bytes)', () => {
  it('is the JSON of the response object, entity order kept, records exactly as the modules wrote them', () => {
    fc.assert(
      fc.property(aPage, (expected) => {
        const page: PullPage = {
          changes: new Map(Object.entries(expected.changes).map(([e, c]) => [e, { created: jsonArray(c.created), updated: jsonArray(c.updated), deleted: jsonArray(c.deleted) }])),
          cursor: expected.cursor,
          hasMore: expected.hasMore,
          serverTime: expected.serverTime,
        };
        const written = encodePullResponse(page).toString('utf8');
        // Same text as serialising the whole object at once: same keys, order and values.
        expect(written).toBe(JSON.stringify(expected));
      }),
      { numRuns: 500 },
    );
  });

  it('writes an entity with nothing to send as empty arrays', () => {
    const page: PullPage = { changes: new Map([['visits', noChanges()]]), cursor: 'c', hasMore: false, serverTime: '2026-11-22T00:00:00.000Z' };
    expect(JSON.parse(encodePullResponse(page).toString('utf8'))).toEqual({
      changes: { visits: { created: [], updated: [], deleted: [] } },
      cursor: 'c',
      hasMore: false,
      serverTime: '2026-11-22T00:00:00.000Z',
    });
  });
});
