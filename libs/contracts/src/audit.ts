/**
 * Audit events: FHIR R4 AuditEvent resources following IHE BALP (Basic Audit Log Patterns),
 * published on `audit.<tenantId>.<kind>` (stream AUDIT) and kept hash-chained per tenant by the
 * audit service. They never carry clinical values: records are referenced and payloads hashed.
 */
export const AUDIT_KINDS = [
  'conflict-detected',
  'conflict-resolved',
  'write-denied',
  'idempotency-key-reused',
  'controlled-dispensing',
  'access-denied',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface Coding {
  system?: string;
  code: string;
  display?: string;
}

export interface AuditEntityDetail {
  type: string;
  valueString: string;
}

export interface AuditEventEntity {
  what: { reference: string };
  type?: Coding;
  role?: Coding;
  detail?: AuditEntityDetail[];
}

export interface AuditEventAgent {
  type?: { coding: Coding[] };
  who: { identifier: { system?: string; value: string } };
  requestor: boolean;
  role?: { text: string }[];
  network?: { address: string; type: '1' | '2' | '5' };
  /** The device (installation) the user acted from, when known. */
  altId?: string;
}

/** FHIR R4 AuditEvent (required elements: type, recorded, agent, source) plus CliniSync fields. */
export interface AuditEventResource {
  resourceType: 'AuditEvent';
  id: string;
  type: Coding;
  subtype?: Coding[];
  action?: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  /** 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
  outcome: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  agent: AuditEventAgent[];
  source: { site?: string; observer: { display: string }; type?: Coding[] };
  entity?: AuditEventEntity[];
  /** CliniSync: the tenant (from the token), never from a payload. */
  tenantId: string;
  correlationId: string;
  clientMutationId?: string;
  /** CliniSync: the kind, also the last subject token. */
  kind: AuditKind;
}

/** As stored and served by the audit service: chained per tenant. */
export interface StoredAuditEvent extends AuditEventResource {
  sequence: number;
  prevHash: string;
  hash: string;
}

export const AUDIT_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
export const BALP_SYSTEM = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
export const FHIR_RESTFUL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const CLINISYNC_AUDIT_SYSTEM = 'https://clinisync.org/fhir/CodeSystem/audit-subtype';
