import { MutationRejectCode } from './errors';
import { RecordData, SyncRecord } from './records';

export const MUTATION_OPS = ['create', 'update', 'delete'] as const;
export type MutationOp = (typeof MUTATION_OPS)[number];

export const MAX_MUTATIONS_PER_PUSH = 500;

/** One client mutation (PROTOCOL.md "Push"). */
export interface Mutation {
  clientMutationId: string;
  entity: string;
  op: MutationOp;
  id: string;
  baseVersion?: number;
  data?: RecordData;
  changedFields?: string[];
  occurredAt?: string;
}

export interface PushRequest {
  deviceId?: string;
  tenantId?: string;
  mutations: Mutation[];
}

export interface AppliedResult {
  clientMutationId: string;
  status: 'applied';
  id: string;
  version: number;
  replayed?: true;
}

export interface MergedResult {
  clientMutationId: string;
  status: 'merged';
  id: string;
  version: number;
  record: SyncRecord;
  replayed?: true;
}

export interface ConflictResult {
  clientMutationId: string;
  status: 'conflict';
  id: string;
  conflictId: string;
  serverVersion: number;
  conflictingFields: string[];
  serverRecord: SyncRecord;
  replayed?: true;
}

export interface RejectedResult {
  clientMutationId: string;
  status: 'rejected';
  id: string;
  code: MutationRejectCode;
  message: string;
  retryable: boolean;
  replayed?: true;
}

export type MutationResult = AppliedResult | MergedResult | ConflictResult | RejectedResult;
export type MutationStatus = MutationResult['status'];

export interface PushResponse {
  results: MutationResult[];
  serverTime: string;
  /**
   * Read-your-writes: a pull sent with `checkpoint=<this>` returns at least everything this push
   * wrote. Absent when the push wrote nothing new.
   */
  checkpoint?: string;
}
