import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, aPatientUpdate, pullAll, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

describe('push resilience (PROTOCOL.md: crash then retry applies once; events wait while NATS is down)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const rows = async (id: string) => {
    const ds = await p.db.ownerDataSource();
    const [r] = await ds.query('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [id]);
    await ds.destroy();
    return r.n as number;
  };
  const eventsFor = async (id: string) => (await readStream(p.nats.url, 'CLINICAL')).filter((m) => m.event.data.id === id);

  it('patients killed after commit and before reply, then the push retried: one row, one event, same result', async () => {
    const token = await p.token();
    await p.runPatientsAsProcess({ CLINISYNC_FAILPOINT: 'after-commit-before-reply' });
    const create = aPatientCreate();
    const first = await push(p.baseUrl, token, { mutations: [create] });
    expect(first.status).toBe(200);
    // The module committed and died before answering: the answer is what the ledger holds, never "not applied".
    expect(first.json.results?.[0]).toEqual({ clientMutationId: create.clientMutationId, status: 'applied', id: create.id, version: 1 });
    expect(await rows(create.id)).toBe(1); // committed before the crash

    await p.stopPatients();
    await p.startPatients();
    const retry = await push(p.baseUrl, token, { mutations: [create] });
    expect(retry.json.results?.[0]).toEqual({ ...first.json.results?.[0], replayed: true });
    const again = await push(p.baseUrl, token, { mutations: [create] });
    expect(again.json.results?.[0]).toEqual({ ...retry.json.results?.[0], replayed: true });
    expect(await rows(create.id)).toBe(1);
    await eventually(async () => (await eventsFor(create.id)).length >= 1, 20_000, 'the created event');
    expect(await eventsFor(create.id)).toHaveLength(1);
  });

  it('NATS stopped during pushes: every push succeeds and every event arrives once after restart', async () => {
    const token = await p.token();
    const before = (await readStream(p.nats.url, 'CLINICAL')).length;
    await p.nats.stop();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = aPatientCreate();
      const u = aPatientUpdate(c.id, 1, { phone: `+2547000000${i}` });
      const r = await push(p.baseUrl, token, { mutations: [c, u] });
      expect(r.status).toBe(200);
      expect(r.json.results).toEqual([expect.objectContaining({ status: 'applied' }), expect.objectContaining({ status: 'applied' })]);
      ids.push(c.id);
    }
    await p.nats.start();
    await eventually(async () => (await readStream(p.nats.url, 'CLINICAL')).length >= before + 10, 30_000, '10 events after NATS restart');
    const all = await readStream(p.nats.url, 'CLINICAL');
    const mine = all.filter((m) => ids.includes(m.event.data.id));
    expect(mine).toHaveLength(10);
    expect(new Set(mine.map((m) => m.event.id)).size).toBe(10);
    for (const id of ids) {
      const perRecord = mine.filter((m) => m.event.data.id === id).map((m) => [m.event.data.action, m.event.data.version]);
      expect(perRecord).toEqual([['created', 1], ['updated', 2]]);
    }
    const sample = mine[0];
    expect(sample.msgId).toBe(sample.event.id);
    expect(sample.subject).toBe('clinical.t1.patients.patients.created');
    expect(sample.event).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', tenantid: 't1', source: 'clinisync/patients' });
  });

  it('NATS stopped: pull pages go on over the modules\' HTTP fallback, same records as over NATS', async () => {
    const token = await p.token({ tenantId: 'tfb' });
    const creates = Array.from({ length: 7 }, () => aPatientCreate());
    expect((await push(p.baseUrl, token, { mutations: creates })).status).toBe(200);
    const overNats = await pullAll(p.baseUrl, token, { entities: 'patients,visits', limit: '3' });
    await p.nats.stop();
    try {
      const overHttp = await pullAll(p.baseUrl, token, { entities: 'patients,visits', limit: '3' });
      // Same pages; the cursors differ only in the snapshots they were read at.
      expect(overHttp.pages).toEqual(overNats.pages.map((page) => ({ ...page, cursor: expect.any(String), serverTime: expect.any(String) })));
      // One push, one transaction: later pages of it are still records the client never had.
      expect(overHttp.pages.flatMap((page) => page.changes.patients.created.map((r) => r.id)).sort()).toEqual(creates.map((c) => c.id).sort());
      expect(overHttp.pages.flatMap((page) => page.changes.patients.updated)).toEqual([]);
    } finally {
      await p.nats.start();
    }
  });
});
