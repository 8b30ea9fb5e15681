import fc from 'fast-check';
import {
  StockBalance,
  StockDelta,
  StockMovementKind,
  nextBalance,
  roundQuantity,
  stockLevelId,
  dispenseMovementId,
} from './stock-balance';

const m = (kind: StockMovementKind, quantity: number): StockDelta => ({ kind, quantity });
const clean = (quantity: number): StockBalance => ({ quantity, discrepancy: false });

describe('nextBalance', () => {
  it.each<
    [
      string,
      StockBalance | undefined,
      StockDelta[],
      { quantity: number; discrepancy: boolean; wentNegative: boolean },
    ]
  >([
    [
      'a first receipt opens the level',
      undefined,
      [m('receive', 10)],
      { quantity: 10, discrepancy: false, wentNegative: false },
    ],
    [
      'a dispense within stock',
      clean(10),
      [m('dispense', -4)],
      { quantity: 6, discrepancy: false, wentNegative: false },
    ],
    [
      'a dispense down to exactly zero is no discrepancy',
      clean(4),
      [m('dispense', -4)],
      { quantity: 0, discrepancy: false, wentNegative: false },
    ],
    [
      'a dispense past zero is accepted and flagged',
      clean(5),
      [m('dispense', -8)],
      { quantity: -3, discrepancy: true, wentNegative: true },
    ],
    [
      'a transfer-out from nothing goes negative',
      undefined,
      [m('transfer-out', -2)],
      { quantity: -2, discrepancy: true, wentNegative: true },
    ],
    [
      'a later receipt does not clear the flag',
      { quantity: -3, discrepancy: true },
      [m('receive', 10)],
      { quantity: 7, discrepancy: true, wentNegative: false },
    ],
    [
      'an adjustment that leaves stock at or above zero clears it',
      { quantity: 7, discrepancy: true },
      [m('adjust', 3)],
      { quantity: 10, discrepancy: false, wentNegative: false },
    ],
    [
      'an adjustment that leaves it negative keeps it',
      { quantity: -5, discrepancy: true },
      [m('adjust', 2)],
      { quantity: -3, discrepancy: true, wentNegative: false },
    ],
    [
      'a negative adjustment below zero goes negative',
      clean(1),
      [m('adjust', -2)],
      { quantity: -1, discrepancy: true, wentNegative: true },
    ],
    [
      'movements apply in order (transiently negative is flagged)',
      clean(0),
      [m('dispense', -1), m('receive', 5)],
      { quantity: 4, discrepancy: true, wentNegative: true },
    ],
    [
      'decimal sums do not leave floating-point dust',
      clean(0.3),
      [m('dispense', -0.1), m('dispense', -0.2)],
      { quantity: 0, discrepancy: false, wentNegative: false },
    ],
  ])('%s', (_name, current, movements, expected) => {
    expect(nextBalance(current, movements)).toEqual(expected);
  });

  const kinds = fc.constantFrom<StockMovementKind>(
    'receive',
    'dispense',
    'adjust',
    'transfer-out',
    'transfer-in',
  );
  const qty = fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 100);
  const moves = fc.array(fc.record({ kind: kinds, quantity: qty }), { maxLength: 30 });

  it('the balance is the rounded sum of the deltas, whatever the kinds (property)', () => {
    fc.assert(
      fc.property(qty, moves, (start, ms) => {
        const sum = ms.reduce((a, x) => a + x.quantity, start);
        expect(nextBalance(clean(start), ms).quantity).toBeCloseTo(sum, 6);
      }),
    );
  });

  it('a negative balance is always flagged, and only a movement that lowered it below zero reports wentNegative (property)', () => {
    fc.assert(
      fc.property(moves, (ms) => {
        const out = nextBalance(undefined, ms);
        if (out.quantity < 0) expect(out.discrepancy).toBe(true);
        let q = 0;
        let lowered = false;
        for (const x of ms) {
          q = roundQuantity(q + x.quantity);
          if (x.quantity < 0 && q < 0) lowered = true;
        }
        expect(out.wentNegative).toBe(lowered);
      }),
    );
  });
});

describe('stock ids', () => {
  it('derives one deterministic UUID v5 per tenant, facility and drug (drug id case-insensitive)', () => {
    const drug = '0193f0c2-aaaa-7bbb-8ccc-0123456789ab';
    const id = stockLevelId('t1', 'f-1', drug);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stockLevelId('t1', 'f-1', drug.toUpperCase())).toBe(id);
    expect(
      new Set([
        id,
        stockLevelId('t2', 'f-1', drug),
        stockLevelId('t1', 'f-2', drug),
        stockLevelId('t1', 'f-1', '0193f0c2-aaaa-7bbb-8ccc-0123456789ac'),
      ]).size,
    ).toBe(4);
  });

  it('cannot be confused by separators inside facility ids (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(stockLevelId('t1', a, 'd')).not.toBe(stockLevelId('t1', b, 'd'));
      }),
    );
  });

  it('derives the dispense movement id from the tenant and the dispensing record, distinct from level ids', () => {
    const rec = '0193f0c2-aaaa-7bbb-8ccc-0123456789ab';
    expect(dispenseMovementId('t1', rec)).toBe(dispenseMovementId('t1', rec.toUpperCase()));
    expect(dispenseMovementId('t1', rec)).not.toBe(dispenseMovementId('t2', rec));
  });
});
