import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ApiMetricsOperation } from './openapi';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** A per-service Prometheus registry with process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Push-path metrics (sync-ingest). */
export class PushMetrics {
  readonly pushes: Counter<'outcome'>;
  readonly mutations: Counter<'status'>;
  readonly batchLatency: Histogram;

  constructor(registry: Registry) {
    this.pushes = new Counter({ name: 'clinisync_push_requests_total', help: 'Push requests by outcome', labelNames: ['outcome'], registers: [registry] });
    this.mutations = new Counter({ name: 'clinisync_mutations_total', help: 'Mutations by result status', labelNames: ['status'], registers: [registry] });
    this.batchLatency = new Histogram({
      name: 'clinisync_push_batch_duration_seconds',
      help: 'Push batch latency',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }
}

/** Pull-path metrics (sync-ingest). */
export class PullMetrics {
  readonly readAhead: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.readAhead = new Counter({
      name: 'clinisync_pull_read_ahead_total',
      help: 'Pull pages fetched ahead, by what became of them (hit, failed, expired, evicted), and requests that found none (miss)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}

/** Relay metrics (every module), by source: `outbox` (audit and derived events) or `ledger` (change events). */
export class OutboxMetrics {
  readonly published: Counter<'source'>;
  readonly pending: Gauge<'source'>;
  readonly lagSeconds: Gauge<'source'>;
  readonly failures: Counter<'source'>;
  readonly applied: Counter<'status'>;

  constructor(registry: Registry) {
    const labelNames = ['source'] as const;
    this.published = new Counter({ name: 'clinisync_outbox_published_total', help: 'Events published by the relay', labelNames, registers: [registry] });
    this.pending = new Gauge({ name: 'clinisync_outbox_pending', help: 'Events waiting to be published', labelNames, registers: [registry] });
    this.lagSeconds = new Gauge({ name: 'clinisync_outbox_lag_seconds', help: 'Age of the oldest unpublished event', labelNames, registers: [registry] });
    this.failures = new Counter({ name: 'clinisync_outbox_publish_failures_total', help: 'Failed relay rounds', labelNames, registers: [registry] });
    this.applied = new Counter({ name: 'clinisync_module_mutations_total', help: 'Mutations applied by this module, by status', labelNames: ['status'], registers: [registry] });
  }

  /** What one relay reports, under its source's label. */
  observer(source: 'outbox' | 'ledger'): { published(n: number): void; lag(pending: number, oldestSeconds: number): void; failed(): void } {
    return {
      published: (n) => this.published.inc({ source }, n),
      lag: (pending, oldest) => {
        this.pending.set({ source }, pending);
        this.lagSeconds.set({ source }, oldest);
      },
      failed: () => this.failures.inc({ source }),
    };
  }
}

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @ApiMetricsOperation()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
