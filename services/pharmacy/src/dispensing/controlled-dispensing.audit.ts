import { auditSubject } from '@clinisync/contracts';
import { OutboxMessage } from '@clinisync/persistence';
import { cloudEvent } from '@clinisync/messaging';
import { AppliedWrite, WriteContext } from '@clinisync/module-runtime';
import { buildAuditEvent, toSyncRecord } from '@clinisync/sync-core';

/**
 * The audit event of a committed controlled-substance dispensing (`audit.<tenant>.controlled-dispensing`,
 * stream AUDIT): a FHIR AuditEvent that references the record and the patient and hashes the
 * stored record, never copying clinical values. Pure: the event id and clock come from the caller.
 */
export function controlledDispensingEvent(id: string, ctx: WriteContext, write: AppliedWrite): OutboxMessage {
  const record = write.record;
  const fields = record.fields;
  const audit = buildAuditEvent({
    id,
    kind: 'controlled-dispensing',
    recorded: ctx.now,
    tenantId: ctx.tenantId,
    correlationId: ctx.correlationId,
    clientMutationId: write.clientMutationId,
    actor: { sub: ctx.principal.sub, roles: ctx.principal.roles, deviceId: ctx.deviceId },
    service: 'pharmacy',
    facilityId: typeof fields.facilityId === 'string' ? fields.facilityId : undefined,
    action: 'C',
    outcome: '0',
    record: {
      entity: write.def.name,
      id: record.id,
      patientId: typeof fields.patientId === 'string' ? fields.patientId : undefined,
      afterVersion: record.version,
      after: toSyncRecord(write.def, record),
    },
  });
  const event = cloudEvent({
    id,
    source: 'clinisync/pharmacy',
    type: 'clinisync.audit.controlled-dispensing',
    subject: `${write.def.name}/${record.id}`,
    time: ctx.now,
    tenantId: ctx.tenantId,
    correlationId: ctx.correlationId,
    data: audit,
  });
  return {
    tenantId: ctx.tenantId,
    id,
    aggregateId: record.id,
    subject: auditSubject(ctx.tenantId, 'controlled-dispensing'),
    payload: JSON.stringify(event),
  };
}
