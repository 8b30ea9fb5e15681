import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, aPatientUpdate, push } from '../support/builders';
import { eventually, readStream } from '../support/streams';

describe('push idempotency (PROTOCOL.md Push: idempotency)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    await p?.stop();
  });

  const rowCount = async (id: string) => {
    const ds = await p.db.ownerDataSource();
    const rows = await ds.query('SELECT count(*)::int AS n FROM patients.patients WHERE id = $1', [id]);
    await ds.destroy();
    return rows[0].n as number;
  };

  it('replays a retried push byte for byte with replayed: true and changes nothing', async () => {
    const token = await p.token();
    const create = aPatientCreate();
    const update = aPatientUpdate(create.id, 1, { phone: '+254700000001' });
    const first = await push(p.baseUrl, token, { mutations: [create, update] });
    expect(first.status).toBe(200);
    const second = await push(p.baseUrl, token, { mutations: [create, update] });
    expect(second.status).toBe(200);
    const firstItems = first.json.results ?? [];
    const secondItems = second.json.results ?? [];
    expect(secondItems).toHaveLength(2);
    secondItems.forEach((item, i) => {
      expect(item.replayed).toBe(true);
      const { replayed: _r, ...rest } = item;
      expect(JSON.stringify(rest)).toBe(JSON.stringify(firstItems[i]));
    });
    expect(await rowCount(create.id)).toBe(1);
  });

  it('applies 50 concurrent identical pushes exactly once', async () => {
    const token = await p.token();
    const create = aPatientCreate();
    const responses = await Promise.all(Array.from({ length: 50 }, () => push(p.baseUrl, token, { mutations: [create] })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const statuses = responses.map((r) => r.json.results?.[0]);
    expect(statuses.every((s) => s?.status === 'applied' && s.version === 1)).toBe(true);
    expect(statuses.filter((s) => !s?.replayed)).toHaveLength(1);
    expect(await rowCount(create.id)).toBe(1);
  });

  it('with one key pushed concurrently under two payloads, applies one and tells only its senders so', async () => {
    const token = await p.token();
    const a = aPatientCreate();
    const b = { ...a, data: { ...a.data, givenName: 'Other Payload' } };
    const bodies = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b));
    const responses = await Promise.all(bodies.map((m) => push(p.baseUrl, token, { mutations: [m] })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const ds = await p.db.ownerDataSource();
    const [row] = await ds.query('SELECT given_name FROM patients.patients WHERE id = $1', [a.id]);
    await ds.destroy();
    const winner = row.given_name === a.data?.givenName ? a : b;
    responses.forEach((r, i) => {
      const result = r.json.results?.[0];
      if (bodies[i] === winner) expect(result).toMatchObject({ status: 'applied', version: 1 });
      else expect(result).toMatchObject({ status: 'rejected', code: 'IDEMPOTENCY_KEY_REUSED' });
    });
    expect(responses.filter((r) => r.json.results?.[0]?.status === 'applied' && !r.json.results?.[0]?.replayed)).toHaveLength(1);
    expect(await rowCount(a.id)).toBe(1);
  });

  it('rejects a reused key with another payload as IDEMPOTENCY_KEY_REUSED and keeps the first result', async () => {
    const token = await p.token();
    const create = aPatientCreate();
    await push(p.baseUrl, token, { mutations: [create] });
    const reused = { ...create, data: { ...create.data, givenName: 'Someone Else' } };
    const r = await push(p.baseUrl, token, { mutations: [reused] });
    expect(r.json.results?.[0]).toMatchObject({ status: 'rejected', code: 'IDEMPOTENCY_KEY_REUSED', retryable: false });
    const replay = await push(p.baseUrl, token, { mutations: [create] });
    expect(replay.json.results?.[0]).toMatchObject({ status: 'applied', version: 1, replayed: true });
    // The reuse is audited (audit.<tenant>.idempotency-key-reused), without the payload's values.
    await eventually(async () =>
      (await readStream(p.nats.url, 'AUDIT')).some((m) => m.subject === 'audit.t1.idempotency-key-reused' && JSON.stringify(m.event.data).includes(create.clientMutationId)),
    );
    const audit = (await readStream(p.nats.url, 'AUDIT')).find((m) => m.subject === 'audit.t1.idempotency-key-reused');
    expect(JSON.stringify(audit?.event.data)).not.toContain('Someone Else');
  });
});
