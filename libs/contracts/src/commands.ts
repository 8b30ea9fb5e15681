import { Mutation, MutationResult } from './push';
import { Role } from './roles';

/** Module services a command can be addressed to. */
export const MODULES = ['patients', 'pharmacy', 'inventory'] as const;
export type ModuleName = (typeof MODULES)[number];

/** NATS request-reply pattern a module serves for applying a batch of mutations. */
export function applyBatchPattern(module: ModuleName): string {
  return `clinisync.${module}.apply-batch`;
}

/** The authenticated caller, as carried from sync-ingest to a module. */
export interface ActorContext {
  sub: string;
  tenantId: string;
  roles: Role[];
  facilities: string[];
  licences: string[];
  deviceId?: string;
  address?: string;
}

/** A mutation as sync-ingest forwards it: normalised, with its payload hash. */
export interface MutationCommand extends Required<Pick<Mutation, 'clientMutationId' | 'entity' | 'op' | 'id'>> {
  baseVersion?: number;
  data: Record<string, unknown>;
  changedFields: string[];
  occurredAt?: string;
  payloadHash: string;
  /** Present when this command applies a conflict resolution (authorized as `resolve`, audited). */
  resolution?: ResolutionCommand;
}

export type ConflictResolutionKind = 'client_wins' | 'server_wins' | 'merge' | 'manual_review';

export interface ResolutionCommand {
  conflictId: string;
  resolution: Exclude<ConflictResolutionKind, 'manual_review'>;
  reason?: string;
  conflictingFields: string[];
}

/**
 * One request per module per push batch. The module re-verifies `token` itself (defence in
 * depth) and refuses a command whose token tenant differs from `tenantId`.
 */
export interface ApplyBatchCommand {
  tenantId: string;
  correlationId: string;
  token: string;
  deviceId?: string;
  commands: MutationCommand[];
}

export interface ApplyBatchReply {
  results: MutationResult[];
  /**
   * The id (xid8, decimal) of the transaction that committed this batch's writes, when it wrote
   * any: a pull whose snapshot sees it returns them (the push answer's checkpoint).
   */
  xid?: string;
}

/** Error body a module returns over RPC/internal HTTP instead of a reply. */
export interface ModuleErrorReply {
  error: { code: string; message: string };
}
