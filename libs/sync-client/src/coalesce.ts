import { MutationOp } from '@clinisync/contracts';

/** One locally recorded operation, as the outbox keeps it. */
export interface OutboxOp {
  seq: number;
  entity: string;
  recordId: string;
  op: MutationOp;
  baseVersion: number | null;
  data: Record<string, unknown>;
  changedFields: string[];
  occurredAt: string;
}

/** The single mutation a record's queued operations reduce to. */
export interface CoalescedMutation {
  entity: string;
  recordId: string;
  op: MutationOp;
  /** The version the first queued edit started from (the synced version); null for a create. */
  baseVersion: number | null;
  data: Record<string, unknown>;
  changedFields: string[];
  /** When the latest folded operation happened. */
  occurredAt: string;
  /** Outbox entries folded into this mutation, ascending. */
  seqs: number[];
}

export interface CoalesceResult {
  /** In outbox order of each record's first entry. */
  mutations: CoalescedMutation[];
  /** Entries whose operations cancel out (a create, then a delete, of a never-synced record). */
  cancelled: { entity: string; recordId: string; seqs: number[] }[];
}

function pick(data: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in data) out[f] = data[f];
  return out;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

function start(op: OutboxOp): CoalescedMutation {
  const fields = op.op === 'delete' ? [] : op.op === 'create' ? Object.keys(op.data) : [...op.changedFields];
  return {
    entity: op.entity,
    recordId: op.recordId,
    op: op.op,
    baseVersion: op.op === 'create' ? null : op.baseVersion,
    data: op.op === 'delete' ? {} : pick(op.data, fields),
    changedFields: fields,
    occurredAt: op.occurredAt,
    seqs: [op.seq],
  };
}

/** Folds `op` into `acc`; null means the record's operations cancel out. */
function fold(acc: CoalescedMutation, op: OutboxOp): CoalescedMutation | null {
  if (acc.op === 'delete') {
    // Nothing follows a delete locally (writes to a deleted record are refused); keep the delete.
    return { ...acc, seqs: [...acc.seqs, op.seq] };
  }
  if (op.op === 'delete') {
    if (acc.op === 'create') return null;
    return {
      ...acc,
      op: 'delete',
      data: {},
      changedFields: [],
      occurredAt: op.occurredAt,
      seqs: [...acc.seqs, op.seq],
    };
  }
  // create or update folded into create or update: later values win, fields accumulate.
  const fields = op.op === 'create' ? Object.keys(op.data) : op.changedFields;
  return {
    ...acc,
    data: { ...acc.data, ...pick(op.data, fields) },
    changedFields: union(acc.changedFields, fields),
    occurredAt: op.occurredAt,
    seqs: [...acc.seqs, op.seq],
  };
}

/**
 * Reduces queued operations to at most one mutation per record (pure):
 * - several updates -> one update; changedFields is their union, later values win, baseVersion
 *   is the first edit's (the version the local edits started from);
 * - create, then updates, of a never-synced record -> one create with the merged data;
 * - create ... delete of a never-synced record -> nothing (reported in `cancelled`);
 * - updates, then a delete -> one delete from the first edit's baseVersion.
 * Operations are taken in `seq` order; records keep the order of their first operation.
 */
export function coalesceOps(ops: readonly OutboxOp[]): CoalesceResult {
  const sorted = [...ops].sort((a, b) => a.seq - b.seq);
  const groups = new Map<string, OutboxOp[]>();
  for (const op of sorted) {
    const key = `${op.entity}\u0000${op.recordId}`;
    const g = groups.get(key);
    if (g) g.push(op);
    else groups.set(key, [op]);
  }
  const result: CoalesceResult = { mutations: [], cancelled: [] };
  for (const group of groups.values()) {
    let acc: CoalescedMutation | null = start(group[0]);
    let i = 1;
    for (; i < group.length && acc; i++) acc = fold(acc, group[i]);
    if (acc) {
      result.mutations.push(acc);
    } else {
      // Anything after the cancelling delete starts afresh (cannot happen through the client API).
      const cancelledSeqs = group.slice(0, i).map((o) => o.seq);
      result.cancelled.push({ entity: group[0].entity, recordId: group[0].recordId, seqs: cancelledSeqs });
      const rest = coalesceOps(group.slice(i));
      result.mutations.push(...rest.mutations);
      result.cancelled.push(...rest.cancelled);
    }
  }
  return result;
}
