import { AUDIT_KINDS, AuditEventResource, AuditKind, CloudEvent } from '@clinisync/contracts';

/** Tenant ids are one NATS subject token (see the auth lib's TENANT_ID). */
const SUBJECT = /^audit\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const OUTCOMES = ['0', '4', '8', '12'];
/** Names the stored form adds; an incoming event carrying them could not be told apart from its chain fields. */
const RESERVED = ['sequence', 'prevHash', 'hash'];

export type AuditIntake = { ok: true; event: AuditEventResource } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isKind(v: unknown): v is AuditKind {
  return typeof v === 'string' && (AUDIT_KINDS as readonly string[]).includes(v);
}

/**
 * Reads the AuditEvent carried by a CloudEvent from `audit.<tenantId>.<kind>` (pure). The
 * tenant and kind of the subject, the envelope and the resource must agree; the resource must
 * have the FHIR R4 AuditEvent elements the trail is queried and verified by. Anything else can
 * never be stored, so the caller drops it (it stays in the AUDIT stream for investigation).
 */
export function readAuditCloudEvent(envelope: CloudEvent, subject: string): AuditIntake {
  const fail = (reason: string): AuditIntake => ({ ok: false, reason });
  const m = SUBJECT.exec(subject);
  if (!m) return fail(`subject ${subject} is not audit.<tenantId>.<kind>`);
  const [, tenantId, kind] = m;
  if (!isObject(envelope)) return fail('the message is not a CloudEvent');
  if (envelope.tenantid !== undefined && envelope.tenantid !== tenantId)
    return fail('envelope tenantid differs from the subject tenant');
  const data = envelope.data;
  if (!isObject(data)) return fail('data is not an object');
  if (data.resourceType !== 'AuditEvent') return fail('data.resourceType is not AuditEvent');
  if (typeof data.id !== 'string' || !UUID.test(data.id)) return fail('data.id is not a UUID');
  if (data.tenantId !== tenantId) return fail('data.tenantId differs from the subject tenant');
  if (!isKind(data.kind) || data.kind !== kind)
    return fail(`data.kind must be the subject kind, one of ${AUDIT_KINDS.join(', ')}`);
  if (
    typeof data.recorded !== 'string' ||
    !ISO_DATETIME.test(data.recorded) ||
    Number.isNaN(Date.parse(data.recorded))
  )
    return fail('data.recorded is not an ISO 8601 date-time');
  if (typeof data.outcome !== 'string' || !OUTCOMES.includes(data.outcome))
    return fail('data.outcome is not 0, 4, 8 or 12');
  if (!isObject(data.type) || typeof data.type.code !== 'string') return fail('data.type is not a Coding');
  if (
    !isObject(data.source) ||
    !isObject(data.source.observer) ||
    typeof data.source.observer.display !== 'string'
  )
    return fail('data.source.observer.display is missing');
  if (!Array.isArray(data.agent) || data.agent.length === 0) return fail('data.agent is empty');
  for (const a of data.agent as unknown[]) {
    if (
      !isObject(a) ||
      !isObject(a.who) ||
      !isObject(a.who.identifier) ||
      typeof a.who.identifier.value !== 'string' ||
      typeof a.requestor !== 'boolean'
    ) {
      return fail('each data.agent needs who.identifier.value and requestor');
    }
  }
  if (
    data.entity !== undefined &&
    (!Array.isArray(data.entity) || !(data.entity as unknown[]).every((e) => isObject(e) && isObject(e.what)))
  ) {
    return fail('data.entity must be a list of entities with what');
  }
  if (typeof data.correlationId !== 'string') return fail('data.correlationId is missing');
  const reserved = RESERVED.filter((k) => k in data);
  if (reserved.length) return fail(`data carries reserved field(s) ${reserved.join(', ')}`);
  return { ok: true, event: data as unknown as AuditEventResource };
}
