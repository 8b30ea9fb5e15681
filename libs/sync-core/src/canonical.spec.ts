import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { canonicalJson, mutationPayloadHash, sha256Hex } from './canonical';

/** Deterministic PRNG so a shuffle is reproducible from fast-check's seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same value with every object's keys inserted in another order (arrays untouched). */
function shuffleKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  // fromEntries defines own properties, so a generated "__proto__" key stays a plain key.
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, rand)]));
}

const runs = { numRuns: 200 };

/** The first implementation, kept as the reference: stored payload hashes must stay valid. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : referenceCanonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    [
      'sorts keys recursively',
      { b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    ],
    ['drops undefined object members', { a: undefined, b: 1 }, '{"b":1}'],
    ['writes undefined array items as null', [1, undefined, 3], '[1,null,3]'],
    ['writes a top-level undefined as null', undefined, 'null'],
    ['has no whitespace', { a: [1, 2], b: 'x y' }, '{"a":[1,2],"b":"x y"}'],
    ['escapes keys and strings as JSON does', { 'a"b': 'é\n' }, '{"a\\"b":"é\\n"}'],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
  ])('%s', (_case, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('writes exactly what the first implementation wrote, so stored payload hashes stay valid (property)', () => {
    const withUndefined = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), tie('object'), tie('array')),
      object: fc.dictionary(fc.string(), fc.option(tie('value'), { nil: undefined })),
      array: fc.array(fc.option(tie('value'), { nil: undefined })),
    })).value;
    fc.assert(
      fc.property(withUndefined, (value) => {
        expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('is RFC 8785 (JCS) on JSON values: the same bytes as the canonicalize package (property)', () => {
    const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 });
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 1000 },
    );
  });

  it.each<[string, unknown, string]>([
    // RFC 8785 section 3.2.2.3 and appendix B: ECMAScript number serialisation.
    ['a fraction', 333333333.3333333, '333333333.3333333'],
    ['a large exponent', 1e30, '1e+30'],
    ['a trailing zero', 4.5, '4.5'],
    ['a small fraction', 0.002, '0.002'],
    ['a tiny number', 1e-27, '1e-27'],
    ['negative zero', -0, '0'],
    ['the largest safe integer', 9007199254740991, '9007199254740991'],
    // RFC 8785 section 3.2.2.2: minimal string escapes, lower-case hex for other controls.
    ['string escapes', '\u0000\b\f\n\r\t"\\\u001f\u007f\u20ac', '"\\u0000\\b\\f\\n\\r\\t\\"\\\\\\u001f\u007f\u20ac"'],
    // RFC 8785 section 3.2.3: keys sorted by UTF-16 code units (U+1F600 sorts before U+FB33).
    ['key order by UTF-16 code units', { '\ufb33': 1, '\u{1f600}': 2, '\r': 3, '1': 4, '\u00e9': 5 }, '{"\\r":3,"1":4,"\u00e9":5,"\u{1f600}":2,"\ufb33":1}'],
  ])('writes %s as RFC 8785 does', (_case, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
    expect(canonicalize(value)).toBe(expected);
  });

  it('is independent of key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, mulberry32(seed)))).toBe(canonicalJson(value));
      }),
      runs,
    );
  });

  it('is valid JSON and a fixed point once parsed back (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      runs,
    );
  });

  it('distinguishes different objects (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), fc.string(), fc.integer(), (obj, key, v) => {
        fc.pre(obj[key] !== v || !Object.prototype.hasOwnProperty.call(obj, key));
        const changed = Object.fromEntries([...Object.entries(obj).filter(([k]) => k !== key), [key, v]]);
        expect(canonicalJson(changed)).not.toBe(canonicalJson(obj));
      }),
      runs,
    );
  });
});

describe('sha256Hex', () => {
  it('hashes UTF-8 text to lower-case hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('mutationPayloadHash', () => {
  const base = {
    entity: 'patients',
    op: 'update',
    id: '0193f0c2-0000-7000-8000-000000000001',
    baseVersion: 3,
    data: { phone: '+254700', familyName: 'Otieno', address: { city: 'Kisumu', line: '1 Road' } },
    changedFields: ['phone', 'familyName', 'address'],
    occurredAt: '2026-11-21T10:00:00Z',
  };

  it('is a SHA-256 hex digest', () => {
    expect(mutationPayloadHash(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is equal for the same mutation with keys in another order, at every level', () => {
    const reordered = {
      occurredAt: base.occurredAt,
      changedFields: [...base.changedFields],
      data: { address: { line: '1 Road', city: 'Kisumu' }, familyName: 'Otieno', phone: '+254700' },
      baseVersion: 3,
      id: base.id,
      op: 'update',
      entity: 'patients',
    };
    expect(mutationPayloadHash(reordered)).toBe(mutationPayloadHash(base));
  });

  it('ignores the idempotency key and any other extra member', () => {
    const withKey = {
      ...base,
      clientMutationId: '0193f0c2-0000-7000-8000-0000000000ff',
      deviceId: 'tablet-7',
    };
    expect(mutationPayloadHash(withKey)).toBe(mutationPayloadHash(base));
  });

  it('treats an absent optional member like an undefined one', () => {
    const { occurredAt: _omitted, ...withoutOccurredAt } = base;
    expect(mutationPayloadHash({ ...base, occurredAt: undefined })).toBe(
      mutationPayloadHash(withoutOccurredAt),
    );
  });

  it.each<[string, Partial<typeof base>]>([
    ['a changed data value', { data: { ...base.data, phone: '+254799' } }],
    ['a nested data change', { data: { ...base.data, address: { city: 'Nairobi', line: '1 Road' } } }],
    ['an added data field', { data: { ...base.data, nationalId: 'KE-1' } as typeof base.data }],
    ['a value of another type', { data: { ...base.data, phone: 254700 } as unknown as typeof base.data }],
    ['another op', { op: 'delete' }],
    ['another record id', { id: '0193f0c2-0000-7000-8000-000000000002' }],
    ['another entity', { entity: 'visits' }],
    ['another baseVersion', { baseVersion: 4 }],
    ['other changedFields', { changedFields: ['phone'] }],
    ['another occurredAt', { occurredAt: '2026-11-21T10:00:01Z' }],
  ])('differs for %s', (_case, change) => {
    expect(mutationPayloadHash({ ...base, ...change })).not.toBe(mutationPayloadHash(base));
  });

  it('is independent of data key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.integer(), (data, seed) => {
        const m = { entity: 'patients', op: 'create', id: base.id, data };
        const shuffled = { ...m, data: shuffleKeys(data, mulberry32(seed)) };
        expect(mutationPayloadHash(shuffled)).toBe(mutationPayloadHash(m));
      }),
      runs,
    );
  });
});
