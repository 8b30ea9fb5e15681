import { FakePlatform } from '../test/fake-platform';
import { clientFor, patientData, visitData } from '../test/client-fixture';
import { SyncClientErrorCode } from './errors';
import { SyncClient } from './sync-client';
import { SyncPhase, SyncStateMachine } from './sync-state';

// Real parts: SqliteStore (:memory:), the whole client. Fake: the platform's HTTP API
// (PROTOCOL.md responses), clock, randomness and sleep.

describe('SyncStateMachine', () => {
  it.each<[SyncPhase, SyncPhase, boolean]>([
    ['idle', 'pushing', true],
    ['pushing', 'pulling', true],
    ['pulling', 'idle', true],
    ['pushing', 'error', true],
    ['pulling', 'error', true],
    ['error', 'pushing', true],
    ['idle', 'pulling', true],
    ['pushing', 'idle', true],
    ['idle', 'error', false],
    ['pulling', 'pushing', false],
    ['idle', 'idle', false],
  ])('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(SyncStateMachine.canTransition(from, to)).toBe(allowed);
  });

  it('refuses an illegal transition', () => {
    const m = new SyncStateMachine(
      () => undefined,
      () => new Date(),
    );
    expect(() => m.transition('pulling')).not.toThrow();
    expect(() => m.transition('pushing')).toThrow(/illegal/);
  });
});

describe('SyncClient', () => {
  let platform: FakePlatform;
  let client: SyncClient;
  beforeEach(() => {
    platform = new FakePlatform();
    ({ client } = clientFor(platform));
  });
  afterEach(() => client.close());

  it('goes idle -> pushing -> pulling -> idle and emits each state for a UI', async () => {
    const states: string[] = [];
    client.on('state', (c) => states.push(`${c.from}>${c.to}`));
    const synced: unknown[] = [];
    client.on('synced', (r) => synced.push(r));
    await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    expect(states).toEqual(['idle>pushing', 'pushing>pulling', 'pulling>idle']);
    expect(synced).toHaveLength(1);
    expect(client.status()).toMatchObject({
      state: 'idle',
      lastSyncedAt: expect.any(String),
      lastError: null,
    });
  });

  it('goes to error when a phase fails, reports it, and recovers on the next run', async () => {
    const states: string[] = [];
    const errors: Error[] = [];
    client.on('state', (c) => states.push(c.to));
    client.on('sync-error', (e) => errors.push(e));
    platform.inject(/sync\/pull/, { kind: 'status', status: 401, code: 'UNAUTHENTICATED' });
    await expect(client.sync()).rejects.toMatchObject({ code: SyncClientErrorCode.HTTP_ERROR });
    expect(states).toEqual(['pushing', 'pulling', 'error']);
    expect(errors).toHaveLength(1);
    expect(client.status()).toMatchObject({ state: 'error', lastError: expect.stringContaining('401') });
    await client.sync();
    expect(states.slice(3)).toEqual(['pushing', 'pulling', 'idle']);
  });

  it('concurrent sync() calls share one run', async () => {
    await client.write((tx) => tx.create('patients', patientData()));
    const a = client.sync();
    const b = client.sync();
    expect(b).toBe(a);
    expect(client.status().syncing).toBe(true);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(platform.pushRequests).toHaveLength(1);
    expect(platform.pullRequests).toHaveLength(1);
    expect(client.status().syncing).toBe(false);
    await client.sync();
    expect(platform.pullRequests).toHaveLength(2);
  });

  it('commits a write and its outbox entries together, or nothing when the callback throws', async () => {
    const before = client.status().pending;
    await expect(
      client.write((tx) => {
        tx.create('patients', patientData());
        tx.create('patients', patientData({ givenName: 'B' }));
        throw new Error('user cancelled');
      }),
    ).rejects.toThrow('user cancelled');
    expect(client.list('patients')).toEqual([]);
    expect(client.status().pending).toBe(before);
    const id = await client.write((tx) => tx.create('patients', patientData()));
    expect(client.list('patients').map((p) => p.id)).toEqual([id]);
    expect(client.status().pending).toBe(1);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  });

  it('refuses invalid writes before storing anything', async () => {
    await expect(client.write((tx) => tx.create('patients', { facilityId: 'f-1' }))).rejects.toMatchObject({
      code: SyncClientErrorCode.INVALID_WRITE,
    });
    await expect(client.write((tx) => tx.create('nope', {}))).rejects.toMatchObject({
      code: SyncClientErrorCode.INVALID_WRITE,
    });
    await expect(
      client.write((tx) => tx.create('patients', patientData({ version: 3 }))),
    ).rejects.toMatchObject({ code: SyncClientErrorCode.INVALID_WRITE });
    await expect(
      client.write((tx) => tx.create('patients', patientData({ sex: 'x' }))),
    ).rejects.toMatchObject({ code: SyncClientErrorCode.INVALID_WRITE });
    await expect(
      client.write((tx) => tx.update('patients', '0193f0c2-0000-7000-8000-000000000001', { phone: '1' })),
    ).rejects.toMatchObject({
      code: SyncClientErrorCode.RECORD_NOT_FOUND,
    });
    const p = await client.write((tx) => tx.create('patients', patientData()));
    const v = await client.write((tx) =>
      tx.create('vitals', {
        patientId: p,
        facilityId: 'f-1',
        recordedAt: '2026-11-21T09:00:00Z',
        systolic: 120,
      }),
    );
    await expect(client.write((tx) => tx.update('vitals', v, { systolic: 130 }))).rejects.toMatchObject({
      code: SyncClientErrorCode.NOT_EDITABLE,
    });
    await expect(
      client.write((tx) =>
        tx.create('stock_levels', { drugId: p, quantity: 1, discrepancy: false, facilityId: 'f-1' }),
      ),
    ).rejects.toMatchObject({
      code: SyncClientErrorCode.NOT_EDITABLE,
    });
    expect(client.status().pending).toBe(2);
  });

  it('keeps _status and _changed per record as it is edited locally', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    expect(await client.get('patients', id)).toMatchObject({
      _status: 'created',
      _changed: ['facilityId', 'familyName', 'givenName'],
      version: null,
    });
    await client.sync();
    await client.write((tx) => tx.update('patients', id, { phone: '1' }));
    expect(await client.get('patients', id)).toMatchObject({
      _status: 'updated',
      _changed: ['phone'],
      version: 1,
    });
    await client.write((tx) => tx.delete('patients', id));
    expect(await client.get('patients', id, { includeDeleted: true })).toMatchObject({
      _status: 'deleted',
      deletedAt: expect.any(String),
    });
    await client.sync();
    expect(await client.get('patients', id, { includeDeleted: true })).toMatchObject({
      _status: 'synced',
      version: 2,
    });
    expect(platform.record('patients', id)?.deletedAt).not.toBeNull();
  });

  it('reports pending, failed, dead letters, open conflicts and the oldest pending age', async () => {
    let now = Date.UTC(2026, 10, 21, 8, 0, 0);
    ({ client } = clientFor(platform, { clock: () => new Date(now), backoff: { maxAttempts: 1 } }));
    await client.write((tx) => tx.create('patients', patientData()));
    now += 90_000;
    await client.write((tx) => tx.create('patients', patientData({ givenName: 'B' })));
    now += 30_000;
    expect(client.status()).toMatchObject({
      pending: 2,
      failed: 0,
      deadLetters: 0,
      openConflicts: 0,
      oldestPendingAgeMs: 120_000,
      oldestPendingAt: '2026-11-21T08:00:00.000Z',
      lastSyncedAt: null,
    });
    platform.inject(/sync\/push/, { kind: 'network-error' });
    await expect(client.sync()).rejects.toBeDefined();
    expect(client.status()).toMatchObject({ pending: 2, failed: 2, state: 'error' });
  });

  it('switches to online mode only when nothing is pending, then reads and writes through the server', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    expect(() => client.setOnline(true)).toThrow(
      expect.objectContaining({ code: SyncClientErrorCode.PENDING_CHANGES }),
    );
    await client.sync();
    const modes: boolean[] = [];
    client.on('mode', (m) => modes.push(m.online));
    client.setOnline(true);
    expect(client.isOnline).toBe(true);
    await client.write((tx) => tx.update('patients', id, { phone: '+254700000009' }));
    expect(platform.pushRequests.at(-1)?.body.mutations).toEqual([
      expect.objectContaining({ op: 'update', id, baseVersion: 1, data: { phone: '+254700000009' } }),
    ]);
    expect(await client.get('patients', id)).toMatchObject({ phone: '+254700000009', version: 2 });
    expect(client.localStore.getRecord('patients', id)?.fields.phone).toBeNull();
    const created = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Online' })));
    expect(platform.record('patients', created)?.version).toBe(1);
    expect(client.status().pending).toBe(0);
    platform.serverWrite('patients', 'update', id, { phone: 'other' });
    await expect(
      client.write((tx) => tx.update('patients', id, { phone: 'mine' }, { baseVersion: 2 })),
    ).rejects.toMatchObject({
      code: SyncClientErrorCode.ONLINE_WRITE_FAILED,
    });
    expect(() => client.list('patients')).toThrow(
      expect.objectContaining({ code: SyncClientErrorCode.ONLINE_MODE }),
    );
    client.setOnline(false);
    expect(modes).toEqual([true, false]);
  });

  it('retries an online write after a lost response with the same ids, so the server applies it once', async () => {
    await client.sync();
    client.setOnline(true);
    platform.inject(/sync\/push/, { kind: 'drop-response' });
    const id = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Online' })));
    expect(platform.pushRequests).toHaveLength(2);
    expect(platform.pushRequests[1].body.mutations).toEqual(platform.pushRequests[0].body.mutations);
    expect(platform.record('patients', id)?.version).toBe(1);
  });

  it('abandons a request that hangs past the timeout as a retryable network error', async () => {
    let calls = 0;
    const hanging = (input: string, init?: RequestInit): Promise<Response> => {
      calls += 1;
      if (calls > 1) return platform.fetch(input, init);
      return new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    };
    ({ client } = clientFor(platform, { fetch: hanging, requestTimeoutMs: 50 }));
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync({ pull: false });
    expect(calls).toBe(2);
    expect(platform.record('patients', id)?.version).toBe(1);
  });

  it('refuses online mode while a conflict is open', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'a' });
    await client.write((tx) => tx.update('patients', id, { phone: 'b' }));
    await client.sync({ pull: false });
    expect(client.status()).toMatchObject({ pending: 0, openConflicts: 1 });
    expect(() => client.setOnline(true)).toThrow(
      expect.objectContaining({ code: SyncClientErrorCode.PENDING_CHANGES }),
    );
  });

  it('force upload queues records changed since an instant that have nothing queued', async () => {
    let now = Date.UTC(2026, 10, 21, 8, 0, 0);
    ({ client } = clientFor(platform, { clock: () => new Date(now) }));
    const old = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Old' })));
    now += 3_600_000;
    const recent = await client.write((tx) => tx.create('patients', patientData({ givenName: 'Recent' })));
    await client.write((tx) => tx.create('visits', visitData(recent)));
    await client.sync({ pull: false });
    expect(client.forceUpload(new Date(Date.UTC(2026, 10, 21, 8, 30, 0)))).toBe(2);
    expect(client.forceUpload(new Date(Date.UTC(2026, 10, 21, 8, 30, 0)))).toBe(0);
    expect(await client.get('patients', recent)).toMatchObject({ _status: 'updated' });
    expect(await client.get('patients', old)).toMatchObject({ _status: 'synced' });
    expect(client.status().pending).toBe(2);
    await client.sync({ pull: false });
    expect(platform.pushRequests.at(-1)?.body.mutations.map((m) => [m.op, m.id, m.baseVersion])).toEqual([
      ['update', recent, 1],
      ['update', expect.any(String), 1],
    ]);
    expect(platform.record('patients', recent)?.version).toBe(2);
    expect(client.status().pending).toBe(0);
  });

  it('resolves a conflict on the server (server_wins) and adopts the server values locally', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    const [c] = client.conflicts();
    const res = await client.resolveConflict(
      c.conflictId,
      'server_wins',
      undefined,
      'nurse confirmed the number',
    );
    expect(platform.resolveRequests).toEqual([
      { conflictId: c.conflictId, body: { resolution: 'server_wins', reason: 'nurse confirmed the number' } },
    ]);
    expect(res).toMatchObject({ version: 2 });
    expect(await client.get('patients', id)).toMatchObject({
      phone: 'server',
      version: 2,
      _status: 'synced',
      _changed: [],
    });
    expect(client.conflicts()).toEqual([]);
    expect(client.conflicts({ includeResolved: true })[0]).toMatchObject({
      status: 'resolved',
      resolution: 'server_wins',
    });
    await expect(client.resolveConflict(c.conflictId, 'client_wins')).rejects.toMatchObject({
      code: SyncClientErrorCode.CONFLICT_ALREADY_RESOLVED,
    });
  });

  it('resolves a conflict as merge with data, then pending edits of the record flow again', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    await client.write((tx) => tx.update('patients', id, { address: 'Kisumu' }));
    const [c] = client.conflicts();
    await client.resolveConflict(c.conflictId, 'merge', { phone: 'server / local' });
    expect(platform.record('patients', id)).toMatchObject({
      version: 3,
      fields: expect.objectContaining({ phone: 'server / local' }),
    });
    expect(await client.get('patients', id)).toMatchObject({
      phone: 'server / local',
      address: 'Kisumu',
      version: 3,
      _status: 'updated',
      _changed: ['address'],
    });
    await client.sync();
    expect(platform.record('patients', id)).toMatchObject({
      version: 4,
      fields: expect.objectContaining({ phone: 'server / local', address: 'Kisumu' }),
    });
    expect(await client.get('patients', id)).toMatchObject({ _status: 'synced', version: 4 });
  });

  it('resolves a conflict as client_wins: the server takes the local values', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    await client.resolveConflict(client.conflicts()[0].conflictId, 'client_wins');
    expect(platform.record('patients', id)?.fields.phone).toBe('local');
    expect(await client.get('patients', id)).toMatchObject({ phone: 'local', version: 3, _status: 'synced' });
  });

  it('a conflict resolved elsewhere (409) releases the hold and restores the last seen server value', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    const [c] = client.conflicts();
    platform.inject(/resolve$/, { kind: 'status', status: 409, code: 'CONFLICT' });
    await expect(client.resolveConflict(c.conflictId, 'client_wins')).rejects.toMatchObject({
      code: SyncClientErrorCode.CONFLICT_ALREADY_RESOLVED,
    });
    expect(client.conflicts()).toEqual([]);
    expect(await client.get('patients', id)).toMatchObject({ phone: 'server', _status: 'synced' });
  });

  it('a resolution refused because the record moved keeps the conflict open against the new server record', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    const moved = platform.serverWrite('patients', 'update', id, { phone: 'server again' });
    platform.inject(/resolve$/, {
      kind: 'status',
      status: 409,
      code: 'CONFLICT',
      extra: { serverVersion: moved.version, serverRecord: moved },
    });
    const [c] = client.conflicts();
    await expect(client.resolveConflict(c.conflictId, 'server_wins')).rejects.toMatchObject({
      code: SyncClientErrorCode.CONFLICT_MOVED,
    });
    expect(client.conflicts()).toEqual([
      expect.objectContaining({
        status: 'open',
        serverVersion: 3,
        server: expect.objectContaining({ phone: 'server again' }),
      }),
    ]);
    expect(await client.get('patients', id)).toMatchObject({ phone: 'local', _status: 'updated' });
  });

  it('manual_review keeps the record held', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'update', id, { phone: 'server' });
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    await client.resolveConflict(client.conflicts()[0].conflictId, 'manual_review');
    expect(client.conflicts()).toEqual([expect.objectContaining({ status: 'manual_review' })]);
    expect(await client.get('patients', id)).toMatchObject({ phone: 'local', _status: 'updated' });
  });

  it('refuses to rebase onto a record deleted on the server', async () => {
    const id = await client.write((tx) => tx.create('patients', patientData()));
    await client.sync();
    platform.serverWrite('patients', 'delete', id);
    await client.write((tx) => tx.update('patients', id, { phone: 'local' }));
    await client.sync({ pull: false });
    const [c] = client.conflicts();
    expect(() => client.rebase(c.conflictId)).toThrow(
      expect.objectContaining({ code: SyncClientErrorCode.REBASE_ON_DELETED }),
    );
  });

  it('emits change notices for local writes, pushes and pulls', async () => {
    const seen: string[] = [];
    client.on('change', (c) => seen.push(`${c.source}:${c.entity}:${c.ids.length}`));
    await client.write((tx) => tx.create('patients', patientData()));
    platform.serverWrite('patients', 'create', '0193f0c2-0000-7000-8000-0000000000ff', patientData());
    await client.sync();
    expect(seen).toEqual(['local:patients:1', 'push:patients:1', 'pull:patients:2']);
  });

  it('refuses calls after close', async () => {
    await client.close();
    await expect(client.write((tx) => tx.create('patients', patientData()))).rejects.toMatchObject({
      code: SyncClientErrorCode.CLOSED,
    });
    expect(() => client.status()).toThrow(expect.objectContaining({ code: SyncClientErrorCode.CLOSED }));
  });
});
