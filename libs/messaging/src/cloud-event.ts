import { CloudEvent } from '@clinisync/contracts';

export interface CloudEventInput<T> {
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  tenantId: string;
  correlationId: string;
  data: T;
}

/** A CloudEvents 1.0 JSON envelope with CliniSync's tenantid/correlationid extensions. */
export function cloudEvent<T>(input: CloudEventInput<T>): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: input.id,
    source: input.source,
    type: input.type,
    subject: input.subject,
    time: input.time,
    datacontenttype: 'application/json',
    tenantid: input.tenantId,
    correlationid: input.correlationId,
    data: input.data,
  };
}
