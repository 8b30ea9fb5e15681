import { AUDIT_SYSTEM, AuditEventEntity, AuditEventResource, AuditKind, CLINISYNC_AUDIT_SYSTEM, FHIR_RESTFUL_SYSTEM } from '@clinisync/contracts';
import { canonicalJson, sha256Hex } from './canonical';

export interface AuditActor {
  sub: string;
  roles: string[];
  deviceId?: string;
  address?: string;
}

export interface AuditRecordRef {
  entity: string;
  id: string;
  patientId?: string;
  beforeVersion?: number;
  afterVersion?: number;
  /** Payloads are hashed, never copied: audit events carry no clinical values. */
  before?: unknown;
  after?: unknown;
  conflictingFields?: string[];
  resolution?: string;
  reason?: string;
}

export interface AuditEventInput {
  id: string;
  kind: AuditKind;
  recorded: string;
  tenantId: string;
  correlationId: string;
  clientMutationId?: string;
  actor: AuditActor;
  service: string;
  facilityId?: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  outcome: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  record?: AuditRecordRef;
}

const SUBTYPE_DISPLAY: Record<AuditKind, string> = {
  'conflict-detected': 'Sync conflict detected',
  'conflict-resolved': 'Sync conflict resolved',
  'write-denied': 'Write denied',
  'idempotency-key-reused': 'Idempotency key reused',
  'controlled-dispensing': 'Controlled substance dispensed',
  'access-denied': 'Access denied',
};

/** BALP: PatientUpdate-style events for resolutions, RESTful-operation events otherwise. */
function eventType(kind: AuditKind): AuditEventResource['type'] {
  switch (kind) {
    case 'conflict-resolved':
    case 'conflict-detected':
    case 'controlled-dispensing':
    case 'write-denied':
    case 'idempotency-key-reused':
      return { system: FHIR_RESTFUL_SYSTEM, code: 'rest', display: 'RESTful Operation' };
    case 'access-denied':
      return { system: AUDIT_SYSTEM, code: '110113', display: 'Security Alert' };
  }
}

export function payloadHash(value: unknown): string {
  return sha256Hex(canonicalJson(value ?? null));
}

/** Builds the FHIR R4 AuditEvent for one auditable fact. Pure: ids and clock come from the caller. */
export function buildAuditEvent(input: AuditEventInput): AuditEventResource {
  const entity: AuditEventEntity[] = [];
  const r = input.record;
  if (r?.patientId) {
    entity.push({ what: { reference: `Patient/${r.patientId}` }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' }, role: { code: '1', display: 'Patient' } });
  }
  if (r) {
    const detail = [
      r.beforeVersion !== undefined ? { type: 'beforeVersion', valueString: String(r.beforeVersion) } : undefined,
      r.afterVersion !== undefined ? { type: 'afterVersion', valueString: String(r.afterVersion) } : undefined,
      r.before !== undefined ? { type: 'beforeHash', valueString: payloadHash(r.before) } : undefined,
      r.after !== undefined ? { type: 'afterHash', valueString: payloadHash(r.after) } : undefined,
      r.conflictingFields?.length ? { type: 'conflictingFields', valueString: r.conflictingFields.join(',') } : undefined,
      r.resolution ? { type: 'resolution', valueString: r.resolution } : undefined,
      r.reason ? { type: 'reason', valueString: r.reason } : undefined,
    ].filter((d): d is { type: string; valueString: string } => d !== undefined);
    entity.push({
      what: { reference: `${r.entity}/${r.id}${r.afterVersion !== undefined ? `/_history/${r.afterVersion}` : ''}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      ...(detail.length ? { detail } : {}),
    });
  }
  return {
    resourceType: 'AuditEvent',
    id: input.id,
    type: eventType(input.kind),
    subtype: [{ system: CLINISYNC_AUDIT_SYSTEM, code: input.kind, display: SUBTYPE_DISPLAY[input.kind] }],
    action: input.action,
    recorded: input.recorded,
    outcome: input.outcome,
    ...(input.outcomeDesc ? { outcomeDesc: input.outcomeDesc } : {}),
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
        who: { identifier: { system: 'urn:clinisync:user', value: input.actor.sub } },
        requestor: true,
        role: input.actor.roles.map((text) => ({ text })),
        ...(input.actor.address ? { network: { address: input.actor.address, type: '2' as const } } : {}),
        ...(input.actor.deviceId ? { altId: input.actor.deviceId } : {}),
      },
    ],
    source: { observer: { display: input.service }, ...(input.facilityId ? { site: input.facilityId } : {}), type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    ...(entity.length ? { entity } : {}),
    tenantId: input.tenantId,
    correlationId: input.correlationId,
    ...(input.clientMutationId ? { clientMutationId: input.clientMutationId } : {}),
    kind: input.kind,
  };
}
