// Real parts: the whole platform (fresh Postgres database, private JetStream, the modules and
// sync-ingest over HTTP and NATS) with small admission limits, and the client SDK with an
// in-memory better-sqlite3 store. A slot is held deterministically by a push whose body is still
// on its way (admission happens when the headers arrive, before the body is read).
import { request } from 'node:http';
import { Mutation } from '@clinisync/contracts';
import { SyncClient } from '@clinisync/sync-client';
import { Platform, startPlatform } from '../support/platform';
import { aPatientCreate, push } from '../support/builders';

interface HeldPush {
  /** Sends the rest of the body and resolves with the answer. */
  finish(): Promise<{ status: number; json: { results?: { status: string; replayed?: boolean }[] } }>;
  /** The client goes away mid-request. */
  abort(): void;
}

describe('push admission control (PROTOCOL.md Errors: 429 RATE_LIMITED, 503 UNAVAILABLE with Retry-After)', () => {
  let p: Platform;
  beforeAll(async () => {
    p = await startPlatform({
      ADMISSION_DEVICE_MAX_IN_FLIGHT: '1',
      ADMISSION_TENANT_MAX_IN_FLIGHT: '2',
      ADMISSION_MAX_IN_FLIGHT: '3',
      ADMISSION_MAX_QUEUED: '0',
      ADMISSION_RETRY_AFTER_SECONDS: '1',
      ADMISSION_OVERLOAD_RETRY_AFTER_SECONDS: '2',
    });
  });
  const open: HeldPush[] = [];
  afterEach(() => open.splice(0).forEach((h) => h.abort()));
  afterAll(async () => {
    await p?.stop();
  });

  const tokenOf = (tenantId = 't1') => p.token({ tenantId, sub: `nurse-${tenantId}` });

  const inFlight = async (): Promise<number> => {
    const text = await (await fetch(`${p.baseUrl}/metrics`)).text();
    return Number(/^clinisync_admission_in_flight(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  const untilInFlight = async (n: number) => {
    for (let i = 0; i < 500; i++) {
      if ((await inFlight()) === n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`admission in-flight never became ${n} (is ${await inFlight()})`);
  };

  /** Starts a push from `deviceId` and stops halfway through its body, holding its admission slot. */
  const hold = async (token: string, deviceId: string): Promise<HeldPush> => {
    const before = await inFlight();
    const body = Buffer.from(JSON.stringify({ deviceId, mutations: [aPatientCreate()] }));
    const url = new URL(`${p.baseUrl}/api/v1/sync/push`);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${token}`, 'x-device-id': deviceId },
    });
    const answer = new Promise<{ status: number; json: never }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as never }));
      });
      req.on('error', reject);
    });
    answer.catch(() => undefined);
    req.write(body.subarray(0, 10));
    const held: HeldPush = {
      finish: () => {
        req.end(body.subarray(10));
        return answer;
      },
      abort: () => req.destroy(),
    };
    open.push(held);
    await untilInFlight(before + 1);
    return held;
  };

  const stored = async (batch: Mutation[]) => {
    const ds = await p.db.ownerDataSource();
    const ids = batch.map((m) => m.id);
    const keys = batch.map((m) => m.clientMutationId);
    const [rows] = await ds.query('SELECT count(*)::int AS n FROM patients.patients WHERE id = ANY($1::uuid[])', [ids]);
    const [ledger] = await ds.query('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE client_mutation_id = ANY($1::uuid[])', [keys]);
    await ds.destroy();
    return { rows: rows.n as number, ledger: ledger.n as number };
  };

  /** The refused batch is accepted once the slot is free, applied once; a resend replays it. */
  const resendAppliesOnce = async (token: string, deviceId: string, batch: Mutation[]) => {
    const again = await push(p.baseUrl, token, { deviceId, mutations: batch }, { 'x-device-id': deviceId });
    expect(again.status).toBe(200);
    expect(again.json.results?.map((r) => [r.status, r.replayed])).toEqual(batch.map(() => ['applied', undefined]));
    const replay = await push(p.baseUrl, token, { deviceId, mutations: batch }, { 'x-device-id': deviceId });
    expect(replay.json.results?.every((r) => r.replayed === true)).toBe(true);
    expect(await stored(batch)).toEqual({ rows: batch.length, ledger: batch.length });
  };

  it('answers a device over its in-flight limit 429 RATE_LIMITED with Retry-After, storing nothing; after backing off the same batch is applied once', async () => {
    const token = await tokenOf();
    const held = await hold(token, 'tab-a');
    const batch = [aPatientCreate(), aPatientCreate()];
    const refused = await push(p.baseUrl, token, { deviceId: 'tab-a', mutations: batch }, { 'x-device-id': 'tab-a' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error).toMatchObject({ code: 'RATE_LIMITED', reason: 'device-in-flight' });
    // Another device of the tenant is not held back by tab-a.
    expect((await push(p.baseUrl, token, { deviceId: 'tab-b', mutations: [aPatientCreate()] }, { 'x-device-id': 'tab-b' })).status).toBe(200);
    expect(await stored(batch)).toEqual({ rows: 0, ledger: 0 });
    expect((await held.finish()).status).toBe(200);
    await untilInFlight(0);
    await resendAppliesOnce(token, 'tab-a', batch);
  });

  it('answers a tenant over its in-flight limit 429 RATE_LIMITED with Retry-After for any of its devices, storing nothing; then applies the batch once', async () => {
    const token = await tokenOf();
    const held = [await hold(token, 'tab-a'), await hold(token, 'tab-b')];
    const batch = [aPatientCreate()];
    const refused = await push(p.baseUrl, token, { deviceId: 'tab-c', mutations: batch }, { 'x-device-id': 'tab-c' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json.error).toMatchObject({ code: 'RATE_LIMITED', reason: 'tenant-in-flight' });
    // Another tenant still gets through.
    expect((await push(p.baseUrl, await tokenOf('t2'), { mutations: [aPatientCreate()] })).status).toBe(200);
    expect(await stored(batch)).toEqual({ rows: 0, ledger: 0 });
    for (const h of held) expect((await h.finish()).status).toBe(200);
    await untilInFlight(0);
    await resendAppliesOnce(token, 'tab-c', batch);
  });

  it('answers 503 UNAVAILABLE with Retry-After when every slot is taken and none may wait, storing nothing; then applies the batch once', async () => {
    const [t1, t2, t3] = [await tokenOf('t1'), await tokenOf('t2'), await tokenOf('t3')];
    const held = [await hold(t1, 'tab-a'), await hold(t1, 'tab-b'), await hold(t2, 'tab-x')];
    const batch = [aPatientCreate(), aPatientCreate(), aPatientCreate()];
    const refused = await push(p.baseUrl, t3, { deviceId: 'tab-y', mutations: batch }, { 'x-device-id': 'tab-y' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.json.error).toMatchObject({ code: 'UNAVAILABLE', reason: 'queue-full' });
    // A pull is admitted by the same pool.
    expect((await fetch(`${p.baseUrl}/api/v1/sync/pull?limit=10`, { headers: { authorization: `Bearer ${t3}` } })).status).toBe(503);
    expect(await stored(batch)).toEqual({ rows: 0, ledger: 0 });
    for (const h of held) expect((await h.finish()).status).toBe(200);
    await untilInFlight(0);
    await resendAppliesOnce(t3, 'tab-y', batch);
    const text = await (await fetch(`${p.baseUrl}/metrics`)).text();
    expect(text).toMatch(/clinisync_admission_refused_total\{route="push",reason="queue-full",status="503"[^}]*\} [1-9]/);
    expect(text).toMatch(/clinisync_admission_refused_total\{route="push",reason="device-in-flight",status="429"[^}]*\} [1-9]/);
  });

  it('frees the slot of a client that goes away mid-request', async () => {
    const token = await tokenOf();
    const held = await hold(token, 'tab-a');
    held.abort();
    await untilInFlight(0);
    const batch = [aPatientCreate()];
    expect((await push(p.baseUrl, token, { deviceId: 'tab-a', mutations: batch }, { 'x-device-id': 'tab-a' })).status).toBe(200);
    expect(await stored(batch)).toEqual({ rows: 1, ledger: 1 });
  });

  it('the SDK backs off on 429 honouring Retry-After and then pushes its queued work once, with the same keys', async () => {
    const token = await tokenOf();
    const waits: number[] = [];
    let held: HeldPush | undefined = await hold(token, 'tab-sdk');
    const client = SyncClient.open({
      baseUrl: p.baseUrl,
      token: async () => token,
      deviceId: 'tab-sdk',
      // The backoff's sleep frees the device's slot instead of waiting for real.
      sleep: async (ms) => {
        waits.push(ms);
        if (held) {
          const h = held;
          held = undefined;
          expect((await h.finish()).status).toBe(200);
          await untilInFlight(0);
        }
      },
    });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await client.write((tx) => tx.create('patients', { givenName: `Amina ${i}`, familyName: 'Otieno', facilityId: 'f-1' })));
      const report = await client.sync({ pull: false });
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThanOrEqual(1000);
      expect(report.push).toMatchObject({ applied: 3 });
      expect(client.status()).toMatchObject({ pending: 0, failed: 0 });
      const ds = await p.db.ownerDataSource();
      const [rows] = await ds.query('SELECT count(*)::int AS n FROM patients.patients WHERE id = ANY($1::uuid[])', [ids]);
      const [ledger] = await ds.query('SELECT count(*)::int AS n FROM sync_ledger.mutations WHERE aggregate_id = ANY($1::uuid[])', [ids]);
      await ds.destroy();
      expect([rows.n, ledger.n]).toEqual([3, 3]);
    } finally {
      await client.close();
    }
  });
});
