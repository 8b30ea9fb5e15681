import { ConflictResolutionKind, MutationResult, ResolutionCommand } from '@clinisync/contracts';
import { Decision } from './decide';
import { StoredRecord } from './records';
import { canonicalJson, sha256Hex } from './canonical';

/**
 * What a resolution does to the record as the owning module finds it (PROTOCOL.md "Conflicts"):
 * it applies only at the version the resolver saw, so a record that moved on (or was deleted)
 * since is a new conflict; `server_wins` keeps the server record (a no-op, still audited).
 * Undefined: decide the resolution's write like any update at that version.
 */
export function resolutionDecision(resolution: ResolutionCommand, resolvedVersion: number | undefined, current: StoredRecord): Decision | undefined {
  if (current.version !== resolvedVersion || current.deletedAt !== null) {
    return { kind: 'conflict', serverRecord: current, conflictingFields: resolution.conflictingFields };
  }
  if (resolution.resolution === 'server_wins') return { kind: 'noop', record: current };
  return undefined;
}

/** The fields a resolution writes: the resolver's for `merge`, the client's contested edit for `client_wins`, none otherwise. */
export function resolutionData(
  resolution: ConflictResolutionKind,
  conflict: { clientData: Record<string, unknown>; changedFields: readonly string[] },
  mergeData?: Record<string, unknown>,
): Record<string, unknown> {
  switch (resolution) {
    case 'merge':
      return mergeData ?? {};
    case 'client_wins': {
      const data: Record<string, unknown> = {};
      for (const f of conflict.changedFields) if (Object.prototype.hasOwnProperty.call(conflict.clientData, f)) data[f] = conflict.clientData[f];
      return data;
    }
    case 'server_wins':
    case 'manual_review':
      return {};
  }
}

/** A stable key (a UUID v5-shaped hash) per conflict, server version, decision and data: a retried resolution is applied once. */
export function resolutionKey(conflictId: string, serverVersion: number, resolution: string, data: unknown): string {
  const h = sha256Hex(canonicalJson({ conflictId, serverVersion, resolution, data }));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** What the owning module's answer to a resolution means for the conflict. */
export type ResolutionOutcome =
  /** Written (or kept): the conflict is resolved at `version`. */
  | { kind: 'resolved'; version: number }
  /** The record changed since detection: the conflict stays open against the new server record. */
  | { kind: 'stale'; serverVersion: number; serverRecord: Record<string, unknown> }
  /** The caller may not write this record. */
  | { kind: 'forbidden'; message: string }
  /** The module could not apply it now; nothing was resolved, retry. */
  | { kind: 'unavailable'; message: string }
  /** The module refused it for good (e.g. invalid data for the record). */
  | { kind: 'refused'; message: string };

export function resolutionOutcome(result: MutationResult): ResolutionOutcome {
  switch (result.status) {
    case 'applied':
    case 'merged':
      return { kind: 'resolved', version: result.version };
    case 'conflict':
      return { kind: 'stale', serverVersion: result.serverVersion, serverRecord: result.serverRecord };
    case 'rejected':
      if (result.code === 'FORBIDDEN') return { kind: 'forbidden', message: result.message };
      if (result.retryable) return { kind: 'unavailable', message: result.message };
      return { kind: 'refused', message: result.message };
  }
}
