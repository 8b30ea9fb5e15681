import { SyncRecord } from '@clinisync/contracts';
import { findEntity } from '@clinisync/sync-core';
import { BackoffOptions, retryDelay } from './backoff';
import { SyncClientError, SyncClientErrorCode } from './errors';
import { SyncApi, SyncHttpError } from './http-api';
import { checkIntegrity } from './integrity-gate';
import { LocalStore } from './local-store';
import { mergePulledRecord, tombstoneFromServer } from './pull-merge';
import { PullPage } from './types';

export interface PullReport {
  pages: number;
  /** Records inserted or updated locally. */
  applied: number;
  /** Pulled records left alone because the local copy is newer. */
  skipped: number;
  /** Local records tombstoned by a server delete. */
  deleted: number;
  /** False when the run stopped at `maxPages` with more to fetch (the next sync continues). */
  complete: boolean;
}

export interface PullEngineDeps {
  store: LocalStore;
  api: Pick<SyncApi, 'pull'>;
  clock: () => Date;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  backoff: BackoffOptions;
  /** Page size asked for (`limit`). */
  limit: number;
  maxPages: number;
  entities?: readonly string[];
  onChange?(entity: string, ids: string[]): void;
}

/**
 * The pull phase: pages `GET /api/v1/sync/pull` until `hasMore` is false. Each page is applied
 * with the per-column rule, checked by the integrity gate and followed by its cursor, all in one
 * local transaction: a page that fails the gate leaves neither data nor cursor behind.
 */
export class PullEngine {
  constructor(private readonly deps: PullEngineDeps) {}

  /** `checkpoint`: the last push answer's, sent with the first page (the pages after it are read later still). */
  async pull(checkpoint?: string): Promise<PullReport> {
    const { store, backoff } = this.deps;
    const report: PullReport = { pages: 0, applied: 0, skipped: 0, deleted: 0, complete: false };
    let failures = 0;
    while (report.pages < this.deps.maxPages) {
      const cursor = store.getSyncState().cursor;
      let page: PullPage;
      try {
        page = await this.deps.api.pull(cursor, this.deps.limit, this.deps.entities, report.pages === 0 ? checkpoint : undefined);
        checkPage(page);
      } catch (e) {
        if (e instanceof SyncHttpError && e.retryable) {
          failures += 1;
          if (
            failures >= backoff.maxAttempts ||
            (e.retryAfterMs !== undefined && e.retryAfterMs > backoff.maxRetryAfterMs)
          ) {
            throw new SyncClientError(
              SyncClientErrorCode.UNREACHABLE,
              `pull failed ${failures} times: ${e.message}`,
              undefined,
              { cause: e },
            );
          }
          await this.deps.sleep(retryDelay(failures, this.deps.random, e.retryAfterMs, backoff));
          continue;
        }
        if (e instanceof SyncClientError) throw e;
        throw new SyncClientError(
          SyncClientErrorCode.HTTP_ERROR,
          e instanceof Error ? e.message : String(e),
          undefined,
          { cause: e },
        );
      }
      failures = 0;
      const pageReport = { applied: 0, skipped: 0, deleted: 0 };
      const touched = store.transaction(() => {
        const t = this.applyPage(page, pageReport);
        const violations = checkIntegrity(store, t);
        if (violations.length > 0) {
          const first = violations[0];
          throw new SyncClientError(
            SyncClientErrorCode.INTEGRITY_VIOLATION,
            `pulled page leaves ${violations.length} orphaned reference(s), e.g. ${first.entity} ${first.id}.${first.field} -> ${first.references} ${first.missingId}; page rolled back, cursor kept`,
            violations,
          );
        }
        store.setSyncState({ cursor: page.cursor, lastPulledAt: this.deps.clock().toISOString() });
        return t;
      });
      report.pages += 1;
      report.applied += pageReport.applied;
      report.skipped += pageReport.skipped;
      report.deleted += pageReport.deleted;
      for (const [entity, ids] of touched) if (ids.size > 0) this.deps.onChange?.(entity, [...ids]);
      if (!page.hasMore) {
        report.complete = true;
        break;
      }
      if (page.cursor === cursor)
        throw new SyncClientError(
          SyncClientErrorCode.PROTOCOL_ERROR,
          'pull answered hasMore with an unchanged cursor',
        );
    }
    return report;
  }

  private applyPage(
    page: PullPage,
    report: { applied: number; skipped: number; deleted: number },
  ): Map<string, Set<string>> {
    const { store } = this.deps;
    const touched = new Map<string, Set<string>>();
    const deletedAt = page.serverTime ?? this.deps.clock().toISOString();
    for (const [entity, changes] of Object.entries(page.changes)) {
      const def = findEntity(entity);
      if (!def) continue; // an entity this client does not know: tolerated, like extra fields
      const ids = new Set<string>();
      touched.set(entity, ids);
      for (const remote of [...(changes.created ?? []), ...(changes.updated ?? [])]) {
        const local = store.getRecord(entity, remote.id);
        const next = mergePulledRecord(def, local, remote);
        if (!next) {
          report.skipped += 1;
          continue;
        }
        store.putRecord(entity, next);
        ids.add(remote.id);
        report.applied += 1;
      }
      for (const id of changes.deleted ?? []) {
        const local = store.getRecord(entity, id);
        if (!local || local.deletedAt !== null) continue;
        store.putRecord(entity, tombstoneFromServer(local, deletedAt));
        ids.add(id);
        report.deleted += 1;
      }
    }
    return touched;
  }
}

function isRecord(r: unknown): r is SyncRecord {
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof (r as SyncRecord).id === 'string' &&
    Number.isInteger((r as SyncRecord).version)
  );
}

/** PROTOCOL.md "Pull": `changes.<entity>.{created,updated,deleted}`, `cursor`, `hasMore`. */
function checkPage(page: PullPage): void {
  const bad = (why: string) =>
    new SyncClientError(SyncClientErrorCode.PROTOCOL_ERROR, `pull page does not follow PROTOCOL.md: ${why}`);
  if (typeof page !== 'object' || page === null) throw bad('not an object');
  if (typeof page.changes !== 'object' || page.changes === null || Array.isArray(page.changes))
    throw bad('changes is not an object');
  if (typeof page.cursor !== 'string' || page.cursor === '') throw bad('cursor is not a string');
  if (typeof page.hasMore !== 'boolean') throw bad('hasMore is not a boolean');
  for (const [entity, c] of Object.entries(page.changes)) {
    for (const key of ['created', 'updated'] as const) {
      const list = c?.[key];
      if (list !== undefined && (!Array.isArray(list) || !list.every(isRecord)))
        throw bad(`changes.${entity}.${key} must hold records with id and version`);
    }
    if (
      c?.deleted !== undefined &&
      (!Array.isArray(c.deleted) || !c.deleted.every((x) => typeof x === 'string'))
    )
      throw bad(`changes.${entity}.deleted must hold ids`);
  }
}
