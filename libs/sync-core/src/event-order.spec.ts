import fc from 'fast-check';
import { inAggregateOrder } from './event-order';

const ev = (aggregateId: string, version: number, tag = '') => ({ aggregateId, version, tag });

describe('inAggregateOrder', () => {
  it.each([
    ['empty page', [], []],
    ['already in order', [ev('a', 1), ev('b', 1), ev('a', 2)], [ev('a', 1), ev('b', 1), ev('a', 2)]],
    ['a lock waiter with the lower xid wrote the later version', [ev('a', 3), ev('b', 1), ev('a', 2)], [ev('a', 2), ev('b', 1), ev('a', 3)]],
    ['two aggregates out of order each', [ev('a', 2), ev('b', 5), ev('a', 1), ev('b', 4)], [ev('a', 1), ev('b', 4), ev('a', 2), ev('b', 5)]],
  ])('%s', (_name, page, expected) => {
    expect(inAggregateOrder(page)).toEqual(expected);
  });

  it('is a permutation that keeps each aggregate in its places, in version order', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ aggregateId: fc.constantFrom('a', 'b', 'c'), version: fc.integer({ min: 1, max: 50 }) }), { maxLength: 40 }), (page) => {
        const out = inAggregateOrder(page);
        expect([...out].sort(cmp)).toEqual([...page].sort(cmp));
        out.forEach((e, i) => expect(e.aggregateId).toBe(page[i].aggregateId));
        for (const id of ['a', 'b', 'c']) {
          const versions = out.filter((e) => e.aggregateId === id).map((e) => e.version);
          expect(versions).toEqual([...versions].sort((x, y) => x - y));
        }
      }),
    );
  });
});

function cmp(a: { aggregateId: string; version: number }, b: { aggregateId: string; version: number }): number {
  return a.aggregateId < b.aggregateId ? -1 : a.aggregateId > b.aggregateId ? 1 : a.version - b.version;
}
