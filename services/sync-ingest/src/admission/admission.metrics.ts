import { Counter, Gauge, Registry } from 'prom-client';
import { AdmissionRefusalReason } from './admission.errors';
import { AdmissionObserver, AdmissionRoute } from './admission.service';

/** Admission counters and gauges on the service's registry (`GET /metrics`). */
export class AdmissionMetrics implements AdmissionObserver {
  private readonly admittedTotal: Counter<'route' | 'queued'>;
  private readonly refusedTotal: Counter<'route' | 'reason' | 'status'>;

  constructor(registry: Registry, state: () => { inFlight: number; queued: number; eventLoopLagMs: number; heapPercent: number }) {
    this.admittedTotal = new Counter({
      name: 'clinisync_admission_admitted_total',
      help: 'Push and pull requests admitted, by route and whether they waited for a slot',
      labelNames: ['route', 'queued'],
      registers: [registry],
    });
    this.refusedTotal = new Counter({
      name: 'clinisync_admission_refused_total',
      help: 'Push and pull requests refused by admission control, by route, reason and HTTP status',
      labelNames: ['route', 'reason', 'status'],
      registers: [registry],
    });
    const gauge = (name: string, help: string, read: (s: ReturnType<typeof state>) => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read(state()));
        },
      });
    gauge('clinisync_admission_in_flight', 'Push and pull requests holding an admission slot', (s) => s.inFlight);
    gauge('clinisync_admission_queued', 'Push and pull requests waiting for an admission slot', (s) => s.queued);
    gauge('clinisync_admission_event_loop_lag_ms', 'Event-loop lag seen by admission control', (s) => s.eventLoopLagMs);
    gauge('clinisync_admission_heap_percent', 'V8 heap in use after the last major GC, percent of the limit', (s) => s.heapPercent);
  }

  admitted(route: AdmissionRoute, queued: boolean): void {
    this.admittedTotal.inc({ route, queued: String(queued) });
  }

  refused(route: AdmissionRoute, reason: AdmissionRefusalReason, status: number): void {
    this.refusedTotal.inc({ route, reason, status: String(status) });
  }
}
