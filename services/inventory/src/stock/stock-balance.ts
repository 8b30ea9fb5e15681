import { v5 as uuidv5 } from 'uuid';

/** Kinds of stock movement (registry enum of `stock_movements.kind`). */
export type StockMovementKind = 'receive' | 'dispense' | 'adjust' | 'transfer-out' | 'transfer-in';

/** One movement as it affects a balance: `quantity` is the signed delta (a dispense is negative). */
export interface StockDelta {
  kind: StockMovementKind;
  quantity: number;
}

export interface StockBalance {
  quantity: number;
  /** The balance went below zero and no adjustment has reconciled it since. */
  discrepancy: boolean;
}

export interface StockBalanceOutcome extends StockBalance {
  /** Some movement of this run lowered the balance and left it below zero. */
  wentNegative: boolean;
}

/** Quantities are decimals; sums are kept to 6 places so 0.1 + 0.2 - 0.3 is 0, not -5.5e-17. */
export function roundQuantity(q: number): number {
  return Math.round(q * 1e6) / 1e6 + 0;
}

/**
 * The server-authority rule for a stock level: movements are applied in order and never refused
 * (the medicine has physically moved). A movement that lowers the balance below zero flags a
 * discrepancy; only an `adjust` (a stock count) can clear it, by leaving the balance at or above
 * zero. Pure.
 */
export function nextBalance(
  current: StockBalance | undefined,
  movements: readonly StockDelta[],
): StockBalanceOutcome {
  let quantity = current?.quantity ?? 0;
  let discrepancy = current?.discrepancy ?? false;
  let wentNegative = false;
  for (const m of movements) {
    quantity = roundQuantity(quantity + m.quantity);
    if (m.kind === 'adjust') discrepancy = false;
    if (quantity < 0) {
      discrepancy = true;
      if (m.quantity < 0) wentNegative = true;
    }
  }
  return { quantity, discrepancy, wentNegative };
}

/** Namespace of stock level ids (UUID v5); fixed forever, since ids are derived from it. */
export const STOCK_LEVEL_NAMESPACE = '95c8e5eb-c7e6-48db-ae6a-30d63cdd1e26';

/** The one stock level of a drug at a facility: a deterministic UUID v5 of (tenant, facility, drug). */
export function stockLevelId(tenantId: string, facilityId: string, drugId: string): string {
  return uuidv5(
    JSON.stringify(['stock_levels', tenantId, facilityId, drugId.toLowerCase()]),
    STOCK_LEVEL_NAMESPACE,
  );
}

/** The dispense movement written for a pharmacy dispensing record: deterministic, so one record moves stock once. */
export function dispenseMovementId(tenantId: string, dispensingRecordId: string): string {
  return uuidv5(
    JSON.stringify(['dispense', tenantId, dispensingRecordId.toLowerCase()]),
    STOCK_LEVEL_NAMESPACE,
  );
}
