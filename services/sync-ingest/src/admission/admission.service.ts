import { AdmissionRefusalReason, AdmissionRefused } from './admission.errors';

/** The limits of admission control (config ADMISSION_*); 0 turns a limit off. */
export interface AdmissionLimits {
  deviceMaxInFlight: number;
  deviceRatePerSecond: number;
  deviceBurst: number;
  tenantMaxInFlight: number;
  tenantRatePerSecond: number;
  tenantBurst: number;
  maxInFlight: number;
  maxQueued: number;
  queueTimeoutMs: number;
  retryAfterSeconds: number;
  overloadRetryAfterSeconds: number;
}

export type AdmissionRoute = 'push' | 'pull';

export interface AdmissionRequest {
  route: AdmissionRoute;
  tenantId: string;
  /** `X-Device-Id`; a request without one counts against the tenant and global limits only. */
  deviceId?: string;
}

/** Held from admission until the response ends or the client goes away; `release` is idempotent. */
export interface AdmissionTicket {
  release(): void;
}

/** Says whether the process is overloaded right now (event-loop lag, memory). */
export interface LoadProbe {
  overload(): AdmissionRefusalReason.EVENT_LOOP_LAG | AdmissionRefusalReason.MEMORY | undefined;
}

export interface AdmissionObserver {
  admitted(route: AdmissionRoute, queued: boolean): void;
  refused(route: AdmissionRoute, reason: AdmissionRefusalReason, status: number): void;
}

/** The side effects admission needs, injected so tests pin them. */
export interface AdmissionPorts {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  load: LoadProbe;
  observer?: AdmissionObserver;
}

/** The client went away while its request waited for a slot; nothing is answered. */
export class AdmissionAbandoned extends Error {
  constructor() {
    super('the client went away while waiting for admission');
    this.name = 'AdmissionAbandoned';
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  timer: unknown;
}

const SWEEP_EVERY_MS = 10_000;
/** Longest Retry-After admission computes from the backlog. */
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Admission control of push and pull: per-device and per-tenant in-flight limits and token-bucket
 * rates (429 `RATE_LIMITED`), then a global pool of slots with a bounded FIFO queue and the
 * process's load (503 `UNAVAILABLE`). A refusal takes nothing (no slot, no token); an admitted
 * request holds its device and tenant counts and, once it has one, its slot until `release`.
 */
export class Admission {
  private readonly deviceInFlight = new Map<string, number>();
  private readonly tenantInFlight = new Map<string, number>();
  private readonly deviceBuckets = new Map<string, Bucket>();
  private readonly tenantBuckets = new Map<string, Bucket>();
  private readonly queue: Waiter[] = [];
  private active = 0;
  private lastSweep: number;
  /** Moving average of how long an admitted request holds its slot (ms); undefined until one ended. */
  private serviceMs?: number;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly ports: AdmissionPorts,
  ) {
    this.lastSweep = ports.now();
  }

  /** Requests holding a slot. */
  get inFlight(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Admits the request or throws `AdmissionRefused`. Waits in the queue when every slot is
   * taken; `abort` (the client went away) leaves the queue and releases what was taken.
   */
  async admit(req: AdmissionRequest, abort?: AbortSignal): Promise<AdmissionTicket> {
    const l = this.limits;
    const now = this.ports.now();
    this.sweep(now);
    const deviceKey = req.deviceId === undefined ? undefined : `${req.tenantId}\u0000${req.deviceId}`;
    try {
      if (deviceKey !== undefined && l.deviceMaxInFlight > 0 && (this.deviceInFlight.get(deviceKey) ?? 0) >= l.deviceMaxInFlight)
        throw new AdmissionRefused(AdmissionRefusalReason.DEVICE_IN_FLIGHT, l.retryAfterSeconds);
      if (l.tenantMaxInFlight > 0 && (this.tenantInFlight.get(req.tenantId) ?? 0) >= l.tenantMaxInFlight)
        throw new AdmissionRefused(AdmissionRefusalReason.TENANT_IN_FLIGHT, l.retryAfterSeconds);
      const deviceBucket = deviceKey === undefined ? undefined : this.bucket(this.deviceBuckets, deviceKey, l.deviceRatePerSecond, l.deviceBurst, now);
      if (deviceBucket && deviceBucket.tokens < 1)
        throw new AdmissionRefused(AdmissionRefusalReason.DEVICE_RATE, secondsUntilToken(deviceBucket, l.deviceRatePerSecond));
      const tenantBucket = this.bucket(this.tenantBuckets, req.tenantId, l.tenantRatePerSecond, l.tenantBurst, now);
      if (tenantBucket && tenantBucket.tokens < 1)
        throw new AdmissionRefused(AdmissionRefusalReason.TENANT_RATE, secondsUntilToken(tenantBucket, l.tenantRatePerSecond));
      const overload = this.ports.load.overload();
      if (overload !== undefined) throw new AdmissionRefused(overload, l.overloadRetryAfterSeconds);
      const mustWait = l.maxInFlight > 0 && this.active >= l.maxInFlight;
      if (mustWait) {
        // A request that would wait longer than the queue timeout is refused now, not after it.
        const expectedWaitMs = this.serviceMs === undefined ? 0 : ((this.queue.length + 1) / l.maxInFlight) * this.serviceMs;
        if (this.queue.length >= l.maxQueued || expectedWaitMs > l.queueTimeoutMs)
          throw new AdmissionRefused(AdmissionRefusalReason.QUEUE_FULL, Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(l.overloadRetryAfterSeconds, Math.ceil(expectedWaitMs / 1000))));
      }
      if (deviceBucket) deviceBucket.tokens -= 1;
      if (tenantBucket) tenantBucket.tokens -= 1;
      this.count(this.tenantInFlight, req.tenantId, +1);
      if (deviceKey !== undefined) this.count(this.deviceInFlight, deviceKey, +1);
      let held = false;
      let released = false;
      let heldSince = 0;
      const release = () => {
        if (released) return;
        released = true;
        this.count(this.tenantInFlight, req.tenantId, -1);
        if (deviceKey !== undefined) this.count(this.deviceInFlight, deviceKey, -1);
        if (held) {
          const ms = this.ports.now() - heldSince;
          this.serviceMs = this.serviceMs === undefined ? ms : this.serviceMs * 0.9 + ms * 0.1;
          this.freeSlot();
        }
      };
      if (mustWait) {
        try {
          await this.waitForSlot(abort);
        } catch (e) {
          release();
          throw e;
        }
      } else {
        this.active += 1;
      }
      held = true;
      heldSince = this.ports.now();
      this.ports.observer?.admitted(req.route, mustWait);
      return { release };
    } catch (e) {
      if (e instanceof AdmissionRefused) this.ports.observer?.refused(req.route, e.reason, e.code === 'RATE_LIMITED' ? 429 : 503);
      throw e;
    }
  }

  private waitForSlot(abort?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        this.ports.clearTimer(waiter.timer);
        abort?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        reject(new AdmissionAbandoned());
      };
      const waiter: Waiter = {
        // freeSlot hands its slot over (active stays the same) and takes the waiter off the queue.
        resolve: () => {
          this.ports.clearTimer(waiter.timer);
          abort?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
        timer: this.ports.setTimer(() => {
          leave();
          reject(new AdmissionRefused(AdmissionRefusalReason.QUEUE_TIMEOUT, this.limits.overloadRetryAfterSeconds));
        }, this.limits.queueTimeoutMs),
      };
      if (abort?.aborted) return onAbort();
      abort?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private freeSlot(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.active -= 1;
  }

  private count(map: Map<string, number>, key: string, delta: number): void {
    const n = (map.get(key) ?? 0) + delta;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  }

  /** The refilled bucket of `key`, or undefined when the rate is off. */
  private bucket(map: Map<string, Bucket>, key: string, ratePerSecond: number, burst: number, now: number): Bucket | undefined {
    if (ratePerSecond <= 0) return undefined;
    let b = map.get(key);
    if (!b) {
      b = { tokens: burst, at: now };
      map.set(key, b);
      return b;
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
    b.at = now;
    return b;
  }

  /** Forgets buckets that would be full again by now (the same as having none). */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const l = this.limits;
    const drop = (map: Map<string, Bucket>, rate: number, burst: number) => {
      for (const [k, b] of map) if (b.tokens + ((now - b.at) / 1000) * rate >= burst) map.delete(k);
    };
    drop(this.deviceBuckets, l.deviceRatePerSecond, l.deviceBurst);
    drop(this.tenantBuckets, l.tenantRatePerSecond, l.tenantBurst);
  }
}

function secondsUntilToken(b: Bucket, ratePerSecond: number): number {
  return Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond));
}
