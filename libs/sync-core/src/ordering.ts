import { EntityDef, findEntity, referenceFields } from './registry';

export interface OrderableMutation {
  entity: string;
  op: string;
  id: string;
  data?: Record<string, unknown>;
}

/** Ids of records this mutation references through the relation graph (e.g. a visit's patientId). */
export function referencedIds(m: OrderableMutation, def: EntityDef | undefined = findEntity(m.entity)): string[] {
  if (!def || !m.data) return [];
  const ids: string[] = [];
  for (const f of referenceFields(def)) {
    const v = m.data[f.name];
    if (typeof v === 'string') ids.push(v);
  }
  return ids;
}

/**
 * Orders a batch so that every mutation of one record keeps its array order and every
 * mutation referencing a record created in the batch comes after that create. Among the
 * mutations that are free to go, the earliest in the array goes first (stable). Returns
 * indices into `items`.
 */
export function orderBatch(items: readonly OrderableMutation[]): number[] {
  const n = items.length;
  const edges: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Array<number>(n).fill(0);
  const lastOfRecord = new Map<string, number>();
  const createOf = new Map<string, number>();
  items.forEach((m, i) => {
    if (m.op === 'create' && !createOf.has(m.id)) createOf.set(m.id, i);
  });
  const addEdge = (from: number, to: number) => {
    if (from === to) return;
    edges[from].push(to);
    indegree[to] += 1;
  };
  items.forEach((m, i) => {
    const prev = lastOfRecord.get(m.id);
    if (prev !== undefined) addEdge(prev, i);
    lastOfRecord.set(m.id, i);
    for (const ref of referencedIds(m)) {
      const parent = createOf.get(ref);
      if (parent !== undefined) addEdge(parent, i);
    }
  });
  // Kahn's algorithm, always taking the lowest ready index (n <= 500, so a scan is fine).
  const ready = new Set<number>();
  indegree.forEach((d, i) => d === 0 && ready.add(i));
  const order: number[] = [];
  const done = new Array<boolean>(n).fill(false);
  while (order.length < n) {
    let next = -1;
    for (const i of ready) if (next === -1 || i < next) next = i;
    if (next === -1) {
      // A cycle (only possible with malformed self-references): fall back to array order.
      for (let i = 0; i < n; i++) if (!done[i]) next = next === -1 ? i : next;
    }
    ready.delete(next);
    done[next] = true;
    order.push(next);
    for (const to of edges[next]) {
      indegree[to] -= 1;
      if (indegree[to] === 0 && !done[to]) ready.add(to);
    }
  }
  return order;
}

/**
 * Tracks records whose mutation failed in this batch; a later mutation of the same record,
 * or one referencing it, fails with DEPENDENCY_FAILED instead of being applied out of context.
 */
export class DependencyTracker {
  private readonly failed = new Set<string>();

  markFailed(id: string): void {
    this.failed.add(id);
  }

  /** The failed record this mutation depends on, if any. */
  blockedBy(m: OrderableMutation): string | undefined {
    if (this.failed.has(m.id)) return m.id;
    return referencedIds(m).find((id) => this.failed.has(id));
  }
}
