import { AuditEventResource } from '@clinisync/contracts';
import { canonicalJson, sha256Hex } from '@clinisync/sync-core';

/**
 * The per-tenant hash chain, as pure functions (no I/O, no clock):
 * `hash = SHA-256(prevHash || canonicalJson(event))`, the first event chained to 64 zeros.
 */
export const GENESIS_HASH = '0'.repeat(64);

/** A position in a chain: the last link's sequence and hash (sequence 0 = before the first event). */
export interface ChainPosition {
  sequence: number;
  hash: string;
}

export const GENESIS: ChainPosition = { sequence: 0, hash: GENESIS_HASH };

/** The columns an event is found by; derived from the event, so `verify` can check them. */
export interface AuditIndexColumns {
  id: string;
  tenantId: string;
  kind: string;
  entityType: string | null;
  recordId: string | null;
  patientId: string | null;
  actor: string;
  outcome: string;
  /** Epoch milliseconds of `recorded`. */
  recordedMs: number;
}

/** One stored link as read back: the hashed event and the columns stored beside it. */
export interface ChainLink {
  sequence: number;
  prevHash: string;
  hash: string;
  event: AuditEventResource;
  columns: AuditIndexColumns;
}

export type BrokenReason = 'hash mismatch' | 'prevHash mismatch' | 'sequence gap';

export interface BrokenLink {
  /**
   * The first event that does not link to its predecessor (after a deleted event: the event that
   * follows it), or, when events are missing at the end of the chain, the first missing sequence.
   */
  sequence: number;
  /** That event's id; absent when no event is left to name (events deleted at the end of the chain). */
  id?: string;
  reason: BrokenReason;
  /** What exactly disagreed, for the auditor. */
  detail: string;
}

export type ChainVerification =
  { valid: true; checked: number; head: string } | { valid: false; checked: number; brokenAt: BrokenLink };

export function linkHash(prevHash: string, event: unknown): string {
  return sha256Hex(prevHash + canonicalJson(event));
}

/** The link that appends `event` after `head`. */
export function nextLink(
  head: ChainPosition,
  event: AuditEventResource,
): { sequence: number; prevHash: string; hash: string; canonical: string } {
  const canonical = canonicalJson(event);
  return {
    sequence: head.sequence + 1,
    prevHash: head.hash,
    hash: sha256Hex(head.hash + canonical),
    canonical,
  };
}

const REFERENCE = /^([^/]+)\/([^/]+)(?:\/_history\/[^/]+)?$/;

/** Kind, record, patient, actor, outcome and time of an event, as stored in its query columns. */
export function indexColumnsOf(event: AuditEventResource): AuditIndexColumns {
  let patientId: string | null = null;
  let entityType: string | null = null;
  let recordId: string | null = null;
  for (const e of event.entity ?? []) {
    const m = REFERENCE.exec(e.what?.reference ?? '');
    if (!m) continue;
    if (m[1] === 'Patient' || e.role?.code === '1') {
      patientId ??= m[2];
    } else if (entityType === null) {
      entityType = m[1];
      recordId = m[2];
    }
  }
  // A patient record is its own patient; a record-less event about a patient is found by it too.
  if (entityType === 'patients' && patientId === null) patientId = recordId;
  const requestor = event.agent.find((a) => a.requestor) ?? event.agent[0];
  return {
    id: event.id.toLowerCase(),
    tenantId: event.tenantId,
    kind: event.kind,
    entityType,
    recordId,
    patientId,
    actor: requestor?.who?.identifier?.value ?? '',
    outcome: event.outcome,
    recordedMs: Date.parse(event.recorded),
  };
}

function columnMismatch(link: ChainLink, tenantId: string): string | undefined {
  const derived = indexColumnsOf(link.event);
  const stored = link.columns;
  if (stored.tenantId !== tenantId || derived.tenantId !== tenantId)
    return 'the event belongs to another tenant';
  const keys: (keyof AuditIndexColumns)[] = [
    'id',
    'kind',
    'entityType',
    'recordId',
    'patientId',
    'actor',
    'outcome',
    'recordedMs',
  ];
  const differing = keys.filter((k) => derived[k] !== stored[k]);
  return differing.length
    ? `stored column(s) ${differing.join(', ')} disagree with the hashed event`
    : undefined;
}

/**
 * Walks a chain link by link (pure; the caller feeds pages in sequence order). The first broken
 * link stops the walk: a missing sequence (deleted event), a prevHash that is not the previous
 * link's hash (reordered or deleted event), or a hash that does not match the event (edited).
 */
export class ChainWalker {
  private position: ChainPosition;
  private readonly head: ChainPosition | undefined;
  private verified = 0;
  private lastId: string | undefined;
  private broken: BrokenLink | undefined;

  /**
   * @param start the position the walk continues from (genesis for a whole chain; the link
   *   before a segment otherwise).
   * @param head the recorded chain head, when the walk runs to the end of the chain: events
   *   missing at the end, a rewritten tail or events beyond the head are then reported too.
   */
  constructor(
    private readonly tenantId: string,
    options: { start?: ChainPosition; head?: ChainPosition } = {},
  ) {
    this.position = options.start ?? GENESIS;
    this.head = options.head;
  }

  get checked(): number {
    return this.verified;
  }

  /** Checks the next link; returns false once the chain is broken. */
  add(link: ChainLink): boolean {
    if (this.broken) return false;
    const expected = this.position.sequence + 1;
    const id = link.columns.id;
    if (link.sequence !== expected) {
      const missing =
        link.sequence > expected ? `: event(s) ${expected}..${link.sequence - 1} are missing` : '';
      return this.fail({
        sequence: link.sequence,
        id,
        reason: 'sequence gap',
        detail: `expected sequence ${expected}, found ${link.sequence}${missing}`,
      });
    }
    if (this.head && link.sequence > this.head.sequence) {
      return this.fail({
        sequence: link.sequence,
        id,
        reason: 'sequence gap',
        detail: `the recorded chain head is at sequence ${this.head.sequence}, yet this event follows it`,
      });
    }
    if (link.prevHash !== this.position.hash) {
      return this.fail({
        sequence: link.sequence,
        id,
        reason: 'prevHash mismatch',
        detail: `prevHash is not the hash of event ${this.position.sequence}`,
      });
    }
    if (linkHash(link.prevHash, link.event) !== link.hash) {
      return this.fail({
        sequence: link.sequence,
        id,
        reason: 'hash mismatch',
        detail: 'the stored hash does not match the event',
      });
    }
    const mismatch = columnMismatch(link, this.tenantId);
    if (mismatch)
      return this.fail({ sequence: link.sequence, id, reason: 'hash mismatch', detail: mismatch });
    this.position = { sequence: link.sequence, hash: link.hash };
    this.lastId = id;
    this.verified++;
    return true;
  }

  /** Ends the walk: the first broken link, or the number of intact links and the last hash. */
  finish(): ChainVerification {
    const head = this.head;
    if (!this.broken && head) {
      if (this.position.sequence < head.sequence) {
        this.fail({
          sequence: this.position.sequence + 1,
          reason: 'sequence gap',
          detail: `the chain head is at sequence ${head.sequence}, the last event found is ${this.position.sequence}`,
        });
      } else if (this.position.hash !== head.hash) {
        const id = this.position.sequence > 0 ? this.lastId : undefined;
        this.fail({
          sequence: head.sequence,
          ...(id ? { id } : {}),
          reason: 'hash mismatch',
          detail: 'the last event does not hash to the recorded chain head',
        });
      }
    }
    if (this.broken) return { valid: false, checked: this.verified, brokenAt: this.broken };
    return { valid: true, checked: this.verified, head: this.position.hash };
  }

  private fail(broken: BrokenLink): false {
    this.broken = broken;
    return false;
  }
}

/** Verifies a whole chain (or a segment after `start`) against an optional recorded head (pure). */
export function verifyChain(
  tenantId: string,
  links: Iterable<ChainLink>,
  options: { start?: ChainPosition; head?: ChainPosition } = {},
): ChainVerification {
  const walker = new ChainWalker(tenantId, options);
  for (const link of links) if (!walker.add(link)) break;
  return walker.finish();
}
