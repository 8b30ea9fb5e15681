/** JetStream streams and subjects (PROTOCOL.md "Events"). */
export const CLINICAL_STREAM = 'CLINICAL';
export const AUDIT_STREAM = 'AUDIT';
export const CLINICAL_SUBJECTS = 'clinical.>';
export const AUDIT_SUBJECTS = 'audit.>';

export type ChangeAction = 'created' | 'updated' | 'deleted';

export function clinicalSubject(tenantId: string, module: string, entity: string, action: string): string {
  return `clinical.${tenantId}.${module}.${entity}.${action}`;
}

export function auditSubject(tenantId: string, kind: string): string {
  return `audit.${tenantId}.${kind}`;
}

/** CloudEvents 1.0 JSON envelope with the CliniSync extension attributes. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  tenantid: string;
  correlationid: string;
  data: T;
}

/** Payload of a clinical change event. */
export interface RecordChangedData {
  entity: string;
  id: string;
  version: number;
  action: ChangeAction;
  clientMutationId?: string;
  actor?: string;
  deviceId?: string;
  changedFields: string[];
  record: Record<string, unknown>;
}
