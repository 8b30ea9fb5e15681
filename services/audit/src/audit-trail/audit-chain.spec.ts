import { AuditEventResource } from '@clinisync/contracts';
import { buildAuditEvent } from '@clinisync/sync-core';
import {
  BrokenReason,
  ChainLink,
  ChainPosition,
  GENESIS,
  GENESIS_HASH,
  indexColumnsOf,
  linkHash,
  nextLink,
  verifyChain,
} from './audit-chain';

const TENANT = 't1';

function anEvent(n: number, overrides: Partial<AuditEventResource> = {}): AuditEventResource {
  return {
    ...buildAuditEvent({
      id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
      kind: 'write-denied',
      recorded: `2026-11-21T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
      tenantId: TENANT,
      correlationId: `corr-${n}`,
      actor: { sub: `u-${n}`, roles: ['nurse'] },
      service: 'patients',
      action: 'C',
      outcome: '4',
      record: {
        entity: 'visits',
        id: `10000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
        patientId: 'p-1',
      },
    }),
    ...overrides,
  };
}

/** A valid chain of `n` links, built exactly as the service appends them. */
function aChain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let head: ChainPosition = GENESIS;
  for (let i = 1; i <= n; i++) {
    const event = anEvent(i);
    const link = nextLink(head, event);
    links.push({
      sequence: link.sequence,
      prevHash: link.prevHash,
      hash: link.hash,
      event,
      columns: indexColumnsOf(event),
    });
    head = { sequence: link.sequence, hash: link.hash };
  }
  return links;
}

const headOf = (links: ChainLink[]): ChainPosition => ({
  sequence: links[links.length - 1].sequence,
  hash: links[links.length - 1].hash,
});

describe('audit chain', () => {
  it('chains the first event to 64 zeros and each next one to its predecessor, hashing prevHash followed by the canonical event with SHA-256', () => {
    const [a, b] = aChain(2);
    expect(a.prevHash).toBe(GENESIS_HASH);
    expect(a.hash).toBe(linkHash(GENESIS_HASH, a.event));
    expect(b.prevHash).toBe(a.hash);
    expect(b.hash).toMatch(/^[0-9a-f]{64}$/);
    // key order does not matter: the event is hashed in canonical form
    const reordered = Object.fromEntries(Object.entries(a.event).reverse());
    expect(linkHash(GENESIS_HASH, reordered)).toBe(a.hash);
  });

  it('derives the query columns from the event: kind, record, patient, requesting actor, outcome, time', () => {
    const e = anEvent(3);
    expect(indexColumnsOf(e)).toEqual({
      id: e.id,
      tenantId: TENANT,
      kind: 'write-denied',
      entityType: 'visits',
      recordId: '10000000-0000-7000-8000-000000000003',
      patientId: 'p-1',
      actor: 'u-3',
      outcome: '4',
      recordedMs: Date.parse('2026-11-21T10:00:03.000Z'),
    });
    const patient = buildAuditEvent({
      ...anEventInput(),
      record: { entity: 'patients', id: 'p-9', afterVersion: 2 },
    });
    expect(indexColumnsOf(patient)).toMatchObject({
      entityType: 'patients',
      recordId: 'p-9',
      patientId: 'p-9',
    });
  });

  type Tamper = (links: ChainLink[]) => ChainLink[];
  const swap = (links: ChainLink[], i: number, j: number) => {
    const out = [...links];
    [out[i], out[j]] = [
      { ...links[j], sequence: links[i].sequence },
      { ...links[i], sequence: links[j].sequence },
    ];
    return out;
  };
  const cases: {
    name: string;
    tamper: Tamper;
    head?: 'original' | 'none';
    expected: { sequence: number; index?: number; reason: BrokenReason } | 'valid';
    checked: number;
  }[] = [
    { name: 'an intact chain is valid', tamper: (l) => l, expected: 'valid', checked: 5 },
    {
      name: 'an edited event breaks at that event with a hash mismatch',
      tamper: (l) =>
        l.map((x, i) => (i === 2 ? { ...x, event: { ...x.event, outcomeDesc: 'nothing happened' } } : x)),
      expected: { sequence: 3, index: 2, reason: 'hash mismatch' },
      checked: 2,
    },
    {
      name: 'an edited event whose hash was recomputed breaks at the next event with a prevHash mismatch',
      tamper: (l) => {
        const event = { ...l[1].event, outcome: '0' as const };
        return l.map((x, i) =>
          i === 1 ? { ...x, event, columns: indexColumnsOf(event), hash: linkHash(x.prevHash, event) } : x,
        );
      },
      expected: { sequence: 3, index: 2, reason: 'prevHash mismatch' },
      checked: 2,
    },
    {
      name: 'a deleted event breaks at the next event with a sequence gap',
      tamper: (l) => l.filter((_, i) => i !== 1),
      expected: { sequence: 3, index: 1, reason: 'sequence gap' },
      checked: 1,
    },
    {
      name: 'a deleted event with the rest renumbered breaks with a prevHash mismatch',
      tamper: (l) => l.filter((_, i) => i !== 1).map((x, i) => ({ ...x, sequence: i + 1 })),
      expected: { sequence: 2, index: 1, reason: 'prevHash mismatch' },
      checked: 1,
    },
    {
      name: 'a deleted first event breaks with a sequence gap',
      tamper: (l) => l.slice(1),
      expected: { sequence: 2, index: 0, reason: 'sequence gap' },
      checked: 0,
    },
    {
      name: 'a deleted last event is found against the recorded head',
      tamper: (l) => l.slice(0, -1),
      expected: { sequence: 5, reason: 'sequence gap' },
      checked: 4,
    },
    {
      name: 'a deleted last event goes unseen without a head (a segment check)',
      tamper: (l) => l.slice(0, -1),
      head: 'none',
      expected: 'valid',
      checked: 4,
    },
    {
      name: 'two reordered events break at the first of them with a prevHash mismatch',
      tamper: (l) => swap(l, 1, 2),
      expected: { sequence: 2, index: 1, reason: 'prevHash mismatch' },
      checked: 1,
    },
    {
      name: 'an edited query column (hiding the actor) is a hash mismatch',
      tamper: (l) =>
        l.map((x, i) => (i === 3 ? { ...x, columns: { ...x.columns, actor: 'someone-else' } } : x)),
      expected: { sequence: 4, index: 3, reason: 'hash mismatch' },
      checked: 3,
    },
    {
      name: 'an event moved in from another tenant is a hash mismatch',
      tamper: (l) => l.map((x, i) => (i === 0 ? { ...x, columns: { ...x.columns, tenantId: 't2' } } : x)),
      expected: { sequence: 1, index: 0, reason: 'hash mismatch' },
      checked: 0,
    },
  ];

  it.each(cases)('verifyChain: $name', ({ tamper, head, expected, checked }) => {
    const original = aChain(5);
    const tampered = tamper(original);
    const result = verifyChain(TENANT, tampered, head === 'none' ? {} : { head: headOf(original) });
    if (expected === 'valid') {
      expect(result).toEqual({ valid: true, checked, head: tampered[tampered.length - 1].hash });
      return;
    }
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.checked).toBe(checked);
    expect(result.brokenAt).toMatchObject({ sequence: expected.sequence, reason: expected.reason });
    expect(result.brokenAt.id).toBe(
      expected.index === undefined ? undefined : tampered[expected.index].columns.id,
    );
  });

  it('verifies an empty chain as valid at the genesis hash', () => {
    expect(verifyChain(TENANT, [], { head: GENESIS })).toEqual({
      valid: true,
      checked: 0,
      head: GENESIS_HASH,
    });
  });

  it('reports a chain head moved back behind stored events', () => {
    const links = aChain(4);
    const result = verifyChain(TENANT, links, { head: { sequence: 2, hash: links[1].hash } });
    expect(result).toMatchObject({
      valid: false,
      checked: 2,
      brokenAt: { sequence: 3, id: links[2].columns.id, reason: 'sequence gap' },
    });
  });

  it('verifies a segment from the link before it', () => {
    const links = aChain(6);
    expect(
      verifyChain(TENANT, links.slice(3), {
        start: { sequence: 3, hash: links[2].hash },
        head: headOf(links),
      }),
    ).toEqual({ valid: true, checked: 3, head: links[5].hash });
    expect(
      verifyChain(TENANT, links.slice(3), { start: { sequence: 3, hash: links[1].hash } }),
    ).toMatchObject({ valid: false, brokenAt: { sequence: 4, reason: 'prevHash mismatch' } });
  });
});

function anEventInput() {
  return {
    id: '00000000-0000-7000-8000-0000000000ff',
    kind: 'conflict-resolved' as const,
    recorded: '2026-11-21T10:00:00.000Z',
    tenantId: TENANT,
    correlationId: 'c',
    actor: { sub: 'u-1', roles: ['clinician'] },
    service: 'sync-ingest',
    action: 'U' as const,
    outcome: '0' as const,
  };
}
