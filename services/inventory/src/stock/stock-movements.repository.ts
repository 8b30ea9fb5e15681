import { Tx } from '@clinisync/persistence';
import { RecordRepository } from '@clinisync/module-runtime';
import { StoredRecord, getEntity } from '@clinisync/sync-core';

const STOCK_MOVEMENTS = getEntity('stock_movements');

/** Movements inventory writes itself (pushed ones are written by the runtime). */
export class StockMovementsRepository {
  constructor(private readonly records: RecordRepository = new RecordRepository()) {}

  /** Inserts a movement unless its id exists; returns whether it was inserted. */
  async insertIfAbsent(tx: Tx, tenantId: string, movement: StoredRecord): Promise<boolean> {
    return (await this.records.insertIfAbsent(tx, STOCK_MOVEMENTS, tenantId, [movement])) === 1;
  }
}
