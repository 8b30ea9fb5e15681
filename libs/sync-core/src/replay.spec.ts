import fc from 'fast-check';
import { MutationRejectCode, MutationResult } from '@clinisync/contracts';
import { DecidedEntry, committedResults, replayOutcome } from './replay';

const applied: MutationResult = { clientMutationId: 'k1', status: 'applied', id: 'r1', version: 3 };
const rejected: MutationResult = { clientMutationId: 'k2', status: 'rejected', id: 'r2', code: MutationRejectCode.FORBIDDEN, message: 'no', retryable: false };
const entry = (result: MutationResult, payloadHash = 'h1'): DecidedEntry => ({ payloadHash, result: JSON.stringify(result) });

describe('replayOutcome (PROTOCOL.md Push: idempotency)', () => {
  it.each([
    ['a key never decided is fresh', undefined, 'h1', { kind: 'fresh' }],
    ['the same payload replays the first result', entry(applied), 'h1', { kind: 'replay', result: { ...applied, replayed: true } }],
    ['a refusal replays as it was', entry(rejected), 'h1', { kind: 'replay', result: { ...rejected, replayed: true } }],
    [
      'another payload under the key is IDEMPOTENCY_KEY_REUSED',
      entry(applied),
      'h2',
      { kind: 'key-reused', rejection: { kind: 'reject', code: MutationRejectCode.IDEMPOTENCY_KEY_REUSED, message: 'clientMutationId was already used with a different payload', retryable: false } },
    ],
  ])('%s', (_case, e, hash, expected) => {
    expect(replayOutcome(e, hash)).toEqual(expected);
  });

  it('replays every field of the first result unchanged, plus replayed: true, and reuses a key only on another hash (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(), (h, other, version) => {
        const first: MutationResult = { ...applied, version };
        const o = replayOutcome(entry(first, h), other);
        if (h === other) expect(o).toEqual({ kind: 'replay', result: { ...first, replayed: true } });
        else expect(o.kind).toBe('key-reused');
      }),
    );
  });
});

describe('committedResults (a module answer lost)', () => {
  const batch = [
    { clientMutationId: 'k1', payloadHash: 'h1' },
    { clientMutationId: 'k2', payloadHash: 'h2' },
  ];
  it.each([
    ['every key committed with its payload: the first results, not replays', new Map([['k1', entry(applied, 'h1')], ['k2', entry(rejected, 'h2')]]), [applied, rejected]],
    ['a key not committed (yet): unknown', new Map([['k1', entry(applied, 'h1')]]), undefined],
    ['a key committed under another payload: unknown', new Map([['k1', entry(applied, 'h1')], ['k2', entry(rejected, 'hX')]]), undefined],
  ])('%s', (_case, decided, expected) => {
    expect(committedResults(batch, decided)).toEqual(expected);
  });
});
