import { MutationRejectCode, MutationResult } from '@clinisync/contracts';
import { Rejection, reject } from './decide';

/** What the mutation ledger holds for a key: the hash of the mutation first decided under it and its result (JSON). */
export interface DecidedEntry {
  payloadHash: string;
  result: string;
}

/** How a mutation stands against what its key decided before (PROTOCOL.md "Push": idempotency). */
export type ReplayOutcome =
  /** The key decided nothing yet: decide the mutation. */
  | { kind: 'fresh' }
  /** The same mutation again: its first result, marked `replayed`, and nothing changes. */
  | { kind: 'replay'; result: MutationResult }
  /** The key was first used with another payload: `IDEMPOTENCY_KEY_REUSED`, and nothing changes. */
  | { kind: 'key-reused'; rejection: Rejection };

const FRESH: ReplayOutcome = Object.freeze({ kind: 'fresh' });
const KEY_REUSED: ReplayOutcome = Object.freeze({
  kind: 'key-reused',
  rejection: Object.freeze(reject(MutationRejectCode.IDEMPOTENCY_KEY_REUSED, 'clientMutationId was already used with a different payload')),
});

/** The outcome of a mutation hashing `payloadHash` whose key holds `entry` (undefined: none). Allocates only for a replay. */
export function replayOutcome(entry: DecidedEntry | undefined, payloadHash: string): ReplayOutcome {
  if (entry === undefined) return FRESH;
  if (entry.payloadHash !== payloadHash) return KEY_REUSED;
  return { kind: 'replay', result: { ...(JSON.parse(entry.result) as MutationResult), replayed: true } };
}

/**
 * After a module's answer was lost: its first results when the ledger holds every mutation of
 * `batch` under its own payload (the batch committed), else undefined (some of it may still be
 * committing, so the outcome is unknown). These are first answers, not replays.
 */
export function committedResults(
  batch: readonly { clientMutationId: string; payloadHash: string }[],
  decided: ReadonlyMap<string, DecidedEntry>,
): MutationResult[] | undefined {
  const results: MutationResult[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const entry = decided.get(batch[i].clientMutationId);
    if (entry === undefined || entry.payloadHash !== batch[i].payloadHash) return undefined;
    results[i] = JSON.parse(entry.result) as MutationResult;
  }
  return results;
}
