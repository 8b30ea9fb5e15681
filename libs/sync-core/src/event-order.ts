/** A change event as a relay reads it: in transaction-id order, with its record's version. */
export interface VersionedEvent {
  aggregateId: string;
  version: number;
}

/**
 * Publication order of a page of change events read in transaction-id order. Transaction ids
 * are handed out at a transaction's first write, not at commit, so a transaction that waited on
 * a record's lock can carry a lower id than the one it waited for while writing the later
 * version. Each aggregate keeps the places its events hold in the page, and its events fill
 * them in version order; events of different aggregates keep their relative order.
 */
export function inAggregateOrder<E extends VersionedEvent>(events: readonly E[]): E[] {
  const byAggregate = new Map<string, number[]>();
  events.forEach((e, i) => {
    const places = byAggregate.get(e.aggregateId);
    if (places) places.push(i);
    else byAggregate.set(e.aggregateId, [i]);
  });
  const out = [...events];
  for (const places of byAggregate.values()) {
    if (places.length < 2) continue;
    const sorted = places.map((i) => events[i]).sort((a, b) => a.version - b.version);
    places.forEach((place, k) => (out[place] = sorted[k]));
  }
  return out;
}
