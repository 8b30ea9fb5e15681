import { AdmissionRefusalReason, AdmissionRefused } from './admission.errors';
import { Admission, AdmissionAbandoned, AdmissionLimits, LoadProbe } from './admission.service';

// Real: the admission rules. Fake: the clock and timers (hand-moved), the load probe.

const OFF: AdmissionLimits = {
  deviceMaxInFlight: 0,
  deviceRatePerSecond: 0,
  deviceBurst: 1,
  tenantMaxInFlight: 0,
  tenantRatePerSecond: 0,
  tenantBurst: 1,
  maxInFlight: 0,
  maxQueued: 0,
  queueTimeoutMs: 1000,
  retryAfterSeconds: 1,
  overloadRetryAfterSeconds: 2,
};

function setup(limits: Partial<AdmissionLimits>, load: ReturnType<LoadProbe['overload']> = undefined) {
  let now = 0;
  const timers: { at: number; fn: () => void; cleared: boolean }[] = [];
  const refused: string[] = [];
  const admitted: boolean[] = [];
  const probe = { value: load };
  const admission = new Admission(
    { ...OFF, ...limits },
    {
      now: () => now,
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn, cleared: false };
        timers.push(t);
        return t;
      },
      clearTimer: (h) => {
        (h as { cleared: boolean }).cleared = true;
      },
      load: { overload: () => probe.value },
      observer: { admitted: (_r, q) => admitted.push(q), refused: (_r, reason, status) => refused.push(`${status} ${reason}`) },
    },
  );
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers) if (!t.cleared && t.at <= now) {
      t.cleared = true;
      t.fn();
    }
  };
  return { admission, advance, refused, admitted, probe };
}

const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const device = (deviceId: string, tenantId = 't1') => ({ route: 'push' as const, tenantId, deviceId });

describe('admission control (sync-ingest)', () => {
  it('refuses a device over its in-flight limit with 429 and admits it again once a request ends', async () => {
    const { admission, refused } = setup({ deviceMaxInFlight: 1 });
    const first = await admission.admit(device('d1'));
    const e = await refusal(admission.admit(device('d1')));
    expect(e).toBeInstanceOf(AdmissionRefused);
    expect(e).toMatchObject({ code: 'RATE_LIMITED', reason: AdmissionRefusalReason.DEVICE_IN_FLIGHT, retryAfterSeconds: 1 });
    await admission.admit(device('d2'));
    await admission.admit(device('d1', 't2'));
    first.release();
    first.release(); // idempotent: a second release frees nothing more
    const again = await admission.admit(device('d1'));
    await expect(admission.admit(device('d1'))).rejects.toMatchObject({ reason: AdmissionRefusalReason.DEVICE_IN_FLIGHT });
    again.release();
    expect(refused).toEqual(['429 device-in-flight', '429 device-in-flight']);
  });

  it('refuses a tenant over its in-flight limit with 429, whatever the device, and leaves other tenants alone', async () => {
    const { admission } = setup({ tenantMaxInFlight: 2 });
    await admission.admit(device('d1'));
    const b = await admission.admit(device('d2'));
    await expect(admission.admit(device('d3'))).rejects.toMatchObject({ code: 'RATE_LIMITED', reason: AdmissionRefusalReason.TENANT_IN_FLIGHT });
    await expect(admission.admit({ route: 'pull', tenantId: 't1' })).rejects.toMatchObject({ reason: AdmissionRefusalReason.TENANT_IN_FLIGHT });
    await admission.admit(device('d1', 't2'));
    b.release();
    await admission.admit(device('d3'));
  });

  it('limits a device rate with a token bucket and says when the next token comes', async () => {
    const { admission, advance } = setup({ deviceRatePerSecond: 2, deviceBurst: 3 });
    for (let i = 0; i < 3; i++) (await admission.admit(device('d1'))).release();
    await expect(admission.admit(device('d1'))).rejects.toMatchObject({ code: 'RATE_LIMITED', reason: AdmissionRefusalReason.DEVICE_RATE, retryAfterSeconds: 1 });
    (await admission.admit(device('d2'))).release();
    advance(500);
    (await admission.admit(device('d1'))).release();
    await expect(admission.admit(device('d1'))).rejects.toMatchObject({ reason: AdmissionRefusalReason.DEVICE_RATE });
  });

  it('limits a tenant rate, and a refusal takes no token of the device', async () => {
    const { admission, advance } = setup({ tenantRatePerSecond: 1, tenantBurst: 2, deviceRatePerSecond: 1, deviceBurst: 2 });
    (await admission.admit(device('d1'))).release();
    (await admission.admit(device('d2'))).release();
    const e = await refusal(admission.admit(device('d1')));
    expect(e).toMatchObject({ reason: AdmissionRefusalReason.TENANT_RATE, retryAfterSeconds: 1 });
    advance(1000);
    // d1 still has its second token: the tenant refusal did not spend it.
    (await admission.admit(device('d1'))).release();
  });

  it('queues beyond the global slots, hands a released slot to the first waiter, and answers 503 when the queue is full', async () => {
    const { admission, refused, admitted } = setup({ maxInFlight: 1, maxQueued: 1 });
    const a = await admission.admit(device('d1'));
    const waiting = admission.admit(device('d2'));
    expect(admission.queued).toBe(1);
    await expect(admission.admit(device('d3', 't2'))).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: AdmissionRefusalReason.QUEUE_FULL, retryAfterSeconds: 2 });
    a.release();
    const b = await waiting;
    expect([admission.inFlight, admission.queued]).toEqual([1, 0]);
    b.release();
    expect(admission.inFlight).toBe(0);
    expect(admitted).toEqual([false, true]);
    expect(refused).toEqual(['503 queue-full']);
  });

  it('answers 503 to a request that waited the queue timeout, and frees its tenant and device counts', async () => {
    const { admission, advance } = setup({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1000, deviceMaxInFlight: 1 });
    const a = await admission.admit(device('d1'));
    const waiting = refusal(admission.admit(device('d2')));
    advance(1000);
    expect(await waiting).toMatchObject({ code: 'UNAVAILABLE', reason: AdmissionRefusalReason.QUEUE_TIMEOUT });
    expect(admission.queued).toBe(0);
    a.release();
    (await admission.admit(device('d2'))).release();
    expect(admission.inFlight).toBe(0);
  });

  it('drops a waiter whose client went away and releases what it held', async () => {
    const { admission } = setup({ maxInFlight: 1, maxQueued: 5, deviceMaxInFlight: 1 });
    const a = await admission.admit(device('d1'));
    const abort = new AbortController();
    const waiting = refusal(admission.admit(device('d2'), abort.signal));
    abort.abort();
    expect(await waiting).toBeInstanceOf(AdmissionAbandoned);
    expect(admission.queued).toBe(0);
    a.release();
    expect(admission.inFlight).toBe(0);
    (await admission.admit(device('d2'))).release();
  });

  it.each([AdmissionRefusalReason.EVENT_LOOP_LAG, AdmissionRefusalReason.MEMORY] as const)('answers 503 while the process reports %s, and admits again when it recovers', async (reason) => {
    const { admission, probe } = setup({ deviceMaxInFlight: 1 }, reason);
    await expect(admission.admit(device('d1'))).rejects.toMatchObject({ code: 'UNAVAILABLE', reason, retryAfterSeconds: 2 });
    probe.value = undefined;
    (await admission.admit(device('d1'))).release();
  });

  it('admits everything with every limit off', async () => {
    const { admission } = setup({});
    const tickets = await Promise.all(Array.from({ length: 100 }, () => admission.admit(device('d1'))));
    expect(admission.inFlight).toBe(100);
    tickets.forEach((t) => t.release());
    expect(admission.inFlight).toBe(0);
  });
});

describe('admission control (sync-ingest): backlog', () => {
  it('refuses at once, with Retry-After of the expected wait, a request the backlog would keep beyond the queue timeout', async () => {
    const { admission, advance } = setup({ maxInFlight: 2, maxQueued: 100, queueTimeoutMs: 3000 });
    // Requests hold their slot 2 s each.
    const first = await Promise.all([admission.admit(device('d1')), admission.admit(device('d2'))]);
    advance(2000);
    first.forEach((t) => t.release());
    const busy = await Promise.all([admission.admit(device('d1')), admission.admit(device('d2'))]);
    // 2 slots busy, each request 2 s: the 1st and 2nd waiter expect 1 s and 2 s, the 3rd 3 s, the 4th 4 s (> 3 s).
    const waiting = [0, 1, 2].map((i) => admission.admit(device(`w${i}`)));
    const e = await refusal(admission.admit(device('w3')));
    expect(e).toMatchObject({ code: 'UNAVAILABLE', reason: AdmissionRefusalReason.QUEUE_FULL, retryAfterSeconds: 4 });
    expect(admission.queued).toBe(3);
    busy.forEach((t) => t.release());
    const admitted = await Promise.all(waiting.slice(0, 2));
    admitted.forEach((t) => t.release());
    (await waiting[2]).release();
    expect([admission.inFlight, admission.queued]).toEqual([0, 0]);
  });
});
