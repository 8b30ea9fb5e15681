import { OnApplicationShutdown, Provider } from '@nestjs/common';
import { Registry } from 'prom-client';
import { JwtVerifier } from '@clinisync/auth';
import { METRICS_REGISTRY } from '@clinisync/observability';
import { SyncIngestConfig } from '../config';
import { Admission, AdmissionLimits } from './admission.service';
import { AdmissionMetrics } from './admission.metrics';
import { admissionMiddleware } from './admission.middleware';
import { LoadMonitor } from './load-monitor';

export function admissionLimits(config: SyncIngestConfig): AdmissionLimits {
  return {
    deviceMaxInFlight: config.ADMISSION_DEVICE_MAX_IN_FLIGHT,
    deviceRatePerSecond: config.ADMISSION_DEVICE_RATE_PER_SECOND,
    deviceBurst: config.ADMISSION_DEVICE_BURST,
    tenantMaxInFlight: config.ADMISSION_TENANT_MAX_IN_FLIGHT,
    tenantRatePerSecond: config.ADMISSION_TENANT_RATE_PER_SECOND,
    tenantBurst: config.ADMISSION_TENANT_BURST,
    maxInFlight: config.ADMISSION_MAX_IN_FLIGHT,
    maxQueued: config.ADMISSION_MAX_QUEUED,
    queueTimeoutMs: config.ADMISSION_QUEUE_TIMEOUT_MS,
    retryAfterSeconds: config.ADMISSION_RETRY_AFTER_SECONDS,
    overloadRetryAfterSeconds: config.ADMISSION_OVERLOAD_RETRY_AFTER_SECONDS,
  };
}

/** sync-ingest's admission control: the limits, the load monitor and the metrics, with the HTTP middleware. */
export class AdmissionControl implements OnApplicationShutdown {
  readonly admission: Admission;
  private readonly monitor: LoadMonitor;

  constructor(config: SyncIngestConfig, registry: Registry) {
    this.monitor = new LoadMonitor({ maxEventLoopLagMs: config.ADMISSION_MAX_EVENT_LOOP_LAG_MS, maxHeapPercent: config.ADMISSION_MAX_HEAP_PERCENT }).start();
    const metrics = new AdmissionMetrics(registry, () => ({ inFlight: this.admission.inFlight, queued: this.admission.queued, ...this.monitor.readings() }));
    this.admission = new Admission(admissionLimits(config), {
      now: () => performance.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
      load: this.monitor,
      observer: metrics,
    });
  }

  /** Mounted before the body parser (bootstrap.ts). */
  middleware(verifier: JwtVerifier): ReturnType<typeof admissionMiddleware> {
    return admissionMiddleware(this.admission, verifier);
  }

  onApplicationShutdown(): void {
    this.monitor.stop();
  }
}

export function admissionProvider(config: SyncIngestConfig): Provider {
  return { provide: AdmissionControl, useFactory: (r: Registry) => new AdmissionControl(config, r), inject: [METRICS_REGISTRY] };
}
