import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApplyBatchCommand, CloudEvent, MutationCommand, RecordChangedData } from '@clinisync/contracts';
import { MutationLedgerRepository, OutboxRepository, TenantTransactions } from '@clinisync/persistence';
import { Principal } from '@clinisync/auth';
import { BatchApplier, RecordRepository } from '@clinisync/module-runtime';
import { mutationPayloadHash } from '@clinisync/sync-core';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { newId } from '../../../test/support/builders';
import { inventoryDatabasePlan } from '../src/database';
import { StockLevelsRepository } from '../src/stock/stock-levels.repository';
import { StockLevelsService } from '../src/stock/stock-levels.service';
import { StockMovementRules } from '../src/stock/stock-movement.rules';
import { stockLevelId } from '../src/stock/stock-balance';
import { StockNegativeData } from '../src/stock/stock-events';

// Real parts: Postgres with the inventory migration, the runtime's BatchApplier and repositories,
// the inventory rules and the real CASL ability. Clock and event ids pinned. Nothing mocked.
describe('inventory stock levels (BatchApplier + StockMovementRules)', () => {
  const NOW = '2026-11-21T10:00:00.000Z';
  let db: TestDatabase;
  let app: DataSource;
  let tx: TenantTransactions;
  let applier: BatchApplier;
  const pharmacist = (tenantId = 't1'): Principal => ({
    sub: 'u-ph',
    tenantId,
    roles: ['pharmacist'],
    facilities: ['f-1'],
    licences: [],
  });
  const admin: Principal = { sub: 'u-ad', tenantId: 't1', roles: ['admin'], facilities: ['*'], licences: [] };

  const command = (
    entity: string,
    op: 'create' | 'update',
    data: Record<string, unknown>,
    id = newId(),
    baseVersion?: number,
  ): MutationCommand => {
    const c = {
      clientMutationId: randomUUID(),
      entity,
      op,
      id,
      baseVersion,
      data,
      changedFields: Object.keys(data),
    };
    return { ...c, payloadHash: mutationPayloadHash(c) };
  };
  const movement = (drugId: string, kind: string, quantity: number, facilityId = 'f-1') =>
    command('stock_movements', 'create', {
      drugId,
      kind,
      quantity,
      facilityId,
      occurredAt: '2026-11-21T09:00:00Z',
      reason: 'test',
    });
  const batch = (tenantId: string, ...commands: MutationCommand[]): ApplyBatchCommand => ({
    tenantId,
    correlationId: 'corr-1',
    token: 'unused',
    commands,
  });
  const level = async (tenantId: string, drugId: string, facilityId = 'f-1') =>
    (
      await tx.run(tenantId, (t) =>
        t.query<{ quantity: number; discrepancy: boolean; version: number; seq: string }>(
          'SELECT quantity, discrepancy, version, change_seq::text AS seq FROM inventory.stock_levels WHERE id = $1',
          [stockLevelId(tenantId, facilityId, drugId)],
        ),
      )
    )[0];
  const levelEvents = async (tenantId: string, drugId: string) =>
    (
      await tx.run(tenantId, (t) =>
        t.query<{ subject: string; payload: string }>(
          'SELECT subject, payload FROM inventory.outbox WHERE aggregate_id = $1 ORDER BY seq',
          [stockLevelId(tenantId, 'f-1', drugId)],
        ),
      )
    ).map((r) => ({ subject: r.subject, event: JSON.parse(r.payload) as CloudEvent }));

  beforeAll(async () => {
    db = await createTestDatabase([inventoryDatabasePlan]);
    app = await db.appDataSource();
    tx = new TenantTransactions(app);
    let seq = 0;
    const ids = { newEventId: () => `00000000-0000-7000-8000-${String(++seq).padStart(12, '0')}` };
    applier = new BatchApplier(
      'inventory',
      tx,
      new RecordRepository(),
      new MutationLedgerRepository(),
      new OutboxRepository('inventory'),
      { now: () => NOW, ...ids },
      new StockMovementRules(new StockLevelsService(new StockLevelsRepository(), ids)),
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('derives the level from pushed movements in the same transaction: created, then updated with a version bump and a new change position', async () => {
    const drug = newId();
    const first = await applier.apply(batch('t1', movement(drug, 'receive', 10)), pharmacist());
    expect(first.results[0]).toMatchObject({ status: 'applied' });
    const opened = await level('t1', drug);
    expect(opened).toMatchObject({ quantity: 10, discrepancy: false, version: 1 });
    await applier.apply(batch('t1', movement(drug, 'dispense', -4)), pharmacist());
    const moved = await level('t1', drug);
    expect(moved).toMatchObject({ quantity: 6, discrepancy: false, version: 2 });
    expect(BigInt(moved.seq)).toBeGreaterThan(BigInt(opened.seq));
    const events = await levelEvents('t1', drug);
    expect(events.map((e) => e.subject)).toEqual([
      'clinical.t1.inventory.stock_levels.created',
      'clinical.t1.inventory.stock_levels.updated',
    ]);
    const updated = events[1].event as CloudEvent<RecordChangedData>;
    expect(updated.data).toMatchObject({
      entity: 'stock_levels',
      version: 2,
      action: 'updated',
      changedFields: ['quantity'],
      actor: 'u-ph',
    });
    expect(updated.data.record).toMatchObject({
      id: stockLevelId('t1', 'f-1', drug),
      facilityId: 'f-1',
      drugId: drug,
      quantity: 6,
      discrepancy: false,
      version: 2,
    });
  });

  it('answers a redelivered movement batch from the mutation ledger and moves stock once', async () => {
    const drug = newId();
    const command = batch('t1', movement(drug, 'receive', 6));
    const first = await applier.apply(command, pharmacist());
    const second = await applier.apply(command, pharmacist());
    expect(second.results).toEqual(first.results.map((r) => ({ ...r, replayed: true })));
    expect(await level('t1', drug)).toMatchObject({ quantity: 6, version: 1 });
    expect((await levelEvents('t1', drug)).map((e) => e.subject)).toEqual([
      'clinical.t1.inventory.stock_levels.created',
    ]);
  });

  it('accepts a movement that drives the balance below zero, flags the discrepancy and emits stock_levels.negative', async () => {
    const drug = newId();
    await applier.apply(batch('t1', movement(drug, 'receive', 5)), pharmacist());
    const out = movement(drug, 'dispense', -8);
    const reply = await applier.apply(batch('t1', out), pharmacist());
    expect(reply.results[0]).toMatchObject({ status: 'applied' });
    expect(await level('t1', drug)).toMatchObject({ quantity: -3, discrepancy: true, version: 2 });
    const events = await levelEvents('t1', drug);
    expect(events.map((e) => e.subject)).toEqual([
      'clinical.t1.inventory.stock_levels.created',
      'clinical.t1.inventory.stock_levels.updated',
      'clinical.t1.inventory.stock_levels.negative',
    ]);
    const negative = events[2].event as CloudEvent<StockNegativeData>;
    expect(negative).toMatchObject({
      type: 'clinisync.inventory.stock_levels.negative',
      tenantid: 't1',
      correlationid: 'corr-1',
    });
    expect(negative.data).toEqual({
      entity: 'stock_levels',
      id: stockLevelId('t1', 'f-1', drug),
      version: 2,
      facilityId: 'f-1',
      drugId: drug,
      previousQuantity: 5,
      quantity: -3,
      movementIds: [out.id],
    });
  });

  it('clears the discrepancy only by an adjustment that brings the level back to zero or above', async () => {
    const drug = newId();
    await applier.apply(batch('t1', movement(drug, 'dispense', -2)), pharmacist());
    await applier.apply(batch('t1', movement(drug, 'receive', 5)), pharmacist());
    expect(await level('t1', drug)).toMatchObject({ quantity: 3, discrepancy: true });
    await applier.apply(batch('t1', movement(drug, 'adjust', 2)), admin);
    expect(await level('t1', drug)).toMatchObject({ quantity: 5, discrepancy: false, version: 3 });
  });

  it('applies several movements of one level in a batch as one level write and one event', async () => {
    const drug = newId();
    await applier.apply(
      batch(
        't1',
        movement(drug, 'receive', 10),
        movement(drug, 'transfer-out', -3),
        movement(drug, 'transfer-in', 1),
      ),
      pharmacist(),
    );
    expect(await level('t1', drug)).toMatchObject({ quantity: 8, version: 1 });
    expect((await levelEvents('t1', drug)).map((e) => e.subject)).toEqual([
      'clinical.t1.inventory.stock_levels.created',
    ]);
  });

  it('serialises concurrent batches on one new level: both are applied and the balance is their sum', async () => {
    const drug = newId();
    const replies = await Promise.all([
      applier.apply(batch('t1', movement(drug, 'receive', 7)), pharmacist()),
      applier.apply(batch('t1', movement(drug, 'receive', 5)), pharmacist()),
    ]);
    expect(replies.map((r) => r.results[0].status)).toEqual(['applied', 'applied']);
    expect(await level('t1', drug)).toMatchObject({ quantity: 12, version: 2 });
  });

  it('refuses a client write to stock_levels as READ_ONLY and leaves the level untouched', async () => {
    const drug = newId();
    await applier.apply(batch('t1', movement(drug, 'receive', 4)), pharmacist());
    const id = stockLevelId('t1', 'f-1', drug);
    const forged = command('stock_levels', 'update', { quantity: 1000 }, id, 1);
    const created = command('stock_levels', 'create', {
      drugId: drug,
      quantity: 1000,
      discrepancy: false,
      facilityId: 'f-9',
    });
    const reply = await applier.apply(batch('t1', forged, created), admin);
    expect(
      reply.results.map((r) => [
        r.status,
        r.status === 'rejected' ? r.code : undefined,
        r.status === 'rejected' ? r.retryable : undefined,
      ]),
    ).toEqual([
      ['rejected', 'READ_ONLY', false],
      ['rejected', 'READ_ONLY', false],
    ]);
    expect(await level('t1', drug)).toMatchObject({ quantity: 4, version: 1 });
  });

  it('keeps movements immutable: an update is refused (FORBIDDEN for every role, APPEND_ONLY for an unknown id) and does not move stock', async () => {
    const drug = newId();
    const receive = movement(drug, 'receive', 4);
    await applier.apply(batch('t1', receive), pharmacist());
    const reply = await applier.apply(
      batch(
        't1',
        command('stock_movements', 'update', { quantity: 40 }, receive.id, 1),
        command('stock_movements', 'update', { quantity: 40 }, newId(), 1),
      ),
      admin,
    );
    expect(reply.results.map((r) => (r.status === 'rejected' ? [r.code, r.retryable] : r.status))).toEqual([
      ['FORBIDDEN', false],
      ['APPEND_ONLY', false],
    ]);
    expect(await level('t1', drug)).toMatchObject({ quantity: 4, version: 1 });
  });

  it("keeps each tenant's levels apart: the same facility and drug in another tenant is another level", async () => {
    const drug = newId();
    await applier.apply(batch('t1', movement(drug, 'receive', 10)), pharmacist('t1'));
    await applier.apply(batch('t2', movement(drug, 'receive', 1)), pharmacist('t2'));
    expect(await level('t1', drug)).toMatchObject({ quantity: 10 });
    expect(await level('t2', drug)).toMatchObject({ quantity: 1 });
    const seen = await tx.run('t2', (t) =>
      t.query<{ tenant_id: string }>('SELECT tenant_id FROM inventory.stock_levels'),
    );
    expect(seen.every((r) => r.tenant_id === 't2')).toBe(true);
  });
});
