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

/**
 * `JSON.stringify(cloudEvent({...input, data}))` where `data` is given as JSON text already
 * (a module embeds a record's stored wire JSON instead of serialising it once more). `data` is
 * the envelope's last member, so the text is the envelope's JSON with `"data":…` put before
 * its closing brace.
 */
export function cloudEventJson(input: Omit<CloudEventInput<unknown>, 'data'>, dataJson: string): string {
  const envelope = JSON.stringify(cloudEvent({ ...input, data: undefined }));
  return `${envelope.slice(0, -1)},"data":${dataJson}}`;
}
