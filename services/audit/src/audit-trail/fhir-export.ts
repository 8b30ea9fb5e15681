import { StoredAuditEvent } from '@clinisync/contracts';

/** Base of the StructureDefinition URLs of CliniSync's AuditEvent extensions. */
export const CLINISYNC_EXTENSION_BASE = 'https://clinisync.org/fhir/StructureDefinition/audit-';

/** The elements of a FHIR R4 AuditEvent; anything else of a stored event goes into extensions or is left out. */
const R4_AUDIT_EVENT_ELEMENTS = [
  'resourceType',
  'id',
  'meta',
  'implicitRules',
  'language',
  'text',
  'contained',
  'extension',
  'modifierExtension',
  'type',
  'subtype',
  'action',
  'period',
  'recorded',
  'outcome',
  'outcomeDesc',
  'purposeOfEvent',
  'agent',
  'source',
  'entity',
] as const;

export interface FhirExtension {
  url: string;
  valueString?: string;
  valueInteger?: number;
}

export type FhirAuditEvent = Record<string, unknown> & {
  resourceType: 'AuditEvent';
  id: string;
  extension?: FhirExtension[];
};

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  timestamp: string;
  entry: { fullUrl: string; resource: FhirAuditEvent }[];
}

/**
 * A stored event as a strict FHIR R4 AuditEvent: the CliniSync fields (tenant, correlation id,
 * mutation key, kind) and the chain fields (sequence, prevHash, hash) become extensions.
 */
export function toFhirAuditEvent(stored: StoredAuditEvent): FhirAuditEvent {
  const source = stored as unknown as Record<string, unknown>;
  const resource: Record<string, unknown> = {};
  for (const key of R4_AUDIT_EVENT_ELEMENTS) if (source[key] !== undefined) resource[key] = source[key];
  const ext = (name: string, value: Omit<FhirExtension, 'url'>): FhirExtension => ({
    url: `${CLINISYNC_EXTENSION_BASE}${name}`,
    ...value,
  });
  const extension: FhirExtension[] = [
    ...(Array.isArray(source.extension) ? (source.extension as FhirExtension[]) : []),
    ext('tenant-id', { valueString: stored.tenantId }),
    ext('kind', { valueString: stored.kind }),
    ext('correlation-id', { valueString: stored.correlationId }),
    ...(stored.clientMutationId ? [ext('client-mutation-id', { valueString: stored.clientMutationId })] : []),
    ext('chain-sequence', { valueInteger: stored.sequence }),
    ext('chain-prev-hash', { valueString: stored.prevHash }),
    ext('chain-hash', { valueString: stored.hash }),
  ];
  return { ...resource, extension } as FhirAuditEvent;
}

export function fhirBundleEntry(stored: StoredAuditEvent): { fullUrl: string; resource: FhirAuditEvent } {
  return { fullUrl: `urn:uuid:${stored.id}`, resource: toFhirAuditEvent(stored) };
}

/**
 * The text of a Bundle streamed entry by entry: `open`, then `entries(...)` for each batch,
 * then `close()`. FHIR JSON allows no empty arrays, so an empty Bundle has no `entry`.
 */
export class FhirBundleWriter {
  private written = false;

  constructor(private readonly timestamp: string) {}

  open(): string {
    return JSON.stringify({ resourceType: 'Bundle', type: 'collection', timestamp: this.timestamp }).slice(
      0,
      -1,
    );
  }

  entries(events: StoredAuditEvent[]): string {
    if (events.length === 0) return '';
    const text = events.map((e) => JSON.stringify(fhirBundleEntry(e))).join(',');
    const prefix = this.written ? ',' : ',"entry":[';
    this.written = true;
    return prefix + text;
  }

  close(): string {
    return this.written ? ']}' : '}';
  }
}
