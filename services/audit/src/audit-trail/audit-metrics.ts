import { Counter, Registry } from 'prom-client';

/** Audit service metrics (`GET /metrics`). */
export class AuditMetrics {
  readonly appended: Counter<'kind'>;
  readonly duplicates: Counter;
  readonly dropped: Counter;
  readonly consumerFailures: Counter;
  readonly accessDenied: Counter<'code'>;

  constructor(registry: Registry) {
    this.appended = new Counter({
      name: 'clinisync_audit_events_appended_total',
      help: 'Audit events appended to a tenant chain, by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.duplicates = new Counter({
      name: 'clinisync_audit_events_duplicate_total',
      help: 'Redelivered audit events already in the chain (not stored again)',
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'clinisync_audit_events_dropped_total',
      help: 'Malformed audit messages acknowledged without storing (they stay in the AUDIT stream)',
      registers: [registry],
    });
    this.consumerFailures = new Counter({
      name: 'clinisync_audit_consumer_failures_total',
      help: 'Audit messages not handled: storing failed (redelivered) or unreadable (terminated)',
      registers: [registry],
    });
    this.accessDenied = new Counter({
      name: 'clinisync_audit_access_denied_total',
      help: 'Refused audit trail requests, by code',
      labelNames: ['code'],
      registers: [registry],
    });
  }
}
