import fc from 'fast-check';
import { CoalescedMutation, OutboxOp, coalesceOps } from './coalesce';

const at = (n: number) => `2026-11-21T10:00:${String(n).padStart(2, '0')}.000Z`;
let seq = 0;
function op(
  recordId: string,
  kind: OutboxOp['op'],
  data: Record<string, unknown> = {},
  baseVersion: number | null = 3,
): OutboxOp {
  seq += 1;
  return {
    seq,
    entity: 'patients',
    recordId,
    op: kind,
    baseVersion: kind === 'create' ? null : baseVersion,
    data,
    changedFields: kind === 'update' ? Object.keys(data) : [],
    occurredAt: at(seq % 60),
  };
}

describe('coalesceOps (outbox coalescing)', () => {
  beforeEach(() => {
    seq = 0;
  });

  const cases: {
    name: string;
    ops: () => OutboxOp[];
    mutations: Partial<CoalescedMutation>[];
    cancelled: string[];
  }[] = [
    {
      name: 'a single update passes through',
      ops: () => [op('a', 'update', { phone: '1' })],
      mutations: [
        {
          recordId: 'a',
          op: 'update',
          baseVersion: 3,
          data: { phone: '1' },
          changedFields: ['phone'],
          seqs: [1],
        },
      ],
      cancelled: [],
    },
    {
      name: 'several updates become one with the union of fields, later values and the first base version',
      ops: () => [
        op('a', 'update', { phone: '1' }, 3),
        op('a', 'update', { address: 'Kisumu' }, 4),
        op('a', 'update', { phone: '2' }, 4),
      ],
      mutations: [
        {
          recordId: 'a',
          op: 'update',
          baseVersion: 3,
          data: { phone: '2', address: 'Kisumu' },
          changedFields: ['phone', 'address'],
          seqs: [1, 2, 3],
        },
      ],
      cancelled: [],
    },
    {
      name: 'create then updates of a never-synced record become one create with merged data',
      ops: () => [
        op('n', 'create', { givenName: 'A', facilityId: 'f-1' }),
        op('n', 'update', { phone: '1' }, null),
        op('n', 'update', { givenName: 'B' }, null),
      ],
      mutations: [
        {
          recordId: 'n',
          op: 'create',
          baseVersion: null,
          data: { givenName: 'B', facilityId: 'f-1', phone: '1' },
          seqs: [1, 2, 3],
        },
      ],
      cancelled: [],
    },
    {
      name: 'create then delete of a never-synced record becomes nothing',
      ops: () => [
        op('n', 'create', { givenName: 'A', facilityId: 'f-1' }),
        op('n', 'update', { phone: '1' }, null),
        op('n', 'delete', {}, null),
      ],
      mutations: [],
      cancelled: ['n'],
    },
    {
      name: 'updates then a delete become one delete from the first base version',
      ops: () => [op('a', 'update', { phone: '1' }, 5), op('a', 'delete', {}, 5)],
      mutations: [{ recordId: 'a', op: 'delete', baseVersion: 5, data: {}, changedFields: [], seqs: [1, 2] }],
      cancelled: [],
    },
    {
      name: 'records keep the order of their first operation',
      ops: () => [
        op('b', 'update', { phone: '1' }),
        op('a', 'create', { givenName: 'A', facilityId: 'f-1' }),
        op('b', 'update', { phone: '2' }),
      ],
      mutations: [
        { recordId: 'b', op: 'update', data: { phone: '2' }, seqs: [1, 3] },
        { recordId: 'a', op: 'create', seqs: [2] },
      ],
      cancelled: [],
    },
  ];

  it.each(cases)('$name', ({ ops, mutations, cancelled }) => {
    const r = coalesceOps(ops());
    expect(r.mutations).toHaveLength(mutations.length);
    r.mutations.forEach((m, i) => expect(m).toMatchObject(mutations[i]));
    expect(r.cancelled.map((c) => c.recordId)).toEqual(cancelled);
  });

  it('takes the latest occurredAt of the folded operations', () => {
    const r = coalesceOps([op('a', 'update', { phone: '1' }), op('a', 'update', { phone: '2' })]);
    expect(r.mutations[0].occurredAt).toBe(at(2));
  });

  it('sorts by seq whatever the input order', () => {
    const ops = [op('a', 'update', { phone: '1' }), op('a', 'update', { phone: '2' })].reverse();
    expect(coalesceOps(ops).mutations[0].data).toEqual({ phone: '2' });
  });

  // Property: applying the coalesced mutations to the server equals applying every queued operation in order.
  type Rec = { data: Record<string, number>; deleted: boolean; version: number };
  const intents = fc.array(
    fc.record({
      kind: fc.constantFrom('create', 'update', 'delete'),
      target: fc.nat(5),
      data: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 9 }), { minKeys: 1 }),
    }),
    { maxLength: 40 },
  );
  const initial = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 3, maxLength: 3 });

  function applyOne(
    state: Map<string, Rec>,
    o: {
      op: string;
      recordId: string;
      data: Record<string, unknown>;
      changedFields: string[];
      baseVersion?: number | null;
    },
    checkBase: boolean,
  ): void {
    const cur = state.get(o.recordId);
    if (checkBase && o.op !== 'create') {
      // Every coalesced update/delete of a synced record starts from the synced version.
      expect(o.baseVersion).toBe(cur?.version);
    }
    if (o.op === 'create')
      state.set(o.recordId, { data: { ...(o.data as Record<string, number>) }, deleted: false, version: 1 });
    else if (o.op === 'update') {
      const patch: Record<string, number> = {};
      for (const f of o.changedFields) patch[f] = o.data[f] as number;
      state.set(o.recordId, { ...(cur as Rec), data: { ...(cur as Rec).data, ...patch } });
    } else state.set(o.recordId, { ...(cur as Rec), deleted: true });
  }
  const live = (state: Map<string, Rec>) =>
    Object.fromEntries([...state].filter(([, r]) => !r.deleted).map(([id, r]) => [id, r.data]));

  it('property: coalescing then applying equals applying each operation in order', () => {
    fc.assert(
      fc.property(initial, intents, (versions, plan) => {
        const server = new Map<string, Rec>(
          versions.map((v, i) => [`s${i}`, { data: { a: 0 }, deleted: false, version: v }]),
        );
        const localLive = new Set(server.keys());
        const created = new Set<string>();
        const ops: OutboxOp[] = [];
        let n = 0;
        for (const it of plan) {
          const liveIds = [...localLive].sort();
          if (it.kind === 'create') {
            const id = `n${it.target}`;
            if (created.has(id)) continue;
            created.add(id);
            localLive.add(id);
            ops.push({
              seq: ++n,
              entity: 'patients',
              recordId: id,
              op: 'create',
              baseVersion: null,
              data: it.data,
              changedFields: Object.keys(it.data),
              occurredAt: at(n % 60),
            });
            continue;
          }
          if (liveIds.length === 0) continue;
          const id = liveIds[it.target % liveIds.length];
          const base = server.get(id)?.version ?? null;
          if (it.kind === 'update') {
            ops.push({
              seq: ++n,
              entity: 'patients',
              recordId: id,
              op: 'update',
              baseVersion: base,
              data: it.data,
              changedFields: Object.keys(it.data),
              occurredAt: at(n % 60),
            });
          } else {
            localLive.delete(id);
            ops.push({
              seq: ++n,
              entity: 'patients',
              recordId: id,
              op: 'delete',
              baseVersion: base,
              data: {},
              changedFields: [],
              occurredAt: at(n % 60),
            });
          }
        }
        const sequential = new Map([...server].map(([k, v]) => [k, { ...v, data: { ...v.data } }]));
        for (const o of ops) applyOne(sequential, o, false);
        const coalesced = new Map([...server].map(([k, v]) => [k, { ...v, data: { ...v.data } }]));
        const r = coalesceOps(ops);
        for (const m of r.mutations) applyOne(coalesced, m, true);
        expect(live(coalesced)).toEqual(live(sequential));
        // At most one mutation per record; only never-synced records cancel out; every entry is accounted for once.
        expect(new Set(r.mutations.map((m) => m.recordId)).size).toBe(r.mutations.length);
        expect(r.cancelled.every((c) => c.recordId.startsWith('n'))).toBe(true);
        const seqs = [...r.mutations.flatMap((m) => m.seqs), ...r.cancelled.flatMap((c) => c.seqs)].sort(
          (a, b) => a - b,
        );
        expect(seqs).toEqual(ops.map((o) => o.seq));
        for (const m of r.mutations)
          if (m.op === 'update') expect(Object.keys(m.data).sort()).toEqual([...m.changedFields].sort());
      }),
      { numRuns: 500 },
    );
  });
});
