import fc from 'fast-check';
import * as nodeCrypto from 'node:crypto';
import { fromBase64url, toBase64url } from './bytes';
import { canonicalJson, mutationPayloadHash, sha256Hex } from './canonical';
import { decodeCheckpoint, decodePullCursor, encodeCheckpoint, encodePullCursor } from './cursor';
import { Hashing, hashing, nobleHashing, nodeCryptoHashing, setHashing } from './hashing';
import { changeEventIdFor, conflictIdFor } from './records';

// Payload hashes, conflict and event ids are stored and compared on replay: every implementation
// must give node:crypto's bytes (the oracle; what the first implementation used) for any input.
const nodeHashing = nodeCryptoHashing(nodeCrypto);
const implementations: [string, Hashing][] = [
  ['@noble/hashes', nobleHashing],
  ['node:crypto', nodeHashing],
];
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ maxLength: 400 }));

/** Runs `fn` with `implementation` in use, then puts the previous one back. */
function using<T>(implementation: Hashing, fn: () => T): T {
  const previous = setHashing(implementation);
  try {
    return fn();
  } finally {
    setHashing(previous);
  }
}

/** The first implementation of the name-based ids (node:crypto, Buffer). */
function oracleUuid(name: string): string {
  const h = nodeCrypto.createHash('sha1').update(Buffer.from('6f0c3b8e9a1d4c2b8e7f5a4d3c2b1a09', 'hex')).update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe.each(implementations)('hashing with %s gives the bytes of node:crypto (properties)', (_name, impl) => {
  it('sha256Hex of any string', () => {
    fc.assert(fc.property(anyText, (s) => impl.sha256Hex(s) === nodeCrypto.createHash('sha256').update(s).digest('hex')), { numRuns: 300 });
  });

  it('sha1 of any bytes then any string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), anyText, (prefix, s) => {
        const expected = nodeCrypto.createHash('sha1').update(prefix).update(s).digest('hex');
        return Buffer.from(impl.sha1(prefix, s)).toString('hex') === expected;
      }),
      { numRuns: 300 },
    );
  });

  it('hmacSha256 of any message under any key', () => {
    fc.assert(
      fc.property(anyText, anyText, (key, message) => Buffer.from(impl.hmacSha256(key, message)).toString('hex') === nodeCrypto.createHmac('sha256', key).update(message).digest('hex')),
      { numRuns: 300 },
    );
  });

  it('mutationPayloadHash of any mutation', () => {
    const mutation = fc.record(
      { entity: fc.string(), op: fc.constantFrom('create', 'update', 'delete'), id: fc.uuid(), baseVersion: fc.nat(), data: fc.jsonValue(), changedFields: fc.array(fc.string()), occurredAt: fc.string() },
      { requiredKeys: ['entity', 'op', 'id'] },
    );
    fc.assert(
      fc.property(mutation, (m) => {
        const { entity, op, id, baseVersion, data, changedFields, occurredAt } = m;
        const expected = nodeCrypto.createHash('sha256').update(canonicalJson({ entity, op, id, baseVersion, data, changedFields, occurredAt })).digest('hex');
        return using(impl, () => mutationPayloadHash(m)) === expected;
      }),
      { numRuns: 300 },
    );
  });

  it('conflictIdFor and changeEventIdFor of any tenant and key', () => {
    fc.assert(
      fc.property(anyText, fc.oneof(fc.uuid(), anyText), (tenant, key) =>
        using(impl, () => conflictIdFor(tenant, key) === oracleUuid(`${tenant}:${key}`) && changeEventIdFor(tenant, key) === oracleUuid(`change:${tenant}:${key}`)),
      ),
      { numRuns: 300 },
    );
  });

  it('signed checkpoints and cursors: the first implementation\'s tokens, read back under the other implementation', () => {
    const xid = fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String);
    fc.assert(
      fc.property(anyText, fc.string(), fc.dictionary(fc.string(), xid), (tenantId, secret, xids) => {
        // The first implementation, as it was (assignment, so a `__proto__` key is dropped as there).
        const x: Record<string, string> = {};
        for (const [module, id] of Object.entries(xids).sort(([a], [b]) => (a < b ? -1 : 1))) x[module] = id;
        const body = Buffer.from(JSON.stringify({ k: 1, t: tenantId, x })).toString('base64url');
        const expected = `${body}.${nodeCrypto.createHmac('sha256', secret).update(`checkpoint:${body}`).digest('base64url')}`;
        const token = using(impl, () => encodeCheckpoint({ tenantId, xids }, secret));
        const other = impl === nobleHashing ? nodeHashing : nobleHashing;
        return token === expected && JSON.stringify(using(other, () => decodeCheckpoint(token, secret, tenantId)).xids) === JSON.stringify(using(other, () => decodeCheckpoint(expected, secret, tenantId)).xids);
      }),
      { numRuns: 200 },
    );
    const cursor = { tenantId: 't-ü', states: { patients: { done: '10:20:12,15' }, visits: { done: '10:20:12,15', window: { target: '30:31:', after: { xid: '25', seq: '3' } } } } };
    const token = using(impl, () => encodePullCursor(cursor, 's3cret'));
    expect(using(nodeHashing, () => encodePullCursor(cursor, 's3cret'))).toBe(token);
    expect(using(nobleHashing, () => decodePullCursor(token, 's3cret', 't-ü'))).toEqual(cursor);
  });
});

describe('hashing: the implementation in use', () => {
  it('is node:crypto under Node (the services keep the native one), and sha256Hex uses it', () => {
    expect(hashing()).not.toBe(nobleHashing);
    const spy = jest.fn((text: string) => `hashed:${text}`);
    using({ ...nobleHashing, sha256Hex: spy }, () => expect(sha256Hex('abc')).toBe('hashed:abc'));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('base64url without Buffer (properties)', () => {
  it('writes what Buffer writes and reads it back, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64url(bytes);
        return text === Buffer.from(bytes).toString('base64url') && Buffer.from(fromBase64url(text)).equals(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses characters outside the alphabet and impossible lengths', () => {
    expect(() => fromBase64url('ab+c')).toThrow(/character/);
    expect(() => fromBase64url('abcde')).toThrow(/length/);
  });
});
