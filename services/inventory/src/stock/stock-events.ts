import { ChangeAction, RecordChangedData, clinicalSubject } from '@clinisync/contracts';
import { OutboxMessage } from '@clinisync/persistence';
import { cloudEvent } from '@clinisync/messaging';
import { EntityDef, StoredRecord, toSyncRecord } from '@clinisync/sync-core';

/** Who and what caused inventory's own writes (a push batch or a consumed pharmacy event). */
export interface InventoryEventContext {
  tenantId: string;
  correlationId: string;
  /** The user the change is attributed to (the pusher, or the pharmacist who dispensed). */
  actor: string;
  deviceId?: string;
  now: string;
}

/** A clinical change event for a record inventory wrote itself, shaped like the runtime's. */
export function recordChangedEvent(
  id: string,
  ctx: InventoryEventContext,
  def: EntityDef,
  action: ChangeAction,
  record: StoredRecord,
  changedFields: string[],
  clientMutationId?: string,
): OutboxMessage {
  const data: RecordChangedData = {
    entity: def.name,
    id: record.id,
    version: record.version,
    action,
    ...(clientMutationId ? { clientMutationId } : {}),
    actor: ctx.actor,
    deviceId: ctx.deviceId,
    changedFields,
    record: toSyncRecord(def, record),
  };
  const event = cloudEvent({
    id,
    source: 'clinisync/inventory',
    type: `clinisync.inventory.${def.name}.${action}`,
    subject: `${def.name}/${record.id}`,
    time: ctx.now,
    tenantId: ctx.tenantId,
    correlationId: ctx.correlationId,
    data,
  });
  return {
    tenantId: ctx.tenantId,
    id,
    aggregateId: record.id,
    subject: clinicalSubject(ctx.tenantId, 'inventory', def.name, action),
    payload: JSON.stringify(event),
  };
}

/** Payload of `clinical.<tenant>.inventory.stock_levels.negative`. */
export interface StockNegativeData {
  entity: 'stock_levels';
  id: string;
  version: number;
  facilityId: string;
  drugId: string;
  previousQuantity: number;
  quantity: number;
  /** The movements (ids) that were applied to the level in this transaction, in order. */
  movementIds: string[];
}

/** The alert that a stock level went below zero: accepted, flagged, to be reconciled by an adjustment. */
export function stockNegativeEvent(
  id: string,
  ctx: InventoryEventContext,
  data: StockNegativeData,
): OutboxMessage {
  const event = cloudEvent({
    id,
    source: 'clinisync/inventory',
    type: 'clinisync.inventory.stock_levels.negative',
    subject: `stock_levels/${data.id}`,
    time: ctx.now,
    tenantId: ctx.tenantId,
    correlationId: ctx.correlationId,
    data,
  });
  return {
    tenantId: ctx.tenantId,
    id,
    aggregateId: data.id,
    subject: clinicalSubject(ctx.tenantId, 'inventory', 'stock_levels', 'negative'),
    payload: JSON.stringify(event),
  };
}
