import { CloudEvent, RecordChangedData, clinicalSubject } from '@clinisync/contracts';
import { TENANT_ID } from '@clinisync/auth';

/** JetStream subject filter of the events inventory consumes (every tenant). */
export const DISPENSING_CREATED_FILTER = clinicalSubject('*', 'pharmacy', 'dispensing_records', 'created');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What inventory needs from pharmacy's `dispensing_records.created` event. */
export interface DispensedDrug {
  eventId: string;
  subject: string;
  tenantId: string;
  correlationId: string;
  actor?: string;
  deviceId?: string;
  dispensingRecordId: string;
  facilityId: string;
  drugId: string;
  /** Dispensed quantity as recorded by pharmacy (positive). */
  quantity: number;
  dispensedAt: string;
}

/**
 * Reads a dispensing event, or says why it cannot be one. The tenant is the envelope's
 * `tenantid`, and the subject must name that same tenant; nothing else in the payload is trusted
 * for it.
 */
export function parseDispensingEvent(
  event: CloudEvent,
  subject: string,
): DispensedDrug | { invalid: string } {
  if (typeof event?.id !== 'string' || event.id === '') return { invalid: 'event has no id' };
  if (typeof event.tenantid !== 'string' || !TENANT_ID.test(event.tenantid))
    return { invalid: 'event has no valid tenantid' };
  const tenantId = event.tenantid;
  if (subject !== clinicalSubject(tenantId, 'pharmacy', 'dispensing_records', 'created')) {
    return { invalid: `subject ${subject} is not the dispensing subject of tenant ${tenantId}` };
  }
  const data = event.data as Partial<RecordChangedData> | undefined;
  if (data?.entity !== 'dispensing_records' || data.action !== 'created')
    return { invalid: 'data is not a created dispensing record' };
  const r = (data.record ?? {}) as Record<string, unknown>;
  if (typeof r.id !== 'string' || !UUID.test(r.id)) return { invalid: 'record.id is not a UUID' };
  if (typeof r.facilityId !== 'string' || r.facilityId === '')
    return { invalid: 'record.facilityId is missing' };
  if (typeof r.drugId !== 'string' || !UUID.test(r.drugId)) return { invalid: 'record.drugId is not a UUID' };
  if (typeof r.quantity !== 'number' || !Number.isFinite(r.quantity))
    return { invalid: 'record.quantity is not a number' };
  if (typeof r.dispensedAt !== 'string' || Number.isNaN(Date.parse(r.dispensedAt)))
    return { invalid: 'record.dispensedAt is not a date-time' };
  return {
    eventId: event.id,
    subject,
    tenantId,
    correlationId:
      typeof event.correlationid === 'string' && event.correlationid !== '' ? event.correlationid : event.id,
    actor: typeof data.actor === 'string' ? data.actor : undefined,
    deviceId: typeof data.deviceId === 'string' ? data.deviceId : undefined,
    dispensingRecordId: r.id.toLowerCase(),
    facilityId: r.facilityId,
    drugId: r.drugId.toLowerCase(),
    quantity: r.quantity,
    dispensedAt: new Date(r.dispensedAt).toISOString(),
  };
}
