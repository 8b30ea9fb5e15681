import { ApiErrorCode } from '@clinisync/contracts';

/**
 * Why admission refused a push or pull. Sent as `error.reason` next to the protocol code
 * (`RATE_LIMITED` for 429, `UNAVAILABLE` for 503) and used as the metrics label. A refused
 * request was not read past its headers: it stored nothing and can be resent as is.
 */
export enum AdmissionRefusalReason {
  /** 429: the device (`X-Device-Id` within the tenant) has `ADMISSION_DEVICE_MAX_IN_FLIGHT` requests in flight. */
  DEVICE_IN_FLIGHT = 'device-in-flight',
  /** 429: the device used up its token bucket (`ADMISSION_DEVICE_RATE_PER_SECOND`, `ADMISSION_DEVICE_BURST`). */
  DEVICE_RATE = 'device-rate',
  /** 429: the tenant has `ADMISSION_TENANT_MAX_IN_FLIGHT` requests in flight or waiting. */
  TENANT_IN_FLIGHT = 'tenant-in-flight',
  /** 429: the tenant used up its token bucket (`ADMISSION_TENANT_RATE_PER_SECOND`, `ADMISSION_TENANT_BURST`). */
  TENANT_RATE = 'tenant-rate',
  /**
   * 503: every slot is taken and `ADMISSION_MAX_QUEUED` requests already wait, or the backlog
   * (queue length over slots times the average time a request holds its slot) would keep this one
   * waiting beyond `ADMISSION_QUEUE_TIMEOUT_MS`; Retry-After is that expected wait (at least
   * `ADMISSION_OVERLOAD_RETRY_AFTER_SECONDS`, at most 60 s).
   */
  QUEUE_FULL = 'queue-full',
  /** 503: the request waited `ADMISSION_QUEUE_TIMEOUT_MS` for a slot. */
  QUEUE_TIMEOUT = 'queue-timeout',
  /** 503: event-loop lag above `ADMISSION_MAX_EVENT_LOOP_LAG_MS`. */
  EVENT_LOOP_LAG = 'event-loop-lag',
  /** 503: V8 heap use above `ADMISSION_MAX_HEAP_PERCENT` of its limit. */
  MEMORY = 'memory',
}

const OVERLOAD: ReadonlySet<AdmissionRefusalReason> = new Set([
  AdmissionRefusalReason.QUEUE_FULL,
  AdmissionRefusalReason.QUEUE_TIMEOUT,
  AdmissionRefusalReason.EVENT_LOOP_LAG,
  AdmissionRefusalReason.MEMORY,
]);

/** A refused admission: 429 `RATE_LIMITED` for a device or tenant over its limits, 503 `UNAVAILABLE` on global overload. */
export class AdmissionRefused extends Error {
  readonly code: ApiErrorCode.RATE_LIMITED | ApiErrorCode.UNAVAILABLE;

  constructor(
    readonly reason: AdmissionRefusalReason,
    /** Whole seconds, at least 1, sent as `Retry-After`. */
    readonly retryAfterSeconds: number,
  ) {
    super(messageOf(reason));
    this.name = 'AdmissionRefused';
    this.code = OVERLOAD.has(reason) ? ApiErrorCode.UNAVAILABLE : ApiErrorCode.RATE_LIMITED;
  }
}

function messageOf(reason: AdmissionRefusalReason): string {
  switch (reason) {
    case AdmissionRefusalReason.DEVICE_IN_FLIGHT:
      return 'too many requests of this device in flight; retry after Retry-After';
    case AdmissionRefusalReason.DEVICE_RATE:
      return 'request rate of this device exceeded; retry after Retry-After';
    case AdmissionRefusalReason.TENANT_IN_FLIGHT:
      return 'too many requests of this tenant in flight; retry after Retry-After';
    case AdmissionRefusalReason.TENANT_RATE:
      return 'request rate of this tenant exceeded; retry after Retry-After';
    case AdmissionRefusalReason.QUEUE_FULL:
    case AdmissionRefusalReason.QUEUE_TIMEOUT:
    case AdmissionRefusalReason.EVENT_LOOP_LAG:
    case AdmissionRefusalReason.MEMORY:
      return 'the service is overloaded; retry after Retry-After';
  }
}
