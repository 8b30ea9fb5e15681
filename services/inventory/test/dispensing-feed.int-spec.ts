import { DataSource } from 'typeorm';
import { CloudEvent, RecordChangedData } from '@clinisync/contracts';
import { OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { inventoryDatabasePlan } from '../src/database';
import { DispensingFeedService } from '../src/dispensing-feed/dispensing-feed.service';
import { ProcessedEventsRepository } from '../src/dispensing-feed/processed-events.repository';
import { StockLevelsRepository } from '../src/stock/stock-levels.repository';
import { StockLevelsService } from '../src/stock/stock-levels.service';
import { StockMovementsRepository } from '../src/stock/stock-movements.repository';
import { dispenseMovementId, stockLevelId } from '../src/stock/stock-balance';

// Real parts: Postgres with the inventory migration, the real repositories and the consumer's
// handler (what the JetStream consumer calls per delivery). Clock and event ids pinned.
describe('inventory dispensing feed (consumer handler)', () => {
  const NOW = '2026-11-21T10:00:00.000Z';
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  let feed: DispensingFeedService;

  const subjectOf = (tenantId: string) => `clinical.${tenantId}.pharmacy.dispensing_records.created`;
  /** A pharmacy `dispensing_records.created` event as the pharmacy relay publishes it. */
  const aDispensingEvent = (
    o: { tenantId?: string; recordId?: string; drugId?: string; quantity?: number; eventId?: string } = {},
  ): CloudEvent<RecordChangedData> => {
    const recordId = o.recordId ?? newId();
    return {
      specversion: '1.0',
      id: o.eventId ?? newId(),
      source: 'clinisync/pharmacy',
      type: 'clinisync.pharmacy.dispensing_records.created',
      subject: `dispensing_records/${recordId}`,
      time: NOW,
      datacontenttype: 'application/json',
      tenantid: o.tenantId ?? 't1',
      correlationid: 'corr-d',
      data: {
        entity: 'dispensing_records',
        id: recordId,
        version: 1,
        action: 'created',
        actor: 'u-ph',
        changedFields: ['patientId', 'drugId', 'quantity', 'dispensedAt', 'facilityId'],
        record: {
          id: recordId,
          version: 1,
          facilityId: 'f-1',
          patientId: newId(),
          prescriptionItemId: null,
          drugId: o.drugId ?? newId(),
          quantity: o.quantity ?? 3,
          dispensedAt: '2026-11-21T09:30:00.000Z',
        },
      },
    };
  };
  const count = async (tenantId: string, sql: string, params: unknown[]) =>
    (await tx.run(tenantId, (t) => t.query<{ n: number }>(sql, params)))[0].n;
  const movementsOf = (tenantId: string, drugId: string) =>
    tx.run(tenantId, (t) =>
      t.query<{ id: string; kind: string; quantity: number; reason: string }>(
        'SELECT id::text, kind, quantity, reason FROM inventory.stock_movements WHERE drug_id = $1',
        [drugId],
      ),
    );
  const levelOf = async (tenantId: string, drugId: string) =>
    (
      await tx.run(tenantId, (t) =>
        t.query<{ quantity: number; discrepancy: boolean; version: number }>(
          'SELECT quantity, discrepancy, version FROM inventory.stock_levels WHERE id = $1',
          [stockLevelId(tenantId, 'f-1', drugId)],
        ),
      )
    )[0];

  beforeAll(async () => {
    db = await createTestDatabase([inventoryDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    let seq = 0;
    const ports = {
      now: () => NOW,
      newEventId: () => `00000000-0000-7000-8000-${String(++seq).padStart(12, '0')}`,
    };
    feed = new DispensingFeedService(
      tx,
      new ProcessedEventsRepository(),
      new StockMovementsRepository(),
      new StockLevelsService(new StockLevelsRepository(), ports),
      new OutboxRepository('inventory'),
      ports,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('writes exactly one dispense movement when the same event is delivered twice', async () => {
    const event = aDispensingEvent({ quantity: 3 });
    const drugId = String(event.data.record.drugId);
    const first = await feed.handle(event, subjectOf('t1'));
    const second = await feed.handle(event, subjectOf('t1'));
    expect([first.kind, second.kind]).toEqual(['applied', 'duplicate']);
    const movementId = dispenseMovementId('t1', event.data.id);
    expect(await movementsOf('t1', drugId)).toEqual([
      { id: movementId, kind: 'dispense', quantity: -3, reason: `dispensing_records/${event.data.id}` },
    ]);
    expect(await levelOf('t1', drugId)).toEqual({ quantity: -3, discrepancy: true, version: 1 });
    expect(
      await count('t1', 'SELECT count(*)::int AS n FROM inventory.processed_events WHERE event_id = $1', [
        event.id,
      ]),
    ).toBe(1);
    const subjects = await tx.run('t1', (t) =>
      t.query<{ subject: string }>(
        'SELECT subject FROM inventory.outbox WHERE aggregate_id = ANY($1::uuid[]) ORDER BY seq',
        [[movementId, stockLevelId('t1', 'f-1', drugId)]],
      ),
    );
    expect(subjects.map((s) => s.subject)).toEqual([
      'clinical.t1.inventory.stock_movements.created',
      'clinical.t1.inventory.stock_levels.created',
      'clinical.t1.inventory.stock_levels.negative',
    ]);
  });

  it('applies concurrent deliveries of one event once', async () => {
    const event = aDispensingEvent({ quantity: 2 });
    const outcomes = await Promise.all([1, 2, 3].map(() => feed.handle(event, subjectOf('t1'))));
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(await movementsOf('t1', String(event.data.record.drugId))).toHaveLength(1);
  });

  it('moves stock once per dispensing record even if it arrives under another event id', async () => {
    const event = aDispensingEvent({ quantity: 1 });
    await feed.handle(event, subjectOf('t1'));
    const again = await feed.handle({ ...event, id: newId() }, subjectOf('t1'));
    expect(again.kind).toBe('duplicate');
    expect(await movementsOf('t1', String(event.data.record.drugId))).toHaveLength(1);
  });

  it("writes in the event's tenant only (tenantid of the envelope)", async () => {
    const event = aDispensingEvent({ tenantId: 't2', quantity: 5 });
    const drugId = String(event.data.record.drugId);
    expect((await feed.handle(event, subjectOf('t2'))).kind).toBe('applied');
    expect(await movementsOf('t2', drugId)).toHaveLength(1);
    expect(await movementsOf('t1', drugId)).toEqual([]);
    expect(await levelOf('t2', drugId)).toMatchObject({ quantity: -5 });
  });

  it('drops an event whose subject names another tenant than its envelope, writing nothing', async () => {
    const event = aDispensingEvent({ tenantId: 't1' });
    const outcome = await feed.handle(event, subjectOf('t2'));
    expect(outcome.kind).toBe('invalid');
    expect(await movementsOf('t1', String(event.data.record.drugId))).toEqual([]);
    expect(
      await count('t1', 'SELECT count(*)::int AS n FROM inventory.processed_events WHERE event_id = $1', [
        event.id,
      ]),
    ).toBe(0);
  });
});
