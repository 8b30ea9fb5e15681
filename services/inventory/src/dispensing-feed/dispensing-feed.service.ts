import { CloudEvent } from '@clinisync/contracts';
import {
  OutboxRepository,
  PG_DEADLOCK,
  PG_SERIALIZATION_FAILURE,
  PG_UNIQUE_VIOLATION,
  TenantTransactions,
  Tx,
  pgErrorCode,
} from '@clinisync/persistence';
import { StoredRecord, getEntity } from '@clinisync/sync-core';
import { dispenseMovementId, roundQuantity } from '../stock/stock-balance';
import { InventoryEventContext, recordChangedEvent } from '../stock/stock-events';
import { InventoryPorts, StockLevelsService } from '../stock/stock-levels.service';
import { StockMovementsRepository } from '../stock/stock-movements.repository';
import { ProcessedEventsRepository } from './processed-events.repository';
import { DispensedDrug, parseDispensingEvent } from './dispensing-event';

const STOCK_MOVEMENTS = getEntity('stock_movements');
const MAX_ATTEMPTS = 4;

/**
 * - `applied`: the dispense movement, its stock level change and their events were committed;
 * - `duplicate`: the event (or another event of the same dispensing record) was processed before;
 * - `invalid`: not a dispensing event inventory can act on; nothing written (it never will be).
 */
export type DispensingOutcome =
  { kind: 'applied' | 'duplicate'; movementId: string } | { kind: 'invalid'; reason: string };

/**
 * Reacts to pharmacy's `dispensing_records.created`: writes the matching `dispense` movement
 * (quantity = minus the dispensed quantity) and moves the stock level, exactly once per event id
 * (`processed_events`, same transaction) and once per dispensing record (deterministic movement id).
 */
export class DispensingFeedService {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly processed: ProcessedEventsRepository,
    private readonly movements: StockMovementsRepository,
    private readonly levels: StockLevelsService,
    private readonly outbox: OutboxRepository,
    private readonly ports: InventoryPorts,
  ) {}

  async handle(event: CloudEvent, subject: string): Promise<DispensingOutcome> {
    const dispensed = parseDispensingEvent(event, subject);
    if ('invalid' in dispensed) return { kind: 'invalid', reason: dispensed.invalid };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactions.run(dispensed.tenantId, (tx) => this.applyIn(tx, dispensed));
      } catch (e) {
        const code = pgErrorCode(e);
        const retry =
          code === PG_UNIQUE_VIOLATION || code === PG_DEADLOCK || code === PG_SERIALIZATION_FAILURE;
        if (!retry || attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }

  private async applyIn(tx: Tx, d: DispensedDrug): Promise<DispensingOutcome> {
    const movementId = dispenseMovementId(d.tenantId, d.dispensingRecordId);
    if (!(await this.processed.markProcessed(tx, d.tenantId, d.eventId, d.subject)))
      return { kind: 'duplicate', movementId };
    const now = this.ports.now();
    const movement: StoredRecord = {
      id: movementId,
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      fields: {
        facilityId: d.facilityId,
        drugId: d.drugId,
        kind: 'dispense',
        quantity: roundQuantity(-d.quantity),
        reason: `dispensing_records/${d.dispensingRecordId}`,
        occurredAt: d.dispensedAt,
      },
      fieldVersions: Object.fromEntries(STOCK_MOVEMENTS.fields.map((f) => [f.name, 1])),
    };
    if (!(await this.movements.insertIfAbsent(tx, d.tenantId, movement)))
      return { kind: 'duplicate', movementId };
    const ctx: InventoryEventContext = {
      tenantId: d.tenantId,
      correlationId: d.correlationId,
      actor: d.actor ?? 'system:inventory',
      deviceId: d.deviceId,
      now,
    };
    const events = [
      recordChangedEvent(
        this.ports.newEventId(),
        ctx,
        STOCK_MOVEMENTS,
        'created',
        movement,
        Object.keys(movement.fieldVersions),
      ),
      ...(await this.levels.post(tx, ctx, [movement])),
    ];
    await this.outbox.append(tx, events);
    return { kind: 'applied', movementId };
  }
}
