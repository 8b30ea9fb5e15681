import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { Mutation } from '@clinisync/contracts';
import { Platform, startPlatform } from '../support/platform';
import { PullBody, newId, pullAll, pullUntil, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

const create = (entity: string, data: Record<string, unknown>, id = newId()): Mutation => ({
  clientMutationId: randomUUID(),
  entity,
  op: 'create',
  id,
  data,
});
const aDrug = () =>
  create('drug_catalogue', { code: `D-${newId().slice(-8)}`, name: 'Amoxicillin 500 mg', controlled: false });
const aMovement = (drugId: string, kind: string, quantity: number, facilityId = 'f-1') =>
  create('stock_movements', {
    drugId,
    kind,
    quantity,
    reason: `${kind} in test`,
    occurredAt: '2026-11-21T08:00:00Z',
    facilityId,
  });
const aDispensing = (drugId: string, quantity: number) =>
  create('dispensing_records', {
    patientId: newId(),
    drugId,
    quantity,
    dispensedAt: '2026-11-21T09:30:00Z',
    facilityId: 'f-1',
  });

describe('inventory over push and events (PROTOCOL.md Entities: server-authority)', () => {
  let p: Platform;
  let admin: string;
  let pharmacist: string;

  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const ds = await p.db.ownerDataSource();
    try {
      return (await ds.query(sql, params)) as T[];
    } finally {
      await ds.destroy();
    }
  };
  const levelOf = async (drugId: string, tenantId = 't1') =>
    (
      await query<{ id: string; quantity: number; discrepancy: boolean; version: number }>(
        'SELECT id::text, quantity, discrepancy, version FROM inventory.stock_levels WHERE tenant_id = $1 AND drug_id = $2 AND facility_id = $3',
        [tenantId, drugId, 'f-1'],
      )
    )[0];
  const dispenseMovements = (dispensingId: string) =>
    query<{ kind: string; quantity: number; facility_id: string }>(
      'SELECT kind, quantity, facility_id FROM inventory.stock_movements WHERE reason = $1',
      [`dispensing_records/${dispensingId}`],
    );
  /** Waits until the inventory consumer has acknowledged everything up to the stream's last message. */
  const consumerCaughtUp = async () => {
    const nc = await connect({ servers: p.nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = await jsm.streams.info('CLINICAL');
      await eventually(
        async () => {
          const c = await jsm.consumers.info('CLINICAL', 'inventory-dispensing');
          return (
            c.num_pending === 0 && c.num_ack_pending === 0 && c.delivered.stream_seq >= stream.state.last_seq
          );
        },
        20_000,
        'inventory consumer to catch up',
      );
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    p = await startPlatform();
    admin = await p.token({ sub: 'u-admin', roles: ['admin'], facilities: ['*'] });
    pharmacist = await p.token({ sub: 'u-ph', roles: ['pharmacist'] });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('derives the stock level from pushed movements (server authority)', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    const r = await push(p.baseUrl, pharmacist, {
      mutations: [aMovement(drug.id, 'receive', 20), aMovement(drug.id, 'transfer-out', -5)],
    });
    expect(r.json.results?.map((x) => x.status)).toEqual(['applied', 'applied']);
    expect(await levelOf(drug.id)).toMatchObject({ quantity: 15, discrepancy: false, version: 1 });
    const adjust = await push(p.baseUrl, admin, { mutations: [aMovement(drug.id, 'adjust', -1)] });
    expect(adjust.json.results?.[0]).toMatchObject({ status: 'applied' });
    expect(await levelOf(drug.id)).toMatchObject({ quantity: 14, version: 2 });
  });

  it('serves derived levels to pull: created at first, then updated after a movement, never skipped', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    const start = await pullAll(p.baseUrl, pharmacist, { entities: 'stock_levels' });
    await push(p.baseUrl, pharmacist, { mutations: [aMovement(drug.id, 'receive', 8)] });
    const level = await levelOf(drug.id);
    const levelsIn = (pages: PullBody[], kind: 'created' | 'updated') =>
      pages.flatMap((pg) => pg.changes.stock_levels?.[kind] ?? []).filter((r) => r.id === level.id);
    const first = await pullUntil(
      p.baseUrl,
      pharmacist,
      { entities: 'stock_levels', cursor: start.cursor },
      (pg) => levelsIn(pg, 'created').length > 0,
    );
    expect(levelsIn(first.pages, 'created')[0]).toMatchObject({
      id: level.id,
      version: 1,
      drugId: drug.id,
      quantity: 8,
      discrepancy: false,
      facilityId: 'f-1',
    });
    await push(p.baseUrl, pharmacist, { mutations: [aMovement(drug.id, 'transfer-out', -3)] });
    const next = await pullUntil(
      p.baseUrl,
      pharmacist,
      { entities: 'stock_levels', cursor: first.cursor },
      (pg) => levelsIn(pg, 'updated').length > 0,
    );
    expect(levelsIn(next.pages, 'updated')[0]).toMatchObject({ id: level.id, version: 2, quantity: 5 });
  });

  it('replays a retried movement push with the first result and moves stock once', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    const receive = aMovement(drug.id, 'receive', 12);
    const first = await push(p.baseUrl, pharmacist, { mutations: [receive] });
    const second = await push(p.baseUrl, pharmacist, { mutations: [receive] });
    const { replayed, ...rest } = second.json.results?.[0] ?? {};
    expect(replayed).toBe(true);
    expect(JSON.stringify(rest)).toBe(JSON.stringify(first.json.results?.[0]));
    expect(await levelOf(drug.id)).toMatchObject({ quantity: 12, version: 1 });
  });

  it('a dispensing creates exactly one dispense movement, also when its event is redelivered', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    await push(p.baseUrl, pharmacist, { mutations: [aMovement(drug.id, 'receive', 10)] });
    const dispensing = aDispensing(drug.id, 3);
    expect((await push(p.baseUrl, pharmacist, { mutations: [dispensing] })).json.results?.[0]).toMatchObject({
      status: 'applied',
    });
    await eventually(
      async () => (await dispenseMovements(dispensing.id)).length > 0,
      20_000,
      'the dispense movement',
    );
    expect(await dispenseMovements(dispensing.id)).toEqual([
      { kind: 'dispense', quantity: -3, facility_id: 'f-1' },
    ]);
    expect(await levelOf(drug.id)).toMatchObject({ quantity: 7, discrepancy: false, version: 2 });

    // Redeliver: the same CloudEvent (same id) stored again on the stream, bypassing the publish de-duplication.
    const [original] = (await readStream(p.nats.url, 'CLINICAL')).filter(
      (m) =>
        m.subject === 'clinical.t1.pharmacy.dispensing_records.created' && m.event.data.id === dispensing.id,
    );
    const nc = await connect({ servers: p.nats.url });
    await nc.jetstream().publish(original.subject, JSON.stringify(original.event));
    await nc.close();
    await consumerCaughtUp();
    expect(await dispenseMovements(dispensing.id)).toHaveLength(1);
    expect(await levelOf(drug.id)).toMatchObject({ quantity: 7, version: 2 });
    expect(
      await query('SELECT event_id FROM inventory.processed_events WHERE event_id = $1', [original.event.id]),
    ).toHaveLength(1);
  });

  it('accepts a movement that drives the balance below zero, flags the discrepancy and publishes stock_levels.negative', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    await push(p.baseUrl, pharmacist, { mutations: [aMovement(drug.id, 'receive', 2)] });
    const dispensing = aDispensing(drug.id, 5);
    expect((await push(p.baseUrl, pharmacist, { mutations: [dispensing] })).json.results?.[0]).toMatchObject({
      status: 'applied',
    });
    await eventually(
      async () => (await levelOf(drug.id))?.quantity === -3,
      20_000,
      'the level to go negative',
    );
    const level = await levelOf(drug.id);
    expect(level).toMatchObject({ quantity: -3, discrepancy: true });
    await eventually(
      async () =>
        (await readStream(p.nats.url, 'CLINICAL')).some(
          (m) => m.subject === 'clinical.t1.inventory.stock_levels.negative' && m.event.data.id === level.id,
        ),
      20_000,
      'stock_levels.negative',
    );
    const negative = (await readStream(p.nats.url, 'CLINICAL')).find(
      (m) => m.subject === 'clinical.t1.inventory.stock_levels.negative' && m.event.data.id === level.id,
    );
    expect(negative?.event).toMatchObject({
      type: 'clinisync.inventory.stock_levels.negative',
      source: 'clinisync/inventory',
      tenantid: 't1',
    });
    expect(negative?.event.data).toMatchObject({
      facilityId: 'f-1',
      drugId: drug.id,
      previousQuantity: 2,
      quantity: -3,
    });
    expect(negative?.msgId).toBe(negative?.event.id);
  });

  it('rejects a client write to stock_levels as READ_ONLY (derived by the server) and leaves the level untouched', async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    await push(p.baseUrl, pharmacist, { mutations: [aMovement(drug.id, 'receive', 4)] });
    const level = await levelOf(drug.id);
    for (const token of [pharmacist, admin]) {
      const r = await push(p.baseUrl, token, {
        mutations: [
          {
            clientMutationId: randomUUID(),
            entity: 'stock_levels',
            op: 'update',
            id: level.id,
            baseVersion: level.version,
            data: { quantity: 1000 },
          },
          create('stock_levels', { drugId: drug.id, quantity: 1000, discrepancy: false, facilityId: 'f-1' }),
        ],
      });
      expect(r.status).toBe(200);
      expect(r.json.results?.map((x) => [x.status, x.code, x.retryable])).toEqual([
        ['rejected', 'READ_ONLY', false],
        ['rejected', 'READ_ONLY', false],
      ]);
    }
    expect(await levelOf(drug.id)).toEqual(level);
  });

  it("keeps tenants apart: tenant t2 reusing t1's movement id and drug gets its own rows, t1's level is untouched", async () => {
    const drug = aDrug();
    await push(p.baseUrl, admin, { mutations: [drug] });
    const receive = aMovement(drug.id, 'receive', 9);
    await push(p.baseUrl, pharmacist, { mutations: [receive] });
    const t2 = await p.token({ tenantId: 't2', sub: 'u-ph2', roles: ['pharmacist'] });
    const same = { ...aMovement(drug.id, 'receive', 1), id: receive.id };
    expect((await push(p.baseUrl, t2, { mutations: [same] })).json.results?.[0]).toMatchObject({
      status: 'applied',
      id: receive.id,
    });
    expect(await levelOf(drug.id, 't1')).toMatchObject({ quantity: 9 });
    expect(await levelOf(drug.id, 't2')).toMatchObject({ quantity: 1 });
    expect((await levelOf(drug.id, 't1')).id).not.toBe((await levelOf(drug.id, 't2')).id);
  });
});
