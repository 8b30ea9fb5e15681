import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MutationRejectCode } from '@clinisync/contracts';
import { FakePlatform, requestBodyText } from '../test/fake-platform';
import { clientFor, patientData, visitData } from '../test/client-fixture';
import { SyncClientErrorCode } from './errors';
import { SyncClient } from './sync-client';

// Real parts: SqliteStore (:memory: or a temp file), the push engine, sync-core's rules inside the
// fake platform. Fake: the HTTP platform (PROTOCOL.md responses), clock, randomness and sleep.

const push = (c: SyncClient) => c.sync({ pull: false });

describe('push engine: coalescing, batching and ordering', () => {
  let platform: FakePlatform;
  let client: SyncClient;
  beforeEach(() => {
    platform = new FakePlatform();
    ({ client } = clientFor(platform));
  });
  afterEach(() => client.close());

  it('sends a create then updates of a never-synced record as one create with the merged data', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.write((tx) => tx.update('patients', id, { phone: '+254700000001' }));
    await client.write((tx) => tx.update('patients', id, { givenName: 'Aminah' }));
    const report = await push(client);
    expect(platform.pushRequests).toHaveLength(1);
    expect(platform.pushRequests[0].body.mutations).toEqual([
      expect.objectContaining({
        op: 'create',
        id,
        data: { givenName: 'Aminah', familyName: 'Otieno', facilityId: 'f-1', phone: '+254700000001' },
      }),
    ]);
    expect(report.push).toMatchObject({ applied: 1, sent: 1 });
    expect(platform.record('patients', id)?.version).toBe(1);
    expect(await client.get('patients', id)).toMatchObject({
      version: 1,
      _status: 'synced',
      _changed: [],
      phone: '+254700000001',
    });
    expect(client.status()).toMatchObject({ pending: 0, failed: 0 });
  });

  it('sends nothing for a create then delete of a never-synced record and forgets it locally', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.write((tx) => tx.delete('patients', id));
    const report = await push(client);
    expect(platform.pushRequests).toHaveLength(0);
    expect(report.push?.cancelled).toBe(2);
    expect(await client.get('patients', id, { includeDeleted: true })).toBeUndefined();
    expect(client.status().pending).toBe(0);
  });

  it('sends several updates of a synced record as one update from the synced version', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await push(client);
    await client.write((tx) => tx.update('patients', id, { phone: '1' }));
    await client.write((tx) => tx.update('patients', id, { address: 'Kisumu' }));
    await client.write((tx) => tx.update('patients', id, { phone: '2' }));
    await push(client);
    expect(platform.pushRequests[1].body.mutations).toEqual([
      expect.objectContaining({
        op: 'update',
        id,
        baseVersion: 1,
        data: { phone: '2', address: 'Kisumu' },
        changedFields: ['phone', 'address'],
      }),
    ]);
    expect(platform.record('patients', id)).toMatchObject({
      version: 2,
      fields: expect.objectContaining({ phone: '2', address: 'Kisumu' }),
    });
    expect(await client.get('patients', id)).toMatchObject({ version: 2, _status: 'synced' });
  });

  it('splits the outbox into batches of at most 500 mutations', async () => {
    await client.write((tx) => {
      for (let i = 0; i < 1201; i++) tx.create('patients', patientData({ givenName: `P${i}` }));
    });
    const report = await push(client);
    expect(platform.pushRequests.map((r) => r.body.mutations.length)).toEqual([500, 500, 201]);
    expect(report.push).toMatchObject({ requests: 3, applied: 1201 });
    expect(platform.count('patients')).toBe(1201);
    expect(
      platform.pushRequests.every(
        (r) => r.headers['x-device-id'] === 'tablet-7' && r.body.deviceId === 'tablet-7',
      ),
    ).toBe(true);
  });

  it('orders a parent create before a child mutation queued earlier that now references it', async () => {
    const p1 = await client.write((tx) => tx.create('patients', patientData()));
    const v = await client.write((tx) => tx.create('visits', visitData(p1)));
    await push(client);
    await client.write((tx) => tx.update('visits', v, { reason: 'cough' }));
    const p2 = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Baraka' })));
    await client.write((tx) => tx.update('visits', v, { patientId: p2 }));
    await push(client);
    const sent = platform.pushRequests[1].body.mutations.map((m) => `${m.op}:${m.id}`);
    expect(sent).toEqual([`create:${p2}`, `update:${v}`]);
    expect(platform.record('visits', v)?.fields.patientId).toBe(p2);
  });

  it('keeps a child back until its parent create fits in a batch', async () => {
    ({ client } = clientFor(platform, { batchSize: 2 }));
    const p1 = await client.write((tx) => tx.create('patients', patientData()));
    const v = await client.write((tx) => tx.create('visits', visitData(p1)));
    await push(client);
    await client.write((tx) => tx.update('visits', v, { reason: 'cough' }));
    await client.write((tx) => tx.create('patients', patientData({ givenName: 'X' })));
    const p3 = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Y' })));
    await client.write((tx) => tx.update('visits', v, { patientId: p3 }));
    await push(client);
    const batches = platform.pushRequests.slice(1).map((r) => r.body.mutations.map((m) => m.id));
    const flat = batches.flat();
    expect(flat.indexOf(p3)).toBeLessThan(flat.indexOf(v));
    expect(batches.every((b) => b.length <= 2)).toBe(true);
    expect(platform.record('visits', v)?.fields.patientId).toBe(p3);
  });
});

describe('push engine: children waiting for their parents', () => {
  it.each([1, 2, 3])(
    'with batches of %i, children re-pointed to patients created later never go before them and none is lost',
    async (batchSize) => {
      const platform = new FakePlatform();
      const { client } = clientFor(platform, { batchSize });
      const p0 = await client.write((tx) => tx.create('patients', patientData()));
      const visits = await client.write((tx) => [0, 1, 2].map(() => tx.create('visits', visitData(p0))));
      await push(client);
      const before = platform.pushRequests.length;
      for (const v of visits) await client.write((tx) => tx.update('visits', v, { reason: 'cough' }));
      const fresh: string[] = [];
      for (const v of visits) {
        const p = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Later' })));
        fresh.push(p);
        await client.write((tx) => tx.update('visits', v, { patientId: p }));
      }
      await push(client);
      const requests = platform.pushRequests.slice(before);
      const sent = requests.flatMap((r) => r.body.mutations.map((m) => m.id));
      visits.forEach((v, i) => expect(sent.indexOf(fresh[i])).toBeLessThan(sent.indexOf(v)));
      visits.forEach((v) => expect(sent.indexOf(v)).toBeGreaterThanOrEqual(0));
      expect(requests.every((r) => r.body.mutations.length <= batchSize)).toBe(true);
      visits.forEach((v, i) => expect(platform.record('visits', v)?.fields.patientId).toBe(fresh[i]));
      expect(client.status()).toMatchObject({ pending: 0, deadLetters: 0 });
      await client.close();
    },
  );
});

describe('push engine: stable ids, retries and backoff', () => {
  let platform: FakePlatform;
  beforeEach(() => {
    platform = new FakePlatform();
  });

  it('re-sends the same clientMutationIds and payloads after a lost response, and the platform applies once', async () => {
    const { client, waits } = clientFor(platform);
    await client.write((tx) => {
      const p = tx.create('patients', patientData());
      tx.create('visits', visitData(p));
    });
    platform.inject(/sync\/push/, { kind: 'drop-response' });
    const report = await push(client);
    expect(platform.pushRequests).toHaveLength(2);
    expect(platform.pushRequests[1].body.mutations).toEqual(platform.pushRequests[0].body.mutations);
    expect(report.push).toMatchObject({ applied: 2, requests: 1 });
    expect(platform.count('patients')).toBe(1);
    expect(platform.count('visits')).toBe(1);
    expect(waits).toHaveLength(1);
    expect(client.status().pending).toBe(0);
    await client.close();
  });

  it('a client restarted after a lost response re-sends the ids it persisted before sending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-client-restart-'));
    const database = join(dir, 'tablet.db');
    try {
      const first = clientFor(platform, { database, backoff: { maxAttempts: 1 } }).client;
      const id = await first.write((tx) => tx.create('patients', patientData()));
      platform.inject(/sync\/push/, { kind: 'drop-response' });
      await expect(push(first)).rejects.toMatchObject({ code: SyncClientErrorCode.UNREACHABLE });
      await first.close();
      const second = clientFor(platform, { database }).client;
      expect(second.status()).toMatchObject({ pending: 1 });
      await push(second);
      expect(platform.pushRequests[1].body.mutations).toEqual(platform.pushRequests[0].body.mutations);
      expect(platform.count('patients')).toBe(1);
      expect(await second.get('patients', id)).toMatchObject({ version: 1, _status: 'synced' });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours Retry-After on 503 and 429 (delta-seconds and HTTP-date) before retrying', async () => {
    const clock = () => new Date(Date.UTC(2026, 10, 21, 10, 0, 0));
    const { client, waits } = clientFor(platform, { clock });
    await client.write((tx) => tx.create('patients', patientData()));
    platform.inject(/sync\/push/, { kind: 'status', status: 503, retryAfter: '7' });
    platform.inject(/sync\/push/, {
      kind: 'status',
      status: 429,
      retryAfter: 'Sat, 21 Nov 2026 10:00:30 GMT',
    });
    await push(client);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(7000);
    expect(waits[0]).toBeLessThanOrEqual(7700);
    expect(waits[1]).toBeGreaterThanOrEqual(30_000);
    expect(waits[1]).toBeLessThanOrEqual(31_000);
    expect(platform.count('patients')).toBe(1);
    await client.close();
  });

  it('backs off exponentially with jitter on network errors and 5xx without Retry-After', async () => {
    const { client, waits } = clientFor(platform, {
      random: () => 1,
      backoff: { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 10 },
    });
    await client.write((tx) => tx.create('patients', patientData()));
    platform.inject(/sync\/push/, { kind: 'network-error' }, 2);
    platform.inject(/sync\/push/, { kind: 'status', status: 500 }, 4);
    await push(client);
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(platform.count('patients')).toBe(1);
    await client.close();
  });

  it('gives up after maxAttempts, keeps the mutation queued with the same id and ends in error', async () => {
    const { client } = clientFor(platform, { backoff: { maxAttempts: 3 } });
    await client.write((tx) => tx.create('patients', patientData()));
    platform.inject(/sync\/push/, { kind: 'status', status: 503 }, 3);
    await expect(push(client)).rejects.toMatchObject({ code: SyncClientErrorCode.UNREACHABLE });
    expect(client.status()).toMatchObject({ state: 'error', pending: 1, failed: 1 });
    await push(client);
    const ids = new Set(platform.pushRequests.map((r) => r.body.mutations[0].clientMutationId));
    expect(ids.size).toBe(1);
    expect(client.status()).toMatchObject({ state: 'idle', pending: 0, failed: 0 });
    await client.close();
  });

  it('retries a retryable rejection (UNAVAILABLE) with the same id after a backoff', async () => {
    const { client, waits } = clientFor(platform);
    const id = await client.write((tx) => tx.create('patients', patientData()));
    let first = true;
    platform.rejectWhen = () => {
      if (!first) return undefined;
      first = false;
      return MutationRejectCode.UNAVAILABLE;
    };
    const report = await push(client);
    expect(report.push).toMatchObject({ retryableRejections: 1, applied: 1 });
    expect(platform.pushRequests.map((r) => r.body.mutations[0].clientMutationId)).toEqual([
      platform.pushRequests[0].body.mutations[0].clientMutationId,
      platform.pushRequests[0].body.mutations[0].clientMutationId,
    ]);
    expect(waits).toHaveLength(1);
    expect(platform.record('patients', id)?.version).toBe(1);
    await client.close();
  });
});

describe('push engine: rejected, conflict and merged results', () => {
  let platform: FakePlatform;
  let client: SyncClient;
  beforeEach(() => {
    platform = new FakePlatform();
    ({ client } = clientFor(platform));
  });
  afterEach(() => client.close());

  it('dead-letters a non-retryable rejection with its reason and never blocks the rest of the queue', async () => {
    platform.rejectWhen = (m) => (m.entity === 'appointments' ? MutationRejectCode.FORBIDDEN : undefined);
    const ids = await client.write((tx) => {
      const p = tx.create('patients', patientData());
      const a = tx.create('appointments', {
        patientId: p,
        facilityId: 'f-1',
        scheduledAt: '2026-11-25T09:00:00Z',
        status: 'booked',
      });
      const q = tx.create('patients', patientData({ givenName: 'Baraka' }));
      return { p, a, q };
    });
    const deadLetters: string[] = [];
    client.on('dead-letter', (d) => deadLetters.push(d.recordId));
    const report = await push(client);
    expect(report.push).toMatchObject({ applied: 2, deadLettered: 1 });
    expect(platform.count('patients')).toBe(2);
    expect(client.deadLetters()).toEqual([
      expect.objectContaining({
        entity: 'appointments',
        recordId: ids.a,
        code: 'FORBIDDEN',
        message: 'forced FORBIDDEN',
      }),
    ]);
    expect(deadLetters).toEqual([ids.a]);
    expect(client.status()).toMatchObject({ pending: 0, deadLetters: 1 });
    // The local appointment keeps its data until someone decides.
    expect(await client.get('appointments', ids.a)).toMatchObject({ _status: 'created', status: 'booked' });
    // Later writes still flow.
    await client.write((tx) => tx.update('patients', ids.q, { phone: '9' }));
    await push(client);
    expect(platform.record('patients', ids.q)?.version).toBe(2);
  });

  it('dead-letters mutations a 400 names and sends the rest', async () => {
    const a = await client.write((tx) => tx.create('patients', patientData()));
    const b = await client.write((tx) => tx.create('patients', patientData({ givenName: 'B' })));
    platform.inject(/sync\/push/, {
      kind: 'status',
      status: 400,
      code: 'VALIDATION_FAILED',
      details: [{ path: 'mutations[1].data.givenName', message: 'too long' }],
    });
    await push(client);
    expect(client.deadLetters()).toEqual([
      expect.objectContaining({ recordId: b, code: 'VALIDATION_FAILED' }),
    ]);
    expect(platform.record('patients', a)).toBeDefined();
    expect(platform.record('patients', b)).toBeUndefined();
  });

  it('discarding a dead-lettered create removes the never-synced record; retrying queues it again under a new id', async () => {
    platform.rejectWhen = () => MutationRejectCode.FORBIDDEN;
    const a = await client.write((tx) => tx.create('patients', patientData()));
    const b = await client.write((tx) => tx.create('patients', patientData({ givenName: 'B' })));
    await push(client);
    const [da, db] = client.deadLetters();
    client.discardDeadLetter(da.id);
    expect(await client.get('patients', a, { includeDeleted: true })).toBeUndefined();
    platform.rejectWhen = undefined;
    client.retryDeadLetter(db.id);
    await push(client);
    expect(platform.record('patients', b)?.version).toBe(1);
    expect(platform.pushRequests[1].body.mutations[0].clientMutationId).not.toBe(db.clientMutationId);
    expect(client.status()).toMatchObject({ pending: 0, deadLetters: 0 });
  });

  it('keeps the local edit on a conflict, stores both versions and holds the record until resolved', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await push(client);
    platform.serverWrite('patients', 'update', id, { phone: '+254711111111' });
    await client.write((tx) => tx.update('patients', id, { phone: '+254722222222' }));
    const seen: string[] = [];
    client.on('conflict', (c) => seen.push(c.conflictId));
    const report = await push(client);
    expect(report.push?.conflicts).toBe(1);
    const [c] = client.conflicts();
    expect(c).toMatchObject({
      entity: 'patients',
      recordId: id,
      status: 'open',
      conflictingFields: ['phone'],
      baseVersion: 1,
      serverVersion: 2,
      mine: { phone: '+254722222222' },
      server: expect.objectContaining({ id, version: 2, phone: '+254711111111' }),
      local: expect.objectContaining({ phone: '+254722222222', _status: 'updated', _changed: ['phone'] }),
    });
    expect(seen).toEqual([c.conflictId]);
    expect(client.status().openConflicts).toBe(1);
    // Further edits of that record wait for the decision.
    await client.write((tx) => tx.update('patients', id, { address: 'Kisumu' }));
    await push(client);
    expect(platform.pushRequests).toHaveLength(2);
    expect(client.status()).toMatchObject({ pending: 1, openConflicts: 1 });
  });

  it('rebase takes the server record as base and re-applies the local changed fields as a new update', async () => {
    const id = await client.write((tx) =>
      tx.create(
        'visits',
        visitData(
          platform.serverWrite('patients', 'create', '0193f0c2-0000-7000-8000-00000000beef', patientData())
            .id,
        ),
      ),
    );
    await push(client);
    platform.serverWrite('visits', 'update', id, { reason: 'cough' });
    await client.write((tx) => tx.update('visits', id, { endedAt: '2026-11-21T11:00:00Z' }));
    await push(client);
    const [c] = client.conflicts();
    expect(c.conflictingFields).toEqual(['endedAt']);
    client.rebase(c.conflictId);
    expect(await client.get('visits', id)).toMatchObject({
      reason: 'cough',
      endedAt: '2026-11-21T11:00:00.000Z',
      version: 2,
      _status: 'updated',
    });
    await push(client);
    expect(platform.pushRequests.at(-1)?.body.mutations).toEqual([
      expect.objectContaining({
        op: 'update',
        baseVersion: 2,
        data: { endedAt: '2026-11-21T11:00:00.000Z' },
        changedFields: ['endedAt'],
      }),
    ]);
    expect(platform.record('visits', id)).toMatchObject({
      version: 3,
      fields: expect.objectContaining({ reason: 'cough', endedAt: '2026-11-21T11:00:00.000Z' }),
    });
    expect(client.conflicts()).toEqual([]);
    expect(await client.get('visits', id)).toMatchObject({ version: 3, _status: 'synced' });
  });

  it('adopts the server record on merged, keeping fields still edited locally', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await push(client);
    platform.serverWrite('patients', 'update', id, { phone: '+254711111111' });
    await client.write((tx) => tx.update('patients', id, { address: 'Kisumu' }));
    const report = await push(client);
    expect(report.push?.merged).toBe(1);
    expect(await client.get('patients', id)).toMatchObject({
      version: 3,
      phone: '+254711111111',
      address: 'Kisumu',
      _status: 'synced',
      _changed: [],
    });
  });

  it('an edit made while its record create is in flight is sent next, from the acknowledged version', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    platform.onPush = () => {
      platform.onPush = undefined;
      void client.write((tx) => tx.update('patients', id, { phone: '5' }));
    };
    await push(client);
    expect(platform.pushRequests.map((r) => r.body.mutations.map((m) => [m.op, m.baseVersion]))).toEqual([
      [['create', undefined]],
      [['update', 1]],
    ]);
    expect(platform.record('patients', id)?.version).toBe(2);
    expect(await client.get('patients', id)).toMatchObject({ version: 2, phone: '5', _status: 'synced' });
  });
});

describe('push engine: admission refusals (429 / 503 with Retry-After)', () => {
  let platform: FakePlatform;
  beforeEach(() => {
    platform = new FakePlatform();
  });

  /** Every push body the client sent, refused ones included. */
  const recordSent = (p: FakePlatform) => {
    const sent: string[][] = [];
    const inner = p.fetch;
    const fetch = async (input: string, init?: RequestInit) => {
      if (String(input).endsWith('/sync/push'))
        sent.push((JSON.parse(await requestBodyText(init)) as { mutations: { clientMutationId: string }[] }).mutations.map((m) => m.clientMutationId));
      return inner(input, init);
    };
    return { sent, fetch };
  };

  it('waits Retry-After plus capped full jitter on each refusal, then sends the same keys: nothing dropped, nothing applied twice', async () => {
    const { sent, fetch } = recordSent(platform);
    const backoff = { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 10 };
    const { client, waits } = clientFor(platform, { fetch, batchSize: 5, random: () => 0.99, backoff });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await client.write((tx) => tx.create('patients', patientData({ givenName: `P${i}` }))));
    // The first batch goes through, then the device is refused five times in a row.
    const refusals = [
      { status: 429, retryAfter: '1' },
      { status: 503, retryAfter: '2' },
      { status: 429, retryAfter: '1' },
      { status: 503, retryAfter: '2' },
      { status: 429, retryAfter: '3' },
    ];
    let pushes = 0;
    platform.onPush = () => {
      pushes += 1;
      if (pushes === 1) for (const r of refusals) platform.inject(/sync\/push/, { kind: 'status', ...r });
    };
    const report = await client.sync({ pull: false });
    expect(report.push).toMatchObject({ applied: 12 });
    expect(waits).toHaveLength(refusals.length);
    waits.forEach((w, i) => {
      const retryAfterMs = Number(refusals[i].retryAfter) * 1000;
      const cap = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** i);
      expect(w).toBeGreaterThanOrEqual(retryAfterMs);
      expect(w).toBeLessThanOrEqual(retryAfterMs + cap);
    });
    // Every refused request carried exactly the batch sent after it: same keys, same order.
    expect(sent).toHaveLength(3 + refusals.length);
    for (let i = 1; i <= refusals.length; i++) expect(sent[i]).toEqual(sent[refusals.length + 1]);
    const keys = sent.slice(refusals.length).flat().concat(sent[0]);
    expect(new Set(keys).size).toBe(12);
    expect(platform.count('patients')).toBe(12);
    ids.forEach((id) => expect(platform.record('patients', id)?.version).toBe(1));
    expect(client.status()).toMatchObject({ pending: 0, failed: 0 });
    await client.close();
  });

  it('keeps the work queued when refused more often than maxAttempts, and the next sync sends it once with the same keys', async () => {
    const { sent, fetch } = recordSent(platform);
    const { client } = clientFor(platform, { fetch, backoff: { maxAttempts: 3 } });
    for (let i = 0; i < 4; i++) await client.write((tx) => tx.create('patients', patientData({ givenName: `P${i}` })));
    platform.inject(/sync\/push/, { kind: 'status', status: 429, retryAfter: '1' }, 3);
    await expect(client.sync({ pull: false })).rejects.toMatchObject({ code: SyncClientErrorCode.UNREACHABLE });
    expect(client.status()).toMatchObject({ pending: 4 });
    expect(platform.count('patients')).toBe(0);
    const report = await client.sync({ pull: false });
    expect(report.push).toMatchObject({ applied: 4 });
    expect(sent).toHaveLength(4);
    sent.forEach((keys) => expect(keys).toEqual(sent[0]));
    expect(platform.count('patients')).toBe(4);
    expect(client.status()).toMatchObject({ pending: 0, failed: 0 });
    await client.close();
  });
});
