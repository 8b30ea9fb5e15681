import { AuditKind, auditSubject } from '@clinisync/contracts';
import { OutboxMessage } from '@clinisync/persistence';
import { cloudEvent } from '@clinisync/messaging';
import { AuditEventInput, buildAuditEvent } from '@clinisync/sync-core';

export interface AuditPorts {
  now(): string;
  newId(): string;
}

/** Audit events sync-ingest itself emits, as outbox rows committed with the decision they record. */
export class IngestAudit {
  constructor(private readonly ports: AuditPorts) {}

  event(input: Omit<AuditEventInput, 'id' | 'recorded' | 'service'>, aggregateId: string): OutboxMessage {
    const id = this.ports.newId();
    const now = this.ports.now();
    const audit = buildAuditEvent({ ...input, id, recorded: now, service: 'sync-ingest' });
    const event = cloudEvent({
      id,
      source: 'clinisync/sync-ingest',
      type: `clinisync.audit.${input.kind}`,
      subject: aggregateId,
      time: now,
      tenantId: input.tenantId,
      correlationId: input.correlationId,
      data: audit,
    });
    return { tenantId: input.tenantId, id, aggregateId, subject: auditSubject(input.tenantId, input.kind as AuditKind), payload: JSON.stringify(event) };
  }
}
