import { OutboxMessage, Tx } from '@clinisync/persistence';
import { StoredRecord, getEntity } from '@clinisync/sync-core';
import { StockBalance, StockDelta, StockMovementKind, nextBalance, stockLevelId } from './stock-balance';
import { InventoryEventContext, recordChangedEvent, stockNegativeEvent } from './stock-events';
import { StockLevelsRepository } from './stock-levels.repository';

const STOCK_LEVELS = getEntity('stock_levels');
const LEVEL_FIELDS = ['facilityId', 'drugId', 'quantity', 'discrepancy'];

/** Injected side effects, so tests can pin them. */
export interface InventoryPorts {
  now(): string;
  newEventId(): string;
}

function deltaOf(movement: StoredRecord): StockDelta {
  return { kind: movement.fields.kind as StockMovementKind, quantity: Number(movement.fields.quantity) };
}

function balanceOf(level: StoredRecord): StockBalance {
  return { quantity: Number(level.fields.quantity), discrepancy: level.fields.discrepancy === true };
}

/**
 * Derives stock levels from movements (server authority): in the transaction that wrote the
 * movements, each touched level (one per tenant, facility and drug) is locked, moved by the
 * movements in order (`nextBalance`), written with a version bump and a new change position for
 * pull, and announced by a clinical `created`/`updated` event; a level driven below zero also
 * emits `stock_levels.negative`.
 */
export class StockLevelsService {
  constructor(
    private readonly levels: StockLevelsRepository,
    private readonly ports: Pick<InventoryPorts, 'newEventId'>,
  ) {}

  /** `movements`: newly written stock_movements, in application order. Returns the events to append. */
  async post(tx: Tx, ctx: InventoryEventContext, movements: StoredRecord[]): Promise<OutboxMessage[]> {
    const groups = new Map<string, { facilityId: string; drugId: string; movements: StoredRecord[] }>();
    for (const m of movements) {
      const facilityId = String(m.fields.facilityId);
      const drugId = String(m.fields.drugId).toLowerCase();
      const id = stockLevelId(ctx.tenantId, facilityId, drugId);
      const group = groups.get(id) ?? { facilityId, drugId, movements: [] };
      group.movements.push(m);
      groups.set(id, group);
    }
    if (groups.size === 0) return [];
    const current = await this.levels.loadForUpdate(tx, ctx.tenantId, [...groups.keys()]);

    const inserts: StoredRecord[] = [];
    const updates: { record: StoredRecord; expectedVersion: number }[] = [];
    const events: OutboxMessage[] = [];
    for (const [id, group] of groups) {
      const before = current.get(id);
      const outcome = nextBalance(before ? balanceOf(before) : undefined, group.movements.map(deltaOf));
      let after: StoredRecord;
      if (!before) {
        after = {
          id,
          version: 1,
          createdAt: ctx.now,
          updatedAt: ctx.now,
          deletedAt: null,
          fields: {
            facilityId: group.facilityId,
            drugId: group.drugId,
            quantity: outcome.quantity,
            discrepancy: outcome.discrepancy,
          },
          fieldVersions: Object.fromEntries(LEVEL_FIELDS.map((f) => [f, 1])),
        };
        inserts.push(after);
        events.push(
          recordChangedEvent(this.ports.newEventId(), ctx, STOCK_LEVELS, 'created', after, LEVEL_FIELDS),
        );
      } else {
        const changed = (['quantity', 'discrepancy'] as const).filter((f) => before.fields[f] !== outcome[f]);
        if (changed.length === 0) continue; // e.g. a zero adjustment of a clean level: nothing to write
        const version = before.version + 1;
        after = {
          ...before,
          version,
          updatedAt: ctx.now,
          fields: { ...before.fields, quantity: outcome.quantity, discrepancy: outcome.discrepancy },
          fieldVersions: { ...before.fieldVersions, ...Object.fromEntries(changed.map((f) => [f, version])) },
        };
        updates.push({ record: after, expectedVersion: before.version });
        events.push(
          recordChangedEvent(this.ports.newEventId(), ctx, STOCK_LEVELS, 'updated', after, [...changed]),
        );
      }
      if (outcome.wentNegative) {
        events.push(
          stockNegativeEvent(this.ports.newEventId(), ctx, {
            entity: 'stock_levels',
            id,
            version: after.version,
            facilityId: group.facilityId,
            drugId: group.drugId,
            previousQuantity: before ? balanceOf(before).quantity : 0,
            quantity: outcome.quantity,
            movementIds: group.movements.map((m) => m.id),
          }),
        );
      }
    }
    await this.levels.insert(tx, ctx.tenantId, inserts);
    await this.levels.update(tx, ctx.tenantId, updates);
    return events;
  }
}
